"""The "a pretrained model" source of the Explorer and Similarity pages: a form that starts an
embedding job in the background (the same job as ``mmviz embed-model``), its live progress with
a Cancel button, and the finished result.

The job id sits in the URL (``job=``), so a reload, or a link, finds the job again.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import numpy as np
import streamlit as st

from mmviz.errors import MmvizError
from mmviz.pretrained.inputs import BUILTIN_SOURCES, DEFAULT_TEMPLATES
from mmviz.pretrained.job import EmbedRequest, EmbedResult, load_entry
from mmviz.pretrained.registry import OPEN_CLIP_PREFIX, pretrained_names, spec_for
from mmviz.runs.jobs import ACTIVE, Job, cancel_job, get_job, list_jobs, start_job
from mmviz.ui import classroom

JOB_KIND = "embed"
TICK_S = 1.0
OTHER_OPEN_CLIP = "open_clip: another architecture…"
BUILTIN_NAMES = {
    "trifeature-captions": "Trifeature with captions (paired)",
    "trifeature": "Trifeature (zero-shot over the 10 shapes)",
    "digits": "digits (paired captions)",
}


def request_args(req: EmbedRequest) -> list[str]:
    """``mmviz embed-model`` arguments for ``req`` (the job runs exactly the CLI)."""
    args = ["--model", req.model, "--batch-size", str(req.batch_size), "--device", req.device]
    for flag, value in (("--weights", req.weights), ("--pretrained", req.tag), ("--images", req.images),
                        ("--texts", req.texts), ("--builtin", req.builtin)):
        if value:
            args += [flag, value]
    for template in req.templates:
        args += ["--template", template]
    if req.limit:
        args += ["--limit", str(req.limit)]
    return args


def _saved_upload(upload) -> str:
    """An uploaded text file kept in this session's own uploads folder (``MMVIZ_HOME/uploads/<owner>/
    texts``) by its content hash; returns the path."""
    data = upload.getvalue()
    folder = classroom.uploads_dir("texts")
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{Path(upload.name).suffix.lower() or '.txt'}"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def _form(prefix: str) -> EmbedRequest | None:
    """The request form; returns a request when the user presses Embed."""
    names = pretrained_names()
    with st.form(prefix + "embed_form", border=True):
        c1, c2 = st.columns([1, 2])
        model = c1.selectbox("model", [*names, OTHER_OPEN_CLIP], key=prefix + "pt_model",
                             index=names.index("meru-vit-s") if "meru-vit-s" in names else 0,
                             help="MERU's released CLIP and MERU checkpoints, any open_clip architecture, or a "
                                  "tiny random-weight model to try the flow.")
        arch = c1.text_input("open_clip architecture", "ViT-B-32", key=prefix + "pt_arch",
                             help="Used with 'another architecture': any name in open_clip.list_models().")
        weights = c2.text_input("weights file on this machine", key=prefix + "pt_weights",
                                placeholder="/path/to/meru_vit_s.pth  (not needed for *-tiny)",
                                help="Read with torch.load(weights_only=True) or safetensors; nothing is unpickled.")
        tag = c2.text_input("or an open_clip pretrained tag (needs internet)", key=prefix + "pt_tag",
                            placeholder="laion2b_s34b_b79k")
        c3, c4 = st.columns([1, 2])
        kind = c3.radio("images", ["built-in set", "a folder on this machine"], key=prefix + "pt_kind")
        builtin = c4.selectbox("built-in set", list(BUILTIN_SOURCES), key=prefix + "pt_builtin",
                               index=list(BUILTIN_SOURCES).index("trifeature-captions"), format_func=BUILTIN_NAMES.get)
        folder = c4.text_input("image folder (flat, or one subfolder per class; ImageNet synset names resolve "
                               "to WordNet)", key=prefix + "pt_folder")
        c5, c6 = st.columns([2, 1])
        texts = c5.file_uploader("captions or class names (.txt one per line, or .csv with a caption column)",
                                 type=["txt", "csv", "tsv"], key=prefix + "pt_texts")
        class_names = c6.checkbox("the lines are class names (zero-shot)", key=prefix + "pt_classes")
        template = c6.text_input("prompt template", DEFAULT_TEMPLATES[0], key=prefix + "pt_template")
        c7, c8, _ = st.columns([1, 1, 2])
        limit = c7.number_input("at most this many images (0: all)", 0, 100_000, 200, step=50, key=prefix + "pt_limit")
        batch = c8.number_input("batch size", 1, 512, 32, key=prefix + "pt_batch")
        pressed = st.form_submit_button("Embed", type="primary", icon=":material/play_arrow:")
    if model in names:
        spec = spec_for(model)
        st.caption(f"**{model}**: {spec.description}." + (f" Weights: {spec.download}." if spec.download else ""))
    if not pressed:
        return None
    return EmbedRequest(
        model=f"{OPEN_CLIP_PREFIX}{arch.strip()}" if model == OTHER_OPEN_CLIP else model,
        weights=weights.strip(), tag=tag.strip(),
        images=folder.strip() if kind != "built-in set" else "",
        builtin=builtin if kind == "built-in set" else "",
        texts=_saved_upload(texts) if texts is not None else "",
        templates=(template.strip(),) if class_names and template.strip() else (),
        limit=int(limit), batch_size=int(batch),
    )


def _start(req: EmbedRequest, prefix: str) -> None:
    try:
        req.check()
    except MmvizError as err:
        st.error(str(err))
        return
    inputs = Path(req.images).name if req.images else req.builtin or Path(req.texts).name
    job = start_job(JOB_KIND, "embed-model", request_args(req), label=f"{req.model} on {inputs}",
                    owner=classroom.viewer().owner)
    st.session_state[prefix + "job"] = job.id


def _job_label(job: Job) -> str:
    return f"{job.label} · {job.state}"


def pretrained_source(prefix: str) -> EmbedResult | None:
    """The form, the job picker and the job's status; the finished result, or None."""
    req = _form(prefix)
    if req is not None:
        _start(req, prefix)
    jobs = {j.id: j for j in list_jobs(JOB_KIND) if classroom.owns_job(j)}  # this browser's own jobs
    current = st.session_state.get(prefix + "job") or ""
    if current and current not in jobs:
        try:
            found = get_job(current)
            if not classroom.owns_job(found):
                raise MmvizError("another browser's job")
            jobs[current] = found
        except MmvizError:
            st.warning(f"No embedding job {current!r} of yours here: it may have been made on another machine, "
                       "or by another browser on this one.")
            current = ""
    if not jobs:
        st.info("Pick a model and inputs, then **Embed**. Try *meru-tiny* or *open_clip:tiny* on a built-in set: "
                "random weights, so the geometry means nothing, but the whole flow runs in seconds.")
        return None
    ids = list(jobs)
    if current not in ids:
        current = ids[0]
    st.session_state[prefix + "job"] = current
    job_id = st.selectbox("embedding job", ids, key=prefix + "job", format_func=lambda i: _job_label(jobs[i]))
    job = jobs[job_id]
    if job.state in ACTIVE:
        st.fragment(_progress, run_every=TICK_S)(job_id)
        return None
    return _finished(job)


def _progress(job_id: str) -> None:
    """Live progress of a running job; reruns the page when it ends."""
    job = get_job(job_id)
    if job.state not in ACTIVE:
        st.rerun(scope="app")
    bar, cancel = st.columns([5, 1], vertical_alignment="bottom")
    text = f"{job.stage or job.state}: {job.done:,} of {job.total:,}" if job.total else (job.stage or job.state)
    bar.progress(job.fraction, text=text)
    if cancel.button("Cancel", key=f"cancel_{job_id}", icon=":material/stop:") and classroom.owns_job(job):
        cancel_job(job_id)  # checked again on the server: only the job's own browser (or the host) cancels


@st.cache_resource(show_spinner="Reading the embeddings…", max_entries=8)
def _entry(path: str, _mtime: float) -> EmbedResult:
    return load_entry(Path(path))


def _finished(job: Job) -> EmbedResult | None:
    if job.state != "done":
        st.error(f"The embedding job {job.state}: {job.message or 'see its log'}  \n"
                 f"`python -m mmviz {shlex.join(job.args)}`")
        return None
    path = Path(job.result)
    if not (path / "embeddings.npz").is_file():
        st.error(f"The job's result {path} is gone (the cache was cleared?): embed again.")
        return None
    result = _entry(str(path), (path / "embeddings.npz").stat().st_mtime)
    info = result.info
    zs = info.get("zero_shot") or {}
    parts = [f"**{info.get('model', job.label)}**: {info.get('images_embedded', 0):,} images",
             f"{info.get('texts_embedded', 0):,} texts"]
    if info.get("images_skipped"):
        parts.append(f"{info['images_skipped']:,} unreadable images skipped")
    if info.get("files_ignored"):
        parts.append(f"{info['files_ignored']:,} non-image files ignored")
    if zs:
        parts.append(f"zero-shot top-1 {zs['top1']:.1f}% / top-5 {zs['top5']:.1f}% on {zs['n']:,} images")
    st.caption(" · ".join(parts) + f" · {job.message or 'embedded'} in "
               f"{info.get('seconds_images', 0) + info.get('seconds_texts', 0):.1f} s on {info.get('device', 'cpu')}")
    return result


def thumbnails_chw(result: EmbedResult) -> np.ndarray | None:
    """The job's thumbnails as (N, 3, 48, 48) uint8, indexed by the image rows' pair_index
    (transposed once per cache entry, not on every rerun)."""
    return None if result.thumbnails is None else _chw(str(result.entry), result.thumbnails)


@st.cache_resource(show_spinner=False, max_entries=8)
def _chw(entry: str, _thumbnails: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(_thumbnails.transpose(0, 3, 1, 2))
