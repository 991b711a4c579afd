"""Contrastive losses against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from mmviz.losses import entailment_loss, symmetric_info_nce

E = math.e


def test_info_nce_matches_hand_computed_3x3():
    logits = torch.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    # Cross-entropy of row i with target i: log(sum_j exp(l_ij)) - l_ii; columns likewise.
    rows = [math.log(E**2 + 2) - 2, math.log(2 * E + 1) - 1, math.log(1 + E**2 + E**3) - 3]
    cols = [math.log(E**2 + E + 1) - 2, math.log(1 + E + E**2) - 1, math.log(2 + E**3) - 3]
    expected = 0.5 * (sum(rows) / 3 + sum(cols) / 3)
    assert expected == pytest.approx(0.5601144453930)
    assert float(symmetric_info_nce(logits, logits.T)) == pytest.approx(expected, rel=1e-6)


def test_info_nce_identity_logits():
    # Every row: log(e + 2) - 1 = log(1 + 2/e).
    assert float(symmetric_info_nce(torch.eye(3), torch.eye(3))) == pytest.approx(math.log(1 + 2 / E), rel=1e-6)


@pytest.mark.parametrize("offset", [0, 2])
def test_info_nce_offset_picks_global_columns(offset):
    # Two local rows scored against four global columns; the positives sit at offset, offset + 1.
    logits = torch.full((2, 4), -1.0)
    logits[0, offset] = logits[1, offset + 1] = 1.0
    expected = math.log(E + 3 / E) - 1.0
    assert float(symmetric_info_nce(logits, logits, offset)) == pytest.approx(expected, rel=1e-5)


def test_info_nce_gradient_pushes_positives_up():
    logits = torch.zeros(3, 3, requires_grad=True)
    symmetric_info_nce(logits, logits.T).backward()
    # d/dl_ii of the mean CE is (1/3 - 1)/3 per direction; both directions share the diagonal.
    assert torch.allclose(torch.diagonal(logits.grad), torch.full((3,), 2 * 0.5 * (1 / 3 - 1) / 3))


@pytest.mark.parametrize(
    ("angle", "aperture", "expected"),
    [([0.1, 0.5], [0.3, 0.2], 0.15), ([0.1, 0.2], [0.3, 0.3], 0.0), ([1.0], [0.25], 0.75)],
)
def test_entailment_loss_is_mean_violation(angle, aperture, expected):
    assert float(entailment_loss(torch.tensor(angle), torch.tensor(aperture))) == pytest.approx(expected)
