"""Image grids: many small images as one mosaic, with hover text naming each cell."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from mmviz.plots import style


def mosaic(images: np.ndarray, ncols: int, pad: int = 2, fill: int = 255, label_band: int = 0) -> np.ndarray:
    """(N, C, H, W) uint8 images → one (rows·(H+pad+label_band)+pad, ncols·(W+pad)+pad, 3) uint8
    mosaic; ``label_band`` blank pixels under each row leave room for a caption."""
    n, c, h, w = images.shape
    rows = int(np.ceil(n / ncols))
    row_h = h + pad + label_band
    out = np.full((rows * row_h + pad, ncols * (w + pad) + pad, 3), fill, dtype=np.uint8)
    rgb = np.repeat(images, 3, axis=1) if c == 1 else images[:, :3]
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = pad + r * row_h, pad + q * (w + pad)
        out[y:y + h, x:x + w] = rgb[i].transpose(1, 2, 0)
    return out


def image_grid(images: np.ndarray, hover: Sequence[str], ncols: int = 10, *, title: str = "",
               labels: Sequence[str] | None = None, cell_px: int = 84,
               col_titles: Sequence[str] | None = None, label_lines: int = 1) -> go.Figure:
    """A grid of images; hover names each one, optional ``labels`` under each cell (up to
    ``label_lines`` lines, split with "<br>") and titles above columns. ``cell_px`` is the drawn
    width of one image."""
    n, _, h, w = images.shape
    pad = max(1, h // 8)
    label_h = int(np.ceil(h * 0.3 * label_lines)) if labels is not None else 0
    grid = mosaic(images, ncols, pad=pad, fill=255, label_band=label_h)
    cell_h, cell_w = h + pad + label_h, w + pad
    fig = go.Figure(go.Image(z=grid, hoverinfo="skip"))
    idx = np.arange(n)
    cx = pad + (idx % ncols) * cell_w + w / 2
    cy = pad + (idx // ncols) * cell_h + h / 2
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="markers", marker=dict(size=cell_px * 0.8, opacity=0, symbol="square"),
                             hovertext=list(hover), hoverinfo="text", showlegend=False, name="images"))
    if labels is not None:
        for x, y, lab in zip(cx, cy, labels):
            fig.add_annotation(x=x, y=y + h / 2 + label_h * 0.5, text=lab, showarrow=False,
                               font=dict(size=11, color=style.MUTED), yanchor="middle")
    if col_titles is not None:
        for q, t in enumerate(col_titles):
            fig.add_annotation(x=pad + q * cell_w + w / 2, y=0, text=f"<b>{t}</b>", showarrow=False, yanchor="bottom",
                               font=dict(size=12))
    scale = cell_px / cell_w
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.01), height=int(grid.shape[0] * scale) + 70 + (20 if col_titles else 0),
        width=None, margin=dict(l=5, r=5, t=60 if col_titles or title else 10, b=5),
        xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"),
    ))
    return fig
