"""The votation's other channels (pure): paper tally sheets and online imports.

A channel holds named batches of counts: a paper sheet from one stand, or one online import.
Each batch is a list of versions: the first entry, then corrections (each with its reason).
A version counts once enough distinct guarantors confirmed it (two for paper, none for an
online import, whose file hash is journaled instead); the latest confirmed version of each
batch is the one counted, so a correction replaces what it corrects and nothing is counted
twice. Every entry, correction and confirmation is a plenary journal record.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from hub.errors import ClickerError
from hub.model import GradeScale
from hub.tally import TallyError
from hub.tally_io import parse_document

MAX_BALLOTS = 10_000_000
MAX_NAME = 80


class ChannelError(ClickerError):
    """An entry, a correction or a confirmation that cannot be accepted; one line."""


@dataclass
class Version:
    version: int
    tallies: dict[int, list[int]]  # fiche number -> counts per grade, worst first
    ballots: int
    by: str  # who entered it
    reason: str = ""  # why it corrects the previous version
    source: str = ""  # an import's file name and SHA-256
    guarantors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tallies": {str(k): v for k, v in self.tallies.items()},
            "ballots": self.ballots,
            "by": self.by,
            "reason": self.reason,
            "source": self.source,
            "guarantors": list(self.guarantors),
        }


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise ChannelError(f"{what} must be a name of 1 to {MAX_NAME} characters")
    return value.strip()


def check_tallies(
    doc: Any, ballots: Any, fiches: set[int], grades: int, where: str
) -> tuple[dict[int, list[int]], int]:
    """Counts per fiche (keys: fiche numbers), each no more than the ballots."""
    if type(ballots) is not int or not 0 <= ballots <= MAX_BALLOTS:
        raise ChannelError(f"{where}: ballots must be an integer from 0 to {MAX_BALLOTS}")
    if not isinstance(doc, dict) or not doc:
        raise ChannelError(f"{where}: no counts")
    out: dict[int, list[int]] = {}
    for key, counts in doc.items():
        text = str(key).strip()
        if not text.isdigit() or int(text) not in fiches:
            raise ChannelError(f"{where}: fiche {key!r} is not one of the convention's fiches")
        if (
            not isinstance(counts, list)
            or len(counts) != grades
            or any(type(c) is not int or c < 0 for c in counts)
        ):
            raise ChannelError(f"{where}, fiche {text}: {grades} non-negative whole counts expected")
        if sum(counts) > ballots:
            raise ChannelError(f"{where}, fiche {text}: {sum(counts)} judgments for {ballots} ballots")
        out[int(text)] = list(counts)
    return dict(sorted(out.items())), ballots


class TallyChannel:
    """Batches of counts with their versions; ``counted`` is what enters the total."""

    def __init__(self, name: str, guarantors_needed: int) -> None:
        self.name = name
        self.guarantors_needed = guarantors_needed
        self.batches: dict[str, list[Version]] = {}

    def enter(self, body: dict[str, Any], fiches: set[int], grades: int) -> Version:
        """A first entry (version 1) or a correction (the next version, with a reason)."""
        batch = _name(body.get("batch"), "the sheet or import name")
        by = _name(body.get("by"), "the name of who enters it")
        versions = self.batches.get(batch, [])
        reason = body.get("reason") or ""
        if not isinstance(reason, str):
            raise ChannelError("the reason must be text")
        if versions and not reason.strip():
            raise ChannelError(f"{batch!r} was already entered: a correction needs its reason")
        source = body.get("source") or ""
        if not isinstance(source, str) or len(source) > 200:
            raise ChannelError("the source must be a short text")
        tallies, ballots = check_tallies(body.get("tallies"), body.get("ballots"), fiches, grades, batch)
        version = Version(len(versions) + 1, tallies, ballots, by, reason.strip(), source)
        self.batches[batch] = [*versions, version]
        return version

    def confirm(self, body: dict[str, Any]) -> Version:
        """A guarantor confirms one version: distinct guarantors, none of them its author."""
        batch = _name(body.get("batch"), "the sheet name")
        guarantor = _name(body.get("guarantor"), "the guarantor's name")
        number = body.get("version")
        versions = self.batches.get(batch)
        if not versions:
            raise ChannelError(f"no sheet {batch!r}")
        if type(number) is not int or not 1 <= number <= len(versions):
            raise ChannelError(f"{batch!r} has no version {number!r}")
        version = versions[number - 1]
        if number != len(versions):
            raise ChannelError(f"{batch!r} version {number} was corrected by version {len(versions)}")
        if guarantor.casefold() == version.by.casefold():
            raise ChannelError("who entered a sheet cannot also confirm it")
        if guarantor.casefold() in (g.casefold() for g in version.guarantors):
            raise ChannelError(f"{guarantor} already confirmed {batch!r} version {number}")
        if len(version.guarantors) >= self.guarantors_needed:
            raise ChannelError(f"{batch!r} version {number} is already confirmed")
        version.guarantors.append(guarantor)
        return version

    def confirmed(self, version: Version) -> bool:
        return len(version.guarantors) >= self.guarantors_needed

    def counted(self) -> dict[str, Version]:
        """Each batch's latest confirmed version."""
        out = {}
        for batch, versions in self.batches.items():
            done = [v for v in versions if self.confirmed(v)]
            if done:
                out[batch] = done[-1]
        return out

    def results(self) -> dict[int, tuple[list[int], int]]:
        """Per fiche: the counts of the counted batches and their ballots (the electorate)."""
        out: dict[int, tuple[list[int], int]] = {}
        for version in self.counted().values():
            for fiche, counts in version.tallies.items():
                total, ballots = out.get(fiche, ([0] * len(counts), 0))
                out[fiche] = ([a + b for a, b in zip(total, counts)], ballots + version.ballots)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "guarantors_needed": self.guarantors_needed,
            "batches": {
                b: {"versions": [v.to_json() for v in vs], "counted": self._counted_version(b)}
                for b, vs in self.batches.items()
            },
        }

    def _counted_version(self, batch: str) -> int | None:
        done = [v.version for v in self.batches[batch] if self.confirmed(v)]
        return done[-1] if done else None


# --- online imports: the file a platform exports ---------------------------------------------


def parse_online(
    data: bytes, fmt: str, name: str, scale: GradeScale, ballots: int | None = None
) -> dict[str, Any]:
    """An online channel's file as the body of an ``online`` entry (without ``batch``/``by``).

    JSON: the input of ``clicker tally`` (``grades``, ``tallies`` by "Fiche N" or N, ``voters``).
    CSV: a header ``number`` then one column per grade (the scale's names, worst first), one
    row per fiche. Ballots: ``voters`` or ``ballots``, else the largest fiche total."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ChannelError(f"{name}: not UTF-8 text") from None
    if fmt == "json":
        try:
            doc = parse_document(text)
        except TallyError as exc:
            raise ChannelError(f"{name}: {exc}") from None
        tallies, voters = doc.tallies, doc.voters
        if doc.scale.names != scale.names:
            raise ChannelError(
                f"{name}: its grades are not the convention's scale ({', '.join(scale.names)})"
            )
        counts = {label.removeprefix("Fiche").strip(): t for label, t in tallies.items()}
    elif fmt == "csv":
        counts, voters = _parse_csv(text, name, scale)
    else:
        raise ChannelError(f"{name}: format must be csv or json")
    if ballots is None:
        ballots = voters if voters is not None else max((sum(c) for c in counts.values()), default=0)
    return {"tallies": counts, "ballots": ballots, "source": f"{name} sha256:{digest}"}


def _parse_csv(text: str, name: str, scale: GradeScale) -> tuple[dict[str, list[int]], int | None]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ChannelError(f"{name}: empty file")
    header = [h.strip() for h in rows[0]]
    if not header or header[0].lower() not in ("number", "fiche") or header[1:] != list(scale.names):
        raise ChannelError(f"{name}, row 1: the header must be number,{','.join(scale.names)}")
    counts: dict[str, list[int]] = {}
    for i, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ChannelError(f"{name}, row {i}: {len(header)} columns expected, found {len(row)}")
        cells = [c.strip() for c in row]
        if not all(c.isdigit() for c in cells):
            raise ChannelError(f"{name}, row {i}: every cell must be a whole number")
        if cells[0] in counts:
            raise ChannelError(f"{name}, row {i}: fiche {cells[0]} appears twice")
        counts[cells[0]] = [int(c) for c in cells[1:]]
    return counts, None
