"""Tones: the non-image modality of ``trifeature-triples``, a 1-D signal whose pitch, rhythm and
bass note are three attributes with 10 values each.

A tone is ``LENGTH`` samples of one window (t in [0, 1)):

    x(t) = g_rhythm(t − s) · (a₁ sin(2π f_pitch t + φ₁) + a₂ sin(2π f_bass t + φ₂)) + σ ε(t)

* **pitch** k: the carrier at ``PITCH_CYCLES[k]`` = 40 + 6k cycles per window (40…94);
* **bass** h: a lower partial at ``BASS_CYCLES[h]`` = 8 + 3h cycles (8…35), a band of its own;
* **rhythm** j: which of eight equal beats sound, as a *necklace*: ``RHYTHMS[j]`` is one of the
  ten ways to sound four beats of eight up to rotation, and every draw starts the loop at a
  random point s (a circular shift). Every rhythm sounds for half the window and starts
  anywhere, so neither the loudness nor the onset gives it away: what tells two rhythms apart
  is how the sounding beats group (one block of four, two of two, alternating…). An untrained
  1-D CNN's pooled features read it at 33–38% (two seeds; pitch at 100%), about as an
  untrained image CNN reads texture, so an encoder has to learn to hear it.

What a fresh draw of the same attributes changes (the tone's "pose"): the shift, both phases,
the two amplitudes (0.8–1.2), a detune of up to ±1 cycle (half the gap between neighbouring
pitches is 3) and the noise (σ = 0.2). The attributes survive exactly, so a probe can ask for
them.
"""

from __future__ import annotations

import numpy as np

LENGTH = 256
PITCH_CYCLES = 40.0 + 6.0 * np.arange(10)
BASS_CYCLES = 8.0 + 3.0 * np.arange(10)
RHYTHMS = ("00001111", "00010111", "00011011", "00011101", "00100111",
           "00101011", "00101101", "00110011", "00110101", "01010101")
"""The ten binary necklaces of four sounding beats in eight (each the smallest of its rotations)."""
PITCHES = tuple(f"pitch {k + 1}" for k in range(10))
BASSES = tuple(f"bass {h + 1}" for h in range(10))
RHYTHM_NAMES = tuple(f"rhythm {r}" for r in RHYTHMS)
NOISE = 0.2
DETUNE = 1.0


def gates(rhythm_ids: np.ndarray, shift: np.ndarray, length: int = LENGTH) -> np.ndarray:
    """Each rhythm's on/off gate over the window, rolled by ``shift`` samples: (N, length) float, 0 or 1."""
    slot = length // 8
    table = np.array([np.repeat([float(c) for c in r], slot) for r in RHYTHMS])
    table = np.pad(table, ((0, 0), (0, length - table.shape[1])), mode="edge")
    cols = (np.arange(length)[None, :] - np.asarray(shift)[:, None]) % length
    return table[np.asarray(rhythm_ids)[:, None], cols]


def render_tones(pitch_ids: np.ndarray, rhythm_ids: np.ndarray, bass_ids: np.ndarray,
                 rng: np.random.Generator, length: int = LENGTH) -> np.ndarray:
    """N tones with the given attribute ids (each (N,) ints in 0..9): (N, length) float32."""
    pitch_ids, rhythm_ids, bass_ids = (np.asarray(x, dtype=np.int64) for x in (pitch_ids, rhythm_ids, bass_ids))
    n = len(pitch_ids)
    if not len(rhythm_ids) == len(bass_ids) == n:
        raise ValueError("pitch_ids, rhythm_ids and bass_ids must have the same length")
    for ids, what in ((pitch_ids, "pitch"), (rhythm_ids, "rhythm"), (bass_ids, "bass")):
        if n and (ids.min() < 0 or ids.max() > 9):
            raise ValueError(f"{what} ids must be in 0..9")
    t = np.arange(length) / length
    phase = rng.uniform(0, 2 * np.pi, (n, 2))
    amp = rng.uniform(0.8, 1.2, (n, 2))
    detune = rng.uniform(-DETUNE, DETUNE, (n, 2))
    shift = rng.integers(0, length, n)
    f_pitch = (PITCH_CYCLES[pitch_ids] + detune[:, 0])[:, None]
    f_bass = (BASS_CYCLES[bass_ids] + detune[:, 1])[:, None]
    wave = (amp[:, :1] * np.sin(2 * np.pi * f_pitch * t + phase[:, :1])
            + amp[:, 1:] * np.sin(2 * np.pi * f_bass * t + phase[:, 1:]))
    signal = gates(rhythm_ids, shift, length) * wave + NOISE * rng.standard_normal((n, length))
    return signal.astype(np.float32)
