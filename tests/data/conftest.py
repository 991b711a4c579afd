"""Every data test gets its own MMVIZ_HOME, so caches never leak between tests or into ./runs."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def mmviz_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``MMVIZ_HOME`` set to a fresh folder under ``tmp_path`` for the test."""
    home = tmp_path / "mmviz_home"
    monkeypatch.setenv("MMVIZ_HOME", str(home))
    return home
