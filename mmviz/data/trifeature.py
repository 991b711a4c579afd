"""Trifeature images: 10 shapes × 10 textures × 10 colours, rendered procedurally.

The attribute set follows Hermann & Lampinen (2020), "What shapes feature representations?",
the dataset CoMM builds its bimodal benchmark on. Every image is one shape on a grey
background, at a random rotation, position and (slightly jittered) size.

Rendering is vectorised over the batch. Each image gets a pose; the pixel grid is mapped into
the shape's own frame (rotated, translated, scaled), where

* a shape is a signed distance field (negative inside): the union (``min``) of convex
  polygons, each the intersection (``max``) of half-planes, or a circle;
* a texture is a pattern of dark *marks* drawn on the coloured shape, defined as a signed
  distance in units of the texture period, so it rotates and scales with the shape.

Edges are anti-aliased analytically: a pixel's coverage is ``clip(0.5 - d / pixel, 0, 1)``
with ``d`` the signed distance and ``pixel`` the pixel width in the same units — the same
smoothing as supersampling a straight edge, at the cost of one evaluation per pixel.
Inside a ``solid`` shape every pixel is exactly the colour's RGB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SHAPES: tuple[str, ...] = (
    "triangle", "square", "plus", "circle", "tee",
    "rhombus", "pentagon", "star", "fivesquare", "trapezoid",
)
TEXTURES: tuple[str, ...] = (
    "solid", "stripes", "grid", "hexgrid", "dots",
    "noise", "triangles", "zigzags", "rain", "pluses",
)
COLORS: tuple[str, ...] = (
    "red", "green", "blue", "yellow", "pink",
    "cyan", "purple", "ocean", "orange", "white",
)
COLOR_RGB: np.ndarray = np.array(
    [
        (220, 30, 30),    # red
        (40, 170, 50),    # green
        (40, 70, 230),    # blue
        (240, 220, 40),   # yellow
        (255, 135, 200),  # pink
        (40, 225, 235),   # cyan
        (140, 50, 200),   # purple
        (10, 120, 150),   # ocean
        (255, 140, 10),   # orange
        (250, 250, 250),  # white
    ],
    dtype=np.uint8,
)
"""RGB of each colour in :data:`COLORS` order: array of shape (10, 3) uint8."""

BACKGROUND: int = 128
"""Grey level of the background (all three channels)."""

MARK_SHADE: float = 0.3
"""Texture marks are drawn in the shape's colour times this factor (a dark version of it)."""

TEXTURE_PERIOD: float = 0.55
"""Base texture period in shape units (the shape's circumradius is 1): about 5 px at 32 px."""

SCALE_RANGE: tuple[float, float] = (0.55, 0.68)
"""Shape circumradius as a fraction of half the image width (uniform)."""

_MARGIN = 0.95  # the shape's circumcircle stays inside 95% of the half-width: never clipped

_CHUNK_PIXELS = 1 << 18  # pixels rendered per chunk: keeps temporaries ~1 MB (cache-friendly)


# ----------------------------------------------------------------------------- poses
@dataclass(frozen=True)
class Poses:
    """Where and how each of N shapes is drawn.

    rotation: (N,) radians, counter-clockwise. scale: (N,) circumradius as a fraction of the
    half image width. center: (N, 2) x (right) and y (up) in [-1, 1] image units.
    texture_offset: (N, 2) phase of the texture lattice in periods. noise_seed: (N,) uint32.
    """

    rotation: np.ndarray
    scale: np.ndarray
    center: np.ndarray
    texture_offset: np.ndarray
    noise_seed: np.ndarray

    def __len__(self) -> int:
        return len(self.rotation)

    def subset(self, index: np.ndarray | slice) -> Poses:
        return Poses(self.rotation[index], self.scale[index], self.center[index],
                     self.texture_offset[index], self.noise_seed[index])


def sample_poses(n: int, rng: np.random.Generator) -> Poses:
    """N random poses: uniform rotation, scale in :data:`SCALE_RANGE`, any position that
    keeps the whole shape inside the image, random texture phase and noise seed."""
    rotation = rng.uniform(0.0, 2 * np.pi, n)
    scale = rng.uniform(*SCALE_RANGE, n)
    reach = (_MARGIN - scale)[:, None]
    center = rng.uniform(-1.0, 1.0, (n, 2)) * reach
    texture_offset = rng.uniform(0.0, 1.0, (n, 2))
    noise_seed = rng.integers(0, 2**32, n, dtype=np.uint32)
    return Poses(rotation, scale, center, texture_offset, noise_seed)


def centered_poses(n: int, scale: float = 0.8, rotation: float = 0.0) -> Poses:
    """N identical upright poses in the middle of the image (for grids and tests)."""
    return Poses(
        np.full(n, rotation), np.full(n, scale), np.zeros((n, 2)),
        np.zeros((n, 2)), np.arange(n, dtype=np.uint32),
    )


# ----------------------------------------------------------------------------- shapes
def _convex(vertices: list[tuple[float, float]]) -> np.ndarray:
    """Half-planes (nx, ny, c) of a convex polygon (vertices in either winding order):
    inside where nx*x + ny*y - c <= 0, with (nx, ny) a unit normal so the value is a distance."""
    v = np.asarray(vertices, dtype=np.float64)
    twice_area = np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
    if twice_area < 0:  # clockwise: reverse so the normals below point outwards
        v = v[::-1]
    edge = np.roll(v, -1, axis=0) - v
    normal = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    # Beyond a corner of interior angle a, the max over edge lines underestimates the distance
    # (down to sin(a/2) of it), which bleeds a faint halo past sharp tips. A bevel line through
    # the vertex, normal to the corner's bisector, leaves the polygon unchanged and fixes that.
    before = np.roll(normal, 1, axis=0)  # normal of the edge ending at each vertex
    # the normals turn by 180° − a at a corner: a < 95° ⇔ they turn by more than 85°
    sharp = (before * normal).sum(1) < np.cos(np.radians(85))
    bevel = before[sharp] + normal[sharp]
    bevel /= np.linalg.norm(bevel, axis=1, keepdims=True)
    normals = np.concatenate([normal, bevel])
    points = np.concatenate([v, v[sharp]])
    return np.concatenate([normals, (normals * points).sum(1, keepdims=True)], axis=1)


def _regular(k: int, radius: float, phase: float = np.pi / 2) -> list[tuple[float, float]]:
    ang = phase + 2 * np.pi * np.arange(k) / k
    return [(radius * np.cos(a), radius * np.sin(a)) for a in ang]


def _box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _star_pieces(outer: float = 1.0, inner: float = 0.45, overlap: float = 0.3) -> list[list]:
    """A five-pointed star as its inner pentagon plus five spikes. Each spike's base is pushed
    into the pentagon (by ``overlap`` of the tip-to-inner-vertex edge) so that pieces overlap
    and no seam of partial coverage appears where they meet."""
    tips = np.array(_regular(5, outer))
    inners = np.array(_regular(5, inner, np.pi / 2 + np.pi / 5))
    pieces = [[tuple(p) for p in inners]]
    for i in range(5):
        left, right = inners[i - 1], inners[i]
        base_left = left + overlap * (left - tips[i])
        base_right = right + overlap * (right - tips[i])
        pieces.append([tuple(base_left), tuple(base_right), tuple(tips[i])])
    return pieces


def _fivesquare_pieces(half: float = 0.25, spread: float = 1.75) -> list[list]:
    """Five squares as on a die (a quincunx), overlapping a little at their corners."""
    d = spread * half
    centres = [(0.0, 0.0), (d, d), (-d, d), (-d, -d), (d, -d)]
    return [_box(x - half, y - half, x + half, y + half) for x, y in centres]


# Every shape fits in the unit circle (its circumradius is at most 1) in its own frame.
_SHAPE_PIECES: dict[str, list[np.ndarray]] = {
    "triangle": [_convex(_regular(3, 1.0))],
    "square": [_convex(_box(-0.7, -0.7, 0.7, 0.7))],
    "plus": [_convex(_box(-0.95, -0.3, 0.95, 0.3)), _convex(_box(-0.3, -0.95, 0.3, 0.95))],
    "tee": [_convex(_box(-0.85, 0.25, 0.85, 0.8)), _convex(_box(-0.28, -0.9, 0.28, 0.5))],
    "rhombus": [_convex([(0.0, -1.0), (0.62, 0.0), (0.0, 1.0), (-0.62, 0.0)])],
    "pentagon": [_convex(_regular(5, 0.95))],
    "star": [_convex(p) for p in _star_pieces()],
    "fivesquare": [_convex(p) for p in _fivesquare_pieces()],
    "trapezoid": [_convex([(-0.95, -0.5), (0.95, -0.5), (0.5, 0.55), (-0.5, 0.55)])],
}
_CIRCLE_RADIUS = 0.85


def shape_sdf(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distance to ``shape`` (negative inside), in the shape's own frame.

    x, y: arrays of one shape (any), coordinates where the circumradius is 1.
    Returns float32 of the same shape. Polygons: exact inside a convex piece, a close lower
    bound outside near corners — enough for one pixel of anti-aliasing.
    """
    if shape == "circle":
        return np.sqrt(x * x + y * y) - np.float32(_CIRCLE_RADIUS)
    out = None
    for planes in _SHAPE_PIECES[shape]:
        piece = None
        for nx, ny, c in planes.astype(np.float32):
            d = nx * x + ny * y - c
            piece = d if piece is None else np.maximum(piece, d, out=piece)
        out = piece if out is None else np.minimum(out, piece, out=out)
    return out


# ----------------------------------------------------------------------------- textures
# Each texture maps coordinates (u, v) in texture periods to a signed distance to its marks
# (negative on a mark), also in periods. Noise has no edges: it returns 0/1 marks directly.
_Texture = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

_SQRT3 = np.float32(np.sqrt(3.0))


def _centred_fract(t: np.ndarray) -> np.ndarray:
    """t minus its nearest integer: in [-0.5, 0.5)."""
    return t - np.floor(t + np.float32(0.5))


def _stripes(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    return np.abs(_centred_fract(u)) - np.float32(0.2)


def _grid(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    line = np.minimum(np.abs(_centred_fract(u)), np.abs(_centred_fract(v)))
    return line - np.float32(0.12)


def _hexgrid(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Honeycomb lines: cells centred on a triangular lattice with spacing 1 (inradius 0.5)."""
    row = _SQRT3  # the lattice is two rectangular lattices (1 × √3), offset by half a cell
    ax, ay = _centred_fract(u), _centred_fract(v / row) * row
    bx, by = _centred_fract(u - 0.5), _centred_fract(v / row - 0.5) * row
    use_a = ax * ax + ay * ay < bx * bx + by * by
    hx, hy = np.where(use_a, ax, bx), np.where(use_a, ay, by)
    half = _SQRT3 / 2
    across = np.maximum(np.abs(hx), np.maximum(np.abs(0.5 * hx + half * hy), np.abs(0.5 * hx - half * hy)))
    return (np.float32(0.5) - across) - np.float32(0.09)


def _dots(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    x, y = _centred_fract(u), _centred_fract(v)
    return np.sqrt(x * x + y * y) - np.float32(0.27)


def _noise(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Random dark cells (half a period wide), half of them marked, from an integer hash."""
    ix = np.floor(u * 2).astype(np.int32).view(np.uint32)
    iy = np.floor(v * 2).astype(np.int32).view(np.uint32)
    h = ix * np.uint32(0x9E3779B1) ^ iy * np.uint32(0x85EBCA77) ^ seed
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(13)
    # as a distance: -1 (a mark) or +1 (none), far from any anti-aliasing ramp
    return np.where(h & np.uint32(1 << 20), np.float32(-1.0), np.float32(1.0))


def _triangles(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Up-pointing triangles of a triangular lattice (side 1), shrunk to leave gaps."""
    b = v * (2 / _SQRT3)
    a = u - 0.5 * b
    fa, fb = a - np.floor(a), b - np.floor(b)
    rest = 1 - fa - fb
    inside_up = np.minimum(np.minimum(fa, fb), rest)  # > 0 inside an up triangle
    inside_down = np.minimum(np.minimum(1 - fa, 1 - fb), -rest)  # > 0 inside a down one
    height = _SQRT3 / 2  # lattice units → distance
    dist = np.where(inside_up > 0, -inside_up, inside_down) * height
    return dist + np.float32(0.07)


_ZIGZAG_AMPLITUDE = np.float32(0.45)
_ZIGZAG_SLOPE_NORM = np.float32(1 / np.sqrt(1 + (2 * 0.45) ** 2))  # |∇(v + A·tri(u))| = √(1+(2A)²)


def _zigzags(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    tri = np.abs(2 * (u - np.floor(u)) - 1)
    w = v + _ZIGZAG_AMPLITUDE * tri
    return (np.abs(_centred_fract(w)) - np.float32(0.17)) * _ZIGZAG_SLOPE_NORM


_RAIN_DIR = np.array([0.5, 0.866], dtype=np.float32)  # dashes at 60° in the texture frame
_RAIN_HALF = np.float32(0.3)


def _rain(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Short slanted dashes, one per cell, every other row shifted by half a cell."""
    row = np.floor(v)
    x = _centred_fract(u + 0.5 * row)
    y = v - row - 0.5
    dx, dy = _RAIN_DIR
    along = np.clip(x * dx + y * dy, -_RAIN_HALF, _RAIN_HALF)
    ex, ey = x - along * dx, y - along * dy
    return np.sqrt(ex * ex + ey * ey) - np.float32(0.1)


def _pluses(u: np.ndarray, v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    x, y = np.abs(_centred_fract(u)), np.abs(_centred_fract(v))
    arm, width = np.float32(0.36), np.float32(0.11)
    return np.minimum(np.maximum(x - arm, y - width), np.maximum(x - width, y - arm))


# texture → (distance function, period relative to TEXTURE_PERIOD)
_TEXTURE_FNS: dict[str, tuple[_Texture, float]] = {
    "stripes": (_stripes, 0.8),
    "grid": (_grid, 0.9),
    "hexgrid": (_hexgrid, 0.75),
    "dots": (_dots, 0.8),
    "noise": (_noise, 0.8),
    "triangles": (_triangles, 1.0),
    "zigzags": (_zigzags, 1.0),
    "rain": (_rain, 0.8),
    "pluses": (_pluses, 1.0),
}


# ----------------------------------------------------------------------------- render
def _coverage(distance: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Fraction of a pixel on the negative side of an edge at ``distance`` (same units as
    ``pixel``, the pixel width): the box-filtered step, i.e. analytic anti-aliasing."""
    cov = np.float32(0.5) - distance / pixel
    return np.clip(cov, 0.0, 1.0, out=cov)


def _groups(ids: np.ndarray):
    """(value, indices) for each distinct value in ``ids``."""
    for value in np.unique(ids):
        yield int(value), np.flatnonzero(ids == value)


def _render_chunk(shape_ids: np.ndarray, texture_ids: np.ndarray, rgb: np.ndarray, size: int,
                  poses: Poses, background: float, period: float) -> np.ndarray:
    """Render one chunk: uint8 array of shape (n, 3, size, size)."""
    n = len(shape_ids)
    step = 2.0 / size
    grid = ((np.arange(size) + 0.5) * step - 1).astype(np.float32)
    # offsets from each centre: x varies along columns, y (up) along rows
    dx = (grid[None, None, :] - poses.center[:, 0, None, None]).astype(np.float32)  # (n, 1, W)
    dy = (-grid[None, :, None] - poses.center[:, 1, None, None]).astype(np.float32)  # (n, H, 1)
    cos = (np.cos(poses.rotation) / poses.scale).astype(np.float32)[:, None, None]
    sin = (np.sin(poses.rotation) / poses.scale).astype(np.float32)[:, None, None]
    local_pixel = (step / poses.scale).astype(np.float32)[:, None, None]  # (n, 1, 1)

    # the shape's frame: rotate by -rotation, divide by scale (both folded into cos, sin)
    lx = cos * dx + sin * dy  # (n, H, W)
    ly = cos * dy - sin * dx
    sdf = np.empty((n, size, size), np.float32)
    for k, idx in _groups(shape_ids):
        sdf[idx] = shape_sdf(SHAPES[k], lx[idx], ly[idx])
    inside = _coverage(sdf, local_pixel)

    marks = np.zeros((n, size, size), np.float32)
    offset = poses.texture_offset.astype(np.float32)
    for k, idx in _groups(texture_ids):
        if TEXTURES[k] == "solid":
            continue
        fn, rel = _TEXTURE_FNS[TEXTURES[k]]
        p = np.float32(period * rel)
        u = lx[idx] / p + offset[idx, 0, None, None]
        v = ly[idx] / p + offset[idx, 1, None, None]
        seed = poses.noise_seed[idx, None, None].astype(np.uint32)
        marks[idx] = _coverage(fn(u, v, seed), local_pixel[idx] / p)

    # colour weight: the shape's coverage, darkened where it is marked
    paint = inside * (1 - np.float32(1 - MARK_SHADE) * marks)
    back = (1 - inside) * np.float32(background)
    out = np.empty((n, 3, size, size), np.uint8)
    for c in range(3):
        channel = back + paint * rgb[:, c, None, None]
        out[:, c] = np.floor(channel + np.float32(0.5))
    return out


def render(
    shape_ids: np.ndarray | list[int],
    texture_ids: np.ndarray | list[int],
    color_ids: np.ndarray | list[int],
    size: int = 32,
    rng: np.random.Generator | int | None = None,
    poses: Poses | None = None,
    background: int = BACKGROUND,
    texture_period: float = TEXTURE_PERIOD,
) -> np.ndarray:
    """Render N Trifeature images.

    shape_ids, texture_ids, color_ids: int arrays of shape (N,), indices into
    :data:`SHAPES`, :data:`TEXTURES`, :data:`COLORS`. ``poses`` fixes rotation/position/size;
    otherwise they are drawn from ``rng`` (a Generator or a seed) with :func:`sample_poses`.
    Returns uint8 array of shape (N, 3, size, size).
    """
    shape_ids = np.asarray(shape_ids, dtype=np.int64)
    texture_ids = np.asarray(texture_ids, dtype=np.int64)
    color_ids = np.asarray(color_ids, dtype=np.int64)
    n = len(shape_ids)
    if not (len(texture_ids) == len(color_ids) == n):
        raise ValueError("shape_ids, texture_ids and color_ids must have the same length")
    for ids, names, what in ((shape_ids, SHAPES, "shape"), (texture_ids, TEXTURES, "texture"),
                             (color_ids, COLORS, "color")):
        if n and (ids.min() < 0 or ids.max() >= len(names)):
            raise ValueError(f"{what} ids must be in 0..{len(names) - 1}")
    if not 4 <= size <= 1024:
        raise ValueError(f"size must be between 4 and 1024 pixels, got {size}")
    if poses is None:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        poses = sample_poses(n, gen)
    elif len(poses) != n:
        raise ValueError(f"poses has {len(poses)} entries for {n} images")

    rgb = COLOR_RGB.astype(np.float32)[color_ids]
    out = np.empty((n, 3, size, size), np.uint8)
    chunk = max(1, _CHUNK_PIXELS // (size * size))
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        out[sl] = _render_chunk(shape_ids[sl], texture_ids[sl], rgb[sl], size,
                                poses.subset(sl), background, texture_period)
    return out


def render_grid(size: int = 32, color: int | None = None, pad: int = 2) -> np.ndarray:
    """All 10 shapes (rows) × 10 textures (columns), upright and centred.

    Row i is drawn in colour ``color``, or in colour i when ``color`` is None (so every
    colour shows too). Returns a uint8 image of shape (10 * (size + pad), 10 * (size + pad), 3)
    (height, width, RGB; white gutters), e.g. for a PNG.
    """
    shapes, textures = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    colors = shapes if color is None else np.full_like(shapes, color)
    imgs = render(shapes.ravel(), textures.ravel(), colors.ravel(), size=size,
                  poses=centered_poses(100, scale=0.7))
    cell = size + pad
    sheet = np.full((10 * cell, 10 * cell, 3), 255, np.uint8)
    for i, img in enumerate(imgs):
        r, c = divmod(i, 10)
        sheet[r * cell: r * cell + size, c * cell: c * cell + size] = img.transpose(1, 2, 0)
    return sheet
