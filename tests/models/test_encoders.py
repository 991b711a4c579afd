"""Encoders: which one a modality gets, output shapes, padding invariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.models.encoders import (
    ConvEncoder,
    EncoderSizes,
    MLPEncoder,
    Projection,
    TextEncoder,
    build_encoder,
    describe_modality,
)


@pytest.mark.parametrize(
    ("array", "kind", "shape", "vocab"),
    [
        (np.zeros((4, 3, 32, 32), np.uint8), "image", (3, 32, 32), 0),
        (np.zeros((4, 1, 8, 8), np.uint8), "image", (1, 8, 8), 0),
        (np.array([[1, 5, 0], [2, 0, 0]], np.int64), "text", (3,), 6),
        (np.zeros((4, 7), np.float32), "vector", (7,), 0),
    ],
)
def test_describe_modality(array, kind, shape, vocab):
    spec = describe_modality("m", array)
    assert (spec.kind, spec.shape, spec.vocab_size) == (kind, shape, vocab)


def test_describe_modality_uses_the_given_vocabulary():
    assert describe_modality("t", np.array([[1, 2]]), vocab_size=38).vocab_size == 38


def test_describe_modality_rejects_other_arrays():
    with pytest.raises(ValueError, match="cannot choose an encoder"):
        describe_modality("m", np.zeros((4, 3, 3)))


@pytest.mark.parametrize(("channels", "size", "pools"), [(1, 8, 2), (3, 32, 3), (3, 64, 3), (3, 224, 3)])
def test_conv_encoder_shapes_and_pooling(channels, size, pools):
    enc = ConvEncoder(channels, size, (4, 8, 8, 6))
    x = torch.randint(0, 256, (2, channels, size, size), dtype=torch.uint8)
    assert enc(x).shape == (2, 6) and enc.width == 6
    # Pooling stops once the map is below 4 px: 8 px pools twice (8 -> 4 -> 2), larger inputs 3 times.
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in enc.modules()) == pools


def test_conv_encoder_scales_uint8_to_unit_range():
    enc = ConvEncoder(3, 16, (4,))
    x = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    torch.testing.assert_close(enc(x), enc(x.float() / 255.0))


def test_conv_encoder_norms():
    group = ConvEncoder(3, 16, (4, 8))
    batch = ConvEncoder(3, 16, (4, 8), norm="batch")
    assert sum(isinstance(m, torch.nn.GroupNorm) for m in group.modules()) == 2
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in batch.modules()) == 2
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in batch.modules())
    x = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    # GroupNorm: an image's features do not depend on the rest of the batch; BatchNorm in
    # training: they do; in eval (running statistics) they do not
    torch.testing.assert_close(group(x)[:2], group(x[:2]))
    assert not torch.allclose(batch(x)[:2], batch(x[:2]))
    batch.eval()
    torch.testing.assert_close(batch(x)[:2], batch(x[:2]))
    sized = build_encoder(describe_modality("image", np.zeros((1, 3, 16, 16), np.uint8)),
                          EncoderSizes(cnn_widths=(4,), cnn_norm="batch"), 5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in sized.modules())
    with pytest.raises(ValueError, match="norm must be one of group, batch"):
        ConvEncoder(3, 16, (4,), norm="layer")


@pytest.mark.parametrize(("depth", "width"), [(0, 7), (2, 16)])
def test_mlp_encoder_shape(depth, width):
    enc = MLPEncoder(7, 16, depth)
    assert enc(torch.randn(5, 7)).shape == (5, width) and enc.width == width


def test_projection_gives_unit_variance_components():
    torch.manual_seed(0)
    out = Projection(64, 256)(torch.randn(512, 64) * 5 + 3)  # LayerNorm removes scale and offset
    assert out.shape == (512, 256)
    assert float(out.detach().var()) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("layers", [0, 1])
def test_text_encoder_ignores_padding(layers):
    torch.manual_seed(0)
    enc = TextEncoder(vocab_size=10, max_len=6, width=8, layers=layers, heads=2).eval()
    short = torch.tensor([[1, 5, 2, 0]])
    long = torch.tensor([[1, 5, 2, 0, 0, 0]])
    torch.testing.assert_close(enc(short), enc(long))
    # Different words give different features.
    assert not torch.allclose(enc(short), enc(torch.tensor([[1, 6, 2, 0]])))


def test_build_encoder_picks_by_kind():
    sizes = EncoderSizes(cnn_widths=(4, 8))
    kinds = {
        "image": describe_modality("i", np.zeros((1, 3, 16, 16), np.uint8)),
        "text": describe_modality("t", np.ones((1, 4), np.int64), vocab_size=9),
        "vector": describe_modality("v", np.zeros((1, 3), np.float32)),
    }
    encoders = {k: build_encoder(spec, sizes, 6) for k, spec in kinds.items()}
    assert {k: type(e[0]) for k, e in encoders.items()} == {
        "image": ConvEncoder, "text": TextEncoder, "vector": MLPEncoder}
    assert all(isinstance(e[1], Projection) and e[1].linear.out_features == 6 for e in encoders.values())
