"""What the journal holds, and how to apply it to a session (pure).

The live hub and the replay at start-up and ``clicker verify`` all go through ``apply``, so the
state rebuilt from the journal is, by construction, the state the hub had.
"""

from __future__ import annotations

from typing import Any

from hub.model import PollMode, Press, PressStatus
from hub.session import Decision, Poll, PollState, Session, SessionConfig, SessionError

SESSION, PRESS, ACTION, RESULT, NOTE = "session", "press", "action", "result", "note"
PRESS_FIELDS = Press._fields


class ReplayMismatch(Exception):
    """The journal says one thing, the recount another."""


def press_record(press: Press, decision: Decision) -> dict[str, Any]:
    press_fields = dict(zip(PRESS_FIELDS, press))
    return {"press": press_fields, "status": int(decision.status), "poll_id": decision.poll_id}


def result_record(poll: Poll) -> dict[str, Any]:
    """A poll's counts when its grace period ends, for ``clicker verify`` to recount."""
    return {
        "poll_id": poll.poll_id,
        "mode": int(poll.mode),
        "tallies": {str(i): poll.tally(i) for i in poll.profiles},
        "colours": dict(poll.colours),
        "voters": poll.turnout,
    }


def poll_tallies(session: Session) -> dict[str, list]:
    """Every poll's counts (grades per item, or consent colours), keyed by poll id."""
    return {str(p.poll_id): [p.tally(i) for i in p.profiles] or [p.colours] for p in session.polls}


def apply_action(session: Session, action: dict[str, Any]) -> Poll | int | None:
    """Carry out one facilitator action, given as the dict that is journaled."""
    name = action.get("action")
    at = float(action.get("at", 0.0))
    if name == "open":
        items = action.get("items")
        return session.open_poll(PollMode(int(action.get("mode", 1))), at, items, action.get("countdown_s"))
    if name == "close":
        return session.close_poll(at)
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
    raise SessionError(f"unknown action {name!r}")


def apply(session: Session | None, kind: str, body: dict[str, Any], check: bool = True) -> Session | None:
    """Apply one journal record; with ``check``, a recorded status or result that the recount
    does not reproduce raises ReplayMismatch."""
    if kind == SESSION:
        if session is not None:
            raise ReplayMismatch("a second session record")
        return Session(SessionConfig.from_json(body))
    if session is None:
        raise ReplayMismatch(f"a {kind} record before the session record")
    if kind == PRESS:
        decision = session.handle_press(Press(**body["press"]))
        if check and int(decision.status) != body["status"]:
            raise ReplayMismatch(
                f"press recorded as {PressStatus(body['status']).name}, recounted as {decision.status.name}"
            )
    elif kind == ACTION:
        apply_action(session, body)
    elif kind == RESULT:
        poll = session.poll(int(body["poll_id"]))
        if check and poll.state is not PollState.RESET and result_record(poll) != body:
            raise ReplayMismatch(f"poll {body['poll_id']}: recorded tally {body} differs from the recount")
    elif kind != NOTE:
        raise ReplayMismatch(f"unknown record kind {kind!r}")
    return session
