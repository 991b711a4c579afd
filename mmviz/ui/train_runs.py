"""The Train page's runs: the shared store, the runs table with row selection, and the
Stop / Resume / Delete actions. Everything shown is read from the store on each run of the
page, so every tab (and a reload) sees the same runs."""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.errors import MmvizError
from mmviz.paths import mmviz_home
from mmviz.plots.series import format_duration
from mmviz.runs import runner
from mmviz.runs.store import ACTIVE_STATUSES, RunStore
from mmviz.runs.train_config import with_stored_defaults
from mmviz.ui import classroom
from mmviz.ui.pages import page_entry
from mmviz.ui.train_feed import MetricsFeed

PREFIX = page_entry("train").state_prefix
"""The Train page's session-state prefix: its keys are ``train.runs``, ``train.steps``..."""
SELECTED_KEY = PREFIX + "runs"
"""Session-state key of the selected run ids, comma-separated (mirrored in the URL as ``runs``)."""
CONFIRM_KEY = PREFIX + "confirm_delete"
ERRORS_KEY = PREFIX + "action_errors"
VISITED_KEY = PREFIX + "visited"
TABLE_TICK_S = 5.0
"""How often the table redraws while a run is active (the curves have their own, faster tick)."""
STATUS_COLORS = {"queued": "gray", "running": "blue", "finished": "green", "stopped": "orange",
                 "failed": "red", "interrupted": "violet"}


@st.cache_resource(show_spinner=False)
def _store(home: str) -> RunStore:
    return RunStore(home)


@st.cache_resource(show_spinner=False)
def _feed(home: str) -> MetricsFeed:
    return MetricsFeed(_store(home))


def get_store() -> RunStore:
    """The run store of ``MMVIZ_HOME`` (one per server process)."""
    return _store(str(mmviz_home().resolve()))


def get_feed() -> MetricsFeed:
    """The metrics feed every session of this server shares."""
    return _feed(str(mmviz_home().resolve()))


def run_labels(runs: Sequence[dict[str, Any]]) -> dict[str, str]:
    """A legend label per run: its name, or model · dataset; a label two runs share gets
    the run's id suffix."""
    base = {run["id"]: run.get("name") or f"{run['model']} · {run['dataset']}" for run in runs}
    counts = Counter(base.values())
    return {rid: label if counts[label] == 1 else f"{label} ({rid[-4:]})" for rid, label in base.items()}


def selected_ids(runs: Sequence[dict[str, Any]]) -> list[str]:
    """The selected runs that exist, in the order they were selected."""
    known = {run["id"] for run in runs}
    raw = str(st.session_state.get(SELECTED_KEY, "") or "")
    return [rid for rid in dict.fromkeys(raw.split(",")) if rid in known]


def select(ids: Sequence[str]) -> None:
    """Make ``ids`` the selected runs (kept in the URL)."""
    st.session_state[SELECTED_KEY] = ",".join(dict.fromkeys(ids))


def follow_launched(launched: Sequence[str]) -> None:
    """Select the runs just launched (if any) and say so."""
    if launched:
        select(launched)
        st.toast(f"Launched {len(launched)} run{'s' if len(launched) > 1 else ''}.", icon=":material/rocket_launch:")


# What a first visit shows when nothing is training: the reference CLIP and MERU runs, whose
# curves tell the Train page's story at once.
FIRST_VIEW_RUNS = ("ref-clip", "ref-meru")


def follow_active_on_first_visit(runs: Sequence[dict[str, Any]]) -> None:
    """On a session's first visit without runs in the link, select the runs that are training;
    with none training, the reference CLIP and MERU runs (so the Curves panel is never empty)."""
    if st.session_state.get(VISITED_KEY):
        return
    st.session_state[VISITED_KEY] = True
    if not selected_ids(runs):
        active = [run["id"] for run in runs if run["status"] in ACTIVE_STATUSES]
        known = {run["id"] for run in runs}
        select(active or [rid for rid in FIRST_VIEW_RUNS if rid in known])


_summary_cache: dict[tuple[str, float], dict[str, float | None]] = {}


def _summary(store: RunStore, run: dict[str, Any]) -> dict[str, float | None]:
    """Key final metrics of a run: training loss, mean held-out R@1 and zero-shot accuracy."""
    key = (run["id"], run["updated"])
    if key not in _summary_cache:
        latest = {name: row["value"] for name, row in store.latest_metrics(run["id"]).items()}
        r1 = [v for k, v in latest.items() if k.startswith("eval/r1_")]
        zero = [v for k, v in latest.items() if k.startswith("eval/zeroshot_")]
        if len(_summary_cache) > 512:
            _summary_cache.clear()
        _summary_cache[key] = {"loss": latest.get("train/loss"), "r1": float(np.mean(r1)) if r1 else None,
                               "zeroshot": float(np.mean(zero)) if zero else None}
    return _summary_cache[key]


def duration(run: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds the run has trained (until now if it still runs); None before it started."""
    if not run.get("started"):
        return None
    if run["status"] in ACTIVE_STATUSES:
        end = now if now is not None else time.time()
    else:
        end = run.get("finished")
    return None if end is None else max(end - run["started"], 0.0)


def runs_frame(store: RunStore, runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: what the table shows."""
    labels, now = run_labels(runs), time.time()
    line = store.queue_positions() if any(run["status"] == "queued" for run in runs) else {}
    who = classroom.viewer()
    rows = []
    for run in runs:
        summary = _summary(store, run)
        total = run.get("total_steps") or 0
        rows.append({
            "run": labels[run["id"]], "status": run["status"],
            "queue": f"{line[run['id']]} of {len(line)}" if run["id"] in line else "",
            "launched by": _launched_by(run, who), "dataset": run["dataset"], "model": run["model"],
            "parent": lineage_note(run["config"]),
            "progress": 100.0 * min(run["step"] / total, 1.0) if total else 0.0,
            "steps": f"{run['step']:,} / {total:,}" if total else f"{run['step']:,}",
            "train loss": summary["loss"], "held-out R@1": summary["r1"], "zero-shot acc.": summary["zeroshot"],
            "duration": format_duration(duration(run, now)), "device": run.get("device") or "",
            "reference": bool(run.get("reference")),
            "error": run.get("error") or "", "id": run["id"],
        })
    return pd.DataFrame(rows, columns=["run", "status", "queue", "launched by", "dataset", "model", "parent",
                                       "progress", "steps", "train loss", "held-out R@1", "zero-shot acc.", "duration",
                                       "device", "reference", "error", "id"])


def lineage_note(config: dict[str, Any]) -> str:
    """What a child run is: "ref-clip − color:red (npo)", "ref-clip + negated captions"; "" otherwise."""
    parent = config.get("parent")
    if not parent:
        return ""
    unlearn = config.get("unlearn")
    if unlearn:
        return f"{parent} − {unlearn['concept']} ({unlearn['method']})"
    if config.get("dataset_params", {}).get("negation", 0) > 0:
        return f"{parent} + negated captions"
    return f"fine-tuned from {parent}"


def _launched_by(run: dict[str, Any], who: classroom.Viewer) -> str:
    if run.get("owner") is None:
        return "shipped" if run.get("reference") else "command line"
    return "you" if run["owner"] == who.owner else "another browser"


def queue_note(runs: Sequence[dict[str, Any]]) -> str | None:
    """A line on the queue when runs wait in it: how many, and why."""
    waiting = sum(run["status"] == "queued" for run in runs)
    if not waiting:
        return None
    limit = runner.max_concurrent_runs()
    return (f"{waiting} run{'s wait' if waiting > 1 else ' waits'} in the queue (the *queue* column gives each "
            f"its place): this machine trains {limit} run{'s' if limit > 1 else ''} at a time (MMVIZ_MAX_RUNS), "
            "and each queued run starts, oldest first, when a slot frees.")


def runs_table(store: RunStore, runs: Sequence[dict[str, Any]]) -> list[str]:
    """The runs table; selecting rows selects runs (several: their curves are overlaid).
    While a run is queued or running the table redraws itself every TABLE_TICK_S seconds, so
    its progress, duration and metrics stay current. Returns the selected run ids."""
    active = any(run["status"] in ACTIVE_STATUSES for run in runs)
    return st.fragment(_table, run_every=TABLE_TICK_S if active else None)(store)


def _table(store: RunStore) -> list[str]:
    runs = classroom.visible_runs(store.list_runs())
    selected = selected_ids(runs)
    frame = runs_frame(store, runs)
    positions = [i for i, rid in enumerate(frame["id"]) if rid in selected]
    event = st.dataframe(
        frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row", placeholder="–",
        # Row selections are row numbers: the table is a new widget whenever its runs change (one
        # added on top, one deleted), and starts with the same runs selected. New steps or metrics
        # keep the widget, so a live update neither redraws it from scratch nor loses a selection.
        key=f"{PREFIX}table.{zlib.crc32(','.join(frame['id']).encode()):08x}",
        selection_default={"selection": {"rows": positions}},
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%.0f%%"),
            "steps": st.column_config.TextColumn(width=110),
            "train loss": st.column_config.NumberColumn(format="%.3f"),
            "held-out R@1": st.column_config.NumberColumn(format="%.2f", help="Mean recall@1, both directions."),
            "zero-shot acc.": st.column_config.NumberColumn(format="%.2f", help="Mean over the zero-shot tasks."),
            "reference": st.column_config.CheckboxColumn(
                "reference", help="Shipped with mmviz: read-only (train a copy with “Train this again”)."),
            "error": st.column_config.TextColumn(width="medium"),
            "parent": st.column_config.TextColumn(help="A child run starts from this run's weights (unlearning, "
                                                       "fine-tuning with negated captions); the parent is unchanged."),
        },
    )
    note = queue_note(runs)
    if note:
        st.caption(note)
    rows = list(event.selection.rows) if event is not None else positions
    if sorted(rows) != positions:
        picked = [frame["id"].iloc[i] for i in rows if i < len(frame)]
        select([rid for rid in selected if rid in picked] + [rid for rid in picked if rid not in selected])
        st.rerun()  # the buttons and curves outside this fragment follow the new selection
    return selected


def run_actions(store: RunStore, runs: Sequence[dict[str, Any]], selected: Sequence[str]) -> None:
    """Stop, Resume and Delete (with a confirmation) for the selected runs."""
    for message in st.session_state.pop(ERRORS_KEY, []):  # from an action just before a rerun
        st.error(message, icon=":material/error:")
    by_id = {run["id"]: run for run in runs}
    chosen = [by_id[rid] for rid in selected if rid in by_id]
    # Reference runs are read-only; on a shared server a session acts only on the runs it launched
    # (the machine serving the app on all): the others' buttons are disabled, and say why.
    # A pressed button acts on this session's runs, each checked again on the server; pressed while
    # disabled (a forged click), on the others, which the check then refuses by name.
    writable = [r for r in chosen if not r.get("reference")]
    refused = next((classroom.why_not(r) for r in writable if not classroom.can_act(r)), None)
    active = [r["id"] for r in writable if r["status"] in ACTIVE_STATUSES]
    ended = [r["id"] for r in writable if r["status"] in runner.RESUMABLE]
    inactive = [r["id"] for r in writable if r["status"] not in ACTIVE_STATUSES]
    stoppable, resumable, deletable = ([rid for rid in ids if classroom.can_act(by_id[rid])]
                                       for ids in (active, ended, inactive))
    stop_col, resume_col, delete_col, again_col, note_col = st.columns([1, 1, 1, 1.4, 3], vertical_alignment="center")
    if stop_col.button("Stop", icon=":material/stop:", disabled=not stoppable, width="stretch",
                       help=_help("Finish the current step, checkpoint, and stop.", refused)):
        _each(stoppable or active, lambda rid: _checked(store, rid, "stop", lambda: runner.stop(rid, store=store)),
              "stop")
        st.rerun()
    if resume_col.button("Resume", icon=":material/play_arrow:", disabled=not resumable, width="stretch",
                         help=_help("Continue a stopped, interrupted or failed run from its last checkpoint.",
                                    refused)):
        _each(resumable or ended, lambda rid: _checked(store, rid, "resume", lambda: _resume(store, rid)), "resume")
        st.rerun()
    if delete_col.button("Delete…", icon=":material/delete:", disabled=not deletable, width="stretch",
                         help=_help("Remove the run, its metrics and its files (stop a running run first).", refused)):
        st.session_state[CONFIRM_KEY] = ",".join(deletable or inactive)
    if again_col.button("Train this again", icon=":material/content_copy:", disabled=not chosen, width="stretch",
                        help="Launch a new run with the selected runs' settings (reference runs included)."):
        copies = []
        try:
            classroom.check_quota(store, len(chosen))
            _each([r["id"] for r in chosen], lambda rid: copies.append(_train_again(store, by_id[rid])), "copy")
        except MmvizError as err:
            st.session_state.setdefault(ERRORS_KEY, []).append(str(err))
        select(copies or [r["id"] for r in chosen])
        st.rerun()
    note_col.caption(f"{len(chosen)} of {len(runs)} runs selected — select rows to overlay their curves."
                     if runs else "No runs yet.")
    pending = [rid for rid in str(st.session_state.get(CONFIRM_KEY, "")).split(",") if rid in by_id]
    if pending:
        _confirm_delete(store, [by_id[rid] for rid in pending])


def _confirm_delete(store: RunStore, runs: Sequence[dict[str, Any]]) -> None:
    labels = run_labels(runs)
    with st.container(border=True):
        st.warning(f"Delete {len(runs)} run{'s' if len(runs) > 1 else ''} "
                   f"({', '.join(labels.values())})? Their metrics, checkpoints and embeddings are removed "
                   "for good.", icon=":material/delete_forever:")
        yes, no, _ = st.columns([1, 1, 5])
        if yes.button("Yes, delete", type="primary"):
            st.session_state.pop(CONFIRM_KEY, None)
            _each([r["id"] for r in runs], lambda rid: _checked(store, rid, "delete", lambda: _delete(store, rid)),
                  "delete")
            st.rerun()
        if no.button("Cancel"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()


def _train_again(store: RunStore, run: dict[str, Any]) -> str:
    """Launch a new run with ``run``'s config (its name marked as a copy); returns its id."""
    # a run from before a parameter existed trains again as it was
    config = {k: v for k, v in with_stored_defaults(run["config"]).items() if k != "resume"}
    config["name"] = f"{run.get('name') or run['model']} (copy)"
    return classroom.launch(config, store)  # owned by this session, within its quota


def _help(what: str, refused: str | None) -> str:
    return what if refused is None else f"{what} Some selected runs are not yours: {refused}"


def _checked(store: RunStore, run_id: str, verb: str, action) -> None:
    """``action()`` once this session is found, again on the server, to own ``run_id``."""
    classroom.check_can_act(store, run_id, verb)
    action()


def _resume(store: RunStore, run_id: str) -> None:
    classroom.check_quota(store)  # a resumed run is queued again: it counts against the quota
    runner.resume(run_id, store=store)


def _delete(store: RunStore, run_id: str) -> None:
    runner.delete(run_id, store=store)
    get_feed().forget(run_id)


def _each(run_ids: Sequence[str], action, verb: str) -> None:
    """Apply ``action`` to each run; a refusal (e.g. the run changed status meanwhile) is shown
    as an error above the buttons, after the rerun the action causes."""
    for run_id in run_ids:
        try:
            action(run_id)
        except MmvizError as err:
            st.session_state.setdefault(ERRORS_KEY, []).append(f"Could not {verb} {run_id}: {err}")


def status_signature(runs: Sequence[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """What the page's static parts depend on: which runs exist and their statuses."""
    return tuple((run["id"], run["status"]) for run in runs)
