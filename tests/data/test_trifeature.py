"""Trifeature rendering and the three Trifeature datasets: labels mean what they say."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmviz.data import trifeature as tf
from mmviz.data.captions import NAMED_SETS, decode
from mmviz.data.registry import get_info, load, resolve_params
from mmviz.data.trifeature_datasets import (
    is_test_combination,
    load_trifeature,
    load_trifeature_captions,
    load_trifeature_pairs,
    split_combinations,
    texture_color_mapping,
)
from mmviz.errors import MmvizError

WHITE = tf.COLORS.index("white")

# Areas in the shape's own frame (circumradius 1), from the dimensions of each shape.
SHAPE_AREAS = {
    "triangle": 3 * math.sqrt(3) / 4,  # regular, circumradius 1
    "square": 1.4**2,  # half side 0.7
    "plus": 2 * 1.9 * 0.6 - 0.6**2,  # two 1.9 × 0.6 bars minus their common square
    "circle": math.pi * 0.85**2,
    "tee": 1.7 * 0.55 + 0.56 * 1.4 - 0.56 * 0.25,  # bar + stem − overlap
    "rhombus": 2 * 1.24 / 2,  # diagonals 2 and 1.24
    "pentagon": 2.5 * 0.95**2 * math.sin(math.radians(72)),  # circumradius 0.95
    "star": 5 * 1.0 * 0.45 * math.sin(math.radians(36)),  # 10 triangles centre–tip–inner vertex
    "fivesquare": 5 * 0.5**2 - 4 * 0.0625**2,  # 5 squares of side 0.5, 4 corner overlaps
    "trapezoid": (1.9 + 1.0) / 2 * 1.05,
}

# Fraction of a textured region covered by marks, from each pattern's geometry (periods = 1).
MARK_FRACTIONS = {
    "solid": 0.0,
    "stripes": 0.4,  # bands 0.4 wide
    "grid": 1 - 0.76**2,  # lines 0.24 wide both ways
    "hexgrid": 1 - (0.41 / 0.5) ** 2,  # cells of inradius 0.5, lines 0.09 inside each edge
    "dots": math.pi * 0.27**2,
    "noise": 0.5,
    "triangles": 0.5 * (1 - 0.07 / (math.sqrt(3) / 6)) ** 2,  # up triangles, inradius shrunk by 0.07
    "zigzags": 0.34,  # a sheared band 0.34 wide (the shear keeps areas)
    "rain": 0.6 * 0.2 + math.pi * 0.1**2,  # a capsule: segment 0.6, radius 0.1
    "pluses": 2 * 0.72 * 0.22 - 0.22**2,
}


def _pixel_centres(size: int) -> np.ndarray:
    return (np.arange(size) + 0.5) * 2 / size - 1


# ----------------------------------------------------------------------------- rendering
def test_constants():
    assert len(tf.SHAPES) == len(tf.TEXTURES) == len(tf.COLORS) == 10
    assert tf.COLOR_RGB.shape == (10, 3) and tf.COLOR_RGB.dtype == np.uint8
    assert len({tuple(c) for c in tf.COLOR_RGB}) == 10


@pytest.mark.parametrize("shape", tf.SHAPES)
def test_solid_shape_area_matches_its_geometry(shape):
    """Summed pixel coverage (anti-aliased) equals the shape's area in closed form."""
    size, scale = 128, 0.8
    img = tf.render([tf.SHAPES.index(shape)], [0], [WHITE], size=size,
                    poses=tf.centered_poses(1, scale=scale)).astype(float)
    coverage = (img[0] - tf.BACKGROUND) / (250.0 - tf.BACKGROUND)  # white is (250, 250, 250)
    assert coverage.min() >= -1e-9 and coverage.max() <= 1 + 1e-9
    pixel_area = (2 / size / scale) ** 2  # in shape units
    area = coverage.mean(0).sum() * pixel_area
    assert area == pytest.approx(SHAPE_AREAS[shape], rel=0.01)


@pytest.mark.parametrize("shape", tf.SHAPES)
@pytest.mark.parametrize("rotation", [0.0, 0.3])
def test_antialiasing_matches_supersampling_without_seams(shape, rotation):
    """Analytic coverage vs the fraction of 8×8 sub-pixels inside the shape (exact sign of
    the SDF). Where convex pieces of a shape meet, a seam would show as half-covered pixels."""
    size, scale, k = 48, 0.8, 8
    img = tf.render([tf.SHAPES.index(shape)], [0], [WHITE], size=size,
                    poses=tf.centered_poses(1, scale=scale, rotation=rotation)).astype(float)
    coverage = (img[0].mean(0) - tf.BACKGROUND) / (250 - tf.BACKGROUND)
    sub = _pixel_centres(size * k).astype(np.float32)
    x, y = sub[None, :], -sub[:, None]
    c, s = np.float32(np.cos(rotation) / scale), np.float32(np.sin(rotation) / scale)
    inside = tf.shape_sdf(shape, c * x + s * y, c * y - s * x) < 0
    reference = inside.reshape(size, k, size, k).mean(axis=(1, 3))
    assert np.abs(coverage - reference).max() < 0.32  # worst at acute corners
    assert coverage[reference == 1].min() > 0.9 and coverage[reference == 0].max() < 0.1


@pytest.mark.parametrize("shape", tf.SHAPES)
@pytest.mark.parametrize("color", [0, 2, 7, 9])
def test_solid_inside_is_exact_colour_outside_is_background(shape, color):
    size, scale = 64, 0.7
    k = tf.SHAPES.index(shape)
    img = tf.render([k], [0], [color], size=size, poses=tf.centered_poses(1, scale=scale))[0]
    xs = _pixel_centres(size)
    sdf = tf.shape_sdf(shape, xs[None, :] / scale, -xs[:, None] / scale) * scale  # image units
    pixel = 2 / size
    inside, outside = sdf < -pixel, sdf > pixel
    assert inside.sum() > 50
    assert np.all(img[:, inside] == tf.COLOR_RGB[color][:, None])
    assert np.all(img[:, outside] == tf.BACKGROUND)


@pytest.mark.parametrize("texture", tf.TEXTURES)
def test_texture_mark_fraction_matches_its_geometry(texture):
    """Inside a big square, marks (the colour × MARK_SHADE) cover the pattern's known fraction."""
    size, scale, n = 224, 0.9, 8
    rng = np.random.default_rng(0)
    poses = tf.Poses(np.zeros(n), np.full(n, scale), np.zeros((n, 2)), rng.uniform(0, 1, (n, 2)),
                     np.arange(n, dtype=np.uint32))
    img = tf.render(np.full(n, 1), np.full(n, tf.TEXTURES.index(texture)), np.full(n, WHITE), size=size,
                    poses=poses, texture_period=0.2).astype(float)
    xs = np.abs(_pixel_centres(size))
    inner = 0.7 * scale - 2 / size  # pixels entirely inside the square
    region = (xs[None, :] < inner) & (xs[:, None] < inner)
    paint = img[:, :, region] / 250.0  # 1 − (1 − MARK_SHADE) · marks
    marks = (1 - paint) / (1 - tf.MARK_SHADE)
    assert marks.min() > -0.01 and marks.max() < 1.01
    tol = 0.05 if texture == "noise" else 0.012
    assert marks.mean() == pytest.approx(MARK_FRACTIONS[texture], abs=tol)


def test_position_and_rotation_follow_the_pose():
    size, scale = 96, 0.4
    center = np.array([[0.3, -0.2]])
    circle = tf.render([3], [0], [WHITE], size=size,
                       poses=tf.Poses(np.zeros(1), np.full(1, scale), center, np.zeros((1, 2)),
                                      np.zeros(1, np.uint32)))
    cov = (circle[0, 0].astype(float) - tf.BACKGROUND) / (250 - tf.BACKGROUND)
    xs = _pixel_centres(size)
    cx = (cov * xs[None, :]).sum() / cov.sum()
    cy = (cov * -xs[:, None]).sum() / cov.sum()  # rows go down, y goes up
    assert (cx, cy) == pytest.approx((0.3, -0.2), abs=2e-3)

    # the triangle's tip points up at rotation 0 and left after a quarter turn (counter-clockwise)
    for rotation, axis, sign in ((0.0, "y", 1), (np.pi / 2, "x", -1)):
        tri = tf.render([0], [0], [WHITE], size=size, poses=tf.centered_poses(1, scale=0.8, rotation=rotation))
        painted = tri[0, 0] != tf.BACKGROUND
        rows, cols = np.nonzero(painted)
        coord = xs[cols] if axis == "x" else -xs[rows]
        tip, base = (coord.max(), -coord.min()) if sign > 0 else (-coord.min(), coord.max())
        assert tip == pytest.approx(0.8, abs=0.03) and base == pytest.approx(0.4, abs=0.03)


@pytest.mark.parametrize("size", [16, 32, 64])
def test_render_is_deterministic_and_chunk_independent(size):
    rng = np.random.default_rng(3)
    n = 300  # more than one chunk at 64 px
    ids = [rng.integers(0, 10, n) for _ in range(3)]
    a = tf.render(*ids, size=size, rng=11)
    b = tf.render(*ids, size=size, rng=np.random.default_rng(11))
    c = tf.render(*ids, size=size, rng=12)
    assert a.shape == (n, 3, size, size) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    poses = tf.sample_poses(n, np.random.default_rng(11))
    one_by_one = np.concatenate([
        tf.render(ids[0][i:i + 1], ids[1][i:i + 1], ids[2][i:i + 1], size=size, poses=poses.subset(slice(i, i + 1)))
        for i in range(0, n, 37)
    ])
    assert np.array_equal(a[::37], one_by_one)


def test_render_rejects_bad_input():
    with pytest.raises(ValueError, match="shape ids"):
        tf.render([10], [0], [0])
    with pytest.raises(ValueError, match="same length"):
        tf.render([0, 1], [0], [0])
    with pytest.raises(ValueError, match="poses"):
        tf.render([0], [0], [0], poses=tf.centered_poses(2))


@pytest.mark.filterwarnings("ignore:self.within_class_std_dev_:UserWarning")  # constant background pixels
def test_colour_is_learnable_from_raw_pixels():
    from sklearn.neighbors import NearestCentroid

    rng = np.random.default_rng(0)
    n = 2000
    s, t, c = (rng.integers(0, 10, n) for _ in range(3))
    x = tf.render(s, t, c, size=32, rng=1).reshape(n, -1).astype(np.float32)
    model = NearestCentroid().fit(x[:1500], c[:1500])
    assert (model.predict(x[1500:]) == c[1500:]).mean() > 0.9


def test_texture_is_learnable_from_its_spectrum():
    """Rotation-invariant features (power spectrum in 16 radial bands) + logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    n, size = 2000, 32
    s, t, c = (rng.integers(0, 10, n) for _ in range(3))
    grey = tf.render(s, t, c, size=size, rng=1).astype(np.float32).mean(1)
    power = np.abs(np.fft.fft2(grey - grey.mean((1, 2), keepdims=True))) ** 2
    freq = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size)))
    band = np.minimum((freq * 32).astype(int), 15)
    feats = np.stack([power[:, band == b].sum(1) for b in range(16)], 1)
    feats = np.log(feats / feats.sum(1, keepdims=True) + 1e-9)  # 1e-9: an empty band → finite log
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(feats[:1500], t[:1500])
    assert (model.predict(feats[1500:]) == t[1500:]).mean() > 0.6  # chance: 0.1


# ----------------------------------------------------------------------------- helpers
def _has_exact_colour(images: np.ndarray, color_ids: np.ndarray) -> np.ndarray:
    """(N,) bool: whether each image has a pixel exactly its colour's RGB."""
    rgb = tf.COLOR_RGB[color_ids][:, :, None, None]
    return np.all(images == rgb, axis=1).any(axis=(1, 2))


# ----------------------------------------------------------------------------- trifeature
def test_trifeature_images_match_metadata():
    data = load_trifeature("train", n=300, size=32, seed=0)
    meta = data.metadata
    assert data.modalities["image"].shape == (300, 3, 32, 32)
    assert list(meta["shape"]) == [tf.SHAPES[i] for i in meta.shape_id]
    assert list(meta["texture"]) == [tf.TEXTURES[i] for i in meta.texture_id]
    assert list(meta["color"]) == [tf.COLORS[i] for i in meta.color_id]
    poses = tf.Poses(meta.rotation.to_numpy(), meta.scale.to_numpy(), meta[["x", "y"]].to_numpy(),
                     np.zeros((300, 2)), np.zeros(300, np.uint32))
    solid = (meta.texture_id == 0).to_numpy()
    again = tf.render(meta.shape_id[solid], meta.texture_id[solid], meta.color_id[solid], 32,
                      poses=poses.subset(solid))  # solid images depend only on the stored pose
    assert np.array_equal(again, data.modalities["image"][solid])
    assert _has_exact_colour(data.modalities["image"], meta.color_id.to_numpy()).mean() > 0.97


def test_trifeature_determinism_and_splits():
    a = load_trifeature("train", n=50, size=16, seed=1)
    b = load_trifeature("train", n=50, size=16, seed=1)
    c = load_trifeature("train", n=50, size=16, seed=2)
    test = load_trifeature("test", n=50, size=16, seed=1)
    assert np.array_equal(a.modalities["image"], b.modalities["image"])
    pd.testing.assert_frame_equal(a.metadata, b.metadata)
    assert not np.array_equal(a.modalities["image"], c.modalities["image"])
    assert not np.array_equal(a.modalities["image"], test.modalities["image"])


# ----------------------------------------------------------------------------- pairs
def test_test_combinations_are_a_balanced_fifth():
    train, test = split_combinations("train"), split_combinations("test")
    assert len(train) == 800 and len(test) == 200
    assert not set(map(tuple, train)) & set(map(tuple, test))
    for axis in range(3):  # every value of every attribute: 80 train and 20 test triples
        assert np.all(np.bincount(test[:, axis], minlength=10) == 20)
    for a, b in ((0, 1), (0, 2), (1, 2)):  # every pair of values: 2 test completions
        assert np.all(np.bincount(test[:, a] * 10 + test[:, b], minlength=100) == 2)


def test_mapping_is_a_fixed_permutation():
    m = texture_color_mapping(0)
    assert sorted(m) == list(range(10))
    assert np.array_equal(m, texture_color_mapping(0)) and not np.array_equal(m, texture_color_mapping(1))


def _pairs(split: str, **kw):
    params = dict(n_train=400, n_test=400, size=32, seed=0, biased=True, synergy_fraction=0.5, mapping_seed=0)
    params.update(kw)
    return load_trifeature_pairs(split, **params)


@pytest.mark.parametrize("split", ["train", "test"])
def test_pairs_labels_mean_what_they_say(split):
    data = _pairs(split)
    meta, mapping = data.metadata, np.array(data.extras["mapping"])
    assert set(data.modalities) == {"image1", "image2"}
    assert data.modalities["image1"].shape == (400, 3, 32, 32)
    assert np.array_equal(meta.share, meta.shape1_id) and np.array_equal(meta.shape1_id, meta.shape2_id)
    assert np.array_equal(meta.unique1, meta.texture1_id) and np.array_equal(meta.unique2, meta.texture2_id)
    assert np.array_equal(meta.synergy, (mapping[meta.texture1_id] == meta.color2_id).astype(int))
    assert data.extras["mapping_names"] == [tf.COLORS[c] for c in mapping]
    held = is_test_combination(meta.shape1_id, meta.texture1_id, meta.color1_id)
    assert 0.1 < held.mean() < 0.3  # all 1000 triples by default (issue #13: fair synergy probe)
    held_meta = _pairs(split, heldout_combinations=True).metadata
    held = is_test_combination(held_meta.shape1_id, held_meta.texture1_id, held_meta.color1_id)
    assert held.all() if split == "test" else not held.any()
    for k in ("1", "2"):  # each image really has its colour
        assert _has_exact_colour(data.modalities[f"image{k}"], meta[f"color{k}_id"].to_numpy()).mean() > 0.97


def test_biased_train_always_obeys_the_mapping_unbiased_by_chance():
    assert _pairs("train").metadata.synergy.eq(1).all()
    unbiased = _pairs("train", n_train=2000, biased=False, size=16).metadata
    assert unbiased.synergy.mean() == pytest.approx(0.1, abs=0.025)
    # uniqueness: texture 2 is independent of texture 1
    assert (unbiased.unique1 == unbiased.unique2).mean() == pytest.approx(0.1, abs=0.025)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.77, 1.0])
def test_test_split_has_the_requested_synergy_fraction(fraction):
    meta = _pairs("test", n_test=300, size=16, synergy_fraction=fraction).metadata
    assert meta.synergy.sum() == round(fraction * 300)


def test_pairs_deterministic_by_seed():
    a, b, c = _pairs("test", size=16), _pairs("test", size=16), _pairs("test", size=16, seed=1)
    assert np.array_equal(a.modalities["image2"], b.modalities["image2"])
    pd.testing.assert_frame_equal(a.metadata, b.metadata)
    assert not np.array_equal(a.modalities["image2"], c.modalities["image2"])


def _spectrum(images: np.ndarray) -> np.ndarray:
    """Rotation-invariant texture features: log power in 16 radial bands of the grey image (N, 16)."""
    size = images.shape[-1]
    grey = images.astype(np.float32).mean(1)
    power = np.abs(np.fft.fft2(grey - grey.mean((1, 2), keepdims=True))) ** 2
    band = np.minimum((np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size))) * 32).astype(int), 15)
    feats = np.stack([power[:, band == b].sum(1) for b in range(16)], 1)
    return np.log(feats / feats.sum(1, keepdims=True) + 1e-9)


def test_fresh_pair_views_keep_the_labels_in_a_new_pose():
    """CoMM's training views: new renders of each pair's attributes, drawn from the generator."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mmviz.data.registry import view_renderer

    data = _pairs("train", n_train=1500, biased=False)
    meta, render = data.metadata, view_renderer("trifeature-pairs")
    idx = np.arange(300, 700)
    views = render(data, idx, 2, np.random.default_rng(5))
    assert set(views) == {"image1", "image2"}
    assert views["image1"].shape == (400, 2, 3, 32, 32) and views["image1"].dtype == np.uint8
    again = render(data, idx, 2, np.random.default_rng(5))
    assert all(np.array_equal(views[k], again[k]) for k in views)  # a function of the generator
    for k in ("1", "2"):
        fresh = views[f"image{k}"]
        stored = data.modalities[f"image{k}"][idx]
        # new poses: no view repeats the stored image or the other view
        assert not (fresh[:, 0] == stored).all(axis=(1, 2, 3)).any()
        assert not (fresh[:, 0] == fresh[:, 1]).all(axis=(1, 2, 3)).any()
        for v in range(2):  # the indexed pair's own colour ...
            assert _has_exact_colour(fresh[:, v], meta[f"color{k}_id"].to_numpy()[idx]).mean() > 0.97
    # ... and texture: a probe fitted on stored images reads the fresh renders' textures as well
    train = np.setdiff1d(np.arange(1500), idx)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    probe.fit(_spectrum(data.modalities["image1"][train]), meta.texture1_id.to_numpy()[train])
    on_stored = probe.score(_spectrum(data.modalities["image1"][idx]), meta.texture1_id.to_numpy()[idx])
    on_fresh = probe.score(_spectrum(views["image1"][:, 1]), meta.texture1_id.to_numpy()[idx])
    assert on_fresh > 0.6 and abs(on_fresh - on_stored) < 0.06, (on_fresh, on_stored)


# ----------------------------------------------------------------------------- captions
def _captions(split: str = "train", **kw):
    params = dict(n=600, n_test=300, size=16, seed=0, levels="1,2,3", level_weights="1,1,1",
                  heldout_combinations=False)
    params.update(kw)
    return load_trifeature_captions(split, **params)


def test_caption_names_the_images_attributes():
    data = _captions()
    meta, table = data.metadata, data.extras["captions"]
    rows = table.iloc[meta.caption_id.to_numpy()]
    assert list(rows.caption) == list(meta.caption)
    assert np.array_equal(rows.level, meta.level)
    for attr in ("shape", "texture", "color"):
        named = meta[f"names_{attr}"].to_numpy()
        assert np.array_equal(rows[f"{attr}_id"].to_numpy()[named], meta[f"{attr}_id"].to_numpy()[named])
        assert np.all(rows[f"{attr}_id"].to_numpy()[~named] == -1)
    count = meta.names_shape.astype(int) + meta.names_texture + meta.names_color
    assert np.array_equal(count, meta.level)
    assert decode(data.modalities["text"]) == list(meta.caption)
    assert np.array_equal(data.modalities["text"], data.extras["caption_tokens"][meta.caption_id])
    assert _has_exact_colour(data.modalities["image"], meta.color_id.to_numpy()).mean() > 0.9


def test_caption_levels_follow_the_weights():
    meta = _captions(n=3000).metadata
    assert np.bincount(meta.level, minlength=4)[1:] / 3000 == pytest.approx([1 / 3] * 3, abs=0.03)
    # within level 1 and 2, each attribute set is equally likely
    for level in (1, 2):
        sets = meta[meta.level == level][["names_shape", "names_texture", "names_color"]]
        shares = sets.value_counts(normalize=True)
        assert len(shares) == len(NAMED_SETS[level]) and shares.min() > 0.28
    only = _captions(levels="1,3", level_weights="0,1").metadata
    assert only.level.eq(3).all()


@pytest.mark.parametrize("levels,weights,message", [
    ("1,4", "1,1", "levels"), ("1,1", "1,1", "levels"), ("", "", "levels"),
    ("1,2", "1", "one weight per level"), ("1,2", "0,0", "positive sum"), ("1,2", "a,b", "numbers"),
])
def test_caption_level_params_are_checked(levels, weights, message):
    with pytest.raises(MmvizError, match=message):
        _captions(levels=levels, level_weights=weights)


def test_caption_extras():
    extras = _captions().extras
    table = extras["captions"]
    assert len(table) == 1330 and list(np.bincount(table.level)[1:]) == [30, 300, 1000]
    assert extras["caption_tokens"].shape == (1330, 8)
    assert decode(extras["caption_tokens"]) == list(table.caption)
    assert extras["vocab"][0] == "<pad>"
    for attr in ("shape", "color", "texture"):
        ids = extras["prompts"][attr]
        assert list(table.loc[ids, f"{attr}_id"]) == list(range(10))
        assert table.loc[ids, "level"].eq(1).all()
    assert table.loc[extras["prompts"]["shape"][7], "caption"] == "a star"


def test_captions_heldout_combinations_are_disjoint():
    train = _captions(heldout_combinations=True).metadata
    test = _captions("test", heldout_combinations=True).metadata
    assert not is_test_combination(train.shape_id, train.texture_id, train.color_id).any()
    assert is_test_combination(test.shape_id, test.texture_id, test.color_id).all()


def test_captions_deterministic_by_seed():
    a, b, c = _captions(), _captions(), _captions(seed=5)
    assert np.array_equal(a.modalities["image"], b.modalities["image"])
    assert np.array_equal(a.modalities["text"], b.modalities["text"])
    assert not np.array_equal(a.modalities["text"], c.modalities["text"])


# ----------------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", ["trifeature", "trifeature-pairs", "trifeature-captions"])
def test_registered_with_a_valid_schema(name):
    info = get_info(name)
    assert info.cacheable and info.splits == ("train", "test")
    defaults = resolve_params(name, {})
    for spec in info.params:
        assert spec.help
        assert spec.validate(spec.default) == defaults[spec.name]
        if spec.type in ("int", "float"):
            assert spec.min is not None and spec.max is not None and spec.min <= spec.default <= spec.max
    with pytest.raises(MmvizError):
        resolve_params(name, {"size": 8})


@pytest.mark.parametrize("name,params", [
    ("trifeature-pairs", {"n_train": 16, "n_test": 16, "size": 16}),
    ("trifeature-captions", {"n": 12, "n_test": 10, "size": 16}),
])
def test_cache_round_trip_keeps_everything(name, params):
    # tests/data/conftest.py gives each test its own empty MMVIZ_HOME
    first = load(name, "test", **params)
    second = load(name, "test", **params)  # read back from the cache
    for key, arr in first.modalities.items():
        assert np.array_equal(arr, second.modalities[key]) and arr.dtype == second.modalities[key].dtype
    pd.testing.assert_frame_equal(first.metadata, second.metadata)
    if name == "trifeature-captions":
        pd.testing.assert_frame_equal(first.extras["captions"], second.extras["captions"])
        assert second.extras["prompts"] == first.extras["prompts"]
    else:
        assert second.extras["mapping"] == first.extras["mapping"]
