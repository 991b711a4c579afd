"""Reconstruction metrics of an embedded graph (trees, WordNet DAGs).

Every function takes an (N, N) matrix of embedding distances, so the same code scores a
float32 trained embedding, a float64 construction and a high-precision one (whose distances
are computed elsewhere without collapsing on the boundary).

* **Closure** (Nickel & Kiela 2017): for every node u with ancestors, rank its ancestors
  among every other node by distance from u.
* **Direct edges** (Sala et al. 2018): for every node u, rank its graph neighbours (parents
  and children) among every other node.

Ties: a positive at distance x is scored with *everything* within x, so a negative at the
same distance counts against it: precision = (positives within x) / (all within x), and its
rank = 1 + (negatives within x). Distances within a relative ``rtol`` of x count as "within"
(an exact construction puts siblings at equal distances; rounding must not break the tie).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.stats import spearmanr

RTOL = 1e-9
"""Relative tolerance of "at the same distance": far above float64 rounding of a distance
(~1e-15 relative) and far below any real gap a float32 embedding leaves between two nodes."""


def positives_matrix(n: int, pairs: np.ndarray, symmetric: bool) -> sparse.csr_matrix:
    """(N, N) boolean CSR: row u marks the positives of u.

    pairs: (P, 2) int (u, v) pairs; ``symmetric`` also marks (v, u). Self pairs are dropped.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if symmetric:
        pairs = np.concatenate([pairs, pairs[:, ::-1]])
    ones = np.ones(len(pairs), dtype=bool)
    mat = sparse.csr_matrix((ones, (pairs[:, 0], pairs[:, 1])), shape=(n, n), dtype=bool)
    mat.sum_duplicates()
    return mat


def ranking_scores(dist: np.ndarray, positives: sparse.csr_matrix, rtol: float = RTOL) -> dict[str, float]:
    """Mean rank and mean average precision of ranking each row's positives by distance.

    dist: (N, N) distances (the diagonal is ignored); positives: (N, N) bool CSR. Rows without
    positives are skipped. ``mean_rank`` averages over all (u, v) positive pairs, ``map`` over
    rows. Returns ``{"mean_rank", "map", "rows", "pairs"}``.
    """
    dist = np.asarray(dist, dtype=np.float64)
    n = dist.shape[0]
    positives = sparse.csr_matrix(positives, dtype=bool)
    ap_sum = rank_sum = 0.0
    rows = pairs = 0
    keep = np.ones(n, dtype=bool)
    for u in range(n):
        pos = positives.indices[positives.indptr[u]:positives.indptr[u + 1]]
        pos = pos[pos != u]
        if len(pos) == 0:
            continue
        keep[u] = False
        others = np.sort(dist[u, keep])
        keep[u] = True
        d_pos = np.sort(dist[u, pos])
        # Everything within x (up to the tolerance) is ranked at or before a positive at x.
        limit = d_pos + rtol * np.abs(d_pos)
        within = np.searchsorted(others, limit, side="right")
        pos_within = np.searchsorted(d_pos, limit, side="right")
        ap_sum += float(np.mean(pos_within / within))
        rank_sum += float(np.sum(within - pos_within + 1))
        rows += 1
        pairs += len(pos)
    if rows == 0:
        return {"mean_rank": float("nan"), "map": float("nan"), "rows": 0, "pairs": 0}
    return {"mean_rank": rank_sum / pairs, "map": ap_sum / rows, "rows": rows, "pairs": pairs}


def closure_scores(dist: np.ndarray, closure: np.ndarray, rtol: float = RTOL) -> dict[str, float]:
    """Nickel & Kiela's reconstruction: each node's ancestors among all nodes.

    closure: (P, 2) (descendant, ancestor) pairs. Returns ``{"mean_rank", "map", ...}``.
    """
    return ranking_scores(dist, positives_matrix(dist.shape[0], closure, symmetric=False), rtol)


def edge_scores(dist: np.ndarray, edges: np.ndarray, rtol: float = RTOL) -> dict[str, float]:
    """Sala et al.'s MAP: each node's graph neighbours (parents and children) among all nodes.

    edges: (E, 2) direct (child, parent) pairs. Returns ``{"mean_rank", "map", ...}``.
    """
    return ranking_scores(dist, positives_matrix(dist.shape[0], edges, symmetric=True), rtol)


def graph_distances(n: int, edges: np.ndarray) -> np.ndarray:
    """(N, N) float64 shortest-path lengths of the undirected graph with these edges."""
    adj = positives_matrix(n, edges, symmetric=True).astype(np.float64)
    return csgraph.shortest_path(adj, method="D", directed=False, unweighted=True)


def average_distortion(dist: np.ndarray, graph_dist: np.ndarray, scale: float | None = None) -> dict[str, float]:
    """Mean over node pairs of |d_emb / (scale · d_graph) − 1| (Sala et al.'s D_avg), and the scale.

    dist, graph_dist: (N, N). ``scale``: how long one graph edge should be in the embedding
    (a construction's τ); None takes the median of d_emb / d_graph, so a trained embedding is
    not charged for its overall size. Pairs in different components are skipped.
    """
    iu = np.triu_indices(dist.shape[0], k=1)
    d_emb, d_g = np.asarray(dist, dtype=np.float64)[iu], np.asarray(graph_dist, dtype=np.float64)[iu]
    ok = np.isfinite(d_g) & (d_g > 0) & np.isfinite(d_emb)
    ratio = d_emb[ok] / d_g[ok]
    if len(ratio) == 0:
        return {"distortion": float("nan"), "scale": float("nan")}
    if scale is None:
        scale = float(np.median(ratio))
    scale = max(float(scale), 1e-300)
    return {"distortion": float(np.mean(np.abs(ratio / scale - 1.0))), "scale": scale}


def depth_spearman(depth: np.ndarray, radius: np.ndarray) -> float:
    """Spearman correlation of graph depth with distance from the origin (1 = deeper is farther)."""
    depth, radius = np.asarray(depth, dtype=np.float64), np.asarray(radius, dtype=np.float64)
    if len(depth) < 3 or np.ptp(depth) == 0 or np.ptp(radius) == 0:
        return float("nan")
    return float(spearmanr(depth, radius).statistic)


def hierarchy_scores(dist: np.ndarray, radius: np.ndarray, edges: np.ndarray, closure: np.ndarray,
                     depth: np.ndarray, graph_dist: np.ndarray | None = None,
                     scale: float | None = None) -> dict[str, float]:
    """Every reconstruction metric at once, keyed as they are logged.

    dist: (N, N) embedding distances; radius: (N,) distance of each node from the origin.
    Returns ``map_closure, rank_closure, map_edges, rank_edges, distortion, distortion_scale,
    spearman_depth``.
    """
    n = dist.shape[0]
    closure_s, edge_s = closure_scores(dist, closure), edge_scores(dist, edges)
    if graph_dist is None:
        graph_dist = graph_distances(n, edges)
    distortion = average_distortion(dist, graph_dist, scale)
    return {
        "map_closure": closure_s["map"], "rank_closure": closure_s["mean_rank"],
        "map_edges": edge_s["map"], "rank_edges": edge_s["mean_rank"],
        "distortion": distortion["distortion"], "distortion_scale": distortion["scale"],
        "spearman_depth": depth_spearman(depth, radius),
    }
