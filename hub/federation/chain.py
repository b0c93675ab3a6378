"""One room's journal as the plenary receives it (pure): the chain check and the replay.

A record is accepted only if it extends the room's chain: the next sequence number, and a
hash that covers the previous record's hash. Accepted records go through ``hub.records.apply``
with its recount checks, exactly as ``clicker verify`` replays the room's own journal, so the
room's state in the plenary is, by construction, the state the room's hub had. The hashes of
accepted records are kept (32 bytes each) so that a record sent again is recognised as the
same record or refused as a forgery.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from hub.codec import CODECS, RecordError
from hub.errors import ClickerError
from hub.federation.wire import RoomRecord
from hub.journal import GENESIS, chain_hash
from hub.records import SESSION, ReplayMismatch, apply
from hub.session import Session, SessionError


class Verdict(StrEnum):
    EXTENDS = "extends"  # the next record of the chain: accept it
    DUPLICATE = "duplicate"  # a record already accepted, sent again: drop it
    AHEAD = "ahead"  # a later record, arrived before the one it follows: hold it
    CONFLICT = "conflict"  # a sequence already accepted with another hash: forged or forked
    BAD_HASH = "bad_hash"  # the next sequence, but its hash does not extend the chain
    HALTED = "halted"  # the room's contribution was stopped: nothing more is applied


class ChainError(ClickerError):
    """A record offered to ``accept`` that does not extend the chain (a bug in the caller,
    or a plenary journal that was edited)."""


class RoomChain:
    """A room's accepted records: its chain head, its replayed session, why it stopped."""

    def __init__(self, name: str, check_session: Callable[[Session], str | None] | None = None) -> None:
        self.name = name
        self.seq = 0
        self.head = GENESIS
        self.session: Session | None = None
        self.halted: str | None = None  # why this room's contribution stopped (permanently)
        self.fmt: int | None = None  # the room journal's format, fixed by its first record
        self._hashes = bytearray()
        self._check_session = check_session

    def hash_at(self, seq: int) -> str:
        return self._hashes[32 * (seq - 1) : 32 * seq].hex()

    def classify(self, rec: RoomRecord) -> Verdict:
        if rec.seq <= self.seq:  # the same record again, to the byte, or something else
            prev = self.hash_at(rec.seq - 1) if rec.seq > 1 else GENESIS
            same = rec.fmt == self.fmt and self.hash_at(rec.seq) == rec.hash == self._link(prev, rec)
            return Verdict.DUPLICATE if same else Verdict.CONFLICT
        if self.halted is not None:
            return Verdict.HALTED
        if rec.seq > self.seq + 1:
            return Verdict.AHEAD
        if (self.fmt is not None and rec.fmt != self.fmt) or self._link(self.head, rec) != rec.hash:
            return Verdict.BAD_HASH
        return Verdict.EXTENDS

    @staticmethod
    def _link(prev: str, rec: RoomRecord) -> str:
        return chain_hash(prev, rec.seq, rec.kind, rec.raw, rec.fmt)

    def accept(self, rec: RoomRecord) -> None:
        """Apply a record that extends the chain. A record that does not replay (the room's
        own recount disagrees, or its session does not fit the convention) halts the room:
        ``halted`` says why, and the record is not part of the accepted chain."""
        verdict = self.classify(rec)
        if verdict is not Verdict.EXTENDS:
            raise ChainError(f"room {self.name}: record {rec.seq} does not extend the chain ({verdict})")
        try:
            body = CODECS[rec.fmt].decode(rec.kind, rec.raw)
            session = apply(self.session, body)
            if rec.kind == SESSION and session is not None and self._check_session is not None:
                problem = self._check_session(session)
                if problem:
                    raise ValueError(problem)
        except (
            ReplayMismatch,
            SessionError,
            RecordError,
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:
            self.halted = f"record {rec.seq} ({rec.kind}): {exc}"
            return
        self.session = session
        self.fmt = rec.fmt
        self.seq, self.head = rec.seq, rec.hash
        self._hashes += bytes.fromhex(rec.hash)

    def halt(self, reason: str) -> None:
        if self.halted is None:
            self.halted = reason

    def status(self) -> dict[str, Any]:
        return {"room": self.name, "seq": self.seq, "head": self.head, "halted": self.halted}
