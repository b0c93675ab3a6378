"""What the journal holds, declared, and how it applies to a session (pure).

A record is one of: the session it was started with (``SessionRecord``), a decided press
(``PressRecord``), a facilitator's command (hub/commands.py; kind ``action``), a poll's counts
when its grace period ended (``ResultRecord``), a note, and the closing record of a clean stop
(``CloseRecord``). ``record_to_json`` and ``record_from_json`` are their one JSON form, the
one the journal's codecs store (hub/codec.py) and the one ``clicker export`` shows.

The live hub, the replay at start-up, ``clicker verify`` and the plenary's check of a room's
records all go through ``apply``, so the state rebuilt from the journal is, by construction,
the state the hub had.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from hub.commands import (
    ClosePoll,
    Command,
    CommandError,
    EndGrace,
    LoadProposals,
    LoadRoster,
    OpenPoll,
    ResetPoll,
    Reveal,
    Select,
    Show,
    Step,
    command_from_json,
    command_to_json,
)
from hub.errors import ClickerError
from hub.model import Press, PressStatus
from hub.session import Poll, PollState, Session, SessionConfig, SessionError, SessionView
from hub.wire.presses import check_mic

SESSION, PRESS, ACTION, RESULT, NOTE, CLOSE = "session", "press", "action", "result", "note", "close"
KINDS = (SESSION, PRESS, ACTION, RESULT, NOTE, CLOSE)
PRESS_FIELDS = Press._fields


class RecordError(ClickerError):
    """A stored body that does not decode to a record of its kind; the message is one line."""


class ReplayMismatch(ClickerError):
    """The journal says one thing, the recount another."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The first record: the session as it was created (its nonce included)."""

    KIND: ClassVar[str] = SESSION
    config: SessionConfig


class PressRecord(NamedTuple):
    """A decided press: the hub's answer (status, and the poll the keypad should consider
    current) and the press as received.

    A NamedTuple, like ``Press``: as immutable as a frozen dataclass and much cheaper to build,
    which counts when a long day's journal replays a million of them."""

    status: int
    poll_id: int
    press: Press

    def to_json(self) -> dict[str, Any]:
        return {"press": self.press._asdict(), "status": self.status, "poll_id": self.poll_id}


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """A poll's counts when its grace period ended, for ``clicker verify`` to recount: grade
    counts per proposal (worst first, keyed by the proposal's number as text) or the consent
    colours."""

    KIND: ClassVar[str] = RESULT
    poll_id: int
    mode: int
    tallies: dict[str, list[int]]
    colours: dict[str, int]
    voters: int

    @classmethod
    def of(cls, poll: Poll) -> ResultRecord:
        return cls(
            poll.poll_id,
            int(poll.mode),
            {str(i): poll.tally(i) for i in poll.profiles},
            dict(poll.colours),
            poll.turnout,
        )


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """A remark kept in the journal, outside the recount (its content is free)."""

    KIND: ClassVar[str] = NOTE
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CloseRecord:
    """The last record of a clean stop: the journal is complete."""

    KIND: ClassVar[str] = CLOSE
    at: float


RoomRecord = SessionRecord | PressRecord | Command | ResultRecord | NoteRecord | CloseRecord
# The journal also holds the plenary's records (hub/federation/convention.py), kept as their JSON.
Body = RoomRecord | dict[str, Any]


def record_kind(record: RoomRecord) -> str:
    """The kind a record is journaled under (every command is an ``action``)."""
    match record:
        case PressRecord():
            return PRESS
        case SessionRecord() | ResultRecord() | NoteRecord() | CloseRecord():
            return record.KIND
        case _:
            return ACTION


def record_to_json(record: RoomRecord) -> dict[str, Any]:
    """A record's JSON form (what format 1 stores, and what exports show)."""
    match record:
        case SessionRecord(config=config):
            return config.to_json()
        case PressRecord():
            return record.to_json()
        case ResultRecord():
            return {
                "poll_id": record.poll_id,
                "mode": record.mode,
                "tallies": record.tallies,
                "colours": record.colours,
                "voters": record.voters,
            }
        case NoteRecord(content=content):
            return content
        case CloseRecord(at=at):
            return {"at": at}
        case _:
            return command_to_json(record)


def record_from_json(kind: str, doc: Any) -> Body:
    """A record from its JSON form; RecordError names what does not fit. Kinds that are not a
    room's (the plenary's) come back as they are."""
    if not isinstance(doc, dict):
        raise RecordError("not an object")
    try:
        match kind:
            case "session":
                return SessionRecord(SessionConfig.from_json(doc, journaled=True))
            case "press":
                return press_from_json(doc)
            case "action":
                return command_from_json(doc)
            case "result":
                return ResultRecord(
                    _int(doc["poll_id"]),
                    _int(doc["mode"]),
                    {str(k): [_int(n) for n in v] for k, v in doc["tallies"].items()},
                    {str(k): _int(n) for k, n in doc["colours"].items()},
                    _int(doc["voters"]),
                )
            case "note":
                return NoteRecord(doc)
            case "close":
                return CloseRecord(float(doc.get("at", 0.0)))
            case _:
                return doc
    except (SessionError, CommandError) as exc:
        raise RecordError(str(exc)) from None
    except KeyError as exc:
        raise RecordError(f"field {exc.args[0]!r} is missing") from None
    except (AttributeError, TypeError, ValueError) as exc:
        raise RecordError(f"not a {kind} record ({exc})") from None


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"{value!r} is not a whole number")
    return value


_TYPES = tuple(str if n in ("key", "receiver") else float if n == "at" else int for n in PRESS_FIELDS)
_N = len(PRESS_FIELDS)
_FEWEST = 5  # every Press had its fields up to the key
# A press record as format 2 stores it, [status, poll_id, *press], each value of its type: what a
# reader may build without further checks (hub/journal.py)
PRESS_ROW = (int, int, *_TYPES)
_tuple_new = tuple.__new__


def press_record(fields: list[Any], status: Any, poll_id: Any) -> PressRecord:
    """A press record from decoded values, each of its declared type (the common case is
    checked in one comparison: the replay of a long day decodes a million of them)."""
    if type(status) is not int or type(poll_id) is not int:
        raise RecordError("press status and poll must be integers")
    n = len(fields)
    types = tuple(map(type, fields))
    if types != _TYPES and (types != _TYPES[:n] or n < _FEWEST):  # an older Press had fewer fields
        if not _FEWEST <= n <= len(PRESS_FIELDS):
            raise RecordError(f"a press has {n} fields")
        for name, value, expected in zip(PRESS_FIELDS, fields, _TYPES):
            if type(value) is not expected and not (expected is float and type(value) is int):
                raise RecordError(f"press field {name} is {type(value).__name__}")
    if n == _N:  # the tuples built as they are (the generated constructors cost a call each)
        return _tuple_new(PressRecord, (status, poll_id, _tuple_new(Press, fields)))
    return PressRecord(status, poll_id, Press(*fields))


def press_from_json(doc: dict[str, Any]) -> PressRecord:
    """``PressRecord.to_json``'s form back (a press of an older ``Press`` has fewer fields)."""
    fields = doc.get("press")
    if not isinstance(fields, dict) or set(fields) - set(PRESS_FIELDS):
        raise RecordError("not a press")
    try:
        values = [fields[name] for name in PRESS_FIELDS[: len(fields)]]
    except KeyError as exc:
        raise RecordError(f"press field {exc.args[0]} is missing") from None
    return press_record(values, doc.get("status"), doc.get("poll_id"))


def poll_tallies(session: SessionView) -> dict[str, list[Any]]:
    """Every poll's counts (grades per item, or consent colours), keyed by poll id."""
    return {str(p.poll_id): [p.tally(i) for i in p.profiles] or [p.colours] for p in session.polls}


def apply_command(session: Session, command: Command) -> Poll | int | None:
    """Carry out one facilitator command (SessionError when it cannot be done now: nothing
    changed then)."""
    match command:
        case OpenPoll(mode=mode, items=items, countdown_s=countdown_s, countdown_close=close, at=at):
            return session.open_poll(mode, at, items, countdown_s, close)
        case ClosePoll(poll_id=poll_id, by=by, at=at):
            return session.close_poll(at, poll_id, by)
        case EndGrace():
            return session.finish_grace()
        case Reveal(poll_id=poll_id):
            return session.reveal(poll_id)
        case ResetPoll(poll_id=poll_id, reason=reason):
            return session.reset_poll(poll_id, reason)
        case LoadProposals(proposals=proposals):
            session.replace_proposals(list(proposals))
            return None
        case LoadRoster(roster=roster):
            session.replace_roster(list(roster))
            return None
        case Select(proposal=number):
            session.select(number)
            return None
        case Step(delta=delta):
            return session.step(delta)
        case Show(view=view, assembly=assembly):
            session.show(view, assembly)
            return None


def _status_name(status: int) -> str:
    return PressStatus(status).name if status in PressStatus._value2member_map_ else f"status {status}"


def apply_press(session: Session, record: PressRecord, check: bool = True) -> None:
    """Apply one press record (``apply``'s most common case, called directly by a replay)."""
    status, poll_id = session.recount_press(record.press)
    if check and (status != record.status or poll_id != record.poll_id):
        raise press_mismatch(record, status, poll_id)


def press_mismatch(record: PressRecord, status: PressStatus, poll_id: int) -> ReplayMismatch:
    """What differs between a press's record and its recount (the status first: it is what the
    keypad was told)."""
    if status != record.status:
        return ReplayMismatch(f"press recorded as {_status_name(record.status)}, recounted as {status.name}")
    return ReplayMismatch(f"press answered for poll {record.poll_id}, recounted for poll {poll_id}")


def apply(session: Session | None, record: Body, check: bool = True) -> Session | None:
    """Apply one journal record; with ``check``, a recorded status or result that the recount
    does not reproduce raises ReplayMismatch."""
    match record:
        case PressRecord():
            if session is None:
                raise ReplayMismatch("a press record before the session record")
            apply_press(session, record, check)
            return session
        case SessionRecord(config=config):
            if session is not None:
                raise ReplayMismatch("a second session record")
            return Session(config, check_mic)
        case dict():
            raise ReplayMismatch("not a record of a room's journal")
    if session is None:
        raise ReplayMismatch(f"a {record_kind(record)} record before the session record")
    match record:
        case ResultRecord(poll_id=poll_id):
            poll = session.poll(poll_id)
            if check and poll.state is not PollState.RESET and ResultRecord.of(poll) != record:
                shown = record_to_json(record)
                raise ReplayMismatch(f"poll {poll_id}: recorded tally {shown} differs from the recount")
        case NoteRecord() | CloseRecord():
            pass
        case _:
            apply_command(session, record)
    return session
