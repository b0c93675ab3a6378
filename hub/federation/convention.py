"""The plenary's state (pure): every room's replayed session, the paper and online channels,
and the convention-wide results.

Per fiche, the total is the sum of the rooms' merit profiles (each room's latest closed or
revealed poll on that fiche, as the room itself counts it) and of the channels' counted
batches; the fiche's electorate is the sum of the electorates of what contributed to it. The
ranking is ``hub.tally.rank`` with the session's rule: when every fiche has the same
electorate it is literally ``rank(total, scale, rule, missing, electorate)``, the computation
a single room does. The plenary journal replays through ``apply_plenary``, so ``clicker
verify`` on a plenary journal recounts every room from its raw presses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ClickerError
from hub.federation.access import AccessError, check_room
from hub.federation.chain import ChainError, RoomChain, Verdict
from hub.federation.channels import ChannelError, TallyChannel, Version
from hub.federation.wire import RoomRecord, WireError, from_json
from hub.model import DEFAULT_GRADE_KEYS, PollMode
from hub.session import PollState, Session, SessionConfig, SessionError
from hub.tally import Missing, Ranking, balance, rank

CONVENTION, ROOM, ALARM, SHEET, CONFIRM = "convention", "room", "alarm", "sheet", "confirm"
PAPER, ONLINE, TOTAL = "paper", "online", "total"
MAX_ALARMS = 200


class PlenaryError(ClickerError):
    """A plenary record that cannot be applied; one line."""


@dataclass(frozen=True)
class RoomSpec:
    name: str
    label: str = ""  # the assembly meeting in that room


@dataclass
class ConventionConfig:
    """The plenary's own first journal record: the fiches, the scale and rule, the rooms."""

    session: SessionConfig
    rooms: list[RoomSpec] = field(default_factory=list)
    paper_guarantors: int = 2

    def to_json(self) -> dict[str, Any]:
        doc = self.session.to_json()
        for key in ("roster", "grade_keys", "consent_keys", "open_roster", "require_mic", "grace_s", "nonce"):
            doc.pop(key, None)
        doc["rooms"] = [{"name": r.name, "label": r.label} for r in self.rooms]
        doc["paper_guarantors"] = self.paper_guarantors
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ConventionConfig:
        if not isinstance(doc, dict):
            raise PlenaryError("a convention description is a JSON object")
        rooms = doc.get("rooms", [])
        if not isinstance(rooms, list):
            raise PlenaryError("'rooms' must be a list")
        specs = []
        for i, r in enumerate(rooms, 1):
            if isinstance(r, str):
                r = {"name": r}
            if not isinstance(r, dict) or not isinstance(r.get("label", ""), str):
                raise PlenaryError(f"rooms[{i}]: expected {{'name': ..., 'label': ...}}")
            try:
                specs.append(RoomSpec(check_room(r.get("name", "")), r.get("label", "")))
            except AccessError as exc:
                raise PlenaryError(f"rooms[{i}]: {exc}") from None
        if len({s.name for s in specs}) != len(specs):
            raise PlenaryError("two rooms have the same name")
        guarantors = doc.get("paper_guarantors", 2)
        if type(guarantors) is not int or not 1 <= guarantors <= 5:
            raise PlenaryError("paper_guarantors must be 1 to 5")
        rest = {k: v for k, v in doc.items() if k not in ("rooms", "paper_guarantors")}
        grades = rest.get("grades")
        if isinstance(grades, list) and len(grades) <= len(DEFAULT_GRADE_KEYS):
            rest.setdefault("grade_keys", DEFAULT_GRADE_KEYS[: len(grades)])  # keys play no part here
        try:
            session = SessionConfig.from_json(rest)
        except SessionError as exc:
            raise PlenaryError(str(exc)) from None
        if not session.proposals:
            raise PlenaryError("the convention has no fiches")
        return cls(session, specs, guarantors)


def rank_with_electorates(
    raw: dict[str, list[int]], electorates: dict[str, int], cfg: SessionConfig
) -> Ranking:
    """Rank by the session's rule when fiches may have different electorates (a room has not
    voted a fiche yet): each fiche is first completed to its own electorate by the session's
    missing-judgment policy, then shares are compared. With one electorate for all, this is
    exactly ``rank(raw, scale, rule, missing, electorate)``."""
    values = set(electorates.values())
    if len(values) <= 1:
        voters = max([*values, *(sum(t) for t in raw.values())], default=0)
        return rank(raw, cfg.scale, cfg.rule, cfg.missing, voters)
    balanced = {k: balance(t, electorates[k], cfg.missing) for k, t in raw.items()}
    ranking = rank(balanced, cfg.scale, cfg.rule, Missing.IGNORE, max(values))
    for e in ranking.entries:
        e.tally = list(raw[e.proposal])
    ranking.missing = cfg.missing
    return ranking


def room_results(session: Session | None, revealed_only: bool) -> dict[int, tuple[list[int], int]]:
    """Per fiche, the room's latest revealed (or closed) grades poll: counts and electorate."""
    if session is None:
        return {}
    shown = (PollState.REVEALED,) if revealed_only else (PollState.REVEALED, PollState.CLOSED)
    out: dict[int, tuple[list[int], int]] = {}
    for poll in session.polls:
        if poll.mode is PollMode.CONSENT or poll.state not in shown:
            continue
        for item in poll.items:
            counts = poll.tally(item)
            out[item] = (counts, max(session.electorate, sum(counts)))
    return out


class Convention:
    """Everything the plenary accepted; only the plenary's loop (or a replay) changes it."""

    def __init__(self, config: ConventionConfig) -> None:
        self.config = config
        self.rooms: dict[str, RoomChain] = {
            r.name: RoomChain(r.name, self._check_session) for r in config.rooms
        }
        self.labels = {r.name: r.label or r.name for r in config.rooms}
        self.paper = TallyChannel(PAPER, config.paper_guarantors)
        self.online = TallyChannel(ONLINE, 0)
        self.alarms: deque[dict[str, Any]] = deque(maxlen=MAX_ALARMS)
        self.alarm_count = 0
        self.results_version = 0  # bumped whenever a result may have changed
        self._fiches = {p.number for p in config.session.proposals}

    # --- rooms ---------------------------------------------------------------------------------

    def _check_session(self, session: Session) -> str | None:
        """A room's session must count like the convention: same scale, rule, policy, fiches."""
        mine, theirs = self.config.session, session.config
        if theirs.scale.names != mine.scale.names:
            return "its grade scale is not the convention's"
        if theirs.rule != mine.rule or theirs.missing != mine.missing:
            return f"it ranks by {theirs.rule}/{theirs.missing}, the convention by {mine.rule}/{mine.missing}"
        unknown = sorted({p.number for p in theirs.proposals} - self._fiches)
        if unknown:
            return f"its fiche {unknown[0]} is not one of the convention's"
        return None

    def classify(self, rec: RoomRecord) -> Verdict:
        return self.rooms[rec.room].classify(rec)

    def accept_room(self, rec: RoomRecord, at: float) -> tuple[str, dict[str, Any]]:
        """Apply a record that extends its room's chain; returns the plenary journal entry that
        says what happened: the record accepted, or an alarm if it halted the room."""
        chain = self.rooms[rec.room]
        chain.accept(rec)
        if chain.halted is not None:
            body = {"room": rec.room, "reason": chain.halted, "halt": True, "record": rec.to_json(), "at": at}
            self._alarm(body)
            return ALARM, body
        self._room_changed(rec)
        return ROOM, rec.to_json()

    def _room_changed(self, rec: RoomRecord) -> None:
        if rec.kind != "press":
            self.results_version += 1

    def _alarm(self, body: dict[str, Any]) -> None:
        self.alarms.append({k: v for k, v in body.items() if k != "record"})
        self.alarm_count += 1

    # --- channels ------------------------------------------------------------------------------

    def channel(self, name: str) -> TallyChannel:
        if name == PAPER:
            return self.paper
        if name == ONLINE:
            return self.online
        raise ChannelError(f"no channel {name!r} (paper or online)")

    def enter(self, body: dict[str, Any]) -> Version:
        version = self.channel(body.get("channel", "")).enter(
            body, self._fiches, len(self.config.session.scale)
        )
        self.results_version += 1
        return version

    def confirm(self, body: dict[str, Any]) -> Version:
        version = self.channel(body.get("channel", PAPER)).confirm(body)
        self.results_version += 1
        return version

    # --- results -------------------------------------------------------------------------------

    def views(self) -> list[str]:
        return [TOTAL, *self.rooms, PAPER, ONLINE]

    def results(self, view: str, revealed_only: bool = True) -> dict[int, tuple[list[int], int]]:
        """Per fiche (counts, electorate) of one room, one channel, or the total."""
        if view in self.rooms:
            return room_results(self.rooms[view].session, revealed_only)
        if view == PAPER:
            return self.paper.results()
        if view == ONLINE:
            return self.online.results()
        if view != TOTAL:
            raise PlenaryError(f"no view {view!r}")
        return add_results(self.results(v, revealed_only) for v in self.views() if v != TOTAL)

    def table(self, revealed_only: bool = True) -> list[dict[str, Any]]:
        """The votation table: per fiche, each room's, paper's and online's counts, and the total."""
        parts = {v: self.results(v, revealed_only) for v in self.views() if v != TOTAL}
        total = add_results(parts.values())
        rows = []
        for p in self.config.session.proposals:
            if p.number not in total:
                continue
            counts, electorate = total[p.number]
            rows.append(
                {
                    "number": p.number,
                    "title": p.title,
                    "transition": p.transition,
                    "channels": {v: r[p.number][0] for v, r in parts.items() if p.number in r},
                    "total": counts,
                    "electorate": electorate,
                }
            )
        return rows

    def ranking(self, view: str = TOTAL, revealed_only: bool = True) -> Ranking:
        """A room's own ranking (as the room shows it), or a channel's, or the total's."""
        cfg = self.config.session
        if view in self.rooms:
            session = self.rooms[view].session
            if session is not None:
                return session.ranking(revealed_only)
            return rank({}, cfg.scale, cfg.rule, cfg.missing, 0)
        results = self.results(view, revealed_only)
        order = [p for p in cfg.proposals if p.number in results]
        raw = {p.label: results[p.number][0] for p in order}
        electorates = {p.label: results[p.number][1] for p in order}
        return rank_with_electorates(raw, electorates, cfg)


def add_results(parts: Iterable[dict[int, tuple[list[int], int]]]) -> dict[int, tuple[list[int], int]]:
    """Merit profiles add up exactly; so do electorates."""
    out: dict[int, tuple[list[int], int]] = {}
    for part in parts:
        for fiche, (counts, electorate) in part.items():
            if fiche in out:
                total, e = out[fiche]
                out[fiche] = ([a + b for a, b in zip(total, counts)], e + electorate)
            else:
                out[fiche] = (list(counts), electorate)
    return out


def apply_plenary(conv: Convention | None, kind: str, body: Any) -> Convention:
    """Apply one plenary journal record (the live plenary and its replay both go through here)."""
    if not isinstance(body, dict):
        raise PlenaryError(f"a {kind} record that is not a map")
    if kind == CONVENTION:
        if conv is not None:
            raise PlenaryError("a second convention record")
        return Convention(ConventionConfig.from_json(body))
    if conv is None:
        raise PlenaryError(f"a {kind} record before the convention record")
    try:
        if kind == ROOM:
            rec = from_json(body)
            if rec.room not in conv.rooms:
                raise PlenaryError(f"room {rec.room!r} is not one of the convention's")
            entry_kind, _ = conv.accept_room(rec, 0.0)
            if entry_kind != ROOM:
                raise PlenaryError(f"room {rec.room} record {rec.seq} no longer replays")
        elif kind == ALARM:
            room = body.get("room")
            if room not in conv.rooms:
                raise PlenaryError(f"an alarm for an unknown room {room!r}")
            if body.get("record") is not None:  # the record that halted the room: halts it again
                conv.rooms[room].accept(from_json(body["record"], room))
                if conv.rooms[room].halted is None:
                    raise PlenaryError(f"room {room}: the record that halted it now replays")
            elif body.get("halt"):
                conv.rooms[room].halt(str(body.get("reason", "")))
            conv._alarm(body)
        elif kind == SHEET:
            conv.enter(body)
        elif kind == CONFIRM:
            conv.confirm(body)
        elif kind not in ("note", "close"):
            raise PlenaryError(f"unknown record kind {kind!r}")
    except (WireError, ChannelError, ChainError) as exc:
        raise PlenaryError(str(exc)) from None
    return conv


CONVENTION_KEYS = frozenset({"rooms", "paper_guarantors"})


def load_convention_file(path: str | Path) -> ConventionConfig:
    """A session file's description (title, fiches, grades, rule, missing-judgment policy; the
    same schema, docs/session-file.md) with the convention's ``rooms``: ``[{"name": "eco",
    "label": "Assemblée écologique"}, ...]`` and ``paper_guarantors``; bad files give one line."""
    from hub.imports import InputError, read_input_file, read_json
    from hub.session_file import parse_session, to_config

    path = Path(path)
    try:
        doc = read_json(read_input_file(path), str(path))
        if not isinstance(doc, dict):
            raise PlenaryError("expected a JSON object")
        session_doc = {k: v for k, v in doc.items() if k not in CONVENTION_KEYS}
        session_doc.setdefault("open_roster", True)  # the rooms hold the rosters
        config = to_config(parse_session(session_doc, str(path)), str(path), path.parent)
        return ConventionConfig.from_json(
            {**config.to_json(), **{k: doc[k] for k in CONVENTION_KEYS if k in doc}}
        )
    except InputError as exc:
        raise PlenaryError(str(exc)) from None
    except PlenaryError as exc:
        raise PlenaryError(f"{path}: {exc}") from None
