"""What the journal holds, and how to apply it to a session (pure).

The live hub and the replay at start-up and ``clicker verify`` all go through ``apply``, so the
state rebuilt from the journal is, by construction, the state the hub had.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from hub.model import PollMode, Press, PressStatus
from hub.session import Poll, PollState, Session, SessionConfig, SessionError
from hub.wire.presses import check_mic

SESSION, PRESS, ACTION, RESULT, NOTE, CLOSE = "session", "press", "action", "result", "note", "close"
KINDS = (SESSION, PRESS, ACTION, RESULT, NOTE, CLOSE)


class PressRecord(NamedTuple):
    """A decided press: the hub's answer (status, and the poll the keypad should consider
    current) and the press as received."""

    status: int
    poll_id: int
    press: Press

    def to_json(self) -> dict[str, Any]:
        return {"press": self.press._asdict(), "status": self.status, "poll_id": self.poll_id}


class ReplayMismatch(Exception):
    """The journal says one thing, the recount another."""


def result_record(poll: Poll) -> dict[str, Any]:
    """A poll's counts when its grace period ends, for ``clicker verify`` to recount."""
    return {
        "poll_id": poll.poll_id,
        "mode": int(poll.mode),
        "tallies": {str(i): poll.tally(i) for i in poll.profiles},
        "colours": dict(poll.colours),
        "voters": poll.turnout,
    }


def poll_tallies(session: Session) -> dict[str, list[Any]]:
    """Every poll's counts (grades per item, or consent colours), keyed by poll id."""
    return {str(p.poll_id): [p.tally(i) for i in p.profiles] or [p.colours] for p in session.polls}


def apply_action(session: Session, action: dict[str, Any]) -> Poll | int | None:
    """Carry out one facilitator action, given as the dict that is journaled."""
    name = action.get("action")
    at = float(action.get("at", 0.0))
    if name == "open":
        items = action.get("items")
        return session.open_poll(
            PollMode(int(action.get("mode", PollMode.GRADES))),
            at,
            items,
            action.get("countdown_s"),
            bool(action.get("countdown_close", False)),
        )
    if name == "close":
        return session.close_poll(at, action.get("poll_id"), str(action.get("by", "facilitator")))
    if name == "grace_end":
        return session.finish_grace()
    if name == "reveal":
        return session.reveal(action.get("poll_id"))
    if name == "reset":
        return session.reset_poll(int(action["poll_id"]), str(action.get("reason", "")))
    if name == "load_proposals":
        cfg = SessionConfig.from_json({"title": "-", "proposals": action["proposals"]})
        session.replace_proposals(cfg.proposals)
        return None
    if name == "load_roster":
        cfg = SessionConfig.from_json({"title": "-", "proposals": [], "roster": action["roster"]})
        session.replace_roster(cfg.roster)
        return None
    if name == "select":
        session.select(int(action["proposal"]))
        return None
    if name == "step":
        return session.step(int(action["delta"]))
    if name == "display":
        session.show(str(action.get("view", "auto")), str(action.get("assembly", "")))
        return None
    raise SessionError(f"unknown action {name!r}")


def _status_name(status: int) -> str:
    return PressStatus(status).name if status in PressStatus._value2member_map_ else f"status {status}"


def apply(session: Session | None, kind: str, body: Any, check: bool = True) -> Session | None:
    """Apply one journal record (its body as the codec decodes it: a ``PressRecord`` for a
    press, a dict otherwise); with ``check``, a recorded status or result that the recount
    does not reproduce raises ReplayMismatch."""
    if kind == PRESS:
        if session is None:
            raise ReplayMismatch("a press record before the session record")
        decision = session.handle_press(body.press)
        if check and decision.status != body.status:
            raise ReplayMismatch(
                f"press recorded as {_status_name(body.status)}, recounted as {decision.status.name}"
            )
        if check and decision.poll_id != body.poll_id:
            raise ReplayMismatch(
                f"press answered for poll {body.poll_id}, recounted for poll {decision.poll_id}"
            )
        return session
    if kind == SESSION:
        if session is not None:
            raise ReplayMismatch("a second session record")
        return Session(SessionConfig.from_json(body, journaled=True), check_mic)
    if session is None:
        raise ReplayMismatch(f"a {kind} record before the session record")
    if kind == ACTION:
        apply_action(session, body)
    elif kind == RESULT:
        poll = session.poll(int(body["poll_id"]))
        if check and poll.state is not PollState.RESET and result_record(poll) != body:
            raise ReplayMismatch(f"poll {body['poll_id']}: recorded tally {body} differs from the recount")
    elif kind not in (NOTE, CLOSE):
        raise ReplayMismatch(f"unknown record kind {kind!r}")
    return session
