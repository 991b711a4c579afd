"""Is the process behind a run still alive? pid checks that survive zombies and pid reuse."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` from the state onwards, or None if there is no such process."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    return raw[raw.rindex(")") + 2 :].split()


def process_start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux); None without /proc or process.

    Two processes that reuse one pid have different start ticks, so (pid, start) names one process.
    """
    fields = _stat_fields(pid)
    # starttime is field 22 of /proc/<pid>/stat; the list starts at field 3 (state).
    return int(fields[19]) if fields else None


def process_alive(pid: int | None, start_ticks: int | None = None) -> bool:
    """Whether ``pid`` is a live (not zombie) process and, if ``start_ticks`` is given, the same one.

    Without /proc (macOS) it falls back to ``os.kill(pid, 0)``, which cannot see zombies or pid reuse.
    """
    if not pid or pid <= 0:
        return False
    if PROC.is_dir():
        fields = _stat_fields(pid)
        if fields is None or fields[0] in ("Z", "X"):  # Z: exited, not yet reaped; X: dead
            return False
        return start_ticks is None or int(fields[19]) == start_ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
