"""Import a page's modules in the background while a class reads the lesson step that links to it.

A page's first visit since the server started pays for its imports (torch, scipy.stats and
sklearn behind the Hierarchy lab: about 1.5 s of a 2-core CPU). The Lessons page calls
:func:`start` for the page its step opens, so the imports happen while the step is read; every
page calls :func:`wait` first (in ``page_setup``), so a page never imports alongside the
preloading thread: Python's per-module import locks can report a deadlock when two threads
import modules that import each other.
"""

from __future__ import annotations

import ast
import importlib
import logging
import threading
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_lock = threading.Lock()
_started: set[str] = set()
_threads: list[threading.Thread] = []
log = logging.getLogger(__name__)


@cache
def page_modules(page_file: str) -> tuple[str, ...]:
    """The ``mmviz`` modules a page file imports at its top level, in order (``page_file`` is
    relative to the repository, e.g. ``"pages/hierarchy.py"``); () if the file can't be read."""
    try:
        tree = ast.parse((REPO / page_file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ()
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mmviz"):
            # ``from mmviz.ui import hierarchy_sections``: the names may be modules themselves
            names += [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith("mmviz")]
    return tuple(dict.fromkeys(names))


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:  # ``from pkg import function``: not a module, and pkg is imported anyway
            continue
        except Exception:  # a broken module shows its error on its page, not here
            log.debug("preloading %s failed", name, exc_info=True)


def start(page_file: str) -> None:
    """Import ``page_file``'s modules in a daemon thread, once per page per server process."""
    with _lock:
        if page_file in _started:
            return
        _started.add(page_file)
        thread = threading.Thread(target=_import_all, args=(page_modules(page_file),),
                                  name=f"mmviz-preload-{Path(page_file).stem}", daemon=True)
        _threads.append(thread)
        thread.start()


def wait(timeout_s: float = 60.0) -> None:
    """Block until every preloading thread has finished (at most ``timeout_s`` each)."""
    with _lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(timeout_s)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
