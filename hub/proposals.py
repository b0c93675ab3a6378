"""Loading the proposals ("fiches-actions") of a session from CSV or JSON.

The same functions serve ``clicker serve --session`` and the console's import, so a file is
accepted or refused the same way in both. Every way a file can be wrong becomes one
``ProposalError`` line naming the file, the row and the field (docs/session-file.md), so a
facilitator can fix the file at the registration desk; a file is taken whole or not at all.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from hub.errors import named, quoted
from hub.imports import (
    InputError,
    check_size,
    decode_text,
    line_field,
    loc_text,
    one_line,
    read_csv,
    read_input_file,
    read_json,
    text_field,
)
from hub.model import Proposal

__all__ = ["TRANSITIONS", "Proposal", "ProposalError", "clermont_fiches", "load_proposals", "parse_proposals"]

TRANSITIONS = ("écologique", "sociale", "démocratique")
MAX_PROPOSALS = 1000
MAX_NUMBER = 9999
COLUMNS = ("number", "title", "transition", "subject", "text")
# Column names a French spreadsheet may use, in lower case.
ALIASES = {"numéro": "number", "numero": "number", "n°": "number", "titre": "title", "sujet": "subject"}
ALIASES |= {"texte": "text"}


class ProposalError(InputError):
    """A proposals file that cannot be used; the message is one line."""


def _line(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Title = Annotated[str, _line(300, 1), AfterValidator(line_field)]
Transition = Annotated[str, _line(60), AfterValidator(line_field)]
Subject = Annotated[str, _line(300), AfterValidator(line_field)]
Text = Annotated[str, _line(20_000), AfterValidator(text_field)]
ExtraName = Annotated[str, _line(60, 1), AfterValidator(line_field)]
ExtraValue = Annotated[str, _line(2_000), AfterValidator(text_field)]


class ProposalRow(BaseModel):
    """One fiche as a file describes it (a CSV row, or an object of a JSON list)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    number: Annotated[int, Field(ge=1, le=MAX_NUMBER)]
    title: Title
    transition: Transition = ""
    subject: Subject = ""
    text: Text = ""
    extra: Annotated[dict[ExtraName, ExtraValue], Field(max_length=30)] = {}

    def proposal(self) -> Proposal:
        return Proposal(self.number, self.title, self.transition, self.subject, self.text, dict(self.extra))


def _csv_rows(text: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for row in read_csv(text, name, ("number", "title"), ALIASES):
        where = f"{name}: line {row.line}"
        raw = row.values["number"].strip()
        if not raw.isascii() or not raw.isdigit():
            raise ProposalError(f"{where}, field 'number': {quoted(raw, 30)} is not a whole number")
        doc: dict[str, Any] = {k: v for k, v in row.values.items() if k in COLUMNS}
        doc["number"] = int(raw)
        extra = {k: v for k, v in row.values.items() if k not in COLUMNS}
        if extra:
            doc["extra"] = extra
        out.append((where, doc))
    return out


def _json_rows(text: str, name: str) -> list[tuple[str, Any]]:
    doc = read_json(text, name)
    if isinstance(doc, dict) and set(doc) == {"proposals"}:
        doc = doc["proposals"]
    if not isinstance(doc, list):
        raise ProposalError(f"{name}: expected a list of fiches (objects with number and title)")
    return [(f"{name}: fiche {i}", row) for i, row in enumerate(doc, 1)]


def _field(loc: tuple[int | str, ...]) -> str:
    return f"field '{loc_text(loc)}'" if loc else ""


def check_numbers(proposals: list[tuple[str, Proposal]]) -> None:
    """Each fiche number appears once; a repeat names both rows."""
    first_seen: dict[int, str] = {}
    for where, p in proposals:
        if p.number in first_seen:
            raise ProposalError(f"{where}: fiche number {p.number} already used ({first_seen[p.number]})")
        first_seen[p.number] = where.rsplit(": ", 1)[-1]


def validate_rows(rows: list[tuple[str, Any]], name: str) -> list[Proposal]:
    """Rows (where, object) to proposals: every row checked, numbers distinct, all or nothing."""
    if not rows:
        raise ProposalError(f"{name}: no fiche")
    if len(rows) > MAX_PROPOSALS:
        raise ProposalError(f"{name}: {len(rows)} fiches, at most {MAX_PROPOSALS}")
    checked: list[tuple[str, Proposal]] = []
    for where, doc in rows:
        try:
            checked.append((where, ProposalRow.model_validate(doc).proposal()))
        except ValidationError as exc:
            message = one_line(exc, where, _field, lambda _: list(ProposalRow.model_fields))
            raise ProposalError(message.replace(": field", ", field", 1)) from None
    check_numbers(checked)
    return [p for _, p in checked]


def parse_proposals(data: bytes | str, fmt: str, name: str = "fiches") -> list[Proposal]:
    """Parse CSV (a header with at least number and title) or JSON (a list of objects)."""
    name = named(name)
    if isinstance(data, bytes):
        text = decode_text(data, name)
    else:
        check_size(len(data.encode("utf-8", "surrogatepass")), name)
        text = data
    if fmt == "csv":
        rows = _csv_rows(text, name)
    elif fmt == "json":
        rows = _json_rows(text, name)
    else:
        raise ProposalError(f"{name}: unknown format {quoted(fmt)} (csv or json)")
    return validate_rows(rows, name)


def load_proposals(path: str | Path) -> list[Proposal]:
    """A .csv or .json file of fiches."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise ProposalError(f"{named(str(path))}: a fiches file ends in .csv or .json")
    return parse_proposals(read_input_file(path), fmt, str(path))


def clermont_fiches() -> list[Proposal]:
    """The 40 fiches-actions of the Clermont-Ferrand convention (2021-22), bundled."""
    data = (files("hub") / "data" / "clermont-2022-fiches.csv").read_bytes()
    return parse_proposals(data, "csv", "clermont-2022-fiches.csv")
