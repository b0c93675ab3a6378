"""A4 pages of headings, paragraphs, tables and charts, laid out by measuring the text.

Every line is wrapped to the width it has, measured with the font the PDF embeds, and a block
that does not fit on the page goes to the next one: nothing is cut at the edge of a page or a
column. The document records every string it writes and on which page, so a test can check that
each is fully present in the PDF's text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

A4 = (8.27, 11.69)  # inches
MARGIN_X = 0.7
MARGIN_TOP = 0.75
MARGIN_BOTTOM = 0.8
LEADING = 1.3  # line height / font size
_T2P = TextToPath()

Box = tuple[float, float, float, float]  # left, bottom, width, height in figure fractions


@lru_cache(maxsize=4096)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of ``text`` set in the default font at ``size`` points."""
    props = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = _T2P.get_text_width_height_descent(text, props, ismath=False)
    return width / 72


def wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` inches; a word longer than a line is split by characters."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, size, bold) > width:  # a very long word (a hash, a path)
                cut = len(word)
                while cut > 1 and text_width(word[:cut], size, bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def line_height(size: float) -> float:
    return size * LEADING / 72


class Document:
    """Pages being filled top to bottom; ``y`` is the distance from the top of the page."""

    def __init__(self, footer: Callable[[int, int], str] | None = None) -> None:
        self.pages: list[Figure] = []
        self.written: list[tuple[int, str]] = []
        self.footer = footer
        self.y = 0.0
        self.width = A4[0] - 2 * MARGIN_X

    # --- pages -----------------------------------------------------------------------------

    @property
    def page(self) -> Figure:
        return self.pages[-1]

    def new_page(self) -> Figure:
        fig = Figure(figsize=A4)
        FigureCanvasAgg(fig)
        self.pages.append(fig)
        self.y = MARGIN_TOP
        return fig

    def room(self) -> float:
        return A4[1] - MARGIN_BOTTOM - self.y if self.pages else 0.0

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` inches still fit on this one."""
        if not self.pages or height > self.room():
            self.new_page()

    def space(self, inches: float) -> None:
        self.y += inches

    # --- text --------------------------------------------------------------------------------

    def put(self, x: float, y: float, text: str, size: float, bold: bool = False, **kw: object) -> Text:
        """One string at (x, y) inches from the top-left corner, recorded as written."""
        self.written.append((len(self.pages) - 1, text))
        return self.page.text(
            x / A4[0],
            1 - y / A4[1],
            text,
            fontsize=size,
            weight="bold" if bold else "normal",
            va="top",
            **kw,  # type: ignore[arg-type]
        )

    def lines(self, lines: list[str], size: float, x: float = MARGIN_X, bold: bool = False) -> None:
        """Lines kept together on one page (a new page if they do not fit)."""
        height = len(lines) * line_height(size)
        self.ensure(min(height, A4[1] - MARGIN_TOP - MARGIN_BOTTOM))
        if height <= self.room():
            self.put(x, self.y, "\n".join(lines), size, bold, linespacing=LEADING)
            self.y += height
            return
        for line in lines:  # longer than a page: flow line by line
            self.ensure(line_height(size))
            self.put(x, self.y, line, size, bold)
            self.y += line_height(size)

    def heading(self, text: str, size: float = 16, keep_with: float = 0.8) -> None:
        """A heading, kept on the same page as ``keep_with`` inches of what follows."""
        lines = wrap(text, size, self.width, bold=True)
        self.ensure(len(lines) * line_height(size) + keep_with)
        self.lines(lines, size, bold=True)
        self.space(size / 72 * 0.5)

    def paragraph(self, text: str, size: float = 10.5, indent: float = 0.0, after: float = 0.12) -> None:
        self.lines(wrap(text, size, self.width - indent), size, MARGIN_X + indent)
        self.space(after)

    # --- tables -------------------------------------------------------------------------------

    def table(
        self,
        header: list[str],
        rows: list[list[str]],
        widths: list[float],
        size: float = 8.5,
        right: frozenset[int] = frozenset(),
    ) -> None:
        """Columns of ``widths`` (fractions of the text width); every cell wraps within its
        column; the header is repeated on each new page."""
        assert abs(sum(widths) - 1) < 1e-6 and len(widths) == len(header)
        gap = 0.08
        cols = _fit_columns([w * self.width for w in widths], header, rows, size, gap)
        xs = [MARGIN_X + sum(cols[:i]) for i in range(len(cols))]

        def wrapped(cells: list[str], bold: bool) -> list[list[str]]:
            return [wrap(c, size, w - gap, bold) for c, w in zip(cells, cols)]

        def draw(cells: list[list[str]], bold: bool) -> None:
            for i, (x, lines) in enumerate(zip(xs, cells)):
                text = "\n".join(lines)
                if i in right:
                    self.put(x + cols[i] - gap, self.y, text, size, bold, ha="right", linespacing=LEADING)
                else:
                    self.put(x, self.y, text, size, bold, linespacing=LEADING)
            self.y += max(len(c) for c in cells) * line_height(size) + 0.04

        head = wrapped(header, True)
        head_h = max(len(c) for c in head) * line_height(size) + 0.04
        first = True
        for row in rows:
            cells = wrapped(row, False)
            height = max(len(c) for c in cells) * line_height(size) + 0.04
            if first or height > self.room():
                self.ensure(head_h + height + (0 if not first else 0.2))
                draw(head, True)
                first = False
            draw(cells, False)
        if first:
            self.ensure(head_h)
            draw(head, True)
        self.space(0.15)

    # --- charts -----------------------------------------------------------------------------------

    def block(self, height: float, draw: Callable[[Figure, Box], None]) -> None:
        """``height`` inches of the page for a chart: ``draw`` gets the page and the box
        (figure fractions) it may draw in."""
        self.ensure(height)
        box = (
            MARGIN_X / A4[0],
            1 - (self.y + height) / A4[1],
            self.width / A4[0],
            height / A4[1],
        )
        draw(self.page, box)
        self.y += height

    def finish(self) -> list[Figure]:
        """Page numbers in the footers; returns the pages."""
        if self.footer is not None:
            for n, fig in enumerate(self.pages, 1):
                text = self.footer(n, len(self.pages))
                self.written.append((n - 1, text))
                fig.text(0.5, MARGIN_BOTTOM / 2 / A4[1], text, fontsize=8, ha="center", color="#555")
        return self.pages


def _fit_columns(
    cols: list[float], header: list[str], rows: list[list[str]], size: float, gap: float
) -> list[float]:
    """Widen any column too narrow for its longest word, taking the room from the column with
    the most to spare, so words are never split inside a table."""
    need = [
        max(
            [text_width(w, size, True) for w in h.split()]
            + [text_width(w, size) for r in rows for w in r[i].split()]
        )
        + gap
        for i, h in enumerate(header)
    ]
    cols = list(cols)
    for i in range(len(cols)):
        short = need[i] - cols[i]
        if short <= 0:
            continue
        donor = max(range(len(cols)), key=lambda j: cols[j] - need[j])
        if donor == i or cols[donor] - need[donor] < short:
            continue  # nothing to spare: wrap() splits the word rather than overflow
        cols[i] += short
        cols[donor] -= short
    return cols


def texts_outside(fig: Figure, margin: float = 0.0) -> list[str]:
    """The visible strings of a figure that do not lie entirely inside it (clipped text)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    bounds = fig.bbox
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        box = t.get_window_extent(renderer)
        if (
            box.x0 < bounds.x0 + margin
            or box.y0 < bounds.y0 + margin
            or box.x1 > bounds.x1 - margin
            or box.y1 > bounds.y1 - margin
        ):
            out.append(t.get_text())
    return out
