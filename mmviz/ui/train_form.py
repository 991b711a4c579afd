"""The Train page's ways to start runs: preset buttons, and a form built from the dataset,
model and training schemas. Every form field lives in the URL (``st.query_params``), so a
link opens the same experiment: ``?dataset=gaussian&gaussian.n=2000&model=meru&meru.dim=16&steps=500``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from mmviz.data.base import ParamSpec
from mmviz.data.registry import get_info, list_datasets
from mmviz.errors import ConfigError, MmvizError
from mmviz.models.registry import get_model_info, list_models, models_for
from mmviz.runs.devices import available_devices
from mmviz.runs.presets import list_presets, preset_configs
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import TRAIN_PARAMS, resolve_config
from mmviz.ui import classroom
from mmviz.ui.forms import param_form
from mmviz.ui.train_runs import PREFIX
from mmviz.ui.url_state import UrlParam, seed_from_url

# Session-state keys are PREFIX (the Train page's entry's) + the URL key: ``train.steps``, ``train.gaussian.n``...
TRAINABLE = [info.name for info in list_datasets() if models_for(info.name) and not info.user_file]
MODELS = [info.name for info in list_models()]
FORM_TRAIN_PARAMS = tuple(p for p in TRAIN_PARAMS if p.name != "device")  # device: its own menu
DEFAULT_DATASET = "trifeature-captions" if "trifeature-captions" in TRAINABLE else TRAINABLE[0]


@st.cache_resource(show_spinner=False)
def devices() -> list[dict[str, str]]:
    """What this machine can train on (CUDA GPUs, Apple MPS, CPU), asked once per server."""
    return available_devices()


def url_param(spec: ParamSpec) -> UrlParam:
    """The URL form of a schema field: same default, same bounds or choices."""
    if spec.type == "choice":
        return UrlParam(spec.default, choices=list(spec.choices or []))
    if spec.type == "int":
        return UrlParam(int(spec.default), spec.min, spec.max)
    if spec.type == "float":
        return UrlParam(float(spec.default), spec.min, spec.max)
    return UrlParam(spec.default)


def choice_spec() -> dict[str, UrlParam]:
    """URL keys of the dataset and model menus (read first: the rest depends on them)."""
    return {"dataset": UrlParam(DEFAULT_DATASET, choices=TRAINABLE), "model": UrlParam(MODELS[0], choices=MODELS)}


def url_spec(dataset: str, model: str) -> dict[str, UrlParam]:
    """Every URL key of the form for this dataset and model: ``<dataset>.<param>``,
    ``<model>.<param>``, then the training settings by their own names."""
    spec = choice_spec()
    spec.update({f"{dataset}.{p.name}": url_param(p) for p in get_info(dataset).params})
    spec.update({f"{model}.{p.name}": url_param(p) for p in get_model_info(model).params})
    spec.update({p.name: url_param(p) for p in FORM_TRAIN_PARAMS})
    spec["device"] = UrlParam("auto", choices=["auto"] + [d["name"] for d in devices()])
    spec["name"] = UrlParam("")
    return spec


def form_in_url(view: dict[str, UrlParam]) -> bool:
    """Whether the link carries form fields (keys other than ``view``'s): a shared experiment,
    so the page opens the form."""
    return any(key not in view for key in st.query_params)


def seed_state(extra: dict[str, UrlParam]) -> dict[str, UrlParam]:
    """Fill session state from the URL (once per session) and return the whole URL spec: the
    form's keys for the chosen dataset and model plus ``extra`` (other widgets' keys).

    Fields drawn by ``param_form`` are not seeded: they take their URL value as the widget's
    initial value instead (see :func:`_from_url`), so no widget gets a value two ways.
    """
    seed_from_url(choice_spec(), PREFIX)
    spec = {**url_spec(st.session_state[PREFIX + "dataset"], st.session_state[PREFIX + "model"]), **extra}
    seed_from_url({k: spec[k] for k in ("device", "name", *extra)}, PREFIX)
    return spec


def _from_url(scope: str, specs: tuple[ParamSpec, ...]) -> dict[str, Any]:
    """Values of ``specs`` the URL carries (keys ``scope.name``, or the bare name without scope)."""
    values = {}
    for spec in specs:
        raw = st.query_params.get(f"{scope}.{spec.name}" if scope else spec.name)
        if raw is not None:
            values[spec.name] = url_param(spec).parse(raw)
    return values


def _apply_model_train_defaults(model: str) -> None:
    """When the model changes, its own training defaults (e.g. lr 0.1 for tree embeddings) fill the
    training fields, and the previous model's give way to the global defaults. On a first visit a
    value the URL carries wins."""
    last = st.session_state.get(PREFIX + "defaults_for")
    if last == model:
        return
    st.session_state[PREFIX + "defaults_for"] = model
    specs = {p.name: p for p in FORM_TRAIN_PARAMS}
    previous = dict(get_model_info(last).train_defaults) if last else {}
    current = dict(get_model_info(model).train_defaults)
    for name in (set(previous) | set(current)) & set(specs):
        if last is None and name in st.query_params:
            continue
        st.session_state[PREFIX + name] = current.get(name, specs[name].default)


PRESETS_PER_ROW = 4


def preset_gallery(store: RunStore) -> list[str]:
    """A card per preset with a Launch button; returns the ids of the runs just launched."""
    presets = list_presets()
    launched: list[str] = []
    cards = []
    for _ in range(0, len(presets), PRESETS_PER_ROW):  # rows of cards: readable however many there are
        cards += st.columns(PRESETS_PER_ROW)
    for preset, col in zip(presets, cards):
        with col.container(border=True, height="stretch"):
            st.markdown(f"**{preset.title}**")
            st.caption(preset.description)
            first = preset.runs[0]
            st.caption(f"{' vs '.join(r['name'] for r in preset.runs)} · {first.get('steps')} steps · "
                       f"{first.get('dataset')}")
            if st.button("Launch", key=f"preset.{preset.key}", type="primary", icon=":material/rocket_launch:",
                         help=f"Start {len(preset.runs)} runs and overlay their curves."):
                try:
                    launched = classroom.launch_all(preset_configs(preset.key), store)  # all fit the quota, or none
                except MmvizError as err:
                    st.error(f"This preset can't start: {err}")
    return launched


def _device_label(name: str) -> str:
    found = {d["name"]: d for d in devices()}
    if name == "auto":
        return f"auto (here: {devices()[0]['name']})"
    return f"{name} — {found[name]['description']}" if name in found else name


def device_summary() -> str:
    """One line saying which kinds of device this machine has."""
    parts = []
    for kind, label in (("cuda", "CUDA"), ("mps", "MPS"), ("cpu", "CPU")):
        found = [d for d in devices() if d["kind"] == kind]
        parts.append(f"{label}: " + (", ".join(d["description"] for d in found) if found else "not available"))
    return " · ".join(parts)


def launch_form(store: RunStore) -> list[str]:
    """Dataset, model and training settings, and a Launch button. The config is validated
    first; a bad value shows as an error and nothing starts. Returns the launched run ids."""
    left, right = st.columns(2)
    dataset = left.selectbox("dataset", TRAINABLE, key=PREFIX + "dataset",
                             format_func=lambda n: f"{n} — {get_info(n).description.split('.')[0]}")
    fitting = [m.name for m in models_for(dataset)]
    if st.session_state.get(PREFIX + "model") not in fitting:
        st.session_state[PREFIX + "model"] = fitting[0]  # the last model does not train on this dataset
    model = right.selectbox("model", fitting, key=PREFIX + "model",
                            format_func=lambda n: f"{n} — {get_model_info(n).description.split(':')[0]}")
    left.caption(get_info(dataset).description)
    right.caption(get_model_info(model).description)
    slots: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    st.markdown("**Dataset parameters**")
    dataset_params = param_form(get_info(dataset).params, key=PREFIX + dataset,
                                values=_from_url(dataset, get_info(dataset).params), slots=slots["data"])
    st.markdown("**Model parameters**")
    model_params = param_form(get_model_info(model).params, key=PREFIX + model,
                              values=_from_url(model, get_model_info(model).params), slots=slots["model"])
    st.markdown("**Training**")
    _apply_model_train_defaults(model)
    train = param_form(FORM_TRAIN_PARAMS, key=PREFIX.rstrip("."), values=_from_url("", FORM_TRAIN_PARAMS),
                       slots=slots["train"])
    dev_col, name_col = st.columns(2)
    device = dev_col.selectbox("device", ["auto"] + [d["name"] for d in devices()], key=PREFIX + "device",
                               format_func=_device_label)
    slots["train"]["device"] = dev_col.empty()
    dev_col.caption(device_summary())
    name = name_col.text_input("run name (optional)", key=PREFIX + "name", help="Labels the run's curves.")
    config: dict[str, Any] = {"dataset": dataset, "dataset_params": dataset_params, "model": model,
                              "model_params": model_params, **train, "device": device,
                              "name": name.strip() or None}
    try:  # checked on every change, so a bad value is flagged where it was typed, before Launch
        resolved = resolve_config(config)
    except ConfigError as err:
        scope, _, field = err.field.partition(".")
        slot = slots.get(scope, {}).get(field)
        (slot or st).error(str(err), icon=":material/error:")
        specs = {"data": get_info(dataset).params, "model": get_model_info(model).params}.get(scope, TRAIN_PARAMS)
        if slot is not None and any(s.name == field and s.advanced for s in specs):
            st.error(f"{err} (under *Advanced parameters*)", icon=":material/error:")  # the field may be folded
        st.button("Launch run", type="primary", icon=":material/play_arrow:", disabled=True,
                  help="Fix the value marked in red first.")
        return []
    over_quota = classroom.quota_message(store)
    if over_quota is not None:  # this session has its share of the shared server queued or training
        st.warning(over_quota, icon=":material/hourglass_top:")
    pressed = st.button("Launch run", type="primary", icon=":material/play_arrow:", disabled=over_quota is not None,
                        help=over_quota or quota_note(store))
    if not pressed:
        return []
    try:
        return [classroom.launch(resolved, store)]  # the quota is checked again as the run is created
    except MmvizError as err:
        st.error(f"This run can't start: {err}", icon=":material/error:")
        return []


def quota_note(store: RunStore) -> str:
    """One line on this session's share of the runner: its quota and how much of it is used."""
    left = classroom.quota_left(store)
    if left is None:
        return "Starts at once if a training slot is free, else waits in the queue."
    quota = classroom.session_quota()
    return (f"This browser may have {quota} run{'s' if quota != 1 else ''} queued or training at once; "
            f"{left} more now. Starts at once if a training slot is free, else waits in the queue.")
