"""open_clip through mmviz: the same embeddings as open_clip's own encode_image / encode_text on
the same weights and inputs; refusals of wrong checkpoints and of tags offline."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PIL import Image

from mmviz.errors import MmvizError
from mmviz.pretrained import openclip
from mmviz.pretrained.job import EmbedRequest, embed
from mmviz.pretrained.registry import load_pretrained


def _reference(weights):
    """open_clip's own model, transform and tokenizer on the same file (no mmviz code)."""
    open_clip = openclip._open_clip()
    model = open_clip.create_model(openclip.TINY_ARCH, pretrained=None, load_weights=False)
    model.load_state_dict(torch.load(weights, weights_only=True))
    transform = open_clip.image_transform(model.visual.image_size, is_train=False)
    return model.eval(), transform, open_clip.get_tokenizer(openclip.TINY_ARCH)


def test_embeddings_equal_open_clips_own(home, class_folder, tiny_clip_weights, tmp_path):
    captions = tmp_path / "captions.csv"
    files = sorted(p.relative_to(class_folder).as_posix() for p in class_folder.rglob("*.png"))
    captions.write_text("image,caption\n" + "".join(f"{f},a photo number {i}\n" for i, f in enumerate(files)))
    result = embed(EmbedRequest(model="open_clip:tiny", weights=str(tiny_clip_weights), images=str(class_folder),
                                texts=str(captions), batch_size=4, device="cpu"))
    es = result.es
    model, transform, tokenizer = _reference(tiny_clip_weights)
    images = es.metadata["modality"] == "image"
    paths = es.metadata.loc[images, "image_path"].tolist()
    with torch.no_grad():
        ref_img = model.encode_image(torch.stack([transform(Image.open(p)) for p in paths]), normalize=True)
        texts = es.metadata.loc[~images, "text"].tolist()
        ref_txt = model.encode_text(tokenizer(texts), normalize=True)
    np.testing.assert_allclose(es.points[images.to_numpy()], ref_img.numpy(), atol=1e-5)
    np.testing.assert_allclose(es.points[~images.to_numpy()], ref_txt.numpy(), atol=1e-5)
    assert es.geometry == "sphere" and es.logit_scale == pytest.approx(float(model.logit_scale.detach().exp()))
    # Captions were paired to their images by file name: caption i belongs to file i.
    text_rows = es.metadata[~images]
    assert text_rows["pair_index"].astype(int).tolist() == list(range(6))
    assert result.thumbnails.shape == (6, 48, 48, 3)


def test_safetensors_weights_load_the_same(tiny_clip_weights, tmp_path):
    from safetensors.torch import save_file

    state = torch.load(tiny_clip_weights, weights_only=True)
    path = tmp_path / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    a = load_pretrained("open_clip:tiny", weights=tiny_clip_weights)
    b = load_pretrained("open_clip:tiny", weights=path)
    tokens = a.tokenize(["a red star"])
    assert torch.equal(a.encode_text(tokens), b.encode_text(tokens))


def test_missing_and_unexpected_keys_are_named(tiny_clip_weights, tmp_path):
    state = torch.load(tiny_clip_weights, weights_only=True)
    state.pop("text_projection")
    state["visual.extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(MmvizError) as err:
        load_pretrained("open_clip:tiny", weights=path)
    message = str(err.value)
    assert "not a open_clip mmviz-tiny checkpoint" in message
    assert "1 missing key(s): text_projection" in message and "1 unexpected key(s): visual.extra.weight" in message


def test_wrong_architecture_names_the_shapes(tiny_clip_weights):
    with pytest.raises(MmvizError, match="missing key"):
        load_pretrained("open_clip:ViT-B-32", weights=tiny_clip_weights)


def test_corrupted_checkpoint_is_one_line(tiny_clip_weights, tmp_path):
    path = tmp_path / "cut.pt"
    path.write_bytes(tiny_clip_weights.read_bytes()[:5000])
    with pytest.raises(MmvizError, match="not a readable PyTorch checkpoint") as err:
        load_pretrained("open_clip:tiny", weights=path)
    assert "\n" not in str(err.value)


def test_unknown_architecture_and_tag():
    with pytest.raises(MmvizError, match="does not know the architecture 'ViT-Z-99'"):
        load_pretrained("open_clip:ViT-Z-99", tag="openai")
    with pytest.raises(MmvizError, match="no pretrained tag 'nope' for ViT-B-32; its tags: openai"):
        load_pretrained("open_clip:ViT-B-32", tag="nope")


def test_tag_offline_fails_at_once_with_one_line(monkeypatch):
    # A closed local port stands in for an unreachable hub; nothing is in the cache.
    monkeypatch.setattr(openclip, "DOWNLOAD_HOSTS", ("127.0.0.1", 9))
    monkeypatch.setattr(openclip, "_cached_file", lambda cfg: None)
    start = time.monotonic()
    with pytest.raises(MmvizError) as err:
        load_pretrained("open_clip:ViT-B-32", tag="laion2b_s34b_b79k")
    assert time.monotonic() - start < 10
    assert str(err.value) == (
        "cannot download open_clip ViT-B-32 'laion2b_s34b_b79k': no internet (127.0.0.1 unreachable); "
        "download the weights where there is internet and pass the file as weights")


def test_weights_and_tag_together_are_refused(tiny_clip_weights):
    with pytest.raises(MmvizError, match="either a weights file or a pretrained tag"):
        load_pretrained("open_clip:tiny", weights=tiny_clip_weights, tag="openai")
