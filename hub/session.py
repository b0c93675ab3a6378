"""The session engine: polls, presses and their statuses (pure: no I/O, no asyncio, no clock).

Time comes in with every call (``press.at``, ``now``), so replaying the journal gives exactly the
same decisions. The semantics users rely on (docs/design.md; the press rules are those of
docs/protocol.md, "Decisions"):

- last press wins while a poll is open, ordered by the keypad's counter, never by arrival (per
  proposal in a self-paced poll);
- the same press arriving twice (retransmission, two receivers) counts once: ``duplicate``;
- closing starts a grace period (default 1.5 s) for presses made before the close, judged by
  the age the receiver reports;
- a press from another session (another session nonce, or a counter at or below the keypad's
  highest of earlier sessions) never counts: ``stale_session``;
- every press gets exactly one status, and a press seen again gets the same answer.

The MIC is checked through ``check_mic`` (hub/wire/presses.py gives the real one): the session
knows neither the wire codec nor the crypto.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from hub.errors import ClickerError
from hub.model import (
    CONSENT_COLOURS,
    DEFAULT_CONSENT_KEYS,
    DEFAULT_GRADE_KEYS,
    UNKNOWN_POLL,
    GradeScale,
    Keypad,
    PollMode,
    Press,
    PressStatus,
    Proposal,
)
from hub.protocol import MAX_ITEMS, MAX_KEYS, NO_POLL, REVISION
from hub.seen import SeenPresses
from hub.tally import MeritProfile, Missing, Ranking, Rule, rank

_STATUSES = tuple(PressStatus)  # by code, as SeenPresses keeps them (code - 1)
_tuple_new = tuple.__new__

# (keypad key, press, protocol revision) -> the MIC verifies
MicCheck = Callable[[bytes, Press, int], bool]


def new_nonce() -> int:
    """A session nonce: drawn once when a session is created, journaled with it (never 0, the
    value of a keypad that knows no session)."""
    return secrets.randbelow(0xFFFFFFFF) + 1


class SessionError(ClickerError):
    """A facilitator action that cannot be done now; the message is one line for the console.

    ``code`` and ``params`` name the refusal for the console, which words it in its language
    (the message stays the English line for logs and the API's ``detail``)."""

    def __init__(self, message: str, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class PollState(StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    REVEALED = "revealed"
    RESET = "reset"


ACTIVE = (PollState.OPEN, PollState.CLOSING)
CONSENT_PRIORITY = ("red", "orange", "yellow")  # who gets the floor first
LOW_BATTERY = 20  # percent: below it, the console lists the keypad


class Batteries(dict[int, int]):
    """Each keypad's last battery level, with the set of low ones kept as levels arrive, so the
    live state never scans every keypad."""

    def __init__(self) -> None:
        super().__init__()
        self.low: set[int] = set()

    def __setitem__(self, keypad_id: int, level: int) -> None:
        super().__setitem__(keypad_id, level)
        if level < LOW_BATTERY:
            self.low.add(keypad_id)
        else:
            self.low.discard(keypad_id)


@dataclass
class SessionConfig:
    """Everything fixed when a session is created; journaled as the first record."""

    title: str
    proposals: list[Proposal]
    scale: GradeScale = field(default_factory=GradeScale)
    grade_keys: str = DEFAULT_GRADE_KEYS  # grade_keys[i] is the key of grade i (worst first)
    consent_keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CONSENT_KEYS))
    roster: list[Keypad] = field(default_factory=list)
    open_roster: bool = False  # unknown keypads are enrolled (and flagged) instead of refused
    electorate: int | None = None  # voters for the missing-judgment policy; default: the roster
    grace_s: float = 1.5
    rule: Rule = Rule.MAJORITY_JUDGMENT
    missing: Missing = Missing.REJECT
    require_mic: bool = False
    anonymous: bool = True
    min_group: int = 5  # fewest voters an assembly's breakdown of a poll may show (secret ballot)
    # Drawn when the session is created, journaled in the session record, the same after a
    # restart; keypads sign under it (docs/protocol.md, "Sessions"). Never user input. None: a
    # session journaled before protocol v1.1, recounted by v1's rules (no nonce, v1's MIC).
    nonce: int | None = field(default_factory=new_nonce)

    def __post_init__(self) -> None:
        if len(self.grade_keys) != len(self.scale):
            raise SessionError(f"{len(self.grade_keys)} grade keys for a scale of {len(self.scale)} grades")
        if len(set(self.grade_keys)) != len(self.grade_keys):
            raise SessionError("grade keys must be distinct")
        for keys in (self.grade_keys, "".join(self.consent_keys)):
            if len(keys) > MAX_KEYS or not all(" " < k < "\x7f" for k in keys):
                raise SessionError(f"keys {keys!r}: at most {MAX_KEYS} printable ASCII characters")
        if self.nonce is not None and not 0 <= self.nonce <= 0xFFFFFFFF:
            raise SessionError("the session nonce is a 32-bit number")
        bad = set(self.consent_keys.values()) - set(CONSENT_COLOURS)
        if bad:
            raise SessionError(f"unknown consent colour {sorted(bad)[0]!r}")
        numbers = [p.number for p in self.proposals]
        if len(set(numbers)) != len(numbers):
            raise SessionError("proposal numbers must be distinct")
        ids = [k.keypad_id for k in self.roster]
        if len(set(ids)) != len(ids):
            raise SessionError("a keypad appears twice in the roster")
        labels = [k.number for k in self.roster]
        if len(set(labels)) != len(labels):
            raise SessionError("two keypads carry the same short number")
        if self.grace_s < 0:
            raise SessionError("the grace period cannot be negative")
        if type(self.min_group) is not int or self.min_group < 1:
            raise SessionError("min_group must be a positive whole number of voters")
        if self.electorate is not None and (type(self.electorate) is not int or self.electorate < 1):
            raise SessionError(f"electorate {self.electorate!r} is not a positive whole number of voters")
        if type(self.title) is not str:
            raise SessionError(f"title {self.title!r} is not text")

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "proposals": [p.to_json() for p in self.proposals],
            "grades": list(self.scale.names),
            "grade_keys": self.grade_keys,
            "consent_keys": self.consent_keys,
            "roster": [k.to_json() for k in self.roster],
            "open_roster": self.open_roster,
            "electorate": self.electorate,
            "grace_s": self.grace_s,
            "rule": str(self.rule),
            "missing": str(self.missing),
            "require_mic": self.require_mic,
            "anonymous": self.anonymous,
            "min_group": self.min_group,
        } | ({"nonce": self.nonce} if self.nonce is not None else {})

    @classmethod
    def from_json(cls, doc: dict[str, Any], journaled: bool = False) -> SessionConfig:
        """A session description; without a ``nonce`` one is drawn, except for a session
        record of the journal (``journaled``): one written before v1.1 has none."""
        if "nonce" in doc:
            nonce: dict[str, Any] = {"nonce": None if doc["nonce"] is None else int(doc["nonce"])}
        else:
            nonce = {"nonce": None} if journaled else {}
        try:
            return cls(
                title=doc["title"],
                proposals=[Proposal.from_json(p) for p in doc["proposals"]],
                scale=GradeScale(tuple(doc.get("grades") or GradeScale().names)),
                grade_keys=doc.get("grade_keys", DEFAULT_GRADE_KEYS),
                consent_keys=doc.get("consent_keys", dict(DEFAULT_CONSENT_KEYS)),
                roster=[Keypad.from_json(k) for k in doc.get("roster", [])],
                open_roster=bool(doc.get("open_roster", False)),
                electorate=_journaled_whole(doc.get("electorate")) if journaled else doc.get("electorate"),
                grace_s=float(doc.get("grace_s", 1.5)),
                rule=Rule(doc.get("rule", "majority-judgment")),
                missing=Missing(doc.get("missing", "reject")),
                require_mic=bool(doc.get("require_mic", False)),
                anonymous=bool(doc.get("anonymous", True)),
                min_group=doc.get("min_group", 5),
                **nonce,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionError(f"bad session description: {exc}") from None


def _journaled_whole(value: Any) -> Any:
    """A whole number an older version journaled as it was given, as decimal text ("70"), is
    that number (a session file's "70" is read so too); anything else is left for the checks."""
    if type(value) is str and value.strip().isdigit():
        return int(value)
    return value


@dataclass
class Poll:
    """One vote: a proposal graded, a consent round, or a self-paced poll over several items."""

    poll_id: int
    mode: PollMode
    items: tuple[int, ...]  # proposal numbers; a consent round on no proposal has (0,)
    opened_at: float
    state: PollState = PollState.OPEN
    closed_at: float | None = None
    reset_reason: str = ""
    countdown_s: float | None = None  # shown on the projector
    countdown_close: bool = False  # the hub closes the poll when the countdown reaches zero
    closed_by: str = ""  # "facilitator" or "countdown"
    round: int = 1  # 2 for a proposal's second round (set when it opens; reset polls not counted)
    # (keypad_id, item) -> (counter, value): value is a grade index or a consent colour
    last: dict[tuple[int, int], tuple[int, int | str]] = field(default_factory=dict)
    profiles: dict[int, MeritProfile] = field(default_factory=dict)
    colours: dict[str, int] = field(default_factory=dict)
    # keypad -> when its counted press arrived; its keys are the voters, in the order they voted
    order: dict[int, float] = field(default_factory=dict)
    settled_turnout: int | None = None  # set when the per-keypad detail is dropped (``settle``)
    # item -> assembly -> value -> count: what a settled poll keeps of its presses
    settled_by_assembly: dict[int, dict[str, Counter[int | str]]] = field(default_factory=dict)

    @property
    def voters(self) -> KeysView[int]:
        """The keypads with a counted press (empty once the poll is settled)."""
        return self.order.keys()

    @property
    def turnout(self) -> int:
        return len(self.order) if self.settled_turnout is None else self.settled_turnout

    def judgments_by_assembly(self, item: int, where: Mapping[int, str]) -> dict[str, Counter[int | str]]:
        """Each assembly's judgments on ``item`` (grade index or colour -> count); ``where``:
        keypad id -> assembly (a keypad it does not name is in none, "")."""
        if self.settled_turnout is not None:
            return self.settled_by_assembly.get(item, {})
        return self._by_assembly(where).get(item, {})

    def _by_assembly(self, where: Mapping[int, str]) -> dict[int, dict[str, Counter[int | str]]]:
        """Item -> assembly -> value -> count, in one pass counted by ``Counter`` (a poll of
        5,000 keypads is settled 200 times in a long day's replay)."""
        get = where.get
        counted = Counter((item, get(kid, ""), value) for (kid, item), (_, value) in self.last.items())
        out: dict[int, dict[str, Counter[int | str]]] = {i: {} for i in self.items}
        for (item, assembly, value), n in counted.items():
            by = out[item].get(assembly)
            if by is None:
                by = out[item][assembly] = Counter()
            by[value] = n
        return out

    def settle(self, where: Mapping[int, str]) -> None:
        """Drop what only an active or shown poll needs (each keypad's last press and arrival),
        keeping the counts, also by assembly (``where``: keypad id -> assembly): a day of 200
        polls then holds 200 polls' counts, not a million presses."""
        if self.settled_turnout is None:
            self.settled_by_assembly = self._by_assembly(where)
            self.settled_turnout = len(self.order)
            self.last = {}
            self.order = {}

    def tally(self, item: int) -> list[int]:
        return list(self.profiles[item].counts)


class Decision(NamedTuple):
    status: PressStatus
    poll_id: int  # the poll the keypad should consider current (0: none yet)
    keypad_number: int | None = None
    enrolled: Keypad | None = None


class SessionView(Protocol):
    """The session as everything but its one writer sees it: what can be read, nothing that
    changes it. The engine hands this out (``Engine.session``); only the engine's loop, through
    presses and declared commands, changes the session itself, and mypy holds anyone else to it.
    """

    @property
    def config(self) -> SessionConfig: ...
    @property
    def keypads(self) -> Mapping[int, Keypad]: ...
    @property
    def proposals(self) -> Mapping[int, Proposal]: ...
    @property
    def polls(self) -> Sequence[Poll]: ...
    @property
    def current(self) -> int | None: ...
    @property
    def statuses(self) -> Mapping[PressStatus, int]: ...
    @property
    def display(self) -> Mapping[str, str]: ...
    @property
    def highest(self) -> Mapping[int, int]: ...
    @property
    def active(self) -> Poll | None: ...
    @property
    def quiet(self) -> bool: ...
    @property
    def last_poll_id(self) -> int: ...
    @property
    def electorate(self) -> int: ...
    def poll(self, poll_id: int) -> Poll: ...
    def roster_index(self) -> tuple[dict[int, str], Counter[str]]: ...
    def press_status(self, keypad_id: int, counter: int) -> PressStatus | None: ...
    def keypad_numbers(self, keypad_ids: Iterable[int]) -> list[int]: ...
    def turnout(self, poll: Poll) -> int: ...
    def round_of(self, poll: Poll) -> int: ...
    def speaking_queue(self, poll: Poll) -> list[dict[str, Any]]: ...
    def final_tallies(self) -> dict[int, list[int]]: ...
    def revealed_ranking(self) -> Ranking: ...
    def ranking(self, revealed_only: bool = False) -> Ranking: ...
    def poll_ranking(self, poll: Poll) -> Ranking: ...


class Session:
    """The state of one session; only the hub's loop calls the methods that change it."""

    def __init__(self, config: SessionConfig, check_mic: MicCheck | None = None) -> None:
        self.config = config
        # Without a checker no MIC verifies: a session that was not given one refuses every
        # press that needs a MIC rather than accept it unchecked.
        self._check_mic = check_mic
        self.keypads: dict[int, Keypad] = {k.keypad_id: k for k in config.roster}
        self.proposals: dict[int, Proposal] = {p.number: p for p in config.proposals}
        self.polls: list[Poll] = []
        self._by_id: dict[int, Poll] = {}
        self.current: int | None = config.proposals[0].number if config.proposals else None
        self.seen = SeenPresses()
        self.statuses: dict[PressStatus, int] = dict.fromkeys(PressStatus, 0)
        self.battery = Batteries()
        # Each keypad's highest counter in this session among presses that passed the MIC check
        # (the keypad store learns those of keypads with a key: `clicker keypads sync`), the poll
        # during which it was last raised, and what it was before that poll (O(1) per press).
        self.highest: dict[int, int] = {}
        self._raised_in: dict[int, int] = {}
        self._before: dict[int, int] = {}
        self._grade_of = {k: i for i, k in enumerate(config.grade_keys)}
        # Bumped by what changes the session's description and the polls' history, so that what
        # is derived from them (the live state's parts, the ranking) is rebuilt only then.
        self.config_revision = 0
        self.history_revision = 0
        self.reveal_revision = 0  # only a reveal or a reset changes the ranking of revealed polls
        self._ranking: tuple[tuple[int, int, int], Ranking] | None = None
        self._roster_index: tuple[tuple[int, int], tuple[dict[int, str], Counter[str]]] | None = None
        # what the projector shows, chosen from the console: the poll or the ranking, for the
        # plenary (""), one assembly, or every assembly ("*")
        self.display: dict[str, str] = {"view": "auto", "assembly": ""}

    # --- facilitator actions -------------------------------------------------------------

    @property
    def active(self) -> Poll | None:
        return self.polls[-1] if self.polls and self.polls[-1].state in ACTIVE else None

    @property
    def v1(self) -> bool:
        """A session journaled before protocol v1.1: recounted by v1's rules."""
        return self.config.nonce is None

    @property
    def quiet(self) -> bool:
        """No poll in flight: none open or closing, and the last one not closed awaiting its
        reveal. Only a journal head taken at such a moment is published (a head taken earlier
        commits to keys whose result is still secret)."""
        last = self.polls[-1] if self.polls else None
        return last is None or last.state not in (*ACTIVE, PollState.CLOSED)

    @property
    def last_poll_id(self) -> int:
        """The poll a keypad should consider current: the last one, 0 before the first."""
        if not self.polls:
            return UNKNOWN_POLL if self.v1 else NO_POLL
        return self.polls[-1].poll_id

    def press_status(self, keypad_id: int, counter: int) -> PressStatus | None:
        """The status a keypad's press was given (None if the hub never decided it)."""
        return self.seen.get((keypad_id, counter))

    def poll(self, poll_id: int) -> Poll:
        poll = self._by_id.get(poll_id)
        if poll is None:
            raise SessionError(f"no poll {poll_id}", "no_poll", poll_id=poll_id)
        return poll

    def replace_proposals(self, proposals: list[Proposal]) -> None:
        """Load the fiches from the console: only before any vote, so no result changes meaning."""
        if self.polls:
            raise SessionError("the fiches cannot change once a vote has been held", "locked")
        numbers = [p.number for p in proposals]
        if not proposals or len(set(numbers)) != len(numbers):
            raise SessionError("the fiches need distinct numbers")
        self.config.proposals = list(proposals)
        self.proposals = {p.number: p for p in proposals}
        self.current = proposals[0].number
        self.config_revision += 1

    def replace_roster(self, keypads: list[Keypad]) -> None:
        """Load the roster from the console: only before any vote."""
        if self.polls:
            raise SessionError("the roster cannot change once a vote has been held", "locked")
        if len({k.keypad_id for k in keypads}) != len(keypads) or len({k.number for k in keypads}) != len(
            keypads
        ):
            raise SessionError("keypad ids and short numbers must be distinct")
        self.config.roster = list(keypads)
        self.keypads = {k.keypad_id: k for k in keypads}
        self.config_revision += 1

    def _stay_while_voting(self) -> None:
        """The room is voting on the fiche up: moving away is refused until the poll is closed."""
        poll = self.active
        if poll is not None:
            raise SessionError(
                f"poll {poll.poll_id} is still {poll.state}: close it before moving to another proposal",
                "poll_active",
                poll_id=poll.poll_id,
                state=str(poll.state),
            )

    def select(self, number: int) -> None:
        """Put a proposal up (the projector shows it; the next grades poll is on it)."""
        if number not in self.proposals:
            raise SessionError(f"no proposal {number}", "no_proposal", number=number)
        if number != self.current:
            self._stay_while_voting()
        self.current = number

    def step(self, delta: int) -> int:
        """Next (+1) or previous (-1) proposal in the session's order."""
        order = [p.number for p in self.config.proposals]
        if self.current is None:
            raise SessionError("the session has no proposal", "no_proposal")
        i = order.index(self.current) + delta
        if not 0 <= i < len(order):
            raise SessionError(
                "no next proposal" if delta > 0 else "no previous proposal",
                "no_next" if delta > 0 else "no_previous",
            )
        self._stay_while_voting()
        self.current = order[i]
        return self.current

    def show(self, view: str, assembly: str = "") -> None:
        """Choose what the projector shows: ``auto`` (the poll) or ``ranking``, for the plenary
        (""), an assembly of the roster, or every assembly ("*")."""
        if view not in ("auto", "ranking"):
            raise SessionError(f"unknown view {view!r} (auto or ranking)", "bad_view")
        known = {k.assembly for k in self.keypads.values()} - {""}
        if assembly not in ("", "*") and assembly not in known:
            raise SessionError(f"no assembly {assembly!r} in the roster", "no_assembly", assembly=assembly)
        self.display = {"view": view, "assembly": assembly}

    def open_poll(
        self,
        mode: PollMode,
        now: float,
        items: Iterable[int] | None = None,
        countdown_s: float | None = None,
        countdown_close: bool = False,
    ) -> Poll:
        if self.active is not None:
            raise SessionError(
                f"poll {self.active.poll_id} is still {self.active.state}: close it first",
                "poll_active",
                poll_id=self.active.poll_id,
                state=str(self.active.state),
            )
        mode = PollMode(mode)
        if mode is PollMode.NONE:
            raise SessionError("a poll needs a mode: grades, consent or self-paced")
        chosen = tuple(items) if items is not None else None
        if mode is PollMode.SELF_PACED:
            if not chosen:
                raise SessionError("a self-paced poll needs its proposals")
        elif chosen is None:
            chosen = (self.current,) if self.current is not None else (0,)
            if mode is PollMode.GRADES and self.current is None:
                raise SessionError("no proposal selected")
        elif len(chosen) != 1:
            raise SessionError("this kind of poll is on one proposal")
        for n in chosen:
            if n not in self.proposals and not (mode is PollMode.CONSENT and n == 0):
                raise SessionError(f"no proposal {n}")
        if len(set(chosen)) != len(chosen):
            raise SessionError("a proposal appears twice in the poll")
        if len(chosen) > MAX_ITEMS:
            raise SessionError(f"a self-paced poll holds at most {MAX_ITEMS} proposals")
        poll_id = self.polls[-1].poll_id + 1 if self.polls else 1
        if poll_id >= UNKNOWN_POLL:
            raise SessionError("this session has used every poll number")
        if countdown_s is not None and not 0 < countdown_s <= 3600:
            raise SessionError("a countdown lasts between 1 s and 1 hour", "countdown_range")
        if countdown_close and countdown_s is None:
            raise SessionError("closing at the end of the countdown needs a countdown", "countdown_range")
        poll = Poll(poll_id, mode, chosen, now, countdown_s=countdown_s, countdown_close=countdown_close)
        if mode is not PollMode.CONSENT:  # earlier rounds on these proposals (reset ones discarded)
            poll.round = 1 + sum(
                1
                for p in self.polls
                if p.mode is not PollMode.CONSENT
                and p.state is not PollState.RESET
                and set(p.items) & set(chosen)
            )
        if mode is PollMode.CONSENT:
            poll.colours = dict.fromkeys(CONSENT_COLOURS, 0)
        else:
            poll.profiles = {n: MeritProfile(len(self.config.scale)) for n in chosen}
        if self.polls:  # no longer shown: its counts are all that is needed now
            self.polls[-1].settle(self.roster_index()[0])
        self.polls.append(poll)
        self._by_id[poll_id] = poll
        self.history_revision += 1
        if mode is PollMode.GRADES:
            self.current = chosen[0]
        return poll

    def close_poll(self, now: float, poll_id: int | None = None, by: str = "facilitator") -> Poll:
        """Close the open poll (``poll_id``, when given, must be it: a countdown's close never
        closes another poll)."""
        poll = self.active
        if poll is None or poll.state is not PollState.OPEN or poll_id not in (None, poll.poll_id):
            raise SessionError("no open poll to close", "no_open_poll")
        poll.state = PollState.CLOSING
        poll.closed_at = now
        self.history_revision += 1
        poll.closed_by = by
        return poll

    def countdown_ends_at(self) -> tuple[int, float] | None:
        """(poll id, when) the open poll is to be closed by its countdown, if it is."""
        poll = self.active
        if poll is None or poll.state is not PollState.OPEN or not poll.countdown_close:
            return None
        assert poll.countdown_s is not None
        return poll.poll_id, poll.opened_at + poll.countdown_s

    def grace_ends_at(self) -> float | None:
        poll = self.active
        if poll is None or poll.state is not PollState.CLOSING:
            return None
        assert poll.closed_at is not None
        return poll.closed_at + self.config.grace_s

    def finish_grace(self) -> Poll:
        """End the grace period (the loop does this when its time has come)."""
        poll = self.active
        if poll is None or poll.state is not PollState.CLOSING:
            raise SessionError("no poll in its grace period")
        poll.state = PollState.CLOSED
        self.history_revision += 1
        return poll

    def reveal(self, poll_id: int | None = None) -> Poll:
        poll = self.poll(poll_id) if poll_id is not None else (self.polls[-1] if self.polls else None)
        if poll is None:
            raise SessionError("no poll to reveal", "no_poll")
        if poll.state is not PollState.CLOSED:
            raise SessionError(
                f"poll {poll.poll_id} is {poll.state}: only a closed poll can be revealed",
                "not_closed",
                poll_id=poll.poll_id,
                state=str(poll.state),
            )
        poll.state = PollState.REVEALED
        self.history_revision += 1
        self.reveal_revision += 1
        return poll

    def reset_poll(self, poll_id: int, reason: str) -> Poll:
        if not reason.strip():
            raise SessionError("a reset needs a reason (it is journaled)", "reason_needed")
        poll = self.poll(poll_id)
        if poll.state is PollState.RESET:
            raise SessionError(f"poll {poll_id} is already reset", "already_reset", poll_id=poll_id)
        poll.state = PollState.RESET
        poll.reset_reason = reason.strip()
        self.history_revision += 1
        self.reveal_revision += 1
        return poll

    # --- presses ---------------------------------------------------------------------------

    def handle_press(self, press: Press) -> Decision:
        """Decide a press and apply it; every press gets exactly one status.

        The press path of a live day and of a restart's replay (a million presses in a long
        day's journal): the common case, a keypad's counted press in the open poll, runs as one
        function over local names, each rule below in the order docs/protocol.md gives them."""
        status, number, enrolled = self._decide(press)
        self.statuses[status] += 1
        return _tuple_new(Decision, (status, self.last_poll_id, number, enrolled))

    def recount_press(self, press: Press) -> tuple[PressStatus, int]:
        """``handle_press`` for a replay, which needs only the status and the poll id."""
        status = self._decide(press)[0]
        self.statuses[status] += 1
        return status, self.last_poll_id

    def _decide(self, press: Press) -> tuple[PressStatus, int | None, Keypad | None]:
        """(status, the keypad's short number, the keypad if this press enrolled it)."""
        kid, counter, poll_id, item, key, level, _, age_ms, _, _, at, nonce = press
        keypad = self.keypads.get(kid)
        enrolled = None
        config = self.config
        if keypad is None:
            if not config.open_roster:
                return PressStatus.UNKNOWN_KEYPAD, None, None
            number = max((k.number for k in self.keypads.values()), default=0) + 1
            keypad = enrolled = Keypad(kid, number, enrolled=True)
            self.keypads[kid] = keypad
        number = keypad.number
        v1 = config.nonce is None
        if nonce != config.nonce and not v1:  # another session's (or none)
            return PressStatus.STALE_SESSION, number, enrolled
        mic_key = keypad.key
        if mic_key is None:
            if config.require_mic:
                return PressStatus.BAD_MIC, number, enrolled
        elif self._check_mic is None or not self._check_mic(mic_key, press, 1 if v1 else REVISION):
            return PressStatus.BAD_MIC, number, enrolled
        if counter <= keypad.counter:  # at or below its highest of earlier sessions
            return PressStatus.STALE_SESSION, number, enrolled
        if level != 0xFF and self.battery.get(kid) != level:
            self.battery[kid] = level
        polls = self.polls
        poll = polls[-1] if polls else None
        highest = self.highest.get(kid, 0)
        if counter > highest:  # its highest counter, and what it was when the last poll opened
            current = NO_POLL if poll is None else poll.poll_id
            if self._raised_in.get(kid) != current:
                self._before[kid] = highest
                self._raised_in[kid] = current
            self.highest[kid] = counter
        page, index = self.seen.slot(kid, counter)
        code = page[index]
        if code:  # seen before: the same answer (a counted press is now a duplicate)
            earlier = _STATUSES[code - 1]
            if earlier is PressStatus.COUNTED or earlier is PressStatus.DUPLICATE:
                return PressStatus.DUPLICATE, number, enrolled
            return earlier, number, enrolled
        status = self._apply(poll, kid, counter, poll_id, item, key, at - age_ms / 1000, at, v1)
        self.seen.settle(page, index, status)
        return status, number, enrolled

    def _highest_before(self, keypad_id: int, poll_id: int) -> int:
        """The highest counter the keypad had used when the poll opened."""
        if self._raised_in.get(keypad_id) == poll_id:
            return self._before[keypad_id]
        return self.highest.get(keypad_id, 0)

    def _apply(
        self,
        poll: Poll | None,
        kid: int,
        counter: int,
        poll_id: int,
        item: int,
        key: str,
        made_at: float,
        at: float,
        v1: bool,
    ) -> PressStatus:
        """A new press's status in ``poll``, the last one (if any), and its count."""
        state = None if poll is None else poll.state
        if poll is None or (state is not PollState.OPEN and state is not PollState.CLOSING):
            if v1 and poll_id != UNKNOWN_POLL and poll_id not in self._by_id:
                return PressStatus.STALE_POLL  # v1 named a poll that never existed so
            return PressStatus.POLL_CLOSED  # whatever poll it names: nothing is open
        if poll_id != UNKNOWN_POLL and poll_id != poll.poll_id:
            return PressStatus.STALE_POLL
        if poll_id == UNKNOWN_POLL and (
            made_at < poll.opened_at or (not v1 and counter <= self._highest_before(kid, poll.poll_id))
        ):
            # made before this poll opened, for an older one: by its age, or provably by its
            # counter (not above one the keypad had already used when the poll opened)
            return PressStatus.STALE_POLL
        if state is PollState.CLOSING:
            assert poll.closed_at is not None
            if made_at > poll.closed_at or at > poll.closed_at + self.config.grace_s:
                return PressStatus.POLL_CLOSED
        mode = poll.mode
        value: int | str | None
        if mode is PollMode.CONSENT:
            value = self.config.consent_keys.get(key)
        else:
            value = self._grade_of.get(key)
        if value is None:
            return PressStatus.INVALID_KEY
        items = poll.items
        if item == 0 and mode is not PollMode.SELF_PACED:
            item = items[0]
        elif item not in items:
            return PressStatus.INVALID_KEY
        slot = (kid, item)
        last = poll.last
        previous = last.get(slot)
        if previous is None:
            last[slot] = (counter, value)
            poll.order.setdefault(kid, at)
            if mode is PollMode.CONSENT:
                poll.colours[value] += 1  # type: ignore[index]
            else:
                poll.profiles[item].add(value)  # type: ignore[arg-type]
            return PressStatus.COUNTED
        if previous[0] > counter:
            return PressStatus.SUPERSEDED
        self._count(poll, item, previous[1], -1)
        last[slot] = (counter, value)
        self._count(poll, item, value, +1)
        poll.order.setdefault(kid, at)
        if mode is PollMode.CONSENT and previous[1] != value:
            poll.order[kid] = at  # a changed card goes to the back of its queue
        return PressStatus.COUNTED

    @staticmethod
    def _count(poll: Poll, item: int, value: int | str, delta: int) -> None:
        if isinstance(value, str):
            poll.colours[value] += delta
        elif delta > 0:
            poll.profiles[item].add(value)
        else:
            poll.profiles[item].remove(value)

    # --- results -------------------------------------------------------------------------------

    @property
    def electorate(self) -> int:
        if self.config.electorate is not None:
            return self.config.electorate
        return len(self.keypads)

    def turnout(self, poll: Poll) -> int:
        return poll.turnout

    def keypad_numbers(self, keypad_ids: Iterable[int]) -> list[int]:
        return sorted(self.keypads[k].number for k in keypad_ids if k in self.keypads)

    def round_of(self, poll: Poll) -> int:
        """1 for a proposal's first grades poll, 2 for its second round, and so on."""
        return poll.round

    def speaking_queue(self, poll: Poll) -> list[dict[str, Any]]:
        """Consent round: keypad numbers with red first, then orange, then yellow, in order of pressing."""
        colour_of = {kid: value for (kid, _), (_, value) in poll.last.items()}
        queue = []
        for colour in CONSENT_PRIORITY:
            ids = sorted((kid for kid, c in colour_of.items() if c == colour), key=lambda k: poll.order[k])
            queue += [{"number": self.keypads[k].number, "colour": colour} for k in ids]
        return queue

    def final_tallies(self) -> dict[int, list[int]]:
        """Each proposal's tally from its latest closed or revealed grades poll."""
        out: dict[int, list[int]] = {}
        for poll in self.polls:
            if poll.mode is PollMode.CONSENT or poll.state not in (PollState.CLOSED, PollState.REVEALED):
                continue
            for item in poll.items:
                out[item] = poll.tally(item)
        return out

    def roster_index(self) -> tuple[dict[int, str], Counter[str]]:
        """Each keypad's assembly, and the roster's keypads per assembly: rebuilt only when the
        roster changes (an import, an enrolment), never per poll. Read them, never mutate them."""
        key = (self.config_revision, len(self.keypads))
        if self._roster_index is None or self._roster_index[0] != key:
            keypads = self.keypads.values()
            index = ({k.keypad_id: k.assembly for k in keypads}, Counter(k.assembly for k in keypads))
            self._roster_index = (key, index)
        return self._roster_index[1]

    def revealed_ranking(self) -> Ranking:
        """The ranking of the revealed proposals, recomputed only when a reveal or a reset, the
        proposals or the electorate changed it (never on a press, nor on an open or a close)."""
        key = (self.reveal_revision, self.config_revision, self.electorate)
        if self._ranking is None or self._ranking[0] != key:
            self._ranking = (key, self.ranking(revealed_only=True))
        return self._ranking[1]

    def ranking(self, revealed_only: bool = False) -> Ranking:
        """Every proposal with a closed (or, with ``revealed_only``, revealed) grades poll."""
        tallies: dict[str, list[int]] = {}
        for poll in self.polls:
            if poll.mode is PollMode.CONSENT:
                continue
            if poll.state is PollState.REVEALED or (not revealed_only and poll.state is PollState.CLOSED):
                for item in poll.items:
                    tallies[self.proposals[item].label] = poll.tally(item)
        # session order, labelled "Fiche N" so that explanations read as sentences
        return self._rank({p.label: tallies[p.label] for p in self.config.proposals if p.label in tallies})

    def poll_ranking(self, poll: Poll) -> Ranking:
        """The proposals of one poll, ranked (one row for a single-proposal poll)."""
        return self._rank({self.proposals[i].label: poll.tally(i) for i in poll.items})

    def _rank(self, tallies: dict[str, list[int]]) -> Ranking:
        electorate = max([self.electorate, *(sum(t) for t in tallies.values())])
        return rank(tallies, self.config.scale, self.config.rule, self.config.missing, electorate)
