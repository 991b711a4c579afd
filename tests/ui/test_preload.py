"""The Lessons page's background import of the next view's modules."""

import subprocess
import sys

from mmviz.ui import preload
from mmviz.ui.pages import PAGES


def test_page_modules_are_the_pages_mmviz_imports():
    mods = preload.page_modules("pages/hierarchy.py")
    assert "mmviz.ui.hierarchy_sections" in mods
    assert "mmviz.ui.shell" in mods
    assert all(m.startswith("mmviz") for m in mods)  # streamlit is already imported
    assert preload.page_modules("pages/no-such-page.py") == ()


def test_every_page_has_modules_to_preload():
    for entry in PAGES:
        assert preload.page_modules(entry.path), entry.path


def test_start_imports_in_the_background_and_wait_joins():
    # A fresh interpreter: the hierarchy page's modules (and torch behind them) are not imported yet.
    code = (
        "import sys\n"
        "from mmviz.ui import preload\n"
        "assert 'mmviz.ui.hierarchy_sections' not in sys.modules and 'torch' not in sys.modules\n"
        "preload.start('pages/hierarchy.py'); preload.start('pages/hierarchy.py')\n"
        "assert len(preload._threads) == 1\n"  # once per page per process
        "preload.wait()\n"
        "assert not preload._threads\n"
        "print('mmviz.ui.hierarchy_sections' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True"]
