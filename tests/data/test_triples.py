"""trifeature-triples: the interactions hold by construction, the tone carries its attributes,
fresh renders keep them, and the splits are what the probes need."""

from __future__ import annotations

import numpy as np
import pytest

from mmviz.data import load
from mmviz.data.registry import view_renderer
from mmviz.data.tones import BASS_CYCLES, LENGTH, PITCH_CYCLES, RHYTHMS, gates, render_tones
from mmviz.data.trifeature import COLOR_RGB
from mmviz.data.trifeature_triples import three_way_bass


@pytest.fixture(scope="module")
def test_split():
    return load("trifeature-triples", "test", n_train=16, n_test=1000, size=16)


def test_modalities_and_labels(test_split):
    assert list(test_split.modalities) == ["image1", "image2", "tone"]
    assert test_split.modalities["image1"].shape == (1000, 3, 16, 16)
    assert test_split.modalities["tone"].shape == (1000, LENGTH) and test_split.modalities["tone"].dtype == np.float32
    m = test_split.metadata
    mapping = np.array(test_split.extras["mapping"])
    assert np.array_equal(m.synergy12, (mapping[m.texture1_id] == m.color2_id).astype(int))
    assert np.array_equal(m.synergy123, (((m.color1_id + m.texture2_id) % 10) == m.bass_id).astype(int))
    assert np.array_equal(m.share, m.pitch_id) and np.array_equal(m.unique3, m.rhythm_id)
    # each relation holds on exactly half, independently of the other
    assert m.synergy12.sum() == m.synergy123.sum() == 500
    both = (m.synergy12 & m.synergy123).mean()
    assert 0.2 < both < 0.3


def test_biased_train_obeys_both_relations_and_unbiased_neither():
    biased = load("trifeature-triples", "train", n_train=400, n_test=16, size=16).metadata
    assert biased.synergy12.all() and biased.synergy123.all()
    free = load("trifeature-triples", "train", n_train=2000, n_test=16, size=16, biased=False).metadata
    assert 0.07 < free.synergy12.mean() < 0.13 and 0.07 < free.synergy123.mean() < 0.13
    # the two relations share no attribute: in biased training no single image fixes the bass
    for cols in (["shape1_id", "texture1_id", "color1_id"], ["shape1_id", "texture2_id", "color2_id"]):
        assert biased.groupby(cols).bass_id.nunique().max() > 1


def test_images_show_their_attributes(test_split):
    m = test_split.metadata
    for side in ("1", "2"):
        img = test_split.modalities[f"image{side}"].astype(int)
        rgb = COLOR_RGB[m[f"color{side}_id"].to_numpy()]
        # the shape's colour is in the image (some pixel within 40 of it)
        near = np.abs(img - rgb[:, :, None, None]).sum(1).min(axis=(1, 2))
        assert (near < 40).mean() > 0.95


def test_tone_spectrum_has_pitch_and_bass():
    rng = np.random.default_rng(0)
    pitch, bass = np.arange(10), (np.arange(10) * 7) % 10
    tones = render_tones(pitch, np.zeros(10, int), bass, rng)
    spectrum = np.abs(np.fft.rfft(tones, axis=1))
    high = np.argmax(spectrum[:, 38:100], axis=1) + 38
    low = np.argmax(spectrum[:, 6:38], axis=1) + 6
    # the strongest bin of each band is nearest the true pitch and bass (detune ±1, and the gate
    # widens each peak by a bin or so)
    assert np.array_equal(np.argmin(np.abs(high[:, None] - PITCH_CYCLES[None]), 1), pitch)
    assert np.array_equal(np.argmin(np.abs(low[:, None] - BASS_CYCLES[None]), 1), bass)


def test_rhythms_are_ten_necklaces_and_sound_half_the_window():
    rotations = [{r[i:] + r[:i] for i in range(8)} for r in RHYTHMS]
    assert all(r.count("1") == 4 for r in RHYTHMS)
    assert all(not (a & b) for i, a in enumerate(rotations) for b in rotations[i + 1:])  # distinct up to rotation
    g = gates(np.arange(10), np.zeros(10, int))
    assert np.array_equal(g[:, ::32], [[float(c) for c in r] for r in RHYTHMS]) and np.all(g.mean(1) == 0.5)
    assert np.array_equal(gates(np.array([3]), np.array([40]))[0], np.roll(g[3], 40))


def test_tones_are_silent_where_their_gate_is_off():
    tones = render_tones(np.full(200, 4), np.arange(200) % 10, np.full(200, 2), np.random.default_rng(1))
    smooth = np.stack([np.convolve(x.astype(float) ** 2, np.ones(9) / 9, "same") for x in tones])
    loud = (smooth > 0.3).mean(1)
    assert np.all(np.abs(loud - 0.5) < 0.08)  # half the window sounds, half is noise (σ = 0.2)


def test_render_tones_refuses_bad_ids():
    with pytest.raises(ValueError, match="pitch"):
        render_tones(np.array([10]), np.array([0]), np.array([0]), np.random.default_rng(0))


def test_fresh_views_keep_attributes_and_change_the_pose(test_split):
    render = view_renderer("trifeature-triples")
    views = render(test_split, np.arange(8), 2, np.random.default_rng(5))
    assert views["image1"].shape == (8, 2, 3, 16, 16) and views["tone"].shape == (8, 2, LENGTH)
    assert not np.array_equal(views["tone"][:, 0], views["tone"][:, 1])
    spectrum = np.abs(np.fft.rfft(views["tone"][:, 1], axis=1))
    pitch = test_split.metadata.pitch_id.to_numpy()[:8]
    peak = np.argmax(spectrum[:, 38:100], 1) + 38
    assert np.array_equal(np.argmin(np.abs(peak[:, None] - PITCH_CYCLES[None]), 1), pitch)


def test_same_seed_same_data():
    a = load("trifeature-triples", "test", n_test=32, size=16, seed=3)
    b = load("trifeature-triples", "test", n_test=32, size=16, seed=3)
    assert np.array_equal(a.modalities["tone"], b.modalities["tone"])
    assert a.metadata.equals(b.metadata)
    assert np.array_equal(three_way_bass(np.array([9, 3]), np.array([4, 2])), [3, 5])
