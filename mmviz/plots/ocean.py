"""Figures of the data-assimilation lab: drifters over the stream function, reconstructions
beside the truth with their error maps, retrieval examples, spread against skill, and the
few-shot sweep. Fields are (2, G, G) velocities on the periodic square [0, 2π)², rows = y."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style

TWO_PI = 2 * np.pi
SPEED_SCALE = "Blues"
ERROR_SCALE = "Reds"
METHOD_LABELS = {"truth": "truth", "contrastive": "contrastive (conditional mean)",
                 "oi": "optimal interpolation", "exact": "exact conditional (oracle)",
                 "climatology": "climatology", "analog": "analog bound (oracle)"}
SHORT_LABELS = {"contrastive": "contrastive", "oi": "optimal interp.", "exact": "exact (oracle)",
                "climatology": "climatology", "analog": "analog bound"}
METHOD_COLORS = {"contrastive": style.HYPERBOLIC, "oi": "#059669", "exact": "#7c3aed",
                 "climatology": "#6b7280", "misfit": "#059669", "analog": "#d97706"}


def _axes(size: int) -> np.ndarray:
    return TWO_PI * np.arange(size) / size


def _wrapped_paths(tracks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drifter tracks (D, T + 1, 2), unwrapped → one x and y array (NaN between drifters and
    where a drifter leaves through a side of the periodic square)."""
    xs, ys = [], []
    for path in np.mod(tracks, TWO_PI):
        jump = np.abs(np.diff(path, axis=0)).max(1) > np.pi
        for part in np.split(path, np.flatnonzero(jump) + 1):
            xs += [*part[:, 0], np.nan]
            ys += [*part[:, 1], np.nan]
    return np.array(xs), np.array(ys)


def drifters_figure(psi: np.ndarray, tracks: np.ndarray, frames: int | None = None,
                    title: str = "") -> go.Figure:
    """The stream function (P, P) as filled contours (the flow runs along them) and the drifters
    (D, T + 1, 2) animated along their tracks, trails behind them."""
    axis = _axes(psi.shape[0])
    steps = tracks.shape[1]
    frames = steps if frames is None else min(frames, steps)
    fig = go.Figure()
    fig.add_trace(go.Contour(x=axis, y=axis, z=psi, colorscale="RdBu", ncontours=16, opacity=0.75,
                             colorbar=dict(title="ψ", thickness=12), hoverinfo="skip", name="stream function"))
    trail_x, trail_y = _wrapped_paths(tracks[:, :1])
    fig.add_trace(go.Scatter(x=trail_x, y=trail_y, mode="lines", line=dict(color="#111827", width=1.5),
                             name="tracks", hoverinfo="skip"))
    now = np.mod(tracks[:, 0], TWO_PI)
    fig.add_trace(go.Scatter(x=now[:, 0], y=now[:, 1], mode="markers", name="drifters",
                             marker=dict(size=9, color="#f59e0b", line=dict(color="#111827", width=1))))
    anim = []
    for t in range(frames):
        tx, ty = _wrapped_paths(tracks[:, :t + 1])
        pos = np.mod(tracks[:, t], TWO_PI)
        anim.append(go.Frame(name=str(t), traces=[1, 2], data=[
            go.Scatter(x=tx, y=ty), go.Scatter(x=pos[:, 0], y=pos[:, 1])]))
    fig.frames = anim
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.02), height=620, showlegend=False, margin=dict(l=50, r=20, t=60, b=110),
        xaxis=dict(range=[0, TWO_PI], title="x", constrain="domain"),
        yaxis=dict(range=[0, TWO_PI], title="y", scaleanchor="x", scaleratio=1),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.2, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(t=0, r=10), buttons=[
            dict(label="▶ play", method="animate",
                 args=[None, dict(frame=dict(duration=250, redraw=False), fromcurrent=True,
                                  transition=dict(duration=0))]),
            dict(label="❚❚ pause", method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))]),
        ])],
        sliders=[dict(active=0, x=0.34, y=-0.12, len=0.66, yanchor="top", currentvalue=dict(prefix="observation "),
                      steps=[dict(label=str(t), method="animate",
                                  args=[[str(t)], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
                             for t in range(frames)])],
    ))
    return fig


def speed(field: np.ndarray) -> np.ndarray:
    """|velocity| of a (2, G, G) field → (G, G)."""
    return np.sqrt(np.square(np.asarray(field, np.float64)).sum(0))


def field_heatmap(values: np.ndarray, title: str) -> go.Figure:
    """One (G, G) map on the periodic square (NaN cells blank)."""
    axis = _axes(values.shape[-1])
    fig = go.Figure(go.Heatmap(x=axis, y=axis, z=values, colorscale=SPEED_SCALE, zmin=0,
                               colorbar=dict(title="speed", thickness=10),
                               hovertemplate="x %{x:.2f}, y %{y:.2f}<br>%{z:.2f}<extra></extra>"))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.02), height=360,
        xaxis=dict(title="x", constrain="domain"), yaxis=dict(title="y", scaleanchor="x", scaleratio=1)))
    return fig


def reconstruction_figure(truth: np.ndarray, fields: dict[str, np.ndarray], tracks: np.ndarray,
                          errors: dict[str, float]) -> go.Figure:
    """Top row: speed of the truth and of each method's field, the drifters' tracks on the truth;
    bottom row: each method's error speed |field − truth| (the same colour scale across a row)."""
    methods = list(fields)
    cols = 1 + len(methods)
    titles = ["truth and the drifters"] + [f"{SHORT_LABELS.get(m, m)}<br>RMSE {errors[m]:.2f}" for m in methods]
    titles += [""] + [f"error: {SHORT_LABELS.get(m, m)}" for m in methods]
    fig = make_subplots(rows=2, cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.1)
    axis = _axes(truth.shape[-1])
    top = max(float(speed(truth).max()), *(float(speed(f).max()) for f in fields.values()))
    err_top = max(float(speed(f - truth).max()) for f in fields.values())
    fig.add_trace(go.Heatmap(x=axis, y=axis, zsmooth="best", z=speed(truth), zmin=0, zmax=top, colorscale=SPEED_SCALE,
                             colorbar=dict(title="speed", len=0.45, y=0.78, thickness=10),
                             hovertemplate="speed %{z:.2f}<extra>truth</extra>"), 1, 1)
    tx, ty = _wrapped_paths(tracks)
    fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", line=dict(color="#f59e0b", width=2),
                             name="drifter tracks", hoverinfo="skip"), 1, 1)
    for i, m in enumerate(methods, start=2):
        fig.add_trace(go.Heatmap(x=axis, y=axis, zsmooth="best", z=speed(fields[m]), zmin=0, zmax=top,
                                 colorscale=SPEED_SCALE, showscale=False,
                                 hovertemplate=f"speed %{{z:.2f}}<extra>{m}</extra>"), 1, i)
        fig.add_trace(go.Heatmap(x=axis, y=axis, zsmooth="best", z=speed(fields[m] - truth), zmin=0, zmax=err_top,
                                 colorscale=ERROR_SCALE, showscale=i == 2,
                                 colorbar=dict(title="error", len=0.45, y=0.22, thickness=10),
                                 hovertemplate=f"error %{{z:.2f}}<extra>{m}</extra>"), 2, i)
    fig.update_xaxes(visible=False, range=[axis[0], axis[-1]], constrain="domain")
    fig.update_yaxes(visible=False, range=[axis[0], axis[-1]])
    for i in range(1, 2 * cols + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", scaleratio=1, row=(i - 1) // cols + 1,
                         col=(i - 1) % cols + 1)
    fig.update_layout(**style.base_layout(height=520, showlegend=False, margin=dict(l=10, r=10, t=70, b=10)))
    return fig


def retrieval_figure(tracks: np.ndarray, candidates: Sequence[np.ndarray], hits: Sequence[bool],
                     scores: Sequence[float]) -> go.Figure:
    """The query's tracks, then the top-5 retrieved flows' observed fields (speed; masked cells
    blank), the true flow marked."""
    fig = make_subplots(rows=1, cols=1 + len(candidates), horizontal_spacing=0.02, subplot_titles=[
        "query: drifter tracks"] + [f"#{i + 1}{' ✓ the true flow' if hit else ''}<br>score {s:.2f}"
                                   for i, (hit, s) in enumerate(zip(hits, scores))])
    tx, ty = _wrapped_paths(tracks)
    fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", line=dict(color="#111827", width=1.5), hoverinfo="skip"), 1, 1)
    ends = np.mod(tracks[:, -1], TWO_PI)
    fig.add_trace(go.Scatter(x=ends[:, 0], y=ends[:, 1], mode="markers", marker=dict(color="#f59e0b", size=7),
                             hoverinfo="skip"), 1, 1)
    size = candidates[0].shape[-1]
    axis = _axes(size)
    top = max(float(speed(c[:2]).max()) for c in candidates)
    for i, cand in enumerate(candidates, start=2):
        z = np.where(cand[2] > 0, speed(cand[:2]), np.nan)
        fig.add_trace(go.Heatmap(x=axis, y=axis, z=z, zmin=0, zmax=top, colorscale=SPEED_SCALE, showscale=False,
                                 hovertemplate="observed speed %{z:.2f}<extra></extra>"), 1, i)
        if hits[i - 2]:
            fig.add_shape(type="rect", xref=f"x{i} domain", yref=f"y{i} domain", x0=0, y0=0, x1=1, y1=1,
                          line=dict(color="#059669", width=4))
    fig.update_xaxes(visible=False, range=[0, TWO_PI], constrain="domain")
    fig.update_yaxes(visible=False, range=[0, TWO_PI])
    for i in range(1, len(candidates) + 2):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", scaleratio=1, col=i)
    fig.update_layout(**style.base_layout(height=300, showlegend=False, margin=dict(l=10, r=10, t=70, b=10)))
    return fig


def spread_skill_figure(spread: np.ndarray, skill: np.ndarray, ess: float) -> go.Figure:
    """Binned ensemble spread against the conditional mean's RMSE, with the 1:1 line a
    calibrated ensemble would follow."""
    top = float(max(spread.max(), skill.max()) * 1.1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color="#9ca3af", dash="dot"),
                             name="calibrated (spread = error)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=spread, y=skill, mode="lines+markers", name="contrastive samples",
                             line=dict(color=METHOD_COLORS["contrastive"], width=3), marker=dict(size=9),
                             hovertemplate="spread %{x:.3f}<br>RMSE %{y:.3f}<extra></extra>"))
    fig.update_layout(**style.base_layout(
        title=dict(text=f"Spread against skill (bins of equal count; median effective sample size {ess:.0f})", x=0.02),
        height=400, xaxis=dict(title="ensemble spread (RMS about the mean)", range=[0, top]),
        yaxis=dict(title="RMSE of the conditional mean", range=[0, top]),
        legend=dict(orientation="h", y=-0.2)))
    return fig


def few_shot_figure(report: dict | None, points: Sequence[dict] = ()) -> go.Figure:
    """The bench's few-shot sweep (lines): R@1 and RMSE relative to climatology against training
    pairs; ``points``: finished runs of this server ({model, n, r1, rel_rmse}, or those dicts'
    sorted item tuples) as markers."""
    report = report or {}
    points = [p if isinstance(p, dict) else dict(p) for p in points]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["retrieval R@1 among 1,000 held-out flows",
                                                       "reconstruction RMSE / climatology"])
    dashes = {"ocean-clip": "solid", "ocean-prob": "dash"}
    baseline_done = False
    for model, body in report.get("models", {}).items():
        rows = body["few_shot"]
        n = [r["n"] for r in rows]
        fig.add_trace(go.Scatter(x=n, y=[r["r1"]["contrastive"] for r in rows], mode="lines+markers", name=model,
                                 line=dict(color=METHOD_COLORS["contrastive"], dash=dashes.get(model, "solid"))), 1, 1)
        fig.add_trace(go.Scatter(x=n, y=[r["rel_rmse"]["contrastive"] for r in rows], mode="lines+markers",
                                 name=model, showlegend=False,
                                 line=dict(color=METHOD_COLORS["contrastive"], dash=dashes.get(model, "solid"))), 1, 2)
        if not baseline_done:
            fig.add_trace(go.Scatter(x=n, y=[r["r1"]["misfit"] for r in rows], mode="lines+markers",
                                     name="misfit (baseline)", line=dict(color=METHOD_COLORS["misfit"])), 1, 1)
            for m in ("oi", "exact"):
                fig.add_trace(go.Scatter(x=n, y=[r["rel_rmse"][m] for r in rows], mode="lines+markers",
                                         name=METHOD_LABELS[m], line=dict(color=METHOD_COLORS[m])), 1, 2)
            baseline_done = True
    symbols = {"ocean-clip": "circle-open", "ocean-prob": "square-open"}
    for model in sorted({p["model"] for p in points}):
        mine = [p for p in points if p["model"] == model]
        for col, key in ((1, "r1"), (2, "rel_rmse")):
            fig.add_trace(go.Scatter(x=[p["n"] for p in mine], y=[p[key] for p in mine], mode="markers",
                                     name=f"{model}: runs here", showlegend=col == 1,
                                     marker=dict(symbol=symbols.get(model, "circle-open"), size=13,
                                                 color="#111827", line=dict(width=2)),
                                     hovertemplate="%{x:,} pairs: %{y:.3f}<extra>" + model + "</extra>"), 1, col)
    fig.update_xaxes(type="log", title="training pairs")
    top = max([1.0] + [float(y) for t in fig.data for y in (t.y or ()) if y is not None])
    fig.update_yaxes(range=[0, 1.05 * top])
    fig.update_layout(**style.base_layout(height=380, legend=dict(orientation="h", y=-0.25)))
    return fig
