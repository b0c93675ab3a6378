"""The live state published to the projector and the console (pure).

Secret ballot: the state names which keypads have voted (by their short numbers) but never
what any keypad pressed; while a poll is open it carries the turnout only, and the
distribution appears once the facilitator reveals the poll.

Bounded work per update: the state has a **live part** (the open or last poll, receivers,
batteries, statuses), rebuilt on every change at a cost that depends on the room, never on the
day's history, and two **parts** rebuilt only when their revision moves: ``session`` (the
session's description and its proposals: changes on an import or an enrolment) and ``history``
(every poll's summary and the ranking of the revealed proposals: changes when a poll opens,
closes, is revealed or reset). A part's revision is the state version at which it was rebuilt;
a client that already holds a part's revision is not sent it again (docs/live-and-control.md).
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from hub.assemblies import assemblies, members
from hub.results import poll_results, rankings_by_assembly
from hub.session import Poll, PollState, Session
from hub.tally_io import ranking_to_json

# The parts and the top-level keys each one holds; every other key belongs to the live part.
# ``votation``: the plenary's table of channels (hub/federation), revised when a result changes.
PARTS: dict[str, tuple[str, ...]] = {
    "session": ("session", "proposals"),
    "history": ("polls", "ranking", "rankings_by_assembly"),
    "votation": ("votation",),
}
PART_KEYS = frozenset(k for keys in PARTS.values() for k in keys)
LIVE_KEYS = (
    "type",
    "version",
    "at",
    "revisions",
    "current",
    "display",
    "poll",
    "receivers",
    "low_battery",
    "statuses",
    "journal",
)


def poll_summary(poll: Poll, live_turnout: bool = True) -> dict[str, Any]:
    """One poll as the state describes it; without ``live_turnout``, an active poll's turnout is
    None (the history is not rebuilt on every press: the live count is in ``poll``)."""
    active = poll.state in (PollState.OPEN, PollState.CLOSING)
    return {
        "poll_id": poll.poll_id,
        "mode": poll.mode.name.lower().replace("_", "-"),
        "state": str(poll.state),
        "items": list(poll.items),
        "turnout": poll.turnout if live_turnout or not active else None,
        "opened_at": poll.opened_at,
        "closed_at": poll.closed_at,
        "reset_reason": poll.reset_reason,
        "countdown_ends": None if poll.countdown_s is None else poll.opened_at + poll.countdown_s,
        "countdown_close": poll.countdown_close,
        "closed_by": poll.closed_by,
        "round": poll.round,
    }


def _summary_key(poll: Poll) -> tuple[Any, ...]:
    """What a poll's summary in the history is built from and can change after it opens (the
    rest is set when it opens); an active poll's turnout is not in the history."""
    active = poll.state in (PollState.OPEN, PollState.CLOSING)
    return (poll.state, poll.closed_at, poll.closed_by, poll.reset_reason, None if active else poll.turnout)


class LiveState:
    """Builds the state for one session, keeping what has not changed since the last build."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.revisions = {"session": 0, "history": 0}
        self._keys: dict[str, tuple[int, ...] | None] = {"session": None, "history": None}
        self._parts: dict[str, dict[str, Any]] = {}
        # the shown poll's voters as sorted short numbers, extended as keypads vote
        self._voted: tuple[int, int, list[int]] = (0, 0, [])  # (poll_id, voters included, numbers)
        self._results: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._rankings: tuple[tuple[int, ...], dict[str, Any]] | None = None
        # each poll's summary in the history, with what it was built from (``_poll_summaries``)
        self._summaries: list[tuple[Poll, tuple[Any, ...], dict[str, Any]]] = []
        self._summaries_at = -1  # the session's reveal revision when they were last compared

    def build(
        self,
        version: int,
        receivers: list[dict[str, Any]],
        seen_low: set[int],
        now: float,
        journal: tuple[int, str] = (0, ""),
    ) -> dict[str, Any]:
        """The whole state: the live part, built now, and the parts, shared with earlier builds
        (never mutate them). ``seen_low``: keypads whose idle beacon reported a low battery.
        ``journal``: the head the guarantors note, (seq, hash) as of the last commit after which
        no poll was open (never a head taken while one is)."""
        s = self.session
        self._refresh("session", (s.config_revision, len(s.keypads)), version, self._session_part)
        self._refresh(
            "history", (s.history_revision, s.config_revision, s.electorate), version, self._history_part
        )
        state: dict[str, Any] = {
            "type": "state",
            "version": version,
            "at": now,
            "revisions": dict(self.revisions),
            "current": s.current,
            "display": dict(s.display),
            "poll": self._poll(),
            "receivers": receivers,
            "low_battery": self._low_battery(seen_low),
            "statuses": {st.name.lower(): n for st, n in s.statuses.items()},
            "journal": {"seq": journal[0], "head": journal[1]},
        }
        for part in self._parts.values():
            state.update(part)
        return state

    # --- the parts -----------------------------------------------------------------------------

    def _refresh(self, name: str, key: tuple[int, ...], version: int, build: Any) -> None:
        if self._keys[name] != key:
            self._keys[name] = key
            self._parts[name] = build()
            self.revisions[name] = version

    def _session_part(self) -> dict[str, Any]:
        s = self.session
        cfg = s.config
        return {
            "session": {
                "title": cfg.title,
                "grades": list(cfg.scale.names),
                "grades_en": list(cfg.scale.english or cfg.scale.names),
                "grade_keys": cfg.grade_keys,
                "consent_keys": cfg.consent_keys,
                "electorate": s.electorate,
                "keypads": sorted(k.number for k in s.keypads.values()),
                "enrolled": sorted(k.number for k in s.keypads.values() if k.enrolled),
                "rule": str(cfg.rule),
                "missing": str(cfg.missing),
                "grace_s": cfg.grace_s,
                "min_group": cfg.min_group,
                "assemblies": [{"name": a, "members": members(s)[a]} for a in assemblies(s)],
            },
            "proposals": [
                {"number": p.number, "title": p.title, "transition": p.transition, "subject": p.subject}
                for p in cfg.proposals
            ],
        }

    def _history_part(self) -> dict[str, Any]:
        return {"polls": self._poll_summaries(), **self._rankings_docs()}

    def _poll_summaries(self) -> list[dict[str, Any]]:
        """Every poll's summary, rebuilt only for the polls whose summary changed: a poll opened,
        the last one closed, any one revealed or reset. Between two reveals (or resets) only the
        last poll can change, so only it is looked at; a reveal or a reset (which may concern
        any poll) compares every poll's ``_summary_key``, never rebuilding an unchanged one."""
        s = self.session
        polls = s.polls
        cache = self._summaries
        del cache[len(polls) :]  # a session whose polls were all replaced (never during a day)
        start = 0 if self._summaries_at != s.reveal_revision else max(0, len(cache) - 1)
        self._summaries_at = s.reveal_revision
        for i in range(start, len(polls)):
            poll = polls[i]
            key = _summary_key(poll)
            if i == len(cache):
                cache.append((poll, key, poll_summary(poll, live_turnout=False)))
            elif cache[i][0] is not poll or cache[i][1] != key:
                cache[i] = (poll, key, poll_summary(poll, live_turnout=False))
        return [entry[2] for entry in cache]

    def _rankings_docs(self) -> dict[str, Any]:
        """The revealed proposals' rankings (plenary, assemblies), rebuilt only when a reveal or
        a reset changed them: opening or closing a poll does not."""
        s = self.session
        key = (s.reveal_revision, s.config_revision, s.electorate)
        if self._rankings is None or self._rankings[0] != key:
            doc = ranking_to_json(s.revealed_ranking())
            by_label = {p.label: p for p in s.config.proposals}
            for row in doc["ranking"]:
                p = by_label[row["proposal"]]
                row["number"] = p.number
                row["title"] = p.title
                row["transition"] = p.transition
            self._rankings = (key, {"ranking": doc, "rankings_by_assembly": rankings_by_assembly(s)})
        return self._rankings[1]

    # --- the live part -------------------------------------------------------------------------

    def _poll(self) -> dict[str, Any] | None:
        s = self.session
        shown = s.active or (s.polls[-1] if s.polls else None)
        if shown is None:
            return None
        poll = poll_summary(shown)
        poll["voted"] = self._voted_numbers(shown)
        if shown.state is PollState.REVEALED:  # never before: not even a consent round's colours
            poll["results"] = self._poll_results(shown)
        return poll

    def _voted_numbers(self, poll: Poll) -> list[int]:
        """Sorted short numbers of the poll's voters; only the keypads that voted since the last
        build are looked up (the voters' dict keeps the order in which they first voted)."""
        poll_id, included, numbers = self._voted
        if poll_id != poll.poll_id or included > len(poll.order):
            poll_id, included, numbers = poll.poll_id, 0, []
        if included < len(poll.order):
            keypads = self.session.keypads
            numbers = numbers + [
                keypads[k].number for k in islice(poll.order, included, None) if k in keypads
            ]
            numbers.sort()
            included = len(poll.order)
        self._voted = (poll_id, included, numbers)
        return list(numbers)

    def _poll_results(self, poll: Poll) -> dict[str, Any]:
        s = self.session
        # a revealed poll's counts no longer change: built once per reveal (or roster change)
        key = (poll.poll_id, poll.state, s.history_revision, s.config_revision)
        if self._results is not None and self._results[0] == key:
            return self._results[1]
        results = poll_results(s, poll)
        self._results = (key, results)
        return results

    def _low_battery(self, seen_low: set[int]) -> list[int]:
        """Keypads below the threshold: by their last press, or else by their idle beacon."""
        s = self.session
        low = s.battery.low | {k for k in seen_low if k not in s.battery}
        return sorted(s.keypads[k].number for k in low if k in s.keypads)


def live_part(state: dict[str, Any]) -> dict[str, Any]:
    """The state without its parts: what ``GET /api/state`` answers (the plenary adds its own
    live key, ``plenary``, beside ``LIVE_KEYS``)."""
    return {k: v for k, v in state.items() if k not in PART_KEYS}


def part(state: dict[str, Any], name: str) -> dict[str, Any]:
    """One part of the state with its revision: what ``GET /api/state/<name>`` answers."""
    return {"revision": state["revisions"][name], **{k: state[k] for k in PARTS[name] if k in state}}
