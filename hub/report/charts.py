"""Charts that mean exactly what the projector showed: same palette (display/static/palette.json),
grade order worst to best from left to right, the 50 % line (drawn black on a white halo, so it
shows on pale and dark segments alike), a share written inside a segment only where it fits.

matplotlib's object API only (``Figure`` + Agg canvas): no pyplot state, safe in worker threads.
The figure functions return the numbers they drew, so tests can check them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from display import palette
from hub.report.layout import text_width
from hub.tally import Ranking

LABEL_SIZE = 8
LINE_CLEAR_IN = 0.05  # inches kept between a share's label and the 50 % line (its halo is 4.5 pt)
MINUS = "\u2212"


def pct(x: float, lang: str, digits: int = 1) -> str:
    """A percentage in the language's typography: ``32,9 %`` (narrow no-break space) or ``32.9%``."""
    text = f"{x:.{digits}f}"
    return f"{text.replace('.', ',')}\u202f%" if lang == "fr" else f"{text}%"


def number(n: float, lang: str, digits: int = 0) -> str:
    """A number with the language's decimal mark."""
    text = f"{n:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def grade_with_sign(name: str, sign: str) -> str:
    """The majority grade and its gauge, typeset apart so "Passable −" never reads "Passable-"."""
    return f"{name} {'+' if sign == '+' else MINUS}" if sign else name


def grade_names(ranking: Ranking, lang: str) -> list[str]:
    return [ranking.scale.name(i, lang) for i in range(len(ranking.scale))]


def draw_bar(ax: Axes, counts: Sequence[int], lang: str, width_in: float, labels: bool = True) -> list[float]:
    """A 100 % merit bar in ``ax`` (``width_in`` inches wide); returns the shares drawn."""
    total = sum(counts) or 1
    shares = [100 * c / total for c in counts]
    colours = palette(len(counts))
    clear = 100 * LINE_CLEAR_IN / width_in  # the 50 % line and its halo, each side (percent of the bar)
    left = 0.0
    for share, colour in zip(shares, colours):
        ax.barh(0, share, left=left, color=colour, edgecolor="white", linewidth=0.5, height=1.0)
        text = pct(share, lang, 0)
        # a share is written only inside a segment wide enough for it (no "2,91,4" collisions),
        # and never under the 50 % line
        need = 100 * (text_width(text, LABEL_SIZE) + 0.06) / width_in
        x = label_x(left, share, need, clear) if labels and share > 0 else None
        if x is not None:
            ax.text(x, 0, text, ha="center", va="center", fontsize=LABEL_SIZE, color="#111")
        left += share
    ax.axvline(50, color="white", linewidth=4.5)
    ax.axvline(50, color="black", linewidth=2)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.5, 0.5)
    ax.set_axis_off()
    return shares


def label_x(left: float, share: float, need: float, clear: float) -> float | None:
    """Where the label of the segment [left, left + share] goes (percent of the bar): its middle,
    or, when the middle would put it under the 50 % line, the middle of the segment's part on the
    far side of the line; None when it does not fit. ``need``: the label's width; ``clear``: how
    far from the line a label keeps."""
    mid = left + share / 2
    if need > share:
        return None
    if abs(mid - 50) >= need / 2 + clear:
        return mid
    if 50 - left >= left + share - 50:  # more of the segment left of the line
        lo, hi = left, min(left + share, 50 - clear)
    else:
        lo, hi = max(left, 50 + clear), left + share
    return (lo + hi) / 2 if hi - lo >= need else None


def draw_legend(
    fig: Figure, x: float, y: float, width: float, names: Sequence[str], size: float = 8
) -> float:
    """Colour keys and grade names from (x, y) (figure inches from the top-left), wrapping to
    ``width`` inches; returns the height used."""
    w_fig, h_fig = fig.get_size_inches()
    colours = palette(len(names))
    sq, gap, line = size / 72, 0.22, size / 72 * 1.6
    cx, cy = x, y
    for name, colour in zip(names, colours):
        need = sq + 0.06 + text_width(name, size) + gap
        if cx > x and cx + need - gap > x + width:
            cx, cy = x, cy + line
        fig.add_artist(
            Rectangle(
                (cx / w_fig, 1 - (cy + sq) / h_fig),
                sq / w_fig,
                sq / h_fig,
                transform=fig.transFigure,
                facecolor=colour,
                edgecolor="#666",
                linewidth=0.4,
            )
        )
        fig.text((cx + sq + 0.06) / w_fig, 1 - cy / h_fig, name, fontsize=size, va="top")
        cx += need
    return cy + line - y


def merit_profile(ranking: Ranking, index: int, lang: str = "fr") -> tuple[Figure, list[float]]:
    """One proposal's merit profile for a slide (``/api/polls/{id}/chart.svg``): the majority
    grade, the bar with its 50 % line, and the legend; returns the shares drawn (percent)."""
    entry = ranking.entries[index]
    names = grade_names(ranking, lang)
    fig = Figure(figsize=(8, 2.2))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.38, 0.92, 0.24))
    shares = draw_bar(ax, entry.balanced, lang, 8 * 0.92)
    grade = "—" if entry.majority_grade is None else names[entry.majority_grade]
    sign = entry.gauge.sign if entry.gauge else ""
    label = "Mention majoritaire" if lang == "fr" else "Majority grade"
    colon = " : " if lang == "fr" else ": "
    fig.text(
        0.04, 0.93, f"{entry.proposal} — {label}{colon}{grade_with_sign(grade, sign)}", fontsize=12, va="top"
    )
    draw_legend(fig, 0.32, 2.2 * 0.62 + 0.12, 8 * 0.92, names)
    return fig, shares


def ranking_chart(ranking: Ranking, lang: str = "fr", title: str = "") -> tuple[Figure, list[list[float]]]:
    """Every proposal, best first, one compact merit bar each, for a slide; returns the shares."""
    n = max(1, len(ranking.entries))
    height = 1.3 + 0.26 * n
    fig = Figure(figsize=(8, height))
    FigureCanvasAgg(fig)
    top = 0.45 + (0.3 if title else 0)
    if title:
        fig.text(0.3 / 8, 1 - 0.15 / height, title, fontsize=12, va="top", weight="bold")
    used = draw_legend(fig, 0.3, top - 0.35 + 0.1, 7.4, grade_names(ranking, lang))
    box = (0.3 / 8, 0.45 / height, 7.4 / 8, (height - top - used - 0.5) / height)
    drawn = draw_ranking(fig, box, ranking, lang)
    return fig, drawn


def draw_ranking(
    fig: Figure, box: tuple[float, float, float, float], ranking: Ranking, lang: str
) -> list[list[float]]:
    """The ranking as stacked merit bars inside ``box`` (figure fractions), labels inside too."""
    w_fig, _ = fig.get_size_inches()
    labels = [f"{e.rank}. {e.proposal}" for e in ranking.entries] or [""]
    label_w = max(text_width(t, 7) for t in labels) + 0.1
    left, bottom, width, height = box
    ax = fig.add_axes((left + label_w / w_fig, bottom, width - label_w / w_fig, height))
    colours = palette(len(ranking.scale))
    drawn = []
    for row, e in enumerate(ranking.entries):
        total = sum(e.balanced) or 1
        shares = [100 * c / total for c in e.balanced]
        start = 0.0
        for share, colour in zip(shares, colours):
            ax.barh(row, share, left=start, color=colour, height=0.8)
            start += share
        drawn.append(shares)
    ax.axvline(50, color="white", linewidth=3)
    ax.axvline(50, color="black", linewidth=1.5)
    n = max(1, len(ranking.entries))
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 50, 100], [pct(0, lang, 0), pct(50, lang, 0), pct(100, lang, 0)], fontsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return drawn


def render(fig: Figure, fmt: str) -> bytes:
    """PNG or SVG bytes (call from a worker thread: rendering is CPU work)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown chart format {fmt!r} (png or svg)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else None)
    return buf.getvalue()
