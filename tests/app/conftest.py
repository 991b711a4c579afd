"""AppTest runs pages in-process: give every test its own MMVIZ_HOME."""

import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path / "home"))
