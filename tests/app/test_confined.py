"""The app writes nothing outside MMVIZ_HOME: every page (inside app.py, as ``streamlit run`` runs
them), an uploaded embeddings file, UMAP (numba's cache) and an embedding job (a child process:
open_clip, timm, torch) run with HOME and TMPDIR pointing at empty folders, which stay empty.

In a fresh process: the libraries read HOME, TMPDIR and their cache variables when first imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = r'''
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import numpy as np, pandas as pd
from streamlit.testing.v1 import AppTest
from mmviz.ui.pages import PAGES

def run(page, **state):
    at = AppTest.from_file(str(Path(sys.argv[1]) / "app.py"), default_timeout=600)
    at.switch_page(page)
    for key, value in state.items():
        at.session_state[key] = value  # the Explorer's keys (its URL parameters seed them)
    at.run()
    assert not at.exception, (page, at.exception[0].value)
    return at

for entry in PAGES:
    run(entry.path)
at = run("pages/explorer.py", source="file")
from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings
import io, tempfile
meta = pd.DataFrame({"modality": ["image"] * 30 + ["text"] * 30})
es = EmbeddingSet(np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32) * 0.1, meta, "poincare", 1.0)
blob = save_embeddings(Path(tempfile.mkdtemp()) / "e.npz", es).read_bytes()  # under MMVIZ_HOME/tmp: confined
at.file_uploader[0].upload("e.npz", blob).run()
assert not at.exception and not at.error
at = run("pages/explorer.py", source="example", method="umap")
assert not at.exception and not at.error, [e.value for e in at.error]
# The job the Explorer's Embed button starts (its own process, in the environment app.py set up)
from mmviz.pretrained.job import EmbedRequest
from mmviz.runs.jobs import get_job, start_job
from mmviz.ui.pretrained_panel import JOB_KIND, request_args
request = EmbedRequest(model="open_clip:tiny", builtin="trifeature", limit=8, batch_size=8, device="cpu")
job = start_job(JOB_KIND, "embed-model", request_args(request), label="tiny")
deadline = time.time() + 300
while time.time() < deadline and get_job(job.id).state in ("queued", "running"):
    time.sleep(0.5)
job = get_job(job.id)
assert job.state == "done", (job.state, job.message)
print("ok")
'''


@pytest.mark.slow
def test_the_app_writes_nothing_outside_mmviz_home(tmp_path):
    home, tmp, state = tmp_path / "home", tmp_path / "tmp", tmp_path / "mmviz_home"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "TORCH", "NUMBA_", "XDG_", "TRITON_", "MPLCONFIG"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), MMVIZ_HOME=str(state), MMVIZ_REFERENCE_RUNS="none",
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (*home.rglob("*"), *tmp.rglob("*"))) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "mmviz_home", "tmp"]  # nor in the working folder
    written = {p.relative_to(state).parts[0] for p in state.rglob("*")}
    assert {"cache", "jobs", "mmviz.db", "tmp"} <= written
    assert (state / "cache" / "numba").is_dir()  # UMAP's compiled functions
