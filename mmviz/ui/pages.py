"""The app's pages, in menu order: app.py navigates over them, the home page links them,
and the browser test opens each one. Register a page here and all three pick it up.

This module has no streamlit import so tests can read it without a running app.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    """A page: its file under ``pages/``, menu title, icon, one-line blurb for the home page,
    its URL path, the ``data-testid`` of the element the browser test waits for as its main
    chart, and ``state_prefix``: what its session-state keys start with, so one page's keys never
    meet another's (URL parameters are named without it; "" for the pages whose keys are bare)."""

    path: str
    title: str
    icon: str
    blurb: str
    url_path: str
    main_chart: str = "stPlotlyChart"
    default: bool = False
    state_prefix: str = ""


PAGES: tuple[PageEntry, ...] = (
    PageEntry("pages/home.py", "Home", ":material/home:",
              "What mmviz is and where to start.", "home", main_chart="stPageLink", default=True),
    PageEntry("pages/geometry.py", "Geometry", ":material/blur_circular:",
              "Hyperbolic vs Euclidean: distances, circles, trees and recentring on the Poincaré disk.",
              "geometry"),
    PageEntry("pages/data.py", "Data", ":material/dataset:",
              "The datasets: Trifeature images, pairs and captions, Gaussian pairs, digits, WordNet trees, "
              "and your own embeddings.", "data"),
    PageEntry("pages/train.py", "Train", ":material/model_training:",
              "Launch small CLIP and MERU runs and watch their loss and metrics live; compare runs.", "train",
              state_prefix="train."),
    PageEntry("pages/explorer.py", "Explorer", ":material/explore:",
              "A trained model's embeddings on the Poincaré disk: generic near the centre, specific near the rim; "
              "entailment cones and traversals.", "explorer"),
    PageEntry("pages/similarity.py", "Similarity", ":material/grid_on:",
              "What the contrastive loss computes on a batch: similarity, temperature, softmax, per-row InfoNCE, "
              "retrieval and the modality gap.", "similarity", state_prefix="sim."),
    PageEntry("pages/gaussian.py", "Gaussian lab", ":material/functions:",
              "Contrastive learning on jointly Gaussian data, checked against its closed form.", "gaussian",
              state_prefix="gauss."),
    PageEntry("pages/hierarchy.py", "Hierarchy lab", ":material/account_tree:",
              "Trees and WordNet embedded in 2-D hyperbolic vs Euclidean space: MAP, rank, distortion.",
              "hierarchy", state_prefix="hl."),
    PageEntry("pages/interactions.py", "Interactions", ":material/join_inner:",
              "What a contrastive loss aligns: redundancy, uniqueness and synergy (CoMM vs CLIP-style Cross).",
              "interactions", state_prefix="interactions_"),
    PageEntry("pages/assimilation.py", "Data assimilation", ":material/waves:",
              "Drifters linked to the flow by contrastive learning: retrieval, regimes and the flow given the "
              "tracks, against optimal interpolation and the exact conditional.", "assimilation", state_prefix="da."),
    PageEntry("pages/beyond.py", "Beyond pairs", ":material/join_inner:",
              "Composition, negation and unlearning on Trifeature captions: what pairwise alignment misses, "
              "MERU against CLIP.", "beyond", state_prefix="beyond."),
    PageEntry("pages/lessons.py", "Lessons", ":material/school:",
              "Guided lessons for a class, step by step: hyperbolic vs Euclidean, what a contrastive loss computes, "
              "what it aligns.", "lessons", main_chart="stPageLink", state_prefix="lessons."),
)


def page_entry(url_path: str) -> PageEntry:
    """The registered page at ``url_path`` (KeyError if there is none)."""
    for entry in PAGES:
        if entry.url_path == url_path:
            return entry
    raise KeyError(f"no page at {url_path!r}")
