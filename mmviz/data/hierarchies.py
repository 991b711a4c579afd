"""Hierarchy datasets: synthetic trees and WordNet noun subtrees (``Hierarchy`` objects).

Every hierarchy carries its direct edges, the depth of each node (shortest distance from
the root), the transitive closure (all (descendant, ancestor) pairs, no self pairs) for
reconstruction metrics, and ``extras["tree_parent"]``: a spanning tree, each node's parent
on a shortest path from the root (-1 for the root).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from mmviz.data.base import DatasetInfo, Hierarchy, ParamSpec
from mmviz.data.registry import register
from mmviz.errors import MmvizError
from mmviz.paths import ASSETS

MAX_TREE_NODES = 100_000

# Dataset name → root synset of the subtree it ships (built by ``mmviz.data.wordnet_build``).
WORDNET_SUBTREES: dict[str, str] = {
    "wordnet-mammal": "mammal.n.01",
    "wordnet-vehicle": "vehicle.n.01",
    "wordnet-tool": "tool.n.01",
}
TSV_COLUMNS = ("child_id", "child_name", "parent_id", "parent_name")


def _child_parent_matrix(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    """``A[child, parent] = 1`` for every edge; edges: int array of shape (E, 2)."""
    ones = np.ones(len(edges), dtype=np.int32)
    return sparse.csr_matrix((ones, (edges[:, 0], edges[:, 1])), shape=(n, n))


def transitive_closure(n: int, edges: np.ndarray) -> np.ndarray:
    """All (descendant, ancestor) pairs of a DAG, sorted; shape (P, 2) int64, no self pairs.

    edges: int array of shape (E, 2) of direct (child, parent) pairs. Walks up one level per
    step (sparse products of the child→parent matrix), so it costs depth × nnz.
    """
    step = _child_parent_matrix(n, edges)
    reach = step.copy()
    frontier = step
    for _ in range(n):
        frontier = frontier @ step
        if frontier.nnz == 0:
            break
        # Path counts grow with the number of routes through a DAG; only reachability matters.
        frontier.data[:] = 1
        reach = reach + frontier
    else:
        raise ValueError("the hierarchy has a cycle")
    pairs = np.stack(reach.nonzero(), axis=1).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def shortest_path_tree(n: int, edges: np.ndarray, root: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breadth-first search down from ``root``.

    Returns ``order`` (n,) the nodes in BFS order, ``depth`` (n,) int64 distance from the
    root, and ``tree_parent`` (n,) int64: the parent through which the search first reached
    each node (-1 for the root). Raises ``ValueError`` if some node is not below the root.
    """
    down = _child_parent_matrix(n, edges).T.tocsr()
    down.sort_indices()  # children visited in index order, so ties break the same way every time
    order, predecessors = csgraph.breadth_first_order(down, root, directed=True, return_predecessors=True)
    if len(order) != n:
        raise ValueError(f"{n - len(order)} nodes are not below the root")
    tree_parent = np.where(predecessors < 0, -1, predecessors).astype(np.int64)
    depth = np.zeros(n, dtype=np.int64)
    for node in order[1:]:
        depth[node] = depth[tree_parent[node]] + 1
    return order.astype(np.int64), depth, tree_parent


def hierarchy_from_edges(
    name: str, params: dict, ids: Sequence[str], names: Sequence[str], edges: np.ndarray,
    extras: dict | None = None,
) -> Hierarchy:
    """A :class:`Hierarchy` with one root, its nodes renumbered in breadth-first order.

    ids, names: one per node; edges: int array of shape (E, 2) of (child, parent) indices.
    Children are visited in index order, so pass nodes in the order ties should break.
    """
    n = len(ids)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    has_parent = np.zeros(n, dtype=bool)
    has_parent[edges[:, 0]] = True
    roots = np.flatnonzero(~has_parent)
    if len(roots) != 1:
        raise ValueError(f"{name}: expected one root, found {len(roots)}")
    order, _, _ = shortest_path_tree(n, edges, int(roots[0]))
    new_index = np.empty(n, dtype=np.int64)
    new_index[order] = np.arange(n)
    edges = new_index[edges]
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    _, depth, tree_parent = shortest_path_tree(n, edges, 0)
    return Hierarchy(
        name=name, params=dict(params),
        ids=[ids[i] for i in order], names=[names[i] for i in order],
        edges=edges, depth=depth, closure=transitive_closure(n, edges),
        extras={"tree_parent": tree_parent, "is_tree": len(edges) == n - 1, **(extras or {})},
    )


# --------------------------------------------------------------------------- synthetic tree


def tree_size(branching: int, depth: int) -> int:
    """Nodes of the complete tree: 1 + b + ... + b^depth."""
    return sum(branching**level for level in range(depth + 1))


@register(DatasetInfo(
    name="tree",
    description="A synthetic rooted tree: every node above the last level has `branching` children "
    "(or 1..branching at random). Names are paths from the root: root, 0, 0.1, 0.1.2.",
    kind="hierarchy",
    params=(
        ParamSpec("branching", "int", 3, "children per node (the maximum with random branching)", min=1, max=10),
        ParamSpec("depth", "int", 4, "levels below the root", min=1, max=10),
        ParamSpec("random_branching", "bool", False, "give each node 1..branching children at random"),
        ParamSpec("seed", "int", 0, "random seed (used with random branching)", min=0, advanced=True),
    ),
    splits=("train",),
))
def load_tree(
    split: str = "train", branching: int = 3, depth: int = 4, random_branching: bool = False, seed: int = 0,
) -> Hierarchy:
    """A rooted tree of ``depth`` levels below the root, nodes in breadth-first order."""
    if not random_branching and tree_size(branching, depth) > MAX_TREE_NODES:
        raise MmvizError(
            f"tree: branching {branching} and depth {depth} give {tree_size(branching, depth):,} nodes; "
            f"the limit is {MAX_TREE_NODES:,}. Lower the branching or the depth."
        )
    rng = np.random.default_rng(seed)
    names = ["root"]
    parents: list[int] = []
    level = [0]
    for level_depth in range(1, depth + 1):
        if random_branching:
            counts = rng.integers(1, branching, size=len(level), endpoint=True)
        else:
            counts = np.full(len(level), branching)
        if len(names) + int(counts.sum()) > MAX_TREE_NODES:
            raise MmvizError(
                f"tree: random branching {branching} grows past {MAX_TREE_NODES:,} nodes at depth "
                f"{level_depth} (seed {seed}). Lower the branching or the depth."
            )
        next_level = []
        for parent, count in zip(level, counts):
            prefix = "" if parent == 0 else names[parent] + "."
            for k in range(int(count)):
                next_level.append(len(names))
                names.append(f"{prefix}{k}")
                parents.append(parent)
        level = next_level
    edges = np.stack([np.arange(1, len(names)), np.asarray(parents, dtype=np.int64)], axis=1)
    params = {"branching": branching, "depth": depth, "random_branching": random_branching, "seed": seed}
    return hierarchy_from_edges("tree", params, names, names, edges)


# --------------------------------------------------------------------------- WordNet


def read_wordnet_tsv(path: Path, name: str) -> Hierarchy:
    """A hierarchy from a ``child_id, child_name, parent_id, parent_name`` edge file.

    Nodes are numbered breadth-first from the root, children in synset-id order.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = tuple(next(reader))
        if header != TSV_COLUMNS:
            raise ValueError(f"{path}: expected columns {TSV_COLUMNS}, got {header}")
        rows = list(reader)
    readable = {}
    for child_id, child_name, parent_id, parent_name in rows:
        readable[child_id] = child_name
        readable[parent_id] = parent_name
    ids = sorted(readable)
    index = {sid: i for i, sid in enumerate(ids)}
    edges = np.array([(index[row[0]], index[row[2]]) for row in rows], dtype=np.int64)
    return hierarchy_from_edges(
        name, {}, ids, [readable[sid] for sid in ids], edges,
        extras={"source": "WordNet 3.0 nouns: hypernym and instance-hypernym edges inside the subtree"},
    )


def _register_wordnet(name: str, root_id: str) -> None:
    info = DatasetInfo(
        name=name,
        description=f"The WordNet 3.0 noun hierarchy under {root_id} (hypernyms and instance "
        "hypernyms; a DAG where a synset has two parents inside the subtree).",
        kind="hierarchy", params=(), splits=("train",),
    )

    def load(split: str = "train") -> Hierarchy:
        return read_wordnet_tsv(ASSETS / "wordnet" / f"{name}.tsv", name)

    load.__name__ = f"load_{name.replace('-', '_')}"
    register(info)(load)


for _name, _root in WORDNET_SUBTREES.items():
    _register_wordnet(_name, _root)
