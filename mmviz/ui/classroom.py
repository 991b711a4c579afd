"""Serving a class from one machine: who is asking, what they may touch, and how much they may launch.

Every browser session has an **owner id**. A run or an embedding job records the owner id of the
session that launched it, and only that session may stop, resume, delete or cancel it. The
machine serving the app is the teacher: a request from the machine itself (``127.0.0.1``, ``::1``
or one of the machine's own addresses, and not forwarded by a proxy) may act on every run and job,
including the reference runs and runs launched from the CLI, which are owned by nobody.

The owner id is a hash of Streamlit's XSRF cookie (a random token the browser keeps for the
server: it survives reloads and is shared by a browser's tabs, never by two browsers), or of the
Streamlit session id when the server runs without XSRF protection (then a reload is a new owner).
Nothing a browser sends can choose it.

Each non-local session may have at most ``MMVIZ_SESSION_QUOTA`` runs queued or training at once
(default 3); the local host has no quota. Every action is checked again on the server when it is
carried out (:func:`check_can_act`, :func:`check_quota`), whatever the buttons showed.

Tests (Streamlit's AppTest, which has no browser connection) pose as a client by setting
``session_state[CLIENT_KEY] = {"ip": ..., "owner": ...}`` before the first run; without it an
AppTest session is the local host. A real server never reads that key from a client.
"""

from __future__ import annotations

import functools
import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from mmviz.errors import MmvizError
from mmviz.paths import mmviz_home
from mmviz.runs.runner import env_run_count
from mmviz.runs.store import ACTIVE_STATUSES, RunStore

QUOTA_ENV = "MMVIZ_SESSION_QUOTA"
DEFAULT_QUOTA = 3
VIEWER_KEY = "_mmviz.viewer"
CLIENT_KEY = "_mmviz.client"
XSRF_COOKIE = "_streamlit_xsrf"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
UPLOADS_DIR = "uploads"


@dataclass(frozen=True)
class Viewer:
    """Who this session is: its owner id, whether it is the local host (the teacher), and the
    address it connects from (for messages; None for the local host)."""

    owner: str
    local: bool
    ip: str | None = None


def _hash(kind: str, secret: str) -> str:
    return f"{kind}-{hashlib.sha256(secret.encode()).hexdigest()[:16]}"


def _xsrf_token(cookie: str | None) -> str | None:
    """The token inside Streamlit's XSRF cookie (version 2, ``2|mask|masked|time``, is re-masked
    whenever the cookie is re-issued; the token itself stays), as hex; None if absent or unreadable."""
    if not cookie:
        return None
    value = cookie.strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _ = value.split("|")
            mask, masked = bytes.fromhex(mask_hex), bytes.fromhex(masked_hex)
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
        return value.split("|")[0] or None
    except ValueError:
        return None


@functools.cache
def _own_addresses() -> frozenset[str]:
    """This machine's own addresses (a browser on the machine may reach it by its LAN address)."""
    found = set(LOOPBACK)
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return frozenset(found)


def _under_apptest() -> bool:
    """Whether this is Streamlit's AppTest (its runtime is a mock: no browser connection exists)."""
    from unittest.mock import Mock

    from streamlit import runtime

    return runtime.exists() and isinstance(runtime.get_instance(), Mock)


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def _identify() -> Viewer:
    if _under_apptest():
        posed = st.session_state.get(CLIENT_KEY)
        if not posed:
            return Viewer("local", True)
        ip = str(posed.get("ip") or "10.0.0.1")
        return Viewer(str(posed.get("owner") or _hash("s", ip)), ip in LOOPBACK, ip)
    headers = st.context.headers
    if not len(headers):  # no connection any more (it dropped mid-run): a stranger, never the host
        return Viewer(_hash("s", _session_id()), False, None)
    forwarded = next((headers.get(h) for h in PROXY_HEADERS if headers.get(h)), None)
    ip = st.context.ip_address  # None: the connection comes from this machine's loopback
    local = forwarded is None and (ip is None or ip in _own_addresses())
    token = _xsrf_token(st.context.cookies.get(XSRF_COOKIE))
    owner = _hash("b", token) if token else _hash("s", _session_id())
    return Viewer(owner, local, None if local else (forwarded or ip))


def viewer() -> Viewer:
    """This session's viewer, worked out once per session (a session's identity never changes)."""
    found = st.session_state.get(VIEWER_KEY)
    if not isinstance(found, Viewer):
        found = st.session_state[VIEWER_KEY] = _identify()
    return found


def session_quota() -> int:
    """Runs a session may have queued or training at once: ``$MMVIZ_SESSION_QUOTA`` or 3."""
    return env_run_count(QUOTA_ENV, DEFAULT_QUOTA, 0)


# --- runs -------------------------------------------------------------------------------------------


def can_act(run: dict[str, Any], who: Viewer | None = None) -> bool:
    """Whether ``who`` (this session by default) may stop, resume or delete ``run`` (a store row)."""
    who = who or viewer()
    return who.local or (run.get("owner") is not None and run.get("owner") == who.owner)


def why_not(run: dict[str, Any], who: Viewer | None = None) -> str | None:
    """Why ``who`` may not act on ``run`` (a tooltip), or None when it may."""
    who = who or viewer()
    if can_act(run, who):
        return None
    if run.get("owner") is None:
        return ("Started from the command line or shipped with mmviz: only the machine serving the app "
                "can stop, resume or delete it.")
    return "Another session launched this run: only it (or the machine serving the app) can change it."


def check_can_act(store: RunStore, run_id: str, verb: str) -> None:
    """MmvizError unless this session may ``verb`` run ``run_id`` (read again from the store)."""
    reason = why_not(store.get_run(run_id))
    if reason is not None:
        raise MmvizError(f"you cannot {verb} it: {reason}")


def active_runs(store: RunStore, who: Viewer | None = None) -> int:
    """Runs of ``who`` queued or training now."""
    return store.count_runs(ACTIVE_STATUSES, owner=(who or viewer()).owner)


def quota_left(store: RunStore, who: Viewer | None = None) -> int | None:
    """How many more runs ``who`` may queue now; None without a limit (the local host)."""
    who = who or viewer()
    return None if who.local else max(session_quota() - active_runs(store, who), 0)


def quota_message(store: RunStore, wanted: int = 1, who: Viewer | None = None) -> str | None:
    """Why ``wanted`` more runs would go over this session's quota, or None when they fit."""
    who = who or viewer()
    left = quota_left(store, who)
    if left is None or wanted <= left:
        return None
    limit, active = session_quota(), active_runs(store, who)
    runs = "run" if wanted == 1 else f"{wanted} runs"
    return (f"You can't launch {runs} now: each browser may have {limit} run{'s' if limit != 1 else ''} queued "
            f"or training at once on this shared server, and you have {active}. Stop one, or wait for one to "
            f"finish (the teacher can raise the limit with {QUOTA_ENV}).")


def check_quota(store: RunStore, wanted: int = 1, who: Viewer | None = None) -> None:
    """MmvizError when ``wanted`` more runs would go over the quota of ``who`` (this session)."""
    message = quota_message(store, wanted, who)
    if message is not None:
        raise MmvizError(message)


def launch(config: dict, store: RunStore) -> str:
    """:func:`mmviz.runs.runner.launch` for this session: quota checked, the run owned by it."""
    from mmviz.runs import runner

    check_quota(store)
    return runner.launch(config, store=store, owner=viewer().owner)


def launch_all(configs: list[dict], store: RunStore) -> list[str]:
    """Launch several runs as one request: all of them fit this session's quota, or none starts."""
    from mmviz.runs import runner

    check_quota(store, len(configs))
    return [runner.launch(config, store=store, owner=viewer().owner) for config in configs]


# --- what each session may see ----------------------------------------------------------------------


def uploads_dir(kind: str = "") -> Path:
    """This session's own folder for uploaded files: ``MMVIZ_HOME/uploads/<owner>[/<kind>]``.
    Runs and jobs read the files from there, and it is the only place they are kept."""
    path = mmviz_home() / UPLOADS_DIR / viewer().owner
    path = path / kind if kind else path
    path.mkdir(parents=True, exist_ok=True)
    return path


def _private_owner(run: dict[str, Any]) -> str | None:
    """The owner of a run that trains on an uploaded file (private to that owner), else None."""
    params = (run.get("config") or {}).get("dataset_params") or {}
    path = params.get("path") if isinstance(params, dict) else None
    if not path or run.get("owner") is None:
        return None
    try:
        inside = Path(path).resolve().is_relative_to((mmviz_home() / UPLOADS_DIR).resolve())
    except (OSError, ValueError):
        return None
    return run["owner"] if inside else None


def visible(run: dict[str, Any], who: Viewer | None = None) -> bool:
    """Whether ``who`` may see ``run`` at all: every run, except one trained on another session's
    uploaded file (its data, and so its points' names, are that session's)."""
    who = who or viewer()
    private = _private_owner(run)
    return who.local or private is None or private == who.owner


def visible_runs(runs: list[dict[str, Any]], who: Viewer | None = None) -> list[dict[str, Any]]:
    """``runs`` without those this session may not see (:func:`visible`)."""
    who = who or viewer()
    return [run for run in runs if visible(run, who)]


def owns_job(job: Any, who: Viewer | None = None) -> bool:
    """Whether ``who`` may see and cancel ``job`` (a :class:`mmviz.runs.jobs.Job`): its own, or any
    for the local host (jobs from the CLI or from before owners: the local host only)."""
    who = who or viewer()
    return who.local or (job.owner is not None and job.owner == who.owner)
