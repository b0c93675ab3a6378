"""What the session and the live state keep up to date press by press (tallies, colours,
turnout, voters, statuses, batteries, the revealed ranking) equals a full recount from every
press and action so far, after every step of random sessions."""

from __future__ import annotations

import dataclasses
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.live import LiveState
from hub.model import PollMode, Press, PressStatus
from hub.session import LOW_BATTERY, PollState, Session, SessionError
from hub.tally_io import ranking_to_json
from tests.conftest import make_config

KEYPADS = [1001 + i for i in range(6)] + [4242]  # 4242 is not in the roster
KEYS = "1234567ABCD#"

press_step = st.tuples(
    st.just("press"),
    st.sampled_from(KEYPADS),
    st.integers(1, 40),  # counter: repeats, reorderings and supersessions happen
    st.sampled_from(["current", "current", "unknown", "old"]),
    st.sampled_from([0, 0, 0, 1, 2, 3]),  # item
    st.sampled_from(KEYS),  # grade keys, consent keys, and keys of neither
    st.sampled_from([0xFF, 5, 19, 20, 90]),  # battery
    st.sampled_from([0, 0, 300, 3000]),  # age_ms
)
action_step = st.one_of(
    st.tuples(st.just("advance")),  # the next step of the last poll's life: close, grace, reveal, next
    st.tuples(st.just("advance")),
    st.tuples(st.just("open"), st.sampled_from([PollMode.GRADES, PollMode.CONSENT, PollMode.SELF_PACED])),
    st.tuples(st.just("close")),
    st.tuples(st.just("grace_end")),
    st.tuples(st.just("reveal")),
    st.tuples(st.just("reset"), st.integers(1, 8)),
    st.tuples(st.just("select"), st.integers(1, 3)),
)
# a poll opens first; then mostly presses, so that polls fill up, with every action in between
steps = st.lists(
    st.integers(0, 7).flatmap(lambda i: action_step if i == 0 else press_step), max_size=150
).map(lambda script: [("open", PollMode.GRADES), *script])


class Recount:
    """Every decision so far, and the aggregates recomputed from them from scratch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counted: list[tuple[int, Press]] = []  # (poll_id, press) of every COUNTED press
        self.first_status: dict[tuple[int, int], PressStatus] = {}
        self.battery: dict[int, int] = {}
        self.statuses: Counter[PressStatus] = Counter()

    def record(self, press: Press, status: PressStatus) -> None:
        self.statuses[status] += 1
        if status is PressStatus.UNKNOWN_KEYPAD:
            return
        if press.battery != 0xFF:
            self.battery[press.keypad_id] = press.battery
        if status is PressStatus.BAD_MIC:
            return
        self.first_status.setdefault((press.keypad_id, press.counter), status)
        if status is PressStatus.COUNTED:
            self.counted.append((self.session.active.poll_id, press))

    def check(self, live: LiveState) -> None:
        s = self.session
        cfg = s.config
        for poll in s.polls:
            last: dict[tuple[int, int], Press] = {}
            for poll_id, p in self.counted:
                if poll_id != poll.poll_id:
                    continue
                item = poll.items[0] if p.item == 0 and poll.mode is not PollMode.SELF_PACED else p.item
                slot = (p.keypad_id, item)
                if slot not in last or last[slot].counter < p.counter:
                    last[slot] = p
            assert poll.turnout == len({kid for kid, _ in last})
            for item in poll.items:
                by_assembly: dict[str, Counter] = {}
                for (kid, i), p in last.items():
                    if i == item:
                        value = (
                            cfg.consent_keys[p.key]
                            if poll.mode is PollMode.CONSENT
                            else cfg.grade_keys.index(p.key)
                        )
                        by_assembly.setdefault(s.keypads[kid].assembly, Counter())[value] += 1
                where = {k: kp.assembly for k, kp in s.keypads.items()}
                assert poll.judgments_by_assembly(item, where) == by_assembly
            if poll.mode is PollMode.CONSENT:
                colours = Counter(cfg.consent_keys[p.key] for p in last.values())
                assert poll.colours == {c: colours[c] for c in poll.colours}
            else:
                for item in poll.items:
                    counts = Counter(cfg.grade_keys.index(p.key) for (_, i), p in last.items() if i == item)
                    assert poll.tally(item) == [counts[g] for g in range(len(cfg.scale))]
            if poll is s.polls[-1]:  # the shown poll still knows who voted
                assert set(poll.voters) == {kid for kid, _ in last}
        for ident, status in self.first_status.items():
            assert s.seen.get(ident) is status
        assert len(s.seen) == len(self.first_status)
        assert s.battery.low == {k for k, b in self.battery.items() if b < LOW_BATTERY}
        assert s.roster_index() == (
            {kid: k.assembly for kid, k in s.keypads.items()},
            Counter(k.assembly for k in s.keypads.values()),
        )
        assert dict(s.statuses) == {st: self.statuses[st] for st in PressStatus}
        assert ranking_to_json(s.revealed_ranking()) == ranking_to_json(s.ranking(revealed_only=True))
        state = live.build(len(self.counted), [], set(), 0.0)
        shown = s.active or (s.polls[-1] if s.polls else None)
        if shown is not None:
            assert state["poll"]["turnout"] == shown.turnout
            assert state["poll"]["voted"] == sorted(s.keypads[k].number for k in shown.voters)
        # the history, kept poll by poll across the steps, is what a state built afresh holds
        afresh = LiveState(s).build(len(self.counted), [], set(), 0.0)
        for key in ("polls", "ranking", "rankings_by_assembly"):
            assert state[key] == afresh[key], key
        assert [p["state"] for p in state["polls"]] == [str(p.state) for p in s.polls]


@settings(max_examples=150, deadline=None)
@given(steps)
def test_incremental_aggregates_equal_a_full_recount(script):
    config = make_config(n_keypads=6, n_props=3)
    config.roster = [dataclasses.replace(k, assembly="AB"[k.number % 2]) for k in config.roster]
    session = Session(config)
    live = LiveState(session)
    recount = Recount(session)
    now = 100.0
    for step in script:
        now += 0.4
        try:
            if step[0] == "press":
                _, kid, counter, which, item, key, battery, age = step
                poll_id = {"current": session.last_poll_id, "unknown": 0xFFFF, "old": 1}[which]
                p = Press(kid, counter, poll_id, item, key, battery, 0, age, 0, "rx", now)
                recount.record(p, session.handle_press(p).status)
            elif step[0] == "advance":
                last = session.polls[-1] if session.polls else None
                if last is not None and last.state is PollState.OPEN:
                    session.close_poll(now)
                elif last is not None and last.state is PollState.CLOSING:
                    session.finish_grace()
                elif last is not None and last.state is PollState.CLOSED:
                    session.reveal()
                else:
                    mode = [PollMode.GRADES, PollMode.CONSENT, PollMode.SELF_PACED][len(session.polls) % 3]
                    session.open_poll(mode, now, (1, 2) if mode is PollMode.SELF_PACED else None)
            elif step[0] == "open":
                items = (1, 2) if step[1] is PollMode.SELF_PACED else None
                session.open_poll(step[1], now, items)
            elif step[0] == "close":
                session.close_poll(now)
            elif step[0] == "grace_end":
                session.finish_grace()
            elif step[0] == "reveal":
                session.reveal()
            elif step[0] == "reset":
                session.reset_poll(step[1], "test")
            elif step[0] == "select":
                session.select(step[1])
        except SessionError:
            pass  # refused: nothing changed, which the recount checks as well
        recount.check(live)


def test_a_settled_poll_keeps_its_counts_and_drops_its_presses():
    """Once the next poll opens, a poll holds its tallies, not one entry per keypad."""
    session = Session(make_config(n_keypads=6, n_props=3))
    session.open_poll(PollMode.GRADES, 1.0)
    for i, kid in enumerate(KEYPADS[:6]):
        session.handle_press(Press(kid, 1, 1, 0, "1234567"[i], at=2.0))
    session.close_poll(3.0)
    session.finish_grace()
    first = session.polls[0]
    assert len(first.last) == 6 and first.turnout == 6
    session.open_poll(PollMode.GRADES, 4.0)
    assert first.last == {} and first.order == {} and first.turnout == 6
    assert first.tally(1) == [1, 1, 1, 1, 1, 1, 0]
    assert first.state is PollState.CLOSED
    # a late retransmission of a press of the settled poll still gets its first answer
    assert session.handle_press(Press(KEYPADS[0], 1, 1, 0, "1", at=5.0)).status is PressStatus.DUPLICATE


def test_a_settled_self_paced_poll_counts_keypads_not_judgments():
    session = Session(make_config(n_keypads=6, n_props=3))
    poll = session.open_poll(PollMode.SELF_PACED, 1.0, (1, 2))
    session.handle_press(Press(1001, 1, 1, 1, "3", at=2.0))
    session.handle_press(Press(1001, 2, 1, 2, "4", at=2.0))
    session.close_poll(3.0)
    session.finish_grace()
    session.open_poll(PollMode.GRADES, 4.0)
    assert poll.turnout == 1 and poll.tally(1)[2] == 1 and poll.tally(2)[3] == 1
