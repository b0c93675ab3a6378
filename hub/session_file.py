"""The session file (``session.json``): one declared schema, the door to a new journal.

``SessionFile`` is what a facilitator may write, and nothing else: strict types (``"70"`` is not
a number, ``"false"`` is not a boolean), unknown keys refused, required fields required, every
list of allowed values named in the refusal, which also names the file and the field
(docs/session-file.md). What passes becomes the core's ``SessionConfig``, the value the journal
records; nothing invalid ever reaches the journal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from hub.errors import named
from hub.imports import InputError, line_field, loc_text, one_line, read_input_file, read_json
from hub.model import CONSENT_COLOURS, DEFAULT_CONSENT_KEYS, GradeScale, Proposal
from hub.proposals import MAX_PROPOSALS, ProposalRow, check_numbers, clermont_fiches, load_proposals
from hub.roster import MAX_KEYPADS, KeypadEntry, check_distinct, entry_name, load_roster
from hub.session import SessionConfig, SessionError
from hub.tally import Missing, Rule

BUNDLED = "clermont-2022"  # the 40 fiches of the Clermont-Ferrand convention, shipped with clicker
KEY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*#"
DEFAULT_KEYS = "1234567890"  # grade keys, worst grade first, when a scale has no grade_keys


class SessionFileError(InputError):
    """A session file that cannot be used; the message is one line (file, field, what)."""


def _by_type(value: Any) -> str | None:
    if isinstance(value, str):
        return "#file"
    return "#list" if isinstance(value, list) else None


def _fiches_file(name: str) -> str:
    if name != BUNDLED and not name.lower().endswith((".csv", ".json")):
        raise ValueError(f'{json.dumps(name)[:40]}: a fiches file ends in .csv or .json (or "{BUNDLED}")')
    return name


def _roster_file(name: str) -> str:
    if not name.lower().endswith(".json"):
        raise ValueError(f"{json.dumps(name)[:40]}: a roster file ends in .json")
    return name


FileName = StringConstraints(min_length=1, max_length=500)
FichesFile = Annotated[str, FileName, AfterValidator(_fiches_file), Tag("#file")]
RosterFile = Annotated[str, FileName, AfterValidator(_roster_file), Tag("#file")]


def _file_or_list(what: str) -> Discriminator:
    message = f"a file name or a list of {what}"
    return Discriminator(_by_type, custom_error_type="file_or_list", custom_error_message=message)


Proposals = Annotated[
    FichesFile | Annotated[list[ProposalRow], Field(max_length=MAX_PROPOSALS), Tag("#list")],
    _file_or_list("fiches"),
]
Roster = Annotated[
    RosterFile | Annotated[list[KeypadEntry], Field(max_length=MAX_KEYPADS), Tag("#list")],
    _file_or_list("keypads"),
]
Key = Annotated[str, StringConstraints(min_length=1, max_length=1, pattern=f"^[{KEY_CHARS}]$")]
GradeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(line_field)
]


class SessionFile(BaseModel):
    """Everything ``session.json`` may hold (docs/session-file.md)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(line_field),
    ]
    proposals: Proposals
    roster: Roster | None = None
    open_roster: bool = False
    electorate: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    grace_s: Annotated[float, Field(ge=0, le=60)] = 1.5
    rule: Annotated[Rule, Field(strict=False)] = Rule.MAJORITY_JUDGMENT
    missing: Annotated[Missing, Field(strict=False)] = Missing.REJECT
    require_mic: bool = False
    anonymous: bool = True
    min_group: Annotated[int, Field(ge=1, le=10_000)] = 5
    grades: Annotated[list[GradeName], Field(min_length=2, max_length=10)] | None = None
    grade_keys: Annotated[str, StringConstraints(min_length=2, max_length=10)] | None = None
    consent_keys: Annotated[dict[Key, Any], Field(min_length=1, max_length=len(CONSENT_COLOURS))] | None = (
        None
    )

    @model_validator(mode="after")
    def _consistent(self) -> SessionFile:
        if self.roster is None and not self.open_roster:
            raise ValueError(
                '"roster" is required (a file name or a list of keypads), unless "open_roster": true'
            )
        if self.grades is not None and len(set(self.grades)) != len(self.grades):
            raise ValueError('"grades": a grade appears twice')
        size = len(self.grades) if self.grades is not None else len(GradeScale())
        if self.grade_keys is not None:
            if len(self.grade_keys) != size:
                raise ValueError(f'"grade_keys": {len(self.grade_keys)} keys for {size} grades')
            if len(set(self.grade_keys)) != size or any(c not in KEY_CHARS for c in self.grade_keys):
                raise ValueError(f'"grade_keys": distinct keys among {KEY_CHARS}')
        elif size > len(DEFAULT_KEYS):
            raise ValueError(f'"grade_keys" is required for a scale of {size} grades')
        for colour in (self.consent_keys or {}).values():
            if colour not in CONSENT_COLOURS:
                shown = json.dumps(colour, ensure_ascii=False)[:30]
                raise ValueError(f'"consent_keys": {shown} is not one of: {", ".join(CONSENT_COLOURS)}')
        return self


def _place(doc: Any) -> Any:
    """Names a field of ``doc`` the way a person reads the file: "roster: keypad 3 (id …), field 'number'"."""

    def place(loc: tuple[int | str, ...]) -> str:
        if len(loc) >= 2 and loc[0] in ("proposals", "roster") and isinstance(loc[1], int):
            entry = doc[loc[0]][loc[1]]
            if loc[0] == "roster":
                name = entry_name(loc[1] + 1, entry)
            else:
                number = entry.get("number") if isinstance(entry, dict) else None
                name = f"fiche {loc[1] + 1}" + (f" (number {number})" if type(number) is int else "")
            rest = loc_text(loc[2:])
            return f"{loc[0]}: {name}" + (f", field '{rest}'" if rest else "")
        return f"field '{loc_text(loc)}'" if loc else ""

    return place


def _known_keys(parent: tuple[int | str, ...]) -> list[str]:
    models: dict[str, type[BaseModel]] = {"proposals": ProposalRow, "roster": KeypadEntry}
    return list(models.get(str(parent[0]), SessionFile).model_fields if parent else SessionFile.model_fields)


def parse_session(doc: Any, name: str) -> SessionFile:
    """A session document (already read from JSON) checked against the schema."""
    if not isinstance(doc, dict):
        raise SessionFileError(f'{name}: expected a JSON object {{"title": ..., "proposals": ..., ...}}')
    try:
        return SessionFile.model_validate(doc)
    except ValidationError as exc:
        raise SessionFileError(one_line(exc, name, _place(doc), _known_keys)) from None


def to_config(session: SessionFile, name: str, base: Path) -> SessionConfig:
    """The core's value type, with the files the session names read (relative to ``base``)."""
    proposals: list[Proposal]
    if session.proposals == BUNDLED:
        proposals = clermont_fiches()
    elif isinstance(session.proposals, str):
        proposals = load_proposals(base / session.proposals)
    else:
        proposals = [row.proposal() for row in session.proposals]
        check_numbers([(f"{name}: proposals: fiche {i}", p) for i, p in enumerate(proposals, 1)])
    if isinstance(session.roster, str):
        roster = load_roster(base / session.roster)
    else:
        roster = [entry.keypad() for entry in session.roster or []]
        check_distinct(roster, f"{name}: roster")
    scale = GradeScale(tuple(session.grades)) if session.grades else GradeScale()
    try:
        return SessionConfig(
            title=session.title,
            proposals=proposals,
            scale=scale,
            grade_keys=session.grade_keys or DEFAULT_KEYS[: len(scale)],
            consent_keys=dict(session.consent_keys or DEFAULT_CONSENT_KEYS),
            roster=roster,
            open_roster=session.open_roster,
            electorate=session.electorate,
            grace_s=session.grace_s,
            rule=session.rule,
            missing=session.missing,
            require_mic=session.require_mic,
            anonymous=session.anonymous,
            min_group=session.min_group,
        )
    except (SessionError, ValueError) as exc:
        raise SessionFileError(f"{name}: {exc}") from None


def session_document(config: SessionConfig) -> dict[str, Any]:
    """A session file's content for ``config`` (what ``load_session_file`` reads back): its
    journaled description without what the hub adds itself (the session nonce)."""
    return {k: v for k, v in config.to_json().items() if k in SessionFile.model_fields}


def load_session_file(path: str | Path) -> SessionConfig:
    """``session.json`` to the config a new journal starts with; relative paths are relative to it."""
    path = Path(path)
    name = named(str(path))
    session = parse_session(read_json(read_input_file(path), name), name)
    return to_config(session, name, path.parent)


def roster_file(path: str | Path) -> Path | None:
    """The roster file a session file names (the keypad store ``clicker serve`` keeps), or None
    when its roster is written inside it or absent. For a file ``load_session_file`` accepted."""
    path = Path(path)
    session = parse_session(read_json(read_input_file(path), str(path)), str(path))
    return path.parent / session.roster if isinstance(session.roster, str) else None


# --- a journal and a session file ------------------------------------------------------------------

COMPARED = (
    "title",
    "proposals",
    "roster",
    "open_roster",
    "electorate",
    "grace_s",
    "rule",
    "missing",
    "require_mic",
    "anonymous",
    "min_group",
    "grades",
    "grade_keys",
    "consent_keys",
)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def _list_difference(field: str, journal: list[dict[str, Any]], given: list[dict[str, Any]]) -> str:
    noun = "fiches" if field == "proposals" else "keypads"
    if len(journal) != len(given):
        return f"{field}: {len(journal)} {noun} in the journal, {len(given)} in the file"
    for i, (a, b) in enumerate(zip(journal, given), 1):
        if a != b:
            keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            if field == "roster":  # keys are secrets: name the entry and the fields, never values
                return f"roster: keypad {i} (id {a['keypad_id']:#010x}) differs in {', '.join(keys)}"
            return f"proposals: fiche {i} (number {a['number']}) differs in {', '.join(keys)}"
    return f"{field}: differs"


def differences(journaled: SessionConfig, given: SessionConfig) -> list[str]:
    """One line per field of the session file whose value differs from the journal's session."""
    a, b = journaled.to_json(), given.to_json()
    out = []
    for field in COMPARED:
        if a.get(field) == b.get(field):
            continue
        if field in ("proposals", "roster"):
            out.append(_list_difference(field, a.get(field) or [], b.get(field) or []))
        else:
            out.append(f"{field}: {_short(a.get(field))} in the journal, {_short(b.get(field))} in the file")
    return out


def journaled_session(db: str | Path) -> SessionConfig | None:
    """The session a journal was started with (its first record), or None when there is no
    journal yet. Raises JournalError (not a journal) or SessionError (an unreadable record),
    each naming the file."""
    from hub.journal import JournalError, JournalReader
    from hub.records import SessionRecord

    db = Path(db)
    if not db.exists() or db.stat().st_size == 0:
        return None
    try:
        with JournalReader(db) as reader:
            first = next(reader.records(), None)
    except JournalError as exc:
        raise JournalError(f"{db}: {exc}") from None
    if first is None:
        return None
    if not isinstance(first.body, SessionRecord):
        raise SessionError(f"{db}: the first record is not the session (see clicker verify {db})")
    return first.body.config
