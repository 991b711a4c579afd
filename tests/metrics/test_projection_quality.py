"""Quality read-outs of a disk picture: trustworthiness against scikit-learn's definition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from mmviz.errors import MmvizError
from mmviz.metrics.projection import trustworthiness_from_distances


def test_trustworthiness_matches_scikit_learn():
    rng = np.random.default_rng(4)
    high = rng.normal(size=(120, 6))
    low = high[:, :2] + 0.3 * rng.normal(size=(120, 2))
    d_high = np.linalg.norm(high[:, None] - high[None], axis=-1)
    d_low = np.linalg.norm(low[:, None] - low[None], axis=-1)
    ours = trustworthiness_from_distances(d_high, d_low, k=10)
    assert ours == pytest.approx(trustworthiness(high, low, n_neighbors=10), abs=1e-12)
    assert trustworthiness_from_distances(d_high, d_high, k=10) == pytest.approx(1.0)


def test_trustworthiness_refuses_a_k_too_large_for_the_sample():
    d = np.ones((10, 10))
    with pytest.raises(MmvizError, match="k < n/2"):
        trustworthiness_from_distances(d, d, k=5)
