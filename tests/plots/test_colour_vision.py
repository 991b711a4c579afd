"""The modality and caption-level colours stay distinct under the common colour-vision
deficiencies: each pair is compared in CAM02-UCS after simulating deuteranopia and protanopia
(Machado et al. 2009, full severity, as colorspacious implements it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE

from mmviz.plots.explorer import GROUP_COLORS

# Groups drawn together: the level colouring (captions by level + the two modalities) and the
# modality colouring. A CAM02-UCS ΔE of 20 is far above a just-noticeable difference (~1–2) and
# keeps small markers apart; the previous palette had 7.8 (levels 1 and 2 under protanopia).
SHOWN_TOGETHER = (("caption level 1", "caption level 2", "caption level 3", "image", "text"),
                  ("caption", "image", "text"))
MIN_DELTA_E = 20.0


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0


@pytest.mark.parametrize("vision", [None, "deuteranomaly", "protanomaly"])
@pytest.mark.parametrize("groups", SHOWN_TOGETHER, ids=["levels", "modalities"])
def test_colours_stay_apart(vision, groups):
    rgb = np.array([_rgb(GROUP_COLORS[g]) for g in groups])
    if vision is not None:
        space = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
        rgb = np.clip(cspace_convert(rgb, space, "sRGB1"), 0.0, 1.0)
    worst = min((deltaE(rgb[i], rgb[j], input_space="sRGB1"), groups[i], groups[j])
                for i, j in itertools.combinations(range(len(groups)), 2))
    assert worst[0] >= MIN_DELTA_E, worst


def test_the_check_can_fail():
    # Indigo and violet, the old levels 1 and 2, collapse under protanopia.
    sim = cspace_convert(np.array([_rgb("#4338ca"), _rgb("#7c3aed")]),
                         {"name": "sRGB1+CVD", "cvd_type": "protanomaly", "severity": 100}, "sRGB1")
    assert deltaE(*np.clip(sim, 0, 1), input_space="sRGB1") < MIN_DELTA_E
