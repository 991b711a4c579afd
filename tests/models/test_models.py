"""Contrastive models: registry and schema, CLIP's temperature, MERU's constrained scalars,
geometry of the embeddings, and the entailment loss."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.geometry import get_geometry
from mmviz.models import build_model, get_model_info, list_models, resolve_model_params
from mmviz.models.encoders import ModalitySpec
from mmviz.models.meru import CURVATURE_RANGE

IMAGE_TEXT = (ModalitySpec("image", "image", (3, 16, 16)), ModalitySpec("text", "text", (6,), 12))
VECTORS = (ModalitySpec("u", "vector", (5,)), ModalitySpec("v", "vector", (4,)))
SMALL = {"dim": 8, "cnn_widths": "4,8", "text_width": 8, "mlp_hidden": 8}
HYPERBOLIC = ["meru", "meru-poincare"]


def image_text_batch(n: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=gen)
    tokens = torch.randint(1, 12, (n, 6), generator=gen)
    tokens[:, 4:] = 0
    return images, tokens


def test_registry_lists_the_built_in_models_first_and_plugins_after():
    models = list_models()
    assert [(m.name, m.geometry) for m in models[:3]] == [
        ("clip", "sphere"), ("meru", "lorentz"), ("meru-poincare", "poincare")]
    assert len({m.name for m in models}) == len(models)
    assert {m.geometry for m in models} <= {"sphere", "lorentz", "poincare", "euclidean"}


@pytest.mark.parametrize("name", ["clip", "meru", "meru-poincare"])
def test_schema_matches_config_defaults(name):
    info = get_model_info(name)
    defaults = {f.name: f.default for f in dataclasses.fields(info.config_cls)}
    assert {p.name: p.default for p in info.params} == defaults
    assert resolve_model_params(name, {}) == defaults


def test_meru_defaults_follow_the_paper():
    params = {p.name: p.default for p in get_model_info("meru").params}
    assert (params["curvature"], params["entail_weight"], params["min_radius"]) == (1.0, 0.2, 0.1)
    assert params["init_temperature"] == 0.07


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"colour": 3}, "model 'clip' has no parameter 'colour'"),
        ({"dim": 0}, "dim must be ≥ 2"),
        ({"cnn_widths": "16,x"}, "cnn_widths must be comma-separated"),
        ({"init_temperature": 0.005}, "init_temperature must be ≥ 0.01"),
    ],
)
def test_bad_config_raises_a_readable_error(cfg, message):
    with pytest.raises(MmvizError, match=message):
        build_model("clip", IMAGE_TEXT, **cfg)


def test_unknown_model():
    with pytest.raises(MmvizError, match="unknown model 'siglip'"):
        build_model("siglip", IMAGE_TEXT)


def test_clip_logit_scale_starts_at_one_over_0_07_and_is_clamped_at_100():
    model = build_model("clip", IMAGE_TEXT, **SMALL)
    assert float(model.logit_scale.detach()) == pytest.approx(math.log(1 / 0.07))
    assert float(model.scale().detach()) == pytest.approx(1 / 0.07, rel=1e-6)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert float(model.scale().detach()) == pytest.approx(100.0, rel=1e-6)
    model.constrain_()
    assert float(model.logit_scale.detach()) == pytest.approx(math.log(100.0))


def test_a_collapsed_logit_scale_logs_an_infinite_temperature_instead_of_raising():
    model = build_model("clip", IMAGE_TEXT, **SMALL)
    with torch.no_grad():
        model.logit_scale.fill_(-1000.0)  # exp underflows to exactly 0, as in a diverged run
    scalars = model.scalars()
    assert scalars["logit_scale"] == 0.0 and scalars["temperature"] == math.inf


def test_clip_embeds_on_the_unit_sphere():
    model = build_model("clip", IMAGE_TEXT, **SMALL)
    images, tokens = image_text_batch()
    for side, x in enumerate((images, tokens)):
        z = model.embed(x, side)
        torch.testing.assert_close(z.norm(dim=1), torch.ones(len(x)))
    assert model.geometry().name == "sphere"


def test_clip_loss_is_symmetric_info_nce_of_scaled_cosines():
    model = build_model("clip", IMAGE_TEXT, **SMALL)
    images, tokens = image_text_batch()
    za, zb = model.embed(images, 0), model.embed(tokens, 1)
    logits = (za @ zb.T) / 0.07
    targets = torch.arange(len(za))
    expected = 0.5 * (torch.nn.functional.cross_entropy(logits, targets)
                      + torch.nn.functional.cross_entropy(logits.T, targets))
    torch.testing.assert_close(model(images, tokens)["loss"], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", HYPERBOLIC)
def test_meru_alpha_starts_at_inverse_sqrt_dim_and_stays_at_most_one(name):
    model = build_model(name, IMAGE_TEXT, **SMALL)
    torch.testing.assert_close(model.alpha(), torch.full((2,), 8 ** -0.5))
    with torch.no_grad():
        model.log_alpha.fill_(0.7)  # alpha e^0.7 > 1
    torch.testing.assert_close(model.alpha(), torch.ones(2))
    model.constrain_()
    assert torch.all(model.log_alpha <= 0.0)


@pytest.mark.parametrize("name", HYPERBOLIC)
@pytest.mark.parametrize(("log_c", "expected"), [(math.log(50.0), 10.0), (math.log(0.01), 0.1), (0.3, math.exp(0.3))])
def test_meru_curvature_is_clamped_to_range(name, log_c, expected):
    model = build_model(name, IMAGE_TEXT, **SMALL)
    assert model.curvature() == pytest.approx(1.0)
    with torch.no_grad():
        model.log_curvature.fill_(log_c)
    assert model.curvature() == pytest.approx(expected, rel=1e-6)
    model.constrain_()
    assert CURVATURE_RANGE[0] - 1e-6 <= math.exp(float(model.log_curvature.detach())) <= CURVATURE_RANGE[1] + 1e-6


@pytest.mark.parametrize("name", HYPERBOLIC)
def test_meru_learns_curvature_temperature_and_alphas(name):
    model = build_model(name, IMAGE_TEXT, **SMALL)
    model(*image_text_batch())["loss"].backward()
    for param in (model.log_curvature, model.logit_scale, model.log_alpha):
        assert param.grad is not None and torch.all(param.grad != 0)


def test_meru_points_lie_on_the_hyperboloid():
    model = build_model("meru", IMAGE_TEXT, **SMALL, curvature=2.0)
    images, _ = image_text_batch()
    x = model.embed(images, 0).double()
    assert x.shape == (6, 9)  # dim + 1, time first
    # float32 coordinates: the constraint holds to float32 rounding of x0² (x0 ~ 1 here).
    torch.testing.assert_close(-x[:, 0] ** 2 + (x[:, 1:] ** 2).sum(1), torch.full((6,), -0.5, dtype=torch.float64),
                               rtol=0, atol=1e-6)


def test_meru_logits_are_minus_lorentz_distance():
    model = build_model("meru", IMAGE_TEXT, **SMALL)
    images, tokens = image_text_batch()
    za, zb = model.embed(images, 0), model.embed(tokens, 1)
    expected = -get_geometry("lorentz", 1.0).pairwise_dist(za, zb)
    torch.testing.assert_close(model.similarity(za, zb), expected)


@pytest.mark.parametrize("name", HYPERBOLIC)
@torch.no_grad()
def test_entailment_loss_zero_inside_the_cone(name):
    model = build_model(name, IMAGE_TEXT, **SMALL)
    geometry = model.geometry()
    direction = torch.nn.functional.normalize(torch.arange(1.0, 9.0), dim=0)
    caption = geometry.expmap0(0.5 * direction[None])
    image_inside = geometry.expmap0(2.0 * direction[None])  # further along the caption's ray
    image_outside = geometry.expmap0(-2.0 * direction[None])  # the opposite way
    # Side 0 is the image, side 1 the text: the text's cone must hold the image.
    assert model.entail_side == 1
    weight, inside = model.extra_losses(image_inside, caption)["entailment"]
    assert weight == 0.2 and float(inside) == 0.0
    _, outside = model.extra_losses(image_outside, caption)["entailment"]
    expected = math.pi - float(geometry.half_aperture(caption, 0.1))  # exterior angle pi
    assert float(outside) == pytest.approx(expected, rel=1e-5)


def test_entailment_side_without_text_is_the_second_modality():
    assert build_model("meru", VECTORS, **SMALL).entail_side == 1


def test_meru_poincare_is_finite_at_the_boundary():
    model = build_model("meru-poincare", IMAGE_TEXT, **SMALL)
    huge = torch.randn(6, 8) * 1e4  # tanh saturates: points land 4 ulps inside the ball
    za, zb = model.project(huge, 0), model.project(-huge, 1)
    assert torch.all(za.norm(dim=1) < 1.0) and torch.all(zb.norm(dim=1) < 1.0)
    with torch.no_grad():
        model.log_alpha.fill_(0.0)
    feats = (torch.randn(6, 8) * 1e4).requires_grad_()
    out = model.loss(model.project(feats, 0), model.project(feats.flip(0), 1))
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and torch.isfinite(feats.grad).all()
    assert torch.isfinite(model.log_curvature.grad)


def test_vector_models_build_with_mlps():
    model = build_model("clip", VECTORS, **SMALL)
    out = model(torch.randn(4, 5), torch.randn(4, 4))
    assert torch.isfinite(out["loss"])


def _reference_meru_exp_map0(v: np.ndarray, c: float) -> np.ndarray:
    """MERU's exp_map0 from its definition: the space part sinh(min(√c‖v‖, asinh 2¹⁵)) v / (√c‖v‖)."""
    rc = math.sqrt(c) * np.linalg.norm(v, axis=-1, keepdims=True)
    return np.sinh(np.minimum(rc, math.asinh(2.0**15))) * v / rc


@pytest.mark.parametrize("c", [0.1, 1.0, 4.0])
def test_meru_lifts_features_as_merus_exp_map0_clamps_them(c):
    model = build_model("meru", VECTORS, **SMALL, curvature=c)
    with torch.no_grad():
        model.log_alpha.fill_(0.0)  # α = 1: the features are the tangent vectors
    feats = torch.tensor([[0.3, -0.2, 0.1, 0.0, 0.5, 0.2, -0.1, 0.4],
                          [30.0, 4.0, -8.0, 1.0, 0.0, 2.0, 5.0, -3.0]], dtype=torch.float64) / math.sqrt(c)
    space = model.project(feats.float(), 0)[:, 1:].detach().double().numpy()
    expected = _reference_meru_exp_map0(feats.numpy(), c)
    np.testing.assert_allclose(space, expected, rtol=2e-5)
    # the far point sits at MERU's limit, 11.09/√c from the origin
    dist = model.geometry().dist0(model.project(feats.float(), 0)).detach().double()
    assert float(dist[1]) == pytest.approx(math.asinh(2.0**15) / math.sqrt(c), rel=1e-4)
    # without the clamp (runs stored before it) the same point lies much further out
    free = build_model("meru", VECTORS, **SMALL, curvature=c, exp_map_limit=0.0)
    with torch.no_grad():
        free.log_alpha.fill_(0.0)
    assert float(free.geometry().dist0(free.project(feats.float(), 0))[1].detach()) > 20 / math.sqrt(c)


def test_stored_meru_runs_keep_no_exp_map_limit():
    from mmviz.models.registry import with_legacy_params

    assert with_legacy_params("meru", {})["exp_map_limit"] == 0.0
    assert with_legacy_params("meru-poincare", {})["exp_map_limit"] == 0.0
    assert resolve_model_params("meru", {})["exp_map_limit"] == pytest.approx(math.asinh(2.0**15))
