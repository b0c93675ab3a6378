"""Loading the proposals ("fiches-actions") of a session from CSV or JSON.

Every way a file can be wrong becomes one ``ProposalError`` line naming the file, the row and
the field, so a facilitator can fix the file at the registration desk.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

TRANSITIONS = ("écologique", "sociale", "démocratique")


class ProposalError(ValueError):
    """A proposals file that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Proposal:
    number: int
    title: str
    transition: str = ""
    subject: str = ""
    text: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self) -> str:
        return f"Fiche {self.number}"


def _proposal(row: dict, where: str) -> Proposal:
    number = row.get("number")
    if isinstance(number, str):
        number = number.strip()
        if not number.isdigit():
            raise ProposalError(f"{where}: 'number' must be a positive integer, got {number!r}")
        number = int(number)
    if type(number) is not int or number < 1:
        raise ProposalError(f"{where}: 'number' must be a positive integer")
    title = row.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ProposalError(f"{where}: 'title' is missing")
    values = {}
    for key in ("transition", "subject", "text"):
        value = row.get(key) or ""
        if not isinstance(value, str):
            raise ProposalError(f"{where}: {key!r} must be text")
        values[key] = value.strip()
    extra = {k: str(v) for k, v in row.items() if k not in {"number", "title", *values} and v is not None}
    return Proposal(number, title.strip(), extra=extra, **values)


def parse_proposals(text: str, fmt: str, name: str = "proposals") -> list[Proposal]:
    """Parse CSV (a header with at least number,title) or JSON (a list of objects)."""
    if fmt == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProposalError(f"{name}: not JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(doc, dict) and "proposals" in doc:
            doc = doc["proposals"]
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise ProposalError(f"{name}: expected a list of proposals (objects with number and title)")
        rows = [(f"{name}: proposal {i + 1}", r) for i, r in enumerate(doc)]
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        for col in ("number", "title"):
            if col not in header:
                raise ProposalError(f"{name}: CSV header has no {col!r} column (found: {', '.join(header)})")
        try:
            rows = [(f"{name}: line {reader.line_num}", dict(r)) for r in reader]
        except csv.Error as exc:
            raise ProposalError(f"{name}: bad CSV: {exc}") from None
        for where, r in rows:
            if None in r:
                raise ProposalError(f"{where}: more fields than the header")
    else:
        raise ProposalError(f"{name}: unknown format {fmt!r} (csv or json)")
    proposals = [_proposal(r, where) for where, r in rows]
    seen: set[int] = set()
    for p in proposals:
        if p.number in seen:
            raise ProposalError(f"{name}: proposal number {p.number} appears twice")
        seen.add(p.number)
    if not proposals:
        raise ProposalError(f"{name}: no proposal")
    return proposals


def load_proposals(path: str | Path) -> list[Proposal]:
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ProposalError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ProposalError(f"{path}: not UTF-8 text") from None
    return parse_proposals(text, fmt, str(path))


def clermont_fiches() -> list[Proposal]:
    """The 40 fiches-actions of the Clermont-Ferrand convention (2021-22), bundled."""
    text = (files("hub") / "data" / "clermont-2022-fiches.csv").read_text(encoding="utf-8")
    return parse_proposals(text, "csv", "clermont-2022-fiches.csv")
