"""The whole WordNet 3.0 noun hierarchy: label lookup, depths, ancestor paths, arcs between labels,
and the ``wordnet-noun`` hierarchy dataset.

The data is ``assets/wordnet/wordnet-noun.tsv.gz`` (written by ``python -m mmviz.data.wordnet_build``
from Debian's ``wordnet-base``; nothing else is needed at run time): gzip'd UTF-8, tab-separated,
a header ``offset lemmas parents``, then one row per noun synset in ``data.noun`` order:

- ``offset``: the synset's 8-digit ``data.noun`` offset (its ImageNet wnid is ``"n" + offset``);
- ``lemmas``: every lemma of the synset, in order, as ``lemma:sense`` (space-separated), where
  ``sense`` is the synset's 1-based position among that lemma's senses in ``index.noun``;
- ``parents``: offsets of its hypernyms and instance hypernyms (empty for ``entity.n.01``).

Ids follow the subtree files (:mod:`mmviz.data.hierarchies`): ``lemma.n.NN`` from the first lemma,
lower-cased, and its sense; readable names are the first lemma with underscores as spaces.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, Hierarchy, ParamSpec
from mmviz.data.hierarchies import hierarchy_from_edges, shortest_path_tree
from mmviz.data.registry import register
from mmviz.errors import MmvizError
from mmviz.paths import ASSETS

NOUN_FILE = ASSETS / "wordnet" / "wordnet-noun.tsv.gz"
NOUN_COLUMNS = ("offset", "lemmas", "parents")
NOUN_ROOT = "entity.n.01"
NOUN_SYNSETS = 82_115
"""Noun synsets in WordNet 3.0 (all of them lie below ``entity.n.01``)."""
NOUN_CLOSURE_PAIRS = 743_241
"""(descendant, ancestor) pairs of the whole noun hierarchy: Nickel & Kiela's 743,241 relations."""

_WNID = re.compile(r"n(\d{8})")
_SEPARATORS = re.compile(r"[\s_\-]+")


def synset_id(lemma: str, sense: int) -> str:
    """``dog``, 1 → ``dog.n.01``."""
    return f"{lemma.lower()}.n.{sense:02d}"


def lemma_key(label: str) -> str:
    """A lemma as ``index.noun`` spells it: lower case, spaces as underscores (``Golden Retriever`` →
    ``golden_retriever``)."""
    return re.sub(r"\s+", "_", label.strip().lower())


def loose_key(label: str) -> str:
    """``lemma_key`` with hyphens, underscores and spaces all one separator (``x-ray`` ≡ ``x ray``)."""
    return _SEPARATORS.sub("_", label.strip().lower()).strip("_")


@dataclass(frozen=True)
class NounIndex:
    """The noun hierarchy with lookups; node ``i`` is row ``i``, rows sorted by synset id.

    ``ids``, ``names``, ``offsets`` (N,); ``lemmas[i]`` the synset's lemmas as WordNet spells
    them; ``edges`` (E, 2) int64 (child, parent) rows, hypernym and instance-hypernym pointers;
    ``root`` the row without hypernyms (``entity.n.01``); ``depth`` (N,) shortest distance from
    it; ``tree_parent`` (N,) the parent on a shortest path (-1 for the root; among equals the one
    first in id order, as in :func:`mmviz.data.hierarchies.hierarchy_from_edges`).
    """

    ids: list[str]
    names: list[str]
    offsets: list[str]
    lemmas: list[tuple[str, ...]]
    edges: np.ndarray
    root: int
    depth: np.ndarray
    tree_parent: np.ndarray
    _rows: dict[str, int]
    _lemma_rows: dict[str, int]
    _loose_rows: dict[str, int]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def parents(self) -> list[list[int]]:
        """Row → rows of its direct hypernyms (both kinds), in id order."""
        out: list[list[int]] = [[] for _ in self.ids]
        for child, parent in self.edges.tolist():
            out[child].append(parent)
        return out

    @cached_property
    def children(self) -> list[list[int]]:
        """Row → rows of its direct hyponyms and instance hyponyms, in id order."""
        out: list[list[int]] = [[] for _ in self.ids]
        for child, parent in self.edges.tolist():
            out[parent].append(child)
        for kids in out:
            kids.sort()
        return out

    def row(self, label: str) -> int | None:
        """The row of ``label`` (see :meth:`resolve`), or None (also for a non-string: None, NaN)."""
        if not isinstance(label, str):
            return None
        text = label.strip()
        low = text.lower()
        if low in self._rows:
            return self._rows[low]
        wnid = _WNID.fullmatch(low)
        if wnid:
            return self._rows.get("n" + wnid.group(1))
        key = lemma_key(text)
        if key in self._lemma_rows:
            return self._lemma_rows[key]
        return self._loose_rows.get(loose_key(text))

    def resolve(self, label: str) -> str | None:
        """The synset id ``label`` names, or None.

        Accepts a synset id (``dog.n.01``), an ImageNet wnid (``n02084071``) or a lemma
        (``dog``, ``Golden Retriever``, ``golden_retriever``, ``golden-retriever``: case-insensitive,
        spaces, underscores and hyphens alike); a lemma with several senses names its first one
        in ``index.noun``. Surrounding whitespace is ignored.
        """
        row = self.row(label)
        return None if row is None else self.ids[row]

    def path(self, row: int) -> list[int]:
        """Rows from the root down to ``row`` (inclusive) along the shortest-path tree."""
        out = [row]
        while self.tree_parent[out[-1]] >= 0:
            out.append(int(self.tree_parent[out[-1]]))
        return out[::-1]

    def nearest_ancestor(self, row: int, among: dict[int, int]) -> int | None:
        """The strict ancestor of ``row`` fewest hypernym steps up that is a key of ``among``
        (ties: the smallest ``among`` value), or None."""
        seen = {row}
        level = [row]
        while level:
            up = []
            for node in level:
                for parent in self.parents[node]:
                    if parent not in seen:
                        seen.add(parent)
                        up.append(parent)
            hits = [node for node in up if node in among]
            if hits:
                return min(hits, key=among.__getitem__)
            level = up
        return None


def read_noun_file(path: Path = NOUN_FILE) -> NounIndex:
    """The :class:`NounIndex` of a ``wordnet-noun.tsv.gz`` file (format in the module docstring)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        lines = handle.read().splitlines()
    if tuple(lines[0].split("\t")) != NOUN_COLUMNS:
        raise ValueError(f"{path}: expected columns {NOUN_COLUMNS}, got {lines[0]!r}")
    offsets, lemma_lists, parent_offsets, ids = [], [], [], []
    first_sense: dict[str, str] = {}
    for line in lines[1:]:
        offset, lemma_field, parent_field = line.split("\t")
        pairs = [item.rsplit(":", 1) for item in lemma_field.split(" ")]
        sid = synset_id(pairs[0][0], int(pairs[0][1]))
        for lemma, sense in pairs:
            if sense == "1":
                first_sense[lemma.lower()] = sid
        offsets.append(offset)
        lemma_lists.append(tuple(lemma for lemma, _ in pairs))
        parent_offsets.append(parent_field.split(" ") if parent_field else [])
        ids.append(sid)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    rows = {ids[i]: r for r, i in enumerate(order)}
    by_offset = {offsets[i]: r for r, i in enumerate(order)}
    edges = np.array(sorted((r, by_offset[p]) for r, i in enumerate(order) for p in parent_offsets[i]),
                     dtype=np.int64).reshape(-1, 2)
    n = len(ids)
    roots = sorted(set(range(n)) - set(edges[:, 0].tolist()))
    if len(roots) != 1:
        raise ValueError(f"{path}: expected one synset without hypernyms, found {len(roots)}")
    _, depth, tree_parent = shortest_path_tree(n, edges, roots[0])
    lemma_rows = {lemma: rows[sid] for lemma, sid in first_sense.items()}
    loose_rows: dict[str, int] = {}
    for lemma in sorted(lemma_rows):  # among lemmas alike but for separators, the first in sorted order
        loose_rows.setdefault(loose_key(lemma), lemma_rows[lemma])
    return NounIndex(
        ids=[ids[i] for i in order], names=[lemma_lists[i][0].replace("_", " ") for i in order],
        offsets=[offsets[i] for i in order], lemmas=[lemma_lists[i] for i in order],
        edges=edges, root=roots[0], depth=depth, tree_parent=tree_parent,
        _rows={**rows, **{"n" + off: r for off, r in by_offset.items()}},
        _lemma_rows=lemma_rows, _loose_rows=loose_rows,
    )


@lru_cache(maxsize=1)
def noun_index() -> NounIndex:
    """The shipped noun hierarchy, read once (``resolve(label) -> synset id | None`` and more)."""
    return read_noun_file(NOUN_FILE)


def label_table(labels: Sequence[str]) -> pd.DataFrame:
    """One row per label (same order, index 0..L-1) with its place in WordNet.

    Columns: ``wordnet_id`` (str, None if unresolved), ``wordnet_name``, ``wordnet_depth``
    (Int64, shortest distance from entity.n.01, <NA> if unresolved), ``wordnet_ancestors``
    (``"entity > physical entity > … > parent"`` along that shortest path; "" for the root).
    """
    index = noun_index()
    rows = [index.row(label) for label in labels]
    return pd.DataFrame({
        "wordnet_id": pd.Series([None if r is None else index.ids[r] for r in rows], dtype=object),
        "wordnet_name": pd.Series([None if r is None else index.names[r] for r in rows], dtype=object),
        "wordnet_depth": pd.array([None if r is None else int(index.depth[r]) for r in rows], dtype="Int64"),
        "wordnet_ancestors": pd.Series(
            [None if r is None else " > ".join(index.names[a] for a in index.path(r)[:-1]) for r in rows],
            dtype=object),
    })


def label_arcs(labels: Sequence[str]) -> np.ndarray:
    """(E, 2) int64 arcs (child_row, parent_row) between the distinct synsets the labels name.

    Each label that resolves gets an arc to its nearest strict ancestor (fewest hypernym steps)
    named by another label, if any; a synset is represented by the first row naming it, and
    ancestors tied on distance go to the one named first. Sorted by child row.
    """
    index = noun_index()
    first: dict[int, int] = {}
    for i, label in enumerate(labels):
        node = index.row(label)
        if node is not None:
            first.setdefault(node, i)
    arcs = []
    for node, i in first.items():
        parent = index.nearest_ancestor(node, first)
        if parent is not None:
            arcs.append((i, first[parent]))
    return np.array(sorted(arcs), dtype=np.int64).reshape(-1, 2)


# --------------------------------------------------------------------------- the dataset


def subtree(index: NounIndex, root: int, max_nodes: int = 0) -> list[int]:
    """Rows of ``root`` and every synset below it, sorted; with ``max_nodes`` > 0, only the first
    ``max_nodes`` of them breadth-first from the root (children in id order)."""
    down = index.children
    order, seen = [root], {root}
    for node in order:  # breadth-first: the list grows as it is walked
        if max_nodes and len(order) >= max_nodes:
            break
        for child in down[node]:
            if child not in seen:
                seen.add(child)
                order.append(child)
    return sorted(order[:max_nodes] if max_nodes else order)


def build_hierarchy(index: NounIndex, root: int, max_nodes: int = 0, params: dict | None = None) -> Hierarchy:
    """The :class:`Hierarchy` of row ``root`` and the synsets below it (see :func:`subtree`)."""
    rows = subtree(index, root, max_nodes)
    local = {r: i for i, r in enumerate(rows)}
    edges = np.array([(local[c], local[p]) for c, p in index.edges.tolist() if c in local and p in local],
                     dtype=np.int64).reshape(-1, 2)
    what = (f"the first {len(rows):,} synsets breadth-first from {index.ids[root]}" if max_nodes
            and len(rows) == max_nodes else f"every synset under {index.ids[root]}")
    return hierarchy_from_edges(
        "wordnet-noun", params if params is not None else {"root": index.ids[root], "max_nodes": max_nodes},
        [index.ids[r] for r in rows], [index.names[r] for r in rows], edges,
        extras={"source": f"WordNet 3.0 nouns ({what}): hypernym and instance-hypernym edges"},
    )


@lru_cache(maxsize=4)
def noun_hierarchy(root: str = NOUN_ROOT, max_nodes: int = 0) -> Hierarchy:
    """The shipped noun hierarchy below ``root`` (a synset id, wnid or lemma), cut to the first
    ``max_nodes`` synsets breadth-first (0: all). Cached: treat it as read-only."""
    index = noun_index()
    top = index.row(root)
    if top is None:
        raise MmvizError(f"wordnet-noun: no noun synset {root!r} (give a synset id like dog.n.01, a wnid "
                         "like n02084071, or a lemma)")
    return build_hierarchy(index, top, max_nodes, {"root": root, "max_nodes": max_nodes})


@register(DatasetInfo(
    name="wordnet-noun",
    description="The whole WordNet 3.0 noun hierarchy: 82,115 synsets under entity.n.01, hypernyms and "
    "instance hypernyms (a DAG), as in Nickel & Kiela's all-nouns experiment. `root` picks a subtree and "
    "`max_nodes` keeps the synsets nearest its root.",
    kind="hierarchy",
    params=(
        ParamSpec("root", "str", NOUN_ROOT, "root synset: an id (mammal.n.01), a wnid (n01861778) or a lemma"),
        ParamSpec("max_nodes", "int", 0, "keep the first N synsets breadth-first from the root (0: all)",
                  min=0, max=NOUN_SYNSETS),
    ),
    splits=("train",),
))
def load_wordnet_noun(split: str = "train", root: str = NOUN_ROOT, max_nodes: int = 0) -> Hierarchy:
    """The noun hierarchy (or a part of it: see :func:`noun_hierarchy`)."""
    return noun_hierarchy(str(root).strip(), int(max_nodes))
