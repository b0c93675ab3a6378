"""Charts that mean exactly what the projector showed: same palette (display/static/palette.json),
grade order worst to best from left to right, the 50 % median line.

matplotlib's object API only (``Figure`` + Agg canvas): no pyplot state, safe in worker threads.
Each function returns the figure and the numbers it drew, so tests can check them.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from display import palette
from hub.tally import Ranking


def _pct(x: float, lang: str) -> str:
    text = f"{x:.0f}"
    return f"{text}\u202f%" if lang == "fr" else f"{text}%"


def _grade_names(ranking: Ranking, lang: str) -> list[str]:
    return [ranking.scale.name(i, lang) for i in range(len(ranking.scale))]


def merit_profile(
    ranking: Ranking, index: int, lang: str = "fr", page: tuple[float, float] | None = None
) -> tuple[Figure, list[float]]:
    """One proposal's merit profile as a 100 % bar; returns the shares drawn (percent).

    ``page`` (width, height in inches) draws it at the top of a page, leaving room below."""
    entry = ranking.entries[index]
    counts = entry.balanced
    total = sum(counts) or 1
    shares = [100 * c / total for c in counts]
    colours = palette(len(counts))
    names = _grade_names(ranking, lang)
    fig = Figure(figsize=page or (8, 1.9))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.80, 0.88, 0.06) if page else (0.02, 0.42, 0.96, 0.36))
    left = 0.0
    for share, colour, name in zip(shares, colours, names):
        ax.barh(0, share, left=left, color=colour, edgecolor="white", label=name)
        if share >= 6:
            ax.text(left + share / 2, 0, _pct(share, lang), ha="center", va="center", fontsize=8)
        left += share
    ax.axvline(50, color="black", linewidth=2)
    ax.set_xlim(0, 100)
    ax.set_axis_off()
    grade = "—" if entry.majority_grade is None else names[entry.majority_grade]
    sign = entry.gauge.sign if entry.gauge else ""
    label = "Mention majoritaire" if lang == "fr" else "Majority grade"
    ax.set_title(
        f"{entry.proposal} — {label} : {grade}{sign}"
        if lang == "fr"
        else f"{entry.proposal} — {label}: {grade}{sign}",
        fontsize=10,
        loc="left",
    )
    if page:
        fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.79), ncol=4, fontsize=8, frameon=False)
    else:
        fig.legend(loc="lower center", ncol=len(names), fontsize=7, frameon=False)
    return fig, shares


def ranking_chart(ranking: Ranking, lang: str = "fr", title: str = "") -> tuple[Figure, list[list[float]]]:
    """Every proposal, best first, one compact merit bar each; returns the shares drawn."""
    n = max(1, len(ranking.entries))
    colours = palette(len(ranking.scale))
    fig = Figure(figsize=(8, 0.8 + 0.28 * n))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.22, 0.05, 0.76, 0.9 - 0.3 / n))
    drawn = []
    for row, e in enumerate(ranking.entries):
        total = sum(e.balanced) or 1
        shares = [100 * c / total for c in e.balanced]
        left = 0.0
        for share, colour in zip(shares, colours):
            ax.barh(row, share, left=left, color=colour, height=0.8)
            left += share
        drawn.append(shares)
    ax.axvline(50, color="black", linewidth=1.5)
    ax.set_yticks(range(n), [f"{e.rank}. {e.proposal}" for e in ranking.entries] or [""], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 50, 100], [_pct(0, lang), _pct(50, lang), _pct(100, lang)], fontsize=7)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return fig, drawn


def render(fig: Figure, fmt: str) -> bytes:
    """PNG or SVG bytes (call from a worker thread: rendering is CPU work)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown chart format {fmt!r} (png or svg)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else None)
    return buf.getvalue()
