"""AppTest runs pages in-process: give every test its own MMVIZ_HOME."""

import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path / "home"))
    # Pages install the shipped reference runs; page tests start from an empty store unless
    # they ask for them (tests/browser covers a fresh home with the real ones).
    monkeypatch.setenv("MMVIZ_REFERENCE_RUNS", "none")
