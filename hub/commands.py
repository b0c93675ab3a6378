"""The facilitator's commands, declared (pure).

A command is what the console asks of the session (open a poll, reveal it, put a fiche up...)
or what the hub's own timers do (end a grace period, close at the end of a countdown). Each is
a frozen dataclass; the web edge builds them from requests, the hub's loop stamps them with
the time (``at``) and journals them as ``action`` records, and the recount, the recorder and
the replay read them back with ``command_from_json``. A typo in a command is a type error,
found by mypy, not by a facilitator in the middle of a session.

The JSON form is the one the journal has always held: ``{"action": NAME, field: value...}``,
optional fields left out at their default, so journals written before commands were declared
read back unchanged.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from hub.errors import ClickerError
from hub.model import Keypad, PollMode, Proposal


class CommandError(ClickerError):
    """A command's JSON form that does not describe a command; one line naming the field."""


@dataclass(frozen=True, slots=True)
class OpenPoll:
    """Open a poll: on the fiche up (grades), a consent round, or a self-paced poll on
    ``items``; a countdown shown on the projector that may close the poll at zero."""

    NAME: ClassVar[str] = "open"
    mode: PollMode
    items: tuple[int, ...] | None = None
    countdown_s: float | None = None
    countdown_close: bool = False
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ClosePoll:
    """Close the open poll (its grace period starts); ``poll_id``, when given, must be it: a
    countdown's close never closes another poll."""

    NAME: ClassVar[str] = "close"
    poll_id: int | None = None
    by: str = "facilitator"  # or "countdown"
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class EndGrace:
    """The grace period of the closing poll is over (the hub's timer): its result is final."""

    NAME: ClassVar[str] = "grace_end"
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Reveal:
    """Show a closed poll's result (the last poll when ``poll_id`` is None)."""

    NAME: ClassVar[str] = "reveal"
    poll_id: int | None = None
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ResetPoll:
    """Cancel a poll, for a reason that is journaled; its counts no longer count."""

    NAME: ClassVar[str] = "reset"
    poll_id: int
    reason: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class LoadProposals:
    """Replace the fiches (only before any vote)."""

    NAME: ClassVar[str] = "load_proposals"
    proposals: tuple[Proposal, ...]
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class LoadRoster:
    """Replace the roster (only before any vote)."""

    NAME: ClassVar[str] = "load_roster"
    roster: tuple[Keypad, ...]
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Select:
    """Put a fiche up (the projector shows it; the next grades poll is on it)."""

    NAME: ClassVar[str] = "select"
    proposal: int
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Step:
    """Put up the next (+1) or previous (-1) fiche."""

    NAME: ClassVar[str] = "step"
    delta: int
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Show:
    """Choose what the projector shows: the poll (``auto``) or the ranking, for the plenary
    (""), one assembly, or every assembly ("*")."""

    NAME: ClassVar[str] = "display"
    view: str
    assembly: str
    at: float = 0.0


Command = (
    OpenPoll | ClosePoll | EndGrace | Reveal | ResetPoll | LoadProposals | LoadRoster | Select | Step | Show
)
COMMANDS: dict[str, type[Command]] = {
    c.NAME: c
    for c in (OpenPoll, ClosePoll, EndGrace, Reveal, ResetPoll, LoadProposals, LoadRoster, Select, Step, Show)
}
POLL_COMMANDS = (OpenPoll, ClosePoll, EndGrace, ResetPoll)  # they change what keypads are told


def command_to_json(command: Command) -> dict[str, Any]:
    """The journaled form: the name, then each field not at its default (``at`` always)."""
    doc: dict[str, Any] = {"action": command.NAME}
    for f in fields(command):
        value = getattr(command, f.name)
        if f.name != "at" and f.default is not MISSING and value == f.default:
            continue
        if isinstance(value, PollMode):
            value = int(value)
        elif isinstance(value, tuple):
            value = [v.to_json() if isinstance(v, Proposal | Keypad) else v for v in value]
        doc[f.name] = value
    return doc


def command_from_json(doc: Any) -> Command:
    """A command from its journaled form; CommandError names what is wrong. Unknown keys are
    refused: a command is exactly what it declares."""
    if not isinstance(doc, dict):
        raise CommandError("a command is a JSON object")
    name = doc.get("action")
    if name is None:
        raise CommandError('a command names its action ("action": "open", ...)')
    cls = COMMANDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CommandError(f"unknown command {name!r}")
    declared = {f.name: f for f in fields(cls)}
    extra = sorted(set(doc) - set(declared) - {"action"})
    if extra:
        raise CommandError(f"{name}: unknown field {extra[0]!r}")
    values: dict[str, Any] = {}
    for key, f in declared.items():
        if key not in doc:
            if f.default is MISSING:
                raise CommandError(f"{name}: field {key!r} is missing")
            continue
        try:
            values[key] = _field(key, doc[key])
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"{name}: field {key!r}: {exc}") from None
    return cls(**values)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    return value


def _float(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _rows(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError("expected a list of objects")
    return value


def _field(key: str, value: Any) -> Any:
    """One field's value, checked against its declared type."""
    if value is None and key in ("items", "countdown_s", "poll_id"):
        return None
    match key:
        case "mode":
            return PollMode(_int(value))
        case "items":
            if not isinstance(value, list):
                raise TypeError("expected a list of proposal numbers")
            return tuple(_int(v) for v in value)
        case "countdown_s" | "at":
            return _float(value)
        case "countdown_close":
            if type(value) is not bool:
                raise TypeError("expected true or false")
            return value
        case "poll_id" | "proposal" | "delta":
            return _int(value)
        case "proposals":
            return tuple(Proposal.from_json(row) for row in _rows(value))
        case "roster":
            return tuple(Keypad.from_json(row) for row in _rows(value))
        case _:  # by, reason, view, assembly
            return _str(value)
