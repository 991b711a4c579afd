"""Figures of the Gaussian lab: canonical-correlation spectra, principal angles over training,
conditional means, covariance ellipses and generated samples (pure functions → go.Figure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mmviz.plots.style import BOUNDARY, MUTED, POINT_COLORS, base_layout

TRUE_COLOR = BOUNDARY
TRUTH = "truth"


def _layout(title: str, height: int, legend_rows: int = 2) -> dict:
    """Base layout with the legend below the x-axis title, in a bottom margin made for it."""
    return base_layout(title=title, height=height + 26 * legend_rows,
                       margin=dict(l=10, r=10, t=50, b=70 + 24 * legend_rows),
                       legend=dict(orientation="h", yanchor="top", y=-0.2 - 0.02 * legend_rows, x=0.5,
                                   xanchor="center"))


def colors(labels: Sequence[str]) -> dict[str, str]:
    """A colour per series label (the truth is always dark)."""
    return {label: POINT_COLORS[i % len(POINT_COLORS)] for i, label in enumerate(labels)}


def spectrum_figure(true_rho: np.ndarray, series: Mapping[str, np.ndarray],
                    title: str = "Canonical correlations") -> go.Figure:
    """Bars: the true canonical correlations (r,); markers: each series' implied correlations."""
    idx = np.arange(1, len(true_rho) + 1)
    fig = go.Figure(go.Bar(x=idx, y=true_rho, name=TRUTH, marker_color="rgba(31, 35, 63, 0.25)",
                           marker_line=dict(color=TRUE_COLOR, width=1.5),
                           hovertemplate="truth: pair %{x}, ρ = %{y:.3f}<extra></extra>"))
    shifts = np.linspace(-0.2, 0.2, len(series)) if len(series) > 1 else np.zeros(1)
    for (label, rho), color, shift in zip(series.items(), colors(list(series)).values(), shifts):
        rho = np.asarray(rho)
        fig.add_trace(go.Scatter(x=idx[:len(rho)] + shift, y=rho, mode="markers+lines", name=label,
                                 marker=dict(size=11, color=color, symbol="diamond"),
                                 line=dict(color=color, dash="dot"),
                                 customdata=idx[:len(rho)],
                                 hovertemplate=f"{label}: pair %{{customdata}}, ρ = %{{y:.3f}}<extra></extra>"))
    fig.update_layout(**_layout(title, 330, 1))
    fig.update_xaxes(title="canonical pair i", dtick=1)
    fig.update_yaxes(title="correlation ρ_i", range=[0, 1.02])
    return fig


def angles_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], target: float | None = 5.0) -> go.Figure:
    """Largest principal angle (degrees) against training step, one line per curve label."""
    fig = go.Figure()
    for (label, (steps, angles)), color in zip(curves.items(), colors(list(curves)).values()):
        fig.add_trace(go.Scatter(x=steps, y=angles, mode="lines+markers", name=label, line=dict(color=color),
                                 hovertemplate=f"{label}<br>step %{{x}}: %{{y:.2f}}°<extra></extra>"))
    if target is not None:
        fig.add_hline(y=target, line=dict(color=MUTED, dash="dash"), annotation_text=f"{target:g}° target",
                      annotation_position="top right")
    fig.update_layout(**_layout("Largest principal angle to the canonical subspace", 320, 1))
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="angle (degrees)", rangemode="tozero")
    if not curves:
        fig.add_annotation(text="Train a model to see its subspace converge", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper", font=dict(color=MUTED))
    return fig


def mean_scatter_figure(true_mean: np.ndarray, learned: Mapping[str, np.ndarray], axis: str = "b₁") -> go.Figure:
    """Learned vs true conditional mean of one canonical coordinate over held-out u's: (N,) each."""
    true_mean = np.asarray(true_mean)
    lo, hi = float(true_mean.min()), float(true_mean.max())
    fig = go.Figure(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="learned = true",
                               line=dict(color=TRUE_COLOR, dash="dash"), hoverinfo="skip"))
    for (label, values), color in zip(learned.items(), colors(list(learned)).values()):
        fig.add_trace(go.Scatter(x=true_mean, y=values, mode="markers", name=label,
                                 marker=dict(size=6, color=color, opacity=0.7),
                                 customdata=np.arange(len(values)),
                                 hovertemplate=f"{label}<br>held-out u #%{{customdata}}"
                                               f"<br>true E[{axis}|u] = %{{x:.3f}}"
                                               f"<br>learned = %{{y:.3f}}<extra></extra>"))
    fig.update_layout(**_layout(f"Conditional mean of {axis} given u: learned vs true", 380, 1))
    fig.update_xaxes(title=f"true E[{axis} | u]")
    fig.update_yaxes(title=f"learned E[{axis} | u]")
    return fig


def ellipse_points(centre: np.ndarray, cov: np.ndarray, radius: float = 2.0, n: int = 120) -> np.ndarray:
    """(n, 2) points of the ellipse {x : (x−c)ᵀ cov⁻¹ (x−c) = radius²} of a 2×2 covariance."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    theta = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return np.asarray(centre) + radius * (circle * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def ellipse_figure(slices: Mapping[str, tuple[np.ndarray, np.ndarray]], axes: tuple[str, str] = ("b₁", "b₂"),
                   samples: np.ndarray | None = None) -> go.Figure:
    """2σ ellipses of p(v | u) in a 2-D slice: label → (centre (2,), cov (2, 2)); the truth first.
    ``samples`` (n, 2): true draws of p(v | u), drawn faintly."""
    fig = go.Figure()
    if samples is not None:
        fig.add_trace(go.Scatter(x=samples[:, 0], y=samples[:, 1], mode="markers", name="true samples",
                                 marker=dict(size=4, color="rgba(31,35,63,0.18)"),
                                 hovertemplate=f"true sample<br>{axes[0]} = %{{x:.2f}}"
                                               f"<br>{axes[1]} = %{{y:.2f}}<extra></extra>"))
    palette = colors([k for k in slices if k != TRUTH])
    for label, (centre, cov) in slices.items():
        pts = ellipse_points(centre, cov)
        truth = label == TRUTH
        color = TRUE_COLOR if truth else palette[label]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name=f"{label} (2σ)",
                                 line=dict(color=color, width=3 if truth else 2, dash="solid" if truth else "dash"),
                                 hovertemplate=f"{label}: 2σ ellipse<extra></extra>"))
        fig.add_trace(go.Scatter(x=[centre[0]], y=[centre[1]], mode="markers", showlegend=False,
                                 marker=dict(size=10, color=color, symbol="x"),
                                 hovertemplate=f"{label}: conditional mean<br>{axes[0]} = %{{x:.3f}}"
                                               f"<br>{axes[1]} = %{{y:.3f}}<extra></extra>"))
    fig.update_layout(**_layout("Covariance of p(v | u) for the chosen u", 420, 3))
    fig.update_xaxes(title=f"canonical coordinate {axes[0]}")
    fig.update_yaxes(title=f"canonical coordinate {axes[1]}", scaleanchor="x", scaleratio=1)
    return fig


def samples_figure(true: np.ndarray, generated: Mapping[str, np.ndarray], axes: tuple[str, str] = ("b₁", "b₂"),
                   palette: Mapping[str, str] | None = None) -> go.Figure:
    """Generated samples of p_θ(v | u) over true samples of p(v | u) in a 2-D slice: (n, 2) each.
    ``palette``: label → colour, to match the other figures."""
    fig = go.Figure(go.Scatter(x=true[:, 0], y=true[:, 1], mode="markers", name="true p(v | u)",
                               marker=dict(size=5, color="rgba(120,124,140,0.45)"),
                               hovertemplate=f"true sample<br>{axes[0]} = %{{x:.2f}}"
                                             f"<br>{axes[1]} = %{{y:.2f}}<extra></extra>"))
    palette = palette or colors(list(generated))
    for label, pts in generated.items():
        color = palette[label]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=label,
                                 marker=dict(size=5, color=color, opacity=0.55),
                                 hovertemplate=f"{label}: generated<br>{axes[0]} = %{{x:.2f}}"
                                               f"<br>{axes[1]} = %{{y:.2f}}<extra></extra>"))
    fig.update_layout(**_layout("Generated v | u over true samples", 420, 1))
    fig.update_xaxes(title=f"canonical coordinate {axes[0]}")
    fig.update_yaxes(title=f"canonical coordinate {axes[1]}", scaleanchor="x", scaleratio=1)
    return fig
