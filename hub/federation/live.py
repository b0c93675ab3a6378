"""The plenary's live state (pure): the same JSON as a room hub's, in the same parts, for the
same projector and console, plus the plenary's own pieces.

A room's view is that room's own state, built by ``hub.live.LiveState`` from the session the
plenary replayed. The total, paper and online views carry the convention's description
(``session`` part), that view's ranking (``history`` part) and no poll. Every view adds a live
``plenary`` object (the views, the rooms' chains, the alarms, the NATS link) and a ``votation``
part (each fiche's counts per channel and the total), sent again only when a result changed.
Secrecy as in a room: a room's results appear once the room reveals them; a room's chain head is
shown only while no poll is open there (a head can be tried against guesses of the last press).
"""

from __future__ import annotations

from typing import Any

from hub.federation.convention import ONLINE, PAPER, TOTAL, Convention
from hub.live import LiveState
from hub.proposals import Proposal
from hub.tally import Ranking
from hub.tally_io import ranking_to_json

VIEW_LABELS = {
    TOTAL: {"fr": "Plénière (total)", "en": "Plenary (total)"},
    PAPER: {"fr": "Papier", "en": "Paper"},
    ONLINE: {"fr": "En ligne", "en": "Online"},
}


def ranking_rows(ranking: Ranking, proposals: list[Proposal]) -> dict[str, Any]:
    doc = ranking_to_json(ranking)
    by_label = {p.label: p for p in proposals}
    for row in doc["ranking"]:
        p = by_label[row["proposal"]]
        row["number"], row["title"], row["transition"] = p.number, p.title, p.transition
    return doc


def views(conv: Convention) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"id": TOTAL, "label": VIEW_LABELS[TOTAL]}]
    out += [{"id": n, "label": {"fr": label, "en": label}, "room": True} for n, label in conv.labels.items()]
    out += [{"id": v, "label": VIEW_LABELS[v]} for v in (PAPER, ONLINE)]
    return out


def room_status(conv: Convention, status: dict[str, Any]) -> dict[str, Any]:
    """A room's line for the display: the head only while no poll is open in that room."""
    session = conv.rooms[status["room"]].session
    open_poll = session is not None and session.active is not None
    return {**status, "head": None if open_poll else status["head"], "poll_open": open_poll}


def plenary_live(
    conv: Convention, view: str, rooms: list[dict[str, Any]], link: dict[str, Any]
) -> dict[str, Any]:
    """The plenary's live object: small, rebuilt on every change."""
    return {
        "view": view,
        "views": views(conv),
        "rooms": [room_status(conv, r) for r in rooms],
        "alarms": list(conv.alarms)[-20:],
        "alarm_count": conv.alarm_count,
        "link": link,
    }


def votation_part(conv: Convention) -> dict[str, Any]:
    """The votation table (per fiche: each channel's counts, the total, the electorate) and the
    channels' batches with their versions and guarantors."""
    return {
        "votation": {
            "table": conv.table(),
            "channels": {PAPER: conv.paper.to_json(), ONLINE: conv.online.to_json()},
        }
    }


class ViewState:
    """Builds one view's state, keeping the parts that have not changed (as ``LiveState``)."""

    def __init__(self, conv: Convention, view: str) -> None:
        self.conv = conv
        self.view = view
        self._room: LiveState | None = None
        self._history: tuple[int, int, dict[str, Any]] | None = None  # (results version, revision, part)
        self._session: tuple[int, dict[str, Any]] | None = None

    def build(self, version: int, now: float, ranking: Ranking | None) -> dict[str, Any]:
        """``ranking``: this view's, for the total, paper and online views."""
        session = self.conv.rooms[self.view].session if self.view in self.conv.rooms else None
        if session is not None:
            if self._room is None or self._room.session is not session:
                self._room = LiveState(session)
            return self._room.build(version, [], set(), now)
        assert ranking is not None
        if self._session is None:
            self._session = (version, self._session_part())
        results = self.conv.results_version
        if self._history is None or self._history[0] != results:
            history = {"polls": [], "ranking": ranking_rows(ranking, self.conv.config.session.proposals)}
            self._history = (results, version, history)
        return {
            "type": "state",
            "version": version,
            "at": now,
            "revisions": {"session": self._session[0], "history": self._history[1]},
            "current": None,
            "poll": None,
            "receivers": [],
            "low_battery": [],
            "statuses": {},
            **self._session[1],
            **self._history[2],
        }

    def _session_part(self) -> dict[str, Any]:
        cfg = self.conv.config.session
        return {
            "session": {
                "title": cfg.title,
                "grades": list(cfg.scale.names),
                "grades_en": list(cfg.scale.english or cfg.scale.names),
                "grade_keys": "",
                "consent_keys": {},
                "electorate": None,
                "keypads": [],
                "enrolled": [],
                "rule": str(cfg.rule),
                "missing": str(cfg.missing),
                "grace_s": 0,
            },
            "proposals": [
                {"number": p.number, "title": p.title, "transition": p.transition, "subject": p.subject}
                for p in cfg.proposals
            ],
        }
