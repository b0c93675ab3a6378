"""Static assets of the projector and console pages, and the grade palette they share with
the report's charts (one source, so a chart means exactly what the projector showed)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

STATIC = Path(str(files(__package__) / "static"))


@cache
def palettes() -> dict[str, list[str]]:
    """Colour-blind-safe diverging palettes keyed by scale size, worst grade first."""
    grades: dict[str, list[str]] = json.loads((STATIC / "palette.json").read_text(encoding="utf-8"))["grades"]
    return grades


def palette(size: int) -> list[str]:
    try:
        return palettes()[str(size)]
    except KeyError:
        raise ValueError(f"no palette for a scale of {size} grades") from None
