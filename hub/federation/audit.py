"""``clicker verify`` on a plenary journal: its own hash chain (checked by the journal's reader),
then every record replayed through ``apply_plenary``, which re-checks each room's chain and
recounts each room's polls from its raw presses, as ``clicker verify`` does on the room's own
journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hub.errors import ClickerError
from hub.federation.convention import CONVENTION, ROOM, Convention, apply_plenary
from hub.journal import GENESIS, JournalError, JournalReader, read_records


@dataclass
class PlenaryVerdict:
    ok: bool
    records: int = 0
    room_records: int = 0
    head: str = GENESIS
    problem: str = ""
    convention: Convention | None = field(default=None, repr=False)


def is_plenary_journal(path: str | Path) -> bool:
    """A plenary journal starts with a convention record (a room's, with a session record)."""
    try:
        first = next(read_records(path), None)
    except JournalError:
        return False
    return first is not None and first.kind == CONVENTION


def verify_plenary(path: str | Path, progress: Callable[[int, int], None] | None = None) -> PlenaryVerdict:
    verdict = PlenaryVerdict(True)
    conv = None
    try:
        with JournalReader(path) as reader:
            total = reader.last_seq()
            for rec in reader.records():
                try:
                    conv = apply_plenary(conv, rec.kind, rec.body)
                except (ClickerError, KeyError, TypeError, ValueError) as exc:
                    return _bad(verdict, f"record {rec.seq} ({rec.kind}): {exc}")
                verdict.records += 1
                verdict.room_records += rec.kind == ROOM
                verdict.head = rec.hash
                if progress and verdict.records % 1000 == 0:
                    progress(verdict.records, total)
    except JournalError as exc:
        return _bad(verdict, str(exc))
    if verdict.records == 0:
        return _bad(verdict, "the journal is empty")
    verdict.convention = conv
    return verdict


def _bad(verdict: PlenaryVerdict, problem: str) -> PlenaryVerdict:
    verdict.ok, verdict.problem = False, problem
    return verdict
