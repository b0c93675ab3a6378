"""The live state published to the projector and the console (pure).

Secret ballot: the state names which keypads have voted (by their short numbers) but never
what any keypad pressed; while a poll is open it carries the turnout only, and the
distribution appears once the facilitator reveals the poll.
"""

from __future__ import annotations

from typing import Any

from hub.model import PollMode
from hub.session import Poll, PollState, Session
from hub.tally import Ranking
from hub.tally_io import ranking_to_json


def _poll_summary(session: Session, poll: Poll) -> dict[str, Any]:
    return {
        "poll_id": poll.poll_id,
        "mode": poll.mode.name.lower().replace("_", "-"),
        "state": str(poll.state),
        "items": list(poll.items),
        "turnout": len(poll.voters),
        "opened_at": poll.opened_at,
        "closed_at": poll.closed_at,
        "reset_reason": poll.reset_reason,
        "countdown_ends": None if poll.countdown_s is None else poll.opened_at + poll.countdown_s,
    }


def _results(session: Session, poll: Poll) -> dict[str, Any]:
    if poll.mode is PollMode.CONSENT:
        return {"colours": dict(poll.colours), "speaking_queue": session.speaking_queue(poll)}
    ranking = session.poll_ranking(poll)
    number_of = {p.label: p.number for p in session.config.proposals}
    rows = ranking_to_json(ranking)["ranking"]
    for row in rows:
        row["number"] = number_of[row["proposal"]]
    return {"items": rows, "electorate": ranking.voters}


def _ranking(session: Session) -> dict[str, Any]:
    ranking: Ranking = session.ranking(revealed_only=True)
    doc = ranking_to_json(ranking)
    by_label = {p.label: p for p in session.config.proposals}
    for row in doc["ranking"]:
        p = by_label[row["proposal"]]
        row["number"] = p.number
        row["title"] = p.title
        row["transition"] = p.transition
    return doc


def build_snapshot(
    session: Session,
    version: int,
    receivers: list[dict[str, Any]],
    keypads_seen: dict[int, dict[str, int]],
    now: float,
) -> dict[str, Any]:
    cfg = session.config
    active = session.active
    shown = active or (session.polls[-1] if session.polls else None)
    poll: dict[str, Any] | None = None
    if shown is not None:
        poll = _poll_summary(session, shown)
        poll["voted"] = session.keypad_numbers(shown.voters)
        if shown.state is PollState.REVEALED or shown.mode is PollMode.CONSENT:
            poll["results"] = _results(session, shown)
    batteries = {**{k: v["battery"] for k, v in keypads_seen.items()}, **session.battery}
    low = sorted(session.keypads[k].number for k, b in batteries.items() if b < 20 and k in session.keypads)
    return {
        "type": "state",
        "version": version,
        "at": now,
        "session": {
            "title": cfg.title,
            "grades": list(cfg.scale.names),
            "grades_en": list(cfg.scale.english or cfg.scale.names),
            "grade_keys": cfg.grade_keys,
            "consent_keys": cfg.consent_keys,
            "electorate": session.electorate,
            "keypads": sorted(k.number for k in session.keypads.values()),
            "enrolled": sorted(k.number for k in session.keypads.values() if k.enrolled),
            "rule": str(cfg.rule),
            "missing": str(cfg.missing),
            "grace_s": cfg.grace_s,
        },
        "proposals": [
            {"number": p.number, "title": p.title, "transition": p.transition, "subject": p.subject}
            for p in cfg.proposals
        ],
        "current": session.current,
        "poll": poll,
        "polls": [_poll_summary(session, p) for p in session.polls],
        "ranking": _ranking(session),
        "receivers": receivers,
        "low_battery": low,
        "statuses": {s.name.lower(): n for s, n in session.statuses.items()},
    }
