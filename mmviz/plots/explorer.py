"""Explorer figures: embeddings on the Poincaré disk (groups, rings, cones, pair lines, a
traversal path) and the specificity panel (distance from the origin by group)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from mmviz.plots import style
from mmviz.plots.disk import add_lines, disk_figure

# Colours for groups in a stable order; modality names get fixed ones so MERU and CLIP read alike.
# Picked (from Okabe–Ito and Tol's palettes) so that the modalities and the caption levels stay
# apart under deuteranopia and protanopia too: tests/plots/test_colour_vision.py simulates both.
GROUP_COLORS = {
    "image": "#0072B2", "text": "#E69F00", "caption": "#CC6677", "embedding": "#4338ca",
    "caption level 1": "#882255", "caption level 2": "#CC6677", "caption level 3": "#56B4E9",
}
PALETTE = ["#4338ca", "#db2777", "#059669", "#d97706", "#0891b2", "#7c3aed", "#65a30d", "#dc2626",
           "#0d9488", "#9333ea", "#ca8a04", "#2563eb"]
MAX_DRAWN = 50_000  # beyond this many points every point is drawn as a density (mmviz.plots.density)
HOVER_SAMPLE = 20_000  # ... and hover and lasso act on a random sample of this many, drawn on top
SELECT_TRACE = "points"  # trace meta marking point traces (selection reads their customdata)


def group_color(name: str, i: int) -> str:
    return GROUP_COLORS.get(name, PALETTE[i % len(PALETTE)])


ORDINAL_SCALE = "Viridis"
ORDINAL_SPAN = (0.0, 0.88)  # Viridis' last yellows vanish on the white page
MISSING_COLOR = "#9ca3af"


def _ordinal_key(name: object) -> tuple[int, float, str]:
    """Numbers in numeric order, then anything else (e.g. "—", missing) by name."""
    try:
        return (0, float(str(name)), "")
    except ValueError:
        return (1, 0.0, str(name))


def ordinal_colors(names: Sequence[str]) -> dict[str, str]:
    """A sequential colour per numeric group, low to high along :data:`ORDINAL_SCALE` (evenly
    spaced over the distinct levels), grey for the non-numeric ones."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    def hex_at(t: float) -> str:  # hex, as the density raster's colour key needs
        r, g, b = (round(c) for c in unlabel_rgb(sample_colorscale(ORDINAL_SCALE, [t])[0]))
        return f"#{r:02x}{g:02x}{b:02x}"

    levels = sorted({_ordinal_key(n)[1] for n in names if _ordinal_key(n)[0] == 0})
    lo, hi = ORDINAL_SPAN
    at = {v: lo + (hi - lo) * (i / max(len(levels) - 1, 1)) for i, v in enumerate(levels)}
    return {n: hex_at(at[_ordinal_key(n)[1]]) if _ordinal_key(n)[0] == 0 else MISSING_COLOR for n in names}


def ring_radii(max_display: float, unit: float | None) -> list[tuple[float, str]]:
    """Rings at equal hyperbolic distance: (display distance, label) pairs, 3-6 of them.

    With units (hyperbolic inputs) the labels are original distances d (display = unit · d);
    without, display distances.
    """
    scale = unit or 1.0
    top = max(max_display / scale, 1e-6)
    step = next(s for s in (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 50.0) if top / s <= 6)
    values = np.arange(step, top + 1e-9, step)
    prefix = "d = " if unit else "r = "
    return [(float(v * scale), f"{prefix}{v:g}") for v in values if v * scale < 30]


def _circle(radius_display: float, n: int = 181) -> np.ndarray:
    r = np.tanh(radius_display / 2.0)
    t = np.linspace(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def explorer_disk(disk: np.ndarray, groups: np.ndarray, hover: Sequence[str] | Callable[[np.ndarray], Sequence[str]],
                  *, unit: float | None,
                  rings: bool = True, title: str = "", height: int = 580, highlight: Sequence[int] = (),
                  cone: Sequence[np.ndarray] = (), cone_members: Sequence[int] = (),
                  pair_lines: Sequence[np.ndarray] = (), path: np.ndarray | None = None,
                  path_label: str = "traversal to the origin", selected: Sequence[int] = (),
                  arcs: Sequence[np.ndarray] = (), extent: str = "whole",
                  max_drawn: int = MAX_DRAWN, seed: int = 0, ordinal: bool = False) -> go.Figure:
    """Points on the disk, one WebGL trace per group (legend), hover naming each point.

    disk: (N, 2) unit-disk coordinates; groups: (N,) labels; hover: N strings, or a function of
    row indices giving theirs (so a million points need not all be named). Each point trace
    carries ``customdata`` = row index (so a selection maps back to rows). Beyond ``max_drawn``
    points every point is drawn as a density raster (counts per pixel and group), and hover and
    lasso act on a random ``HOVER_SAMPLE`` of them drawn on top (the title says so).
    cone: boundary polylines; cone_members: rows inside the cone; pair_lines: (2, 2) segments;
    arcs: parent→child geodesic polylines;
    path: (S, 2) traversal. extent: ``"whole"`` shows the whole disk to its rim (teaching views:
    the rim is the lesson); ``"fit"`` zooms to the data (a MERU at learned curvature sits deep
    inside) and the title says the rim is outside the view. ``ordinal``: the groups are ordered
    numbers (tree depth): numeric legend order and a sequential colour scale, not a palette.
    """
    n = len(disk)
    shown = np.arange(n)
    note = ""
    dense = n > max_drawn
    if dense:
        shown = np.sort(np.random.default_rng(seed).choice(n, min(HOVER_SAMPLE, max_drawn), replace=False))
        note = f"<br><sup>all {n:,} points as a density · hover and lasso: a random {len(shown):,}</sup>"
    fig = disk_figure((title or "") + note, height=height)
    reach = float(np.linalg.norm(disk, axis=1).max(initial=0.0))
    lim = 1.06 if extent == "whole" else min(1.06, max(1.15 * reach, 0.2))
    max_r = float(2 * np.arctanh(min(np.linalg.norm(disk, axis=1).max(initial=0.0), 1 - 1e-15))) if n else 1.0
    if rings:
        radii = ring_radii(max_r, unit)
        # Rings packed into a small middle of the whole disk: label only the outermost, legibly.
        crowded = extent == "whole" and radii and np.tanh(radii[-1][0] / 2.0) < 0.35
        labelled = 2.0  # rings crowd towards the rim: label from the outside in, at least 0.07 apart
        for k, (radius, label) in reversed(list(enumerate(radii))):
            c = _circle(radius)
            add_lines(fig, [c], color="rgba(31, 35, 53, 0.16)", width=1, dash="dot")
            y = float(np.tanh(radius / 2.0))
            if (not crowded or k == len(radii) - 1) and labelled - y >= 0.07:
                fig.add_annotation(x=0.0, y=y, text=label, showarrow=False,
                                   font=dict(size=11, color=style.MUTED), yshift=7)
                labelled = y
    if len(arcs):
        add_lines(fig, list(arcs), color="rgba(67, 56, 202, 0.30)", width=0.8, name="parent → child (geodesic)",
                  showlegend=True)
    if len(pair_lines):
        add_lines(fig, list(pair_lines), color="rgba(100, 100, 120, 0.35)", width=0.8,
                  name="image ↔ its caption", showlegend=True)
    if callable(hover):
        hover_of = hover
    else:
        texts = np.asarray(hover, dtype=object)

        def hover_of(rows):
            return texts[rows]
    names = list(dict.fromkeys(groups.tolist() if dense else groups[shown].tolist()))
    if ordinal:
        names.sort(key=_ordinal_key)
        colors = ordinal_colors([str(name) for name in names])
    else:
        names.sort(key=lambda g: (g not in GROUP_COLORS, str(g)))
        colors = {str(name): group_color(name, i) for i, name in enumerate(names)}
    totals: dict[str, int] = {}
    if dense:
        from mmviz.plots.density import add_density, density_image  # noqa: PLC0415 - large sets only

        image = density_image(disk, groups, colors, x_range=(-lim, lim), y_range=(-lim, lim))
        add_density(fig, image)
        totals = image.group_counts
    marker_size = 3 if dense else 5 if len(shown) > 5000 else 7
    for name in names:
        rows = shown[groups[shown] == name]
        count = totals.get(str(name), len(rows))
        fig.add_trace(go.Scattergl(
            x=disk[rows, 0], y=disk[rows, 1], mode="markers", name=f"{name} ({count:,})",
            marker=dict(size=marker_size, color=colors[str(name)], opacity=0.35 if dense else 0.75,
                        line=dict(width=0)),
            hovertext=np.asarray(hover_of(rows), dtype=object), hoverinfo="text", customdata=rows, meta=SELECT_TRACE,
        ))
    if len(cone):
        add_lines(fig, list(cone), color="#16a34a", width=2.5, name="entailment cone", showlegend=True)
    if len(cone_members):
        idx = np.asarray(cone_members)
        fig.add_trace(go.Scattergl(x=disk[idx, 0], y=disk[idx, 1], mode="markers", name=f"in its cone ({len(idx):,})",
                                   marker=dict(size=9, color="rgba(0,0,0,0)", line=dict(color="#16a34a", width=1.5)),
                                   hovertext=np.asarray(hover_of(idx), dtype=object), hoverinfo="text"))
    if path is not None and len(path):
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=path_label,
                                 line=dict(color="#111827", width=2.5), marker=dict(size=5, color="#111827"),
                                 hoverinfo="skip"))
    if len(selected):
        idx = np.asarray(selected)
        fig.add_trace(go.Scattergl(x=disk[idx, 0], y=disk[idx, 1], mode="markers", name=f"selected ({len(idx):,})",
                                   marker=dict(size=10, color="rgba(0,0,0,0)", line=dict(color="#f59e0b", width=2)),
                                   hovertext=np.asarray(hover_of(idx), dtype=object), hoverinfo="text"))
    if len(highlight):
        idx = np.asarray(highlight)
        fig.add_trace(go.Scatter(x=disk[idx, 0], y=disk[idx, 1], mode="markers", name="search result",
                                 marker=dict(size=16, symbol="star", color="#facc15",
                                             line=dict(color="#111827", width=1.5)),
                                 hovertext=np.asarray(hover_of(idx), dtype=object), hoverinfo="text"))
    if lim < 1.0:
        fig.update_layout(title=dict(text=f"{fig.layout.title.text or ''} — zoomed to the data (the rim is "
                                          "outside this view)"))
    fig.update_layout(legend=dict(orientation="v", itemsizing="constant", x=1.01, xanchor="left", y=0.5,
                                  yanchor="middle", title=dict(text="colour")),
                      xaxis=dict(range=[-lim, lim]), yaxis=dict(range=[-lim, lim]),
                      margin=dict(l=10, r=10, t=50, b=10), dragmode="lasso")
    return fig


def specificity_figure(groups: np.ndarray, depth: np.ndarray, depth_name: str, *, title: str = "",
                       height: int = 380) -> go.Figure:
    """Distance from the origin (or the specificity proxy) by group: one box per group,
    generic groups (caption levels) first, then the modalities."""
    order = sorted(dict.fromkeys(groups.tolist()), key=lambda g: (not str(g).startswith("caption level"), str(g)))
    fig = go.Figure()
    for i, name in enumerate(order):
        values = depth[groups == name]
        if len(depth) > MAX_DRAWN:  # the box's numbers, computed here over every point, not a million values
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            fence = 1.5 * (q3 - q1)
            inside = values[(values >= q1 - fence) & (values <= q3 + fence)]
            fig.add_trace(go.Box(name=f"{name}", x=[f"{name}"], q1=[q1], median=[median], q3=[q3],
                                 lowerfence=[inside.min()], upperfence=[inside.max()], mean=[values.mean()],
                                 marker_color=group_color(name, i), boxpoints=False, hoverinfo="y+name"))
            continue
        fig.add_trace(go.Box(y=values, name=f"{name}", marker_color=group_color(name, i), boxmean=True,
                             boxpoints=False, hoverinfo="y+name"))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.02), height=height, showlegend=False,
        yaxis=dict(title=depth_name, gridcolor="#eee", zeroline=False),
        xaxis=dict(title="group (generic → specific for MERU)"),
        margin=dict(l=10, r=10, t=50, b=10),
    ))
    return fig
