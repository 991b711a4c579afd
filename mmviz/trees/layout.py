"""Lay a rooted tree out in the Poincaré disk and, for comparison, in the Euclidean plane.

The construction is the same in both: a node at depth k sits at distance ``k·step`` from the
origin (hyperbolic distance in the disk, Euclidean distance in the plane), and every node owns
an angular wedge that its children split in proportion to their number of leaves, so siblings
never overlap. What differs is how much room there is: the circle of radius r has length
2π·sinh(√c·r)/√c in the hyperbolic plane of curvature −c and only 2π·r in the Euclidean one,
while a b-ary tree has b^k nodes at depth k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from mmviz.geometry import get_geometry


@dataclass
class Tree:
    """A rooted tree in BFS order: ``parent[i]`` (−1 for the root), ``depth[i]``, ``labels[i]``."""

    parent: np.ndarray
    depth: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.parent)

    def children(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in range(len(self))]
        for i, p in enumerate(self.parent):
            if p >= 0:
                kids[p].append(i)
        return kids

    def edges(self) -> np.ndarray:
        """(E, 2) int array of (child, parent)."""
        idx = np.flatnonzero(self.parent >= 0)
        return np.stack([idx, self.parent[idx]], axis=1)


def regular_tree(branching: int, depth: int) -> Tree:
    """The complete ``branching``-ary tree of the given depth; labels are paths like "0.2.1"."""
    parent, depths, labels = [-1], [0], ["root"]
    frontier = [0]
    for k in range(1, depth + 1):
        nxt = []
        for p in frontier:
            for j in range(branching):
                parent.append(p)
                depths.append(k)
                labels.append(f"{labels[p]}.{j}" if p else str(j))
                nxt.append(len(parent) - 1)
        frontier = nxt
    return Tree(np.array(parent), np.array(depths), labels)


def tree_from_nested(nested: dict) -> Tree:
    """A tree from ``{"animal": {"mammal": {"dog": {...}}, ...}}`` (one root), in BFS order."""
    (root, kids), = nested.items()
    parent, depths, labels = [-1], [0], [root]
    queue = [(0, kids)]
    while queue:
        node, sub = queue.pop(0)
        for name, grandkids in (sub or {}).items():
            parent.append(node)
            depths.append(depths[node] + 1)
            labels.append(name)
            queue.append((len(parent) - 1, grandkids))
    return Tree(np.array(parent), np.array(depths), labels)


# The labelled example on the Geometry page: one path from generic to specific, with siblings.
CONCEPTS = {
    "animal": {
        "mammal": {
            "dog": {"golden retriever": {}, "poodle": {}, "beagle": {}},
            "cat": {"siamese": {}, "tabby": {}},
            "horse": {},
        },
        "bird": {"eagle": {}, "sparrow": {}},
        "fish": {"salmon": {}, "shark": {}},
    }
}
CONCEPT_PATH = ("animal", "mammal", "dog", "golden retriever")


def wedge_angles(tree: Tree) -> np.ndarray:
    """(N,) angle in radians of each node: the middle of its wedge, wedges ∝ number of leaves."""
    kids = tree.children()
    n = len(tree)
    leaves = np.ones(n)
    for i in range(n - 1, -1, -1):  # BFS order: children come after parents
        if kids[i]:
            leaves[i] = sum(leaves[j] for j in kids[i])
    lo, hi = np.zeros(n), np.zeros(n)
    hi[0] = 2 * np.pi
    for i in range(n):
        start = lo[i]
        for j in kids[i]:
            width = (hi[i] - lo[i]) * leaves[j] / leaves[i]
            lo[j], hi[j] = start, start + width
            start += width
    angle = (lo + hi) / 2
    angle[0] = 0.0
    return angle


def hyperbolic_layout(tree: Tree, step: float = 1.0, curvature: float = 1.0) -> np.ndarray:
    """(N, 2) float64 coordinates in the Poincaré ball of curvature −c: depth k at distance k·step."""
    theta = wedge_angles(tree)
    radius = torch.as_tensor(tree.depth * step, dtype=torch.float64)
    tangent = torch.stack([torch.cos(torch.as_tensor(theta)), torch.sin(torch.as_tensor(theta))], -1)
    # expmap0 of a tangent vector of length r lands exactly at hyperbolic distance r.
    return get_geometry("poincare", curvature).expmap0(tangent * radius[:, None]).numpy()


def euclidean_layout(tree: Tree, step: float = 1.0) -> np.ndarray:
    """(N, 2) coordinates in the plane: depth k at distance k·step, same wedges."""
    theta = wedge_angles(tree)
    r = tree.depth * step
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def room_by_depth(tree: Tree, step: float = 1.0, curvature: float = 1.0) -> pd.DataFrame:
    """Per depth: node count, circle length at that radius in both geometries, and the
    smallest distance between two nodes of that depth in each layout."""
    hyp = torch.as_tensor(hyperbolic_layout(tree, step, curvature))
    euc = torch.as_tensor(euclidean_layout(tree, step))
    geo = get_geometry("poincare", curvature)
    sc = np.sqrt(curvature)
    rows = []
    for k in range(int(tree.depth.max()) + 1):
        idx = np.flatnonzero(tree.depth == k)
        r = k * step
        row = {
            "depth": k,
            "nodes": len(idx),
            "hyperbolic circle length": 2 * np.pi * np.sinh(sc * r) / sc,
            "Euclidean circle length": 2 * np.pi * r,
            "closest pair (hyperbolic)": np.nan,
            "closest pair (Euclidean)": np.nan,
        }
        if len(idx) > 1:
            dh = geo.pairwise_dist(hyp[idx], hyp[idx]).numpy()
            de = torch.cdist(euc[idx], euc[idx]).numpy()
            off = ~np.eye(len(idx), dtype=bool)
            row["closest pair (hyperbolic)"] = dh[off].min()
            row["closest pair (Euclidean)"] = de[off].min()
        rows.append(row)
    return pd.DataFrame(rows)
