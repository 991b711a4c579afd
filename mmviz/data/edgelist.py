"""Your own hierarchy: an edge-list CSV (child, parent) checked and turned into a :class:`Hierarchy`,
and the ``edgelist`` dataset that loads one from a file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, Hierarchy, ParamSpec
from mmviz.data.hierarchies import hierarchy_from_edges
from mmviz.data.registry import register
from mmviz.errors import MmvizError

MAX_UPLOAD_NODES = 5000
CHILD_NAMES = ("child", "hyponym", "id1", "source")
PARENT_NAMES = ("parent", "hypernym", "id2", "target")


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def parse_edge_list(data: bytes, name: str = "upload") -> Hierarchy:
    """A hierarchy from CSV/TSV bytes with one (child, parent) edge per row.

    Columns: ``child`` and ``parent`` (or hyponym/hypernym, id1/id2, source/target), else the
    first two columns. Needs one root, no cycles, no self-loops, at most
    :data:`MAX_UPLOAD_NODES` nodes; a DAG (a node with two parents) is fine. MmvizError says
    what is wrong.
    """
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        raise MmvizError("the edge list is empty")
    sep = "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as err:
        raise MmvizError(f"could not read the edge list as CSV: {str(err).splitlines()[0]}") from None
    if frame.shape[1] < 2:
        raise MmvizError("the edge list needs two columns: child and parent")
    child_col, parent_col = _column(frame, CHILD_NAMES), _column(frame, PARENT_NAMES)
    if child_col is None or parent_col is None:
        child_col, parent_col = frame.columns[0], frame.columns[1]
    children = frame[child_col].astype(str).str.strip()
    parents = frame[parent_col].astype(str).str.strip()
    blank = (children == "") | (parents == "")
    if blank.any():
        raise MmvizError(f"row {int(np.flatnonzero(blank)[0]) + 2} has an empty child or parent")
    loops = children == parents
    if loops.any():
        raise MmvizError(f"row {int(np.flatnonzero(loops)[0]) + 2}: {children[loops].iloc[0]!r} is its own parent")
    names = sorted(set(children) | set(parents))
    if len(names) > MAX_UPLOAD_NODES:
        raise MmvizError(f"the edge list has {len(names):,} nodes; the limit is {MAX_UPLOAD_NODES:,}")
    index = {n: i for i, n in enumerate(names)}
    edges = np.unique(np.stack([children.map(index).to_numpy(), parents.map(index).to_numpy()], 1), axis=0)
    try:
        return hierarchy_from_edges(name, {}, names, names, edges.astype(np.int64))
    except ValueError as err:
        message = str(err).replace(f"{name}: ", "")
        raise MmvizError(f"not a hierarchy: {message} (every node but one root needs a parent, "
                         "and no node may be its own ancestor)") from None


@register(DatasetInfo(
    name="edgelist",
    description="Your own hierarchy: an edge-list CSV (child,parent per row) on this machine, checked "
    "on load (one root, no cycles, at most 5,000 nodes). The Hierarchy lab saves an upload and trains on it.",
    kind="hierarchy",
    params=(ParamSpec("path", "str", "", "path of the CSV/TSV file with one child,parent edge per row",
                      required=True),),
    splits=("train",),
    user_file=True,
))
def load_edgelist(split: str = "train", path: str = "") -> Hierarchy:
    if not path:
        raise MmvizError("dataset 'edgelist' needs a path: --set data.path=FILE.csv")
    file = Path(path).expanduser()
    if not file.is_file():
        raise MmvizError(f"edge list {path} does not exist")
    return parse_edge_list(file.read_bytes(), name=file.name)
