"""Inputs (folders, odd images, texts), the embedding job (cache, cancel, WordNet labels,
zero-shot) and ``mmviz embed-model``'s one-line failures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.cli import main
from mmviz.errors import MmvizError
from mmviz.paths import cache_dir
from mmviz.pretrained import inputs as inp
from mmviz.pretrained.base import Preprocess
from mmviz.pretrained.job import EmbedRequest, embed, zero_shot


def test_odd_images_convert_and_unreadable_ones_are_counted(home, odd_folder):
    folder = inp.scan_image_folder(odd_folder)
    assert [p.name for p in folder.paths][:5] == ["a_cmyk.jpg", "b_alpha.png", "c_palette.png", "d_16bit.png",
                                                  "e_grey_alpha.png"]
    for path in folder.paths[:5]:
        img = inp.open_rgb(path)
        assert img is not None and img.mode == "RGB" and img.size == (50, 70)
        assert inp.pixels(img, Preprocess(32)).shape == (3, 32, 32)
    assert inp.open_rgb(odd_folder / "f_not_really.jpg") is None
    assert inp.open_rgb(odd_folder / "g_truncated.png") is None
    # Alpha is laid on white: a half-transparent pixel is half-way to white.
    alpha = np.asarray(inp.open_rgb(odd_folder / "b_alpha.png"), dtype=float)
    base = np.asarray(inp.open_rgb(odd_folder / "a_cmyk.jpg"), dtype=float)
    assert alpha.mean() > base.mean() + 40
    result = embed(EmbedRequest(model="open_clip:tiny", images=str(odd_folder), device="cpu"))
    assert (result.info["images_embedded"], result.info["images_skipped"]) == (5, 2)


def test_huge_images_are_skipped_not_fatal(home, odd_folder, monkeypatch):
    monkeypatch.setattr(inp, "MAX_IMAGE_PIXELS", 1000)  # every test image is 3,500 px
    assert inp.open_rgb(odd_folder / "a_cmyk.jpg") is None


def test_empty_folder_and_all_unreadable(home, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MmvizError, match="no images found"):
        embed(EmbedRequest(model="open_clip:tiny", images=str(tmp_path / "empty")))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_text("no")
    with pytest.raises(MmvizError, match="none of the 1 images could be read"):
        embed(EmbedRequest(model="open_clip:tiny", images=str(bad)))
    assert not any(p.name.endswith(".part") for p in cache_dir("pretrained").iterdir())


def test_class_names_with_templates_wordnet_and_zero_shot(home, class_folder, tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("n02084071\nn02121620\nanimal\n")
    result = embed(EmbedRequest(model="open_clip:tiny", images=str(class_folder), texts=str(names),
                                templates=("a photo of a {}.", "a picture of a {}."), device="cpu"))
    meta = result.es.metadata
    images = meta[meta["modality"] == "image"]
    texts = meta[meta["modality"] == "text"].reset_index(drop=True)
    assert images["label"].tolist() == ["n02084071"] * 3 + ["n02121620"] * 3
    assert set(images["wordnet_id"]) == {"dog.n.01", "cat.n.01"}
    assert texts["label"].tolist() == ["n02084071", "n02121620", "animal"]
    assert texts["prompts"].tolist() == [2, 2, 2]
    # entity > physical entity > object > whole > living thing > organism > animal
    assert int(texts.loc[2, "wordnet_depth"]) == 6
    # Arcs on the disk: dog → animal and cat → animal, between the class rows.
    animal_row = int(meta.index[(meta["modality"] == "text") & (meta["label"] == "animal")][0])
    parents = meta.loc[meta["modality"] == "text", "parent"].tolist()
    assert parents[:2] == [str(animal_row)] * 2 and parents[2] == ""
    assert result.info["zero_shot"]["n"] == 6
    assert result.info["texts_embedded"] == 6 and result.info["files_ignored"] == 1
    # Each class row is the normalised mean of its two prompts.
    assert np.allclose(np.linalg.norm(result.es.points, axis=1), 1.0, atol=1e-5)


def test_zero_shot_against_a_hand_made_case():
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    classes = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out = zero_shot(images, classes, ["a", "b", "a"], ["a", "b"], "sphere", 1.0)
    assert out == {"top1": pytest.approx(66.67, abs=0.01), "top5": 100.0, "n": 3}


def test_cache_hit_and_a_cancelled_job_leaves_no_entry(home):
    req = EmbedRequest(model="open_clip:tiny", builtin="digits", limit=40, batch_size=8, device="cpu")

    def cancel_midway(done, total, stage):
        if stage.startswith("images") and done >= 16:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed(req, cancel_midway)
    root = cache_dir("pretrained")
    assert [p.name for p in root.iterdir() if p.is_dir()] == []
    first = embed(req)
    second = embed(req)
    assert (first.cached, second.cached) == (False, True)
    np.testing.assert_array_equal(first.es.points, second.es.points)
    assert first.es.metadata["pair_index"].notna().all()  # digits' captions pair with their images


def test_request_refusals():
    with pytest.raises(MmvizError, match="nothing to embed"):
        EmbedRequest(model="open_clip:tiny").check()
    with pytest.raises(MmvizError, match="unknown built-in dataset 'mnist'"):
        EmbedRequest(model="open_clip:tiny", builtin="mnist").check()
    with pytest.raises(MmvizError, match="unknown pretrained model 'gpt'"):
        EmbedRequest(model="gpt", builtin="digits").check()
    with pytest.raises(MmvizError, match=r"meru-vit-b needs weights: download https://dl.fbaipublicfiles.com/meru/"):
        EmbedRequest(model="meru-vit-b", builtin="digits").check()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "meru-vit-s", "--builtin", "digits"], "error: meru-vit-s needs weights: download"),
    (["--model", "open_clip:tiny", "--images", "/no/such/folder"], "error: /no/such/folder: no such folder of images"),
    (["--model", "open_clip:tiny", "--weights", "/no/such.pt", "--builtin", "digits"],
     "error: /no/such.pt: no such weights file"),
    (["--model", "open_clip:tiny", "--texts", "/no/such.txt"], "error: /no/such.txt: no such text file"),
])
def test_cli_failures_are_one_line(home, capsys, args, message):
    assert main(["embed-model", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(message)


def test_cli_refuses_a_pickle_that_needs_code(home, tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"model": {"w": torch.zeros(1)}, "hook": Preprocess()}, path)
    assert main(["embed-model", "--model", "open_clip:tiny", "--weights", str(path), "--builtin", "digits"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "refused, the checkpoint holds more than tensors" in last


def test_cli_writes_the_file_and_reports(home, tmp_path, capsys):
    out = tmp_path / "emb.npz"
    assert main(["embed-model", "--model", "meru-tiny", "--builtin", "trifeature-captions", "--limit", "16",
                 "--out", str(out), "--json"]) == 0
    import json

    info = json.loads(capsys.readouterr().out)
    assert (info["images_embedded"], info["texts_embedded"], info["geometry"]) == (16, 16, "lorentz")
    from mmviz.data.embeddings_io import load_embeddings

    es = load_embeddings(out)
    assert es.geometry == "lorentz" and es.model == "meru-tiny" and es.cone_min_radius == 0.1
    # Points lie on the hyperboloid of curvature -c: <x, x>_L = -1/c.
    x = es.points.astype(np.float64)
    assert np.allclose(-x[:, 0] ** 2 + (x[:, 1:] ** 2).sum(1), -1.0 / es.curvature, rtol=1e-4)
