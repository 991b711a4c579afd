"""AppTest runs pages in-process: give every test its own MMVIZ_HOME."""

import os
import tempfile

import pytest

from mmviz.paths import CONFINED


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path / "home"))
    # Pages install the shipped reference runs; page tests start from an empty store unless
    # they ask for them (tests/browser covers a fresh home with the real ones).
    monkeypatch.setenv("MMVIZ_REFERENCE_RUNS", "none")
    # app.py points the caches and the temporary folder into MMVIZ_HOME (mmviz.paths.confine_to_home):
    # put them back after each test, so no test's folder outlives it in this process's environment.
    saved = {var: os.environ.get(var) for var in ("TMPDIR", *(name for name, _ in CONFINED))}
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    yield
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
