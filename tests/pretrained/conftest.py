"""Fixtures for the pretrained-model tests: a tiny open_clip checkpoint, image folders with odd
files, and an isolated MMVIZ_HOME (the embedding cache lives there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MMVIZ_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def tiny_clip_weights(tmp_path_factory) -> Path:
    """open_clip's tiny architecture with seeded random weights, saved as open_clip saves a state dict."""
    from mmviz.pretrained.openclip import TINY_ARCH, _open_clip

    open_clip = _open_clip()
    torch.manual_seed(123)
    model = open_clip.create_model(TINY_ARCH, pretrained=None, load_weights=False)
    path = tmp_path_factory.mktemp("weights") / "tiny_open_clip.pt"
    torch.save(model.state_dict(), path)
    return path


def _photo(seed: int, size=(60, 40)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


@pytest.fixture
def class_folder(tmp_path) -> Path:
    """Two synset-named class folders (dog, cat) of 3 images each, plus a README that is ignored."""
    root = tmp_path / "images"
    for k, wnid in enumerate(("n02084071", "n02121620")):
        (root / wnid).mkdir(parents=True)
        for i in range(3):
            _photo(10 * k + i).save(root / wnid / f"img{i}.png")
    (root / "README.md").write_text("not an image")
    return root


@pytest.fixture
def odd_folder(tmp_path) -> Path:
    """A flat folder of odd-but-readable images and two unreadable ones."""
    root = tmp_path / "odd"
    root.mkdir()
    base = _photo(1, (50, 70))
    base.convert("CMYK").save(root / "a_cmyk.jpg")
    rgba = base.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(root / "b_alpha.png")
    base.convert("P").save(root / "c_palette.png")
    Image.fromarray((np.arange(50 * 70).reshape(70, 50) * 18).astype(np.uint16)).save(root / "d_16bit.png")
    base.convert("LA").save(root / "e_grey_alpha.png")
    (root / "f_not_really.jpg").write_text("this is text, not a JPEG")
    good = root / "g_truncated.png"
    base.save(good)
    good.write_bytes(good.read_bytes()[:60])
    return root
