"""``clicker verify``: check a journal's hash chain and recount every poll from the raw presses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hub.journal import GENESIS, JournalError, chain_hash, connect, read_records
from hub.records import ReplayMismatch, apply
from hub.session import Session, SessionError


@dataclass
class Verdict:
    ok: bool
    records: int = 0
    presses: int = 0
    polls: int = 0
    head: str = GENESIS
    problem: str = ""
    session: Session | None = field(default=None, repr=False)


def verify(path: str | Path, progress: Callable[[int, int], None] | None = None) -> Verdict:
    """Never raises on a bad journal: the verdict names the first bad record.

    ``progress(done, total)`` is called as the recount goes (every 1,000 records)."""
    try:
        conn = connect(path, readonly=True)
    except JournalError as exc:
        return Verdict(False, problem=str(exc))
    verdict = Verdict(True)
    session = None
    prev, expected_seq = GENESIS, 1
    total = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    try:
        for rec in read_records(conn):
            where = f"record {rec.seq} ({rec.kind})"
            if rec.seq != expected_seq:
                return _bad(verdict, f"record {expected_seq} is missing (found {rec.seq} next)")
            if chain_hash(prev, rec.seq, rec.kind, rec.text) != rec.hash:
                return _bad(verdict, f"{where}: hash chain broken (edited, inserted or reordered)")
            try:
                session = apply(session, rec.kind, rec.body)
            except (ReplayMismatch, SessionError, KeyError, TypeError, ValueError) as exc:
                return _bad(verdict, f"{where}: {exc}")
            prev, expected_seq = rec.hash, rec.seq + 1
            verdict.records += 1
            verdict.presses += rec.kind == "press"
            if progress and verdict.records % 1000 == 0:
                progress(verdict.records, total)
    finally:
        conn.close()
    if verdict.records == 0:
        return _bad(verdict, "the journal is empty")
    verdict.head = prev
    verdict.session = session
    verdict.polls = len(session.polls) if session else 0
    return verdict


def _bad(verdict: Verdict, problem: str) -> Verdict:
    verdict.ok = False
    verdict.problem = problem
    return verdict
