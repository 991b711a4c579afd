"""The batch InfoNCE steps (mmviz.losses.batch) against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmviz.losses import batch as lb

# sim = [[1, 0], [0.5, 1]] at τ = 0.5 → logits [[2, 0], [1, 2]].
SIM = np.array([[1.0, 0.0], [0.5, 1.0]])
ROW0, ROW1 = math.log1p(math.exp(-2)), math.log1p(math.exp(-1))  # −log e²/(e²+1), −log e²/(e²+e)


def test_logits_divide_by_the_temperature_and_reject_zero():
    np.testing.assert_allclose(lb.logits(SIM, 0.5), [[2, 0], [1, 2]])
    with pytest.raises(ValueError):
        lb.logits(SIM, 0.0)


def test_row_and_column_softmax_by_hand():
    lg = lb.logits(SIM, 0.5)
    e = math.e
    np.testing.assert_allclose(lb.row_softmax(lg), [[e**2 / (e**2 + 1), 1 / (e**2 + 1)],
                                                    [e / (e + e**2), e**2 / (e + e**2)]])
    np.testing.assert_allclose(lb.col_softmax(lg), [[e**2 / (e**2 + e), 1 / (1 + e**2)],
                                                    [e / (e**2 + e), e**2 / (1 + e**2)]])
    np.testing.assert_allclose(lb.row_softmax(lg).sum(axis=1), 1.0)
    np.testing.assert_allclose(lb.col_softmax(lg).sum(axis=0), 1.0)


def test_per_row_and_per_column_infonce_and_the_batch_loss_by_hand():
    lg = lb.logits(SIM, 0.5)
    np.testing.assert_allclose(lb.row_losses(lg), [ROW0, ROW1])
    np.testing.assert_allclose(lb.col_losses(lg), [ROW1, ROW0])
    assert lb.batch_loss(lg) == pytest.approx(0.5 * (ROW0 + ROW1))  # 0.220095
    assert lb.batch_loss(lg) == pytest.approx(0.220095, abs=1e-6)


def test_batch_loss_matches_torch_symmetric_infonce():
    import torch

    from mmviz.losses import symmetric_info_nce

    rng = np.random.default_rng(0)
    lg = rng.normal(size=(7, 7)) * 5
    t = torch.as_tensor(lg)
    assert lb.batch_loss(lg) == pytest.approx(float(symmetric_info_nce(t, t.T)), rel=1e-12)


def test_huge_logits_do_not_overflow():
    lg = lb.logits(np.array([[1.0, -1.0], [-1.0, 1.0]]), 1e-4)  # logits ±1e4
    assert np.isfinite(lb.row_losses(lg)).all() and lb.batch_loss(lg) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("batch_size", [2, 3, 8, 1024])
def test_negatives_per_pair_is_2b_minus_2(batch_size):
    assert lb.negatives_per_pair(batch_size) == 2 * batch_size - 2


@pytest.mark.parametrize(("b", "s_pos", "s_neg", "tau"), [(4, 0.8, 0.2, 0.1), (8, 0.5, 0.5, 0.07), (32, 0.2, 0.6, 1.0)])
def test_toy_batch_matches_its_closed_form(b, s_pos, s_neg, tau):
    sim = lb.toy_similarity(b, s_pos, s_neg)
    assert sim[0, 0] == s_pos and sim[0, 1] == s_neg
    lg = lb.logits(sim, tau)
    expected = math.log(1 + (b - 1) * math.exp((s_neg - s_pos) / tau))
    np.testing.assert_allclose(lb.row_losses(lg), expected)
    assert lb.toy_row_loss(b, s_pos, s_neg, tau) == pytest.approx(expected)
    assert lb.batch_loss(lg) == pytest.approx(expected)


def test_toy_noise_is_seeded_and_clipped_to_the_cosine_range():
    a = lb.toy_similarity(16, 0.99, -0.99, noise=0.5, seed=3)
    np.testing.assert_array_equal(a, lb.toy_similarity(16, 0.99, -0.99, noise=0.5, seed=3))
    assert a.max() <= 1 and a.min() >= -1 and not np.array_equal(a, lb.toy_similarity(16, 0.99, -0.99, 0.5, 4))


def test_gradient_signal_of_equal_logits_spreads_over_all_negatives():
    signal = lb.gradient_signal(np.zeros((3, 3)))
    assert signal.positive_weight == pytest.approx(2 / 3)  # 1 − 1/3
    assert signal.hardest_share == pytest.approx(0.5)  # 1/(B − 1)


def test_gradient_signal_with_one_hard_negative():
    # row 0: logits [0, 0, −inf-ish]: p = [½, ½, 0] → weight ½, the hardest negative takes all of it
    lg = np.array([[0.0, 0.0, -50.0], [-50.0, 0.0, -50.0], [-50.0, -50.0, 0.0]])
    signal = lb.gradient_signal(lg)
    assert signal.positive_weight == pytest.approx(0.5 / 3, abs=1e-12)
    assert signal.hardest_share == pytest.approx((1.0 + 0.5 + 0.5) / 3, abs=1e-9)


def test_loss_vs_batch_size_on_an_identity_batch_is_exact():
    # every pair: positive 1, negatives 0, τ = 1 → each loss log(1 + (B − 1)/e) in every draw
    table = lb.loss_vs_batch_size(np.eye(16), 1.0, [2, 4, 16, 32], draws=3)
    assert table["B"].tolist() == [2, 4, 16]  # 32 > 16 pairs is skipped
    assert table["negatives"].tolist() == [2, 6, 30]
    np.testing.assert_allclose(table["loss"], [math.log1p((b - 1) / math.e) for b in (2, 4, 16)])
    np.testing.assert_allclose(table["loss_sd"], 0.0, atol=1e-12)
    np.testing.assert_allclose(table["chance"], np.log([2, 4, 16]))
    np.testing.assert_allclose(table["mi_bound"], table["chance"] - table["loss"])
    assert table["loss"].is_monotonic_increasing and table["hardest_share"].is_monotonic_decreasing
