"""Two scatter charts of the same 30 points, drawn in different orders, with linked hover."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mmviz.ui.linked_hover import link_hover

st.set_page_config(layout="wide")
rng = np.random.default_rng(0)
angle, radius = rng.uniform(0, 2 * np.pi, 30), np.sqrt(rng.uniform(0, 1, 30))
x, y = radius * np.cos(angle), radius * np.sin(angle)
rows = np.arange(30)
# ?gl=1 draws WebGL traces; the button reruns the script with a changed title (plotly redraws).
Scatter = go.Scattergl if st.query_params.get("gl") == "1" else go.Scatter
reruns = st.session_state.setdefault("reruns", 0)
if st.button("rerun", key="rerun"):
    st.session_state.reruns = reruns = reruns + 1


def disk(traces, title):
    fig = go.Figure(traces)
    fig.update_layout(title=title, height=420, showlegend=False, margin=dict(l=30, r=30, t=40, b=30))
    fig.update_xaxes(range=[-1.1, 1.1])
    fig.update_yaxes(range=[-1.1, 1.1], scaleanchor="x")
    return fig


left = disk([Scatter(x=x, y=y, mode="markers", customdata=rows, marker=dict(size=10),
                     hovertemplate="row %{customdata}<extra></extra>")], "left")
# The right disk: the same points, shuffled and split into two traces, customdata as a column.
order = rng.permutation(30)
right = disk([Scatter(x=x[part], y=y[part], mode="markers", customdata=rows[part, None], marker=dict(size=10),
                      hovertemplate="row %{customdata[0]}<extra></extra>")
              for part in (order[:15], order[15:])], f"right (rerun {reruns})")

a, b = st.columns(2)
with a:
    st.plotly_chart(left, key="left_disk")
with b:
    st.plotly_chart(right, key="right_disk")
link_hover("left_disk", "right_disk")
