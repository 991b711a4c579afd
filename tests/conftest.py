"""Suite-wide fixtures."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest installs the page script as ``sys.modules["__main__"]``; multiprocessing
    'spawn' children re-import ``__main__`` from its file, so later tests would re-run a page in
    every child. Put the real ``__main__`` back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
