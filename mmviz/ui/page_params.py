"""Every page's URL parameters (``{url key: UrlParam}``), importable without running the page.

A page builds its spec here from what it has already read (its runs, its datasets) and seeds its
widgets from it; the Lessons page asks :func:`page_spec` for any page's spec to check that a
lesson's links carry parameters the page takes. The Geometry page's spec is
:func:`mmviz.ui.geometry_sections.url_spec`, the Train form's :func:`mmviz.ui.train_form.url_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mmviz.data.base import DatasetInfo
from mmviz.data.trifeature_datasets import EXCLUDE_CHOICES
from mmviz.explorer.projections import METHODS, SPECIFICITY
from mmviz.runs.store import RunStore
from mmviz.runs.unlearn_params import METHODS as UNLEARN_METHODS
from mmviz.ui import (
    assimilation_lab,
    beyond_lab,
    explore_sections,
    geometry_sections,
    hierarchy_sections,
    interactions3_runs,
    interactions_runs,
    similarity_cache,
    similarity_sections,
    similarity_views,
    train_form,
    train_live,
)
from mmviz.ui import gaussian_lab as lab
from mmviz.ui.data_views import shown_datasets
from mmviz.ui.references import default_run
from mmviz.ui.run_source import inspectable_runs
from mmviz.ui.url_state import UrlList, UrlParam, UrlSpec

GAUSSIAN_REFERENCE = "ref-gauss-l2"  # shipped: opens the Gaussian lab with a trained model beside the closed form


def data_url(infos: Mapping[str, DatasetInfo]) -> UrlSpec:
    """The Data page: the dataset shown and its split."""
    return {"dataset": UrlParam("trifeature", choices=list(infos)),
            "split": UrlParam("train", choices=["train", "test"])}


def explorer_url(runs: Sequence[dict[str, Any]]) -> UrlSpec:
    """The Explorer: the source and run (``runs``: the inspectable ones, newest first; the reference
    MERU run by default), the projection and what the disk draws."""
    return {
        "source": UrlParam("run", choices=list(explore_sections.SOURCES)),
        "run": UrlParam(default_run(runs, ("ref-meru",)) or "", choices=[r["id"] for r in runs] or [""]),
        "method": UrlParam("radial", choices=list(METHODS)),
        "beside": UrlParam(explore_sections.NO_COMPARE, choices=[explore_sections.NO_COMPARE, *METHODS]),
        "color": UrlParam("modality"),
        "proxy": UrlParam("raw_norm", choices=list(SPECIFICITY)),
        "q": UrlParam(""),
        "pairs": UrlParam(False),
        "rings": UrlParam(True),
        "zoom": UrlParam("whole", choices=("whole", "fit")),
        "compare": UrlParam(""),
        "edges": UrlParam(True),
        "job": UrlParam(""),
    }


def similarity_url() -> UrlSpec:
    """The Similarity page: the source and runs, the batch, τ, the two matrix views and the toy batch."""
    return {
        "src": UrlParam("run", choices=tuple(similarity_sections.SOURCES)), "run": UrlParam(""), "cmp": UrlParam(""),
        "job": UrlParam(""),
        "B": UrlParam(32, choices=similarity_cache.BATCH_SIZES), "seed": UrlParam(0, 0, 1_000_000),
        "learned": UrlParam(True), "tau": UrlParam(0.07, 0.005, 1.0, step=0.001), "order": UrlParam("batch"),
        "left": UrlParam("similarity", choices=tuple(similarity_views.LEFT_VIEWS)),
        "right": UrlParam("rows", choices=tuple(similarity_views.RIGHT_VIEWS)),
        **similarity_views.TOY_URL,
    }


def gaussian_url(store: RunStore) -> UrlSpec:
    """The Gaussian lab: the population, the encoders, the loss and the run beside the closed form."""
    return {
        "du": UrlParam(16, 2, 32), "dv": UrlParam(16, 2, 32), "k": UrlParam(4, 1, 8),
        "rho_max": UrlParam(0.95, 0.05, 0.99, step=0.01), "decay": UrlParam(0.7, 0.1, 1.0, step=0.05),
        "noise": UrlParam(0.1, 0.01, 2.0, step=0.01), "latent": UrlParam(4, 1, 8),
        "u": UrlParam(0, 0, lab.N_QUERIES - 1),
        "loss": UrlParam(next(iter(lab.LOSSES)), choices=list(lab.LOSSES)),
        "direction": UrlParam("both", choices=["both", "v|u"]), "steps": UrlParam(1500, 100, 5000, step=100),
        "run": UrlParam(GAUSSIAN_REFERENCE if store.has_run(GAUSSIAN_REFERENCE) else ""),
    }


def assimilation_url(runs: Sequence[dict[str, Any]]) -> UrlSpec:
    """The Data assimilation page: the run (the reference InfoNCE run by default), the observation
    density and the held-out flow shown."""
    default = default_run(runs, assimilation_lab.REFERENCES) or ""
    return {"run": UrlParam(default, choices=[r["id"] for r in runs] or [""]),
            "drifters": UrlParam(16, choices=list(assimilation_lab.DENSITIES)),
            "flow": UrlParam(0, 0, 9999)}


def beyond_url(runs: Sequence[dict[str, Any]]) -> UrlSpec:
    """The Beyond pairs page: the study, each study's run (composition: the held-out-combination
    MERU run by default; negation: the reference CLIP; unlearning: the parent and its child), the
    composed caption's shape and colour, and the concept and method of a live unlearning run."""
    ids = [r["id"] for r in runs] or [""]
    return {
        "study": UrlParam("composition", choices=list(beyond_lab.STUDIES)),
        "run": UrlParam(default_run(runs, ("ref-meru-heldout", "ref-meru")) or "", choices=ids),
        "neg": UrlParam(default_run(runs, ("ref-clip",)) or "", choices=ids),
        "parent": UrlParam(default_run(runs, beyond_lab.PARENTS) or "", choices=ids),
        "shape": UrlParam(7, 0, 9), "color": UrlParam(0, 0, 9),
        "concept": UrlParam("color:red", choices=list(EXCLUDE_CHOICES[1:])),
        "method": UrlParam("graddiff", choices=list(UNLEARN_METHODS)),
    }


def hierarchy_url() -> UrlSpec:
    """The Hierarchy lab: the hierarchy (a tree's shape, a part of WordNet) and the method."""
    return {
        "h": UrlParam("tree", choices=hierarchy_sections.SOURCES), "b": UrlParam(3, 2, 6), "d": UrlParam(4, 1, 6),
        "method": UrlParam("construct", choices=("construct", "train")), "dim": UrlParam(2, 2, 50),
        "prec": UrlParam("high", choices=("high", "float64")), "steps": UrlParam(3000, 100, 50000, step=500),
        "root": UrlParam("entity.n.01"), "n": UrlParam(1000, 100, 2000, step=100),
    }


INTERACTION_STUDIES = {"two": "Two modalities (CoMM's study)", "three": "Three modalities (n = 3)"}


def interactions_url(runs: Sequence[interactions_runs.StudyRun],
                     runs3: Sequence[interactions3_runs.TripleRun] = ()) -> UrlSpec:
    """The Interactions page: ``?study=two|three``, and the selected runs of each study
    (``runs=id1,id2`` for two modalities, ``runs3=…`` for three)."""
    return {"study": UrlParam("two", choices=list(INTERACTION_STUDIES)),
            "runs": UrlList(choices=[r.id for r in runs]), "runs3": UrlList(choices=[r.id for r in runs3])}


def train_view_url() -> UrlSpec:
    """The Train page's own keys beside its form's: the curve settings and the selected runs."""
    return {**train_live.URL, "runs": UrlParam("")}


def train_url(query: Mapping[str, str]) -> UrlSpec:
    """The Train page with the form for the dataset and model ``query`` names (else the defaults)."""
    choice = train_form.choice_spec()
    dataset = choice["dataset"].parse(query.get("dataset", choice["dataset"].default))
    model = choice["model"].parse(query.get("model", choice["model"].default))
    return {**train_form.url_spec(dataset, model), **train_view_url()}


def lessons_url(keys: Sequence[str]) -> UrlSpec:
    """The Lessons page: the lesson (by its file's name), the step (from 1) and whether its answer
    is shown."""
    return {"lesson": UrlParam(keys[0] if keys else "", choices=list(keys) or [""]),
            "step": UrlParam(1, 1, 999), "answer": UrlParam(False)}


def page_spec(url_path: str, query: Mapping[str, str], store: RunStore,
              lesson_keys: Sequence[str] = ()) -> UrlSpec:
    """The URL parameters of the page at ``url_path`` as the page would declare them now (its
    run menus filled from ``store``); ``query``: the link's parameters (the Train form's fields
    depend on its dataset and model). KeyError for a page not listed here."""
    if url_path == "home":
        return {}
    if url_path == "geometry":
        return geometry_sections.url_spec()
    if url_path == "data":
        return data_url(shown_datasets())
    if url_path == "train":
        return train_url(query)
    if url_path == "explorer":
        return explorer_url(inspectable_runs(store))
    if url_path == "similarity":
        return similarity_url()
    if url_path == "gaussian":
        return gaussian_url(store)
    if url_path == "hierarchy":
        return hierarchy_url()
    if url_path == "interactions":
        return interactions_url(interactions_runs.study_runs(store), interactions3_runs.triple_runs(store))
    if url_path == "lessons":
        return lessons_url(lesson_keys)
    if url_path == "assimilation":
        return assimilation_url(assimilation_lab.ocean_runs(store))
    if url_path == "beyond":
        return beyond_url(beyond_lab.caption_runs(store))
    raise KeyError(url_path)
