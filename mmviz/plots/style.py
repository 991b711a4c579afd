"""Shared colours and layout defaults, so every figure reads the same way."""

HYPERBOLIC = "#4338ca"  # indigo: hyperbolic / MERU
EUCLIDEAN = "#ea580c"  # orange: Euclidean / CLIP
GRID = "rgba(67, 56, 202, 0.13)"
BOUNDARY = "#1f2335"
MUTED = "#8a8fa3"
POINT_COLORS = ["#4338ca", "#db2777", "#059669", "#d97706", "#0891b2", "#7c3aed"]
FONT = dict(family="Source Sans Pro, sans-serif", size=14, color="#1f2335")


def base_layout(**kw) -> dict:
    """Layout defaults: readable fonts, white plot area, small margins."""
    out = dict(
        font=FONT, paper_bgcolor="white", plot_bgcolor="white",
        margin=dict(l=10, r=10, t=50, b=10), hoverlabel=dict(font_size=13),
        legend=dict(orientation="h", yanchor="bottom", y=-0.08, xanchor="center", x=0.5),
    )
    out.update(kw)
    return out
