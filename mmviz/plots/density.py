"""Every point of a large disk drawn as a density: a server-side raster made with datashader.

Each pixel counts the points that fall in it, per group; its colour is the count-weighted mix
of the groups' colours and its opacity grows with the total count (histogram-equalised, so a
pixel with one point is still visible beside one with thousands). The raster goes into the
figure as a layout image under the axes' traces, so the rings, the rim and the hover sample
stay on top and stay exact.
"""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

PIXELS = 640  # raster width and height: ~1.5 display pixels per raster pixel at the page's size


@dataclass
class DensityImage:
    """A rendered density: ``png`` (bytes), ``counts`` (H, W) int64 points per pixel (row 0 at
    the top), ``group_counts`` points per group, and the data ranges it covers."""

    png: bytes
    counts: np.ndarray
    group_counts: dict[str, int]
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def density_image(xy: np.ndarray, groups: np.ndarray, colors: dict[str, str], *,
                  x_range: tuple[float, float] = (-1.0, 1.0), y_range: tuple[float, float] = (-1.0, 1.0),
                  pixels: int = PIXELS) -> DensityImage:
    """Rasterise (N, 2) points coloured by ``groups`` (N,) with ``colors`` (group -> hex).

    Points outside the ranges are not drawn (the disk's ranges hold every point of the disk).
    """
    import datashader as ds  # noqa: PLC0415 - heavy (numba): only large sets need it
    import datashader.transfer_functions as tf  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    names = [str(g) for g in dict.fromkeys(np.asarray(groups).tolist())]
    frame = pd.DataFrame({"x": np.asarray(xy[:, 0], np.float64), "y": np.asarray(xy[:, 1], np.float64),
                          "g": pd.Categorical(np.asarray(groups).astype(str), categories=names)})
    canvas = ds.Canvas(plot_width=pixels, plot_height=pixels, x_range=x_range, y_range=y_range)
    agg = canvas.points(frame, "x", "y", agg=ds.count_cat("g"))
    shaded = tf.shade(agg, color_key={n: colors[n] for n in names}, how="eq_hist", min_alpha=70)
    buf = io.BytesIO()
    shaded.to_pil().save(buf, format="PNG")
    per_group = agg.values  # (H, W, G), row 0 at the bottom (y_range[0])
    counts = per_group.sum(axis=2)[::-1].astype(np.int64)
    group_counts = {n: int(per_group[:, :, i].sum()) for i, n in enumerate(names)}
    return DensityImage(buf.getvalue(), counts, group_counts, tuple(x_range), tuple(y_range))


def add_density(fig: go.Figure, image: DensityImage) -> go.Figure:
    """Put ``image`` under the traces of ``fig``, stretched over its data ranges."""
    (x0, x1), (y0, y1) = image.x_range, image.y_range
    source = "data:image/png;base64," + base64.b64encode(image.png).decode("ascii")
    fig.add_layout_image(source=source, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                         xanchor="left", yanchor="top", sizing="stretch", layer="below", opacity=1.0)
    return fig


_WARM = threading.Event()


def warm_up_in_background() -> None:
    """Import datashader and compile its aggregation (numba, ~2-4 s, not cached on disk) in a
    daemon thread, once per process: the Explorer calls it when a file is about to be uploaded,
    so a million-point file is not kept waiting for the compiler."""
    if _WARM.is_set():
        return
    _WARM.set()

    def run() -> None:
        xy = np.zeros((4, 2))
        density_image(xy, np.array(["a", "a", "b", "b"]), {"a": "#000000", "b": "#ffffff"}, pixels=8)

    threading.Thread(target=run, name="mmviz-datashader-warm-up", daemon=True).start()
