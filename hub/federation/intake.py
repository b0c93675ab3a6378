"""Routing room records into the convention (pure): in order, once each, or refused aloud.

Records may arrive twice (a room re-sending after an outage, a consumer redelivering), late
(a re-send that overtook nothing), or not at all (a gap). ``Intake.offer`` decides each one:
the next record of its room's chain is applied and journaled, the records it unblocks follow;
a record already accepted is dropped; a later record is held (a bounded number per room, not
acknowledged, so the server keeps it) until the one it follows arrives; a record that does not
extend the chain is refused with an alarm. Every outcome lists the plenary journal entries to
write and the messages that can be acknowledged once they are written. ``token`` is whatever
the edge needs to acknowledge a message; this module never looks at it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hub.federation.chain import Verdict
from hub.federation.convention import ALARM, Convention, apply_plenary
from hub.federation.wire import RoomRecord

T = TypeVar("T")
HOLD_LIMIT = 4096  # later records held per room while one is missing
GAP_ALARM_S = 5.0  # a record missing this long raises an alarm
ALARM_INTERVAL_S = 10.0  # refusals of one room are journaled at most this often (all counted)


@dataclass
class Receipt(Generic[T]):
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    acks: list[T] = field(default_factory=list)  # done with: acknowledge once entries are written
    later: list[T] = field(default_factory=list)  # not kept: ask the server for them again later

    def extend(self, other: Receipt[T]) -> None:
        self.entries += other.entries
        self.acks += other.acks
        self.later += other.later


@dataclass
class RoomIntake(Generic[T]):
    held: dict[int, list[tuple[RoomRecord, T]]] = field(default_factory=dict)
    held_since: float | None = None  # when the oldest held record arrived
    gap_alarmed: int | None = None  # the missing sequence an alarm was raised for
    last_alarm: float = float("-inf")
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def held_count(self) -> int:
        return sum(len(v) for v in self.held.values())


class Intake(Generic[T]):
    def __init__(self, conv: Convention, hold_limit: int = HOLD_LIMIT) -> None:
        self.conv = conv
        self.hold_limit = hold_limit
        self.rooms: dict[str, RoomIntake[T]] = {name: RoomIntake() for name in conv.rooms}

    def offer(self, rec: RoomRecord, token: T, now: float) -> Receipt[T]:
        out: Receipt[T] = Receipt()
        room = self.rooms[rec.room]
        chain = self.conv.rooms[rec.room]
        verdict = chain.classify(rec)
        room.counts[verdict.value] += 1
        if verdict is Verdict.AHEAD:
            if room.held_count < self.hold_limit:
                room.held.setdefault(rec.seq, []).append((rec, token))
                if room.held_since is None:
                    room.held_since = now
            else:  # not kept: the server delivers it again later
                out.later.append(token)
            return out
        out.acks.append(token)
        if verdict is Verdict.EXTENDS:
            out.entries.append(self.conv.accept_room(rec, now))
            self._release(rec.room, now, out)
        elif verdict in (Verdict.CONFLICT, Verdict.BAD_HASH):
            what = (
                "does not extend the chain"
                if verdict is Verdict.BAD_HASH
                else "differs from the one accepted"
            )
            self._alarm(rec.room, f"record {rec.seq} refused: it {what}", now, rec.seq, out)
        return out

    def refuse_message(self, room: str, reason: str, token: T, now: float) -> Receipt[T]:
        """A payload on a room's subject that is not a record at all."""
        out: Receipt[T] = Receipt(acks=[token])
        self.rooms[room].counts["malformed"] += 1
        self._alarm(room, f"message refused: {reason}", now, None, out)
        return out

    def _release(self, name: str, now: float, out: Receipt[T]) -> None:
        """Apply the held records the chain now reaches; drop what became duplicates."""
        room, chain = self.rooms[name], self.conv.rooms[name]
        while room.held and chain.halted is None:
            candidates = room.held.pop(chain.seq + 1, None)
            if candidates is None:
                break
            for rec, token in candidates:
                out.acks.append(token)
                verdict = chain.classify(rec)
                room.counts[f"released_{verdict.value}"] += 1
                if verdict is Verdict.EXTENDS:
                    out.entries.append(self.conv.accept_room(rec, now))
                elif verdict in (Verdict.CONFLICT, Verdict.BAD_HASH):
                    self._alarm(
                        name, f"record {rec.seq} refused: it does not extend the chain", now, rec.seq, out
                    )
        stale = [s for s in room.held if s <= chain.seq or chain.halted is not None]
        for s in stale:
            for _, token in room.held.pop(s):
                out.acks.append(token)
        if not room.held:
            room.held_since, room.gap_alarmed = None, None
        elif room.gap_alarmed is not None and room.gap_alarmed <= chain.seq:
            room.held_since, room.gap_alarmed = now, None

    def check_gaps(self, now: float) -> Receipt[T]:
        """A record missing for ``GAP_ALARM_S`` while later ones wait: an alarm, once per gap.
        The room's contribution stays where its chain stops until the record arrives."""
        out: Receipt[T] = Receipt()
        for name, room in self.rooms.items():
            missing = self.conv.rooms[name].seq + 1
            if (
                room.held
                and room.held_since is not None
                and now - room.held_since >= GAP_ALARM_S
                and room.gap_alarmed != missing
            ):
                room.gap_alarmed = missing
                first = min(room.held)
                reason = f"record {missing} missing (records from {first} on are waiting for it)"
                self._alarm(name, reason, now, missing, out, limit=False)
        return out

    def _alarm(
        self, room: str, reason: str, now: float, seq: int | None, out: Receipt[T], limit: bool = True
    ) -> None:
        state = self.rooms[room]
        if limit and now - state.last_alarm < ALARM_INTERVAL_S:
            state.counts["alarms_not_journaled"] += 1
            return
        state.last_alarm = now
        body: dict[str, Any] = {"room": room, "reason": reason, "at": now}
        if seq is not None:
            body["seq"] = seq
        apply_plenary(self.conv, ALARM, body)
        out.entries.append((ALARM, body))

    def status(self, name: str) -> dict[str, Any]:
        room, chain = self.rooms[name], self.conv.rooms[name]
        return {
            **chain.status(),
            "label": self.conv.labels[name],
            "held": room.held_count,
            "waiting_for": chain.seq + 1 if room.held else None,
            "gap": room.gap_alarmed,
            "counts": dict(room.counts),
        }
