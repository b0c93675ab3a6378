"""What the running hub keeps up to date press by press (each poll's turnout, tallies and
colours, the voters shown, the revealed ranking, the live state's parts) equals a recount from
nothing but its journal's records, after every step of random sessions driven through the
engine: presses in batches (repeats, supersessions, stale and unknown polls, keys of neither
kind) and the facilitator's commands, refused ones included (they journal nothing)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from hub.commands import ClosePoll, Command, EndGrace, OpenPoll, ResetPoll, Reveal, Select
from hub.engine import Engine
from hub.journal import Journal, JournalReader
from hub.model import PollMode, Press, PressStatus
from hub.records import PressRecord
from hub.session import PollState, SessionError
from hub.tally import rank
from hub.tally_io import ranking_to_json
from tests.conftest import make_config

KEYPADS = [1001 + i for i in range(6)] + [4242]  # 4242 is not in the roster
KEYS = "1234567ABCD#"
STEPS = 70


def journal_recount(db, engine: Engine) -> dict:
    """Each poll's counts and the revealed ranking, from the journal's press records alone (the
    polls' modes, items and states are taken from the hub: they are what is compared against)."""
    session = engine.session
    cfg = session.config
    last: dict[int, dict[tuple[int, int], Press]] = {p.poll_id: {} for p in session.polls}
    with JournalReader(db) as reader:
        for rec in reader.records():
            body = rec.body
            if not isinstance(body, PressRecord) or body.status != PressStatus.COUNTED:
                continue
            poll = session.poll(body.poll_id)
            p = body.press
            item = poll.items[0] if p.item == 0 and poll.mode is not PollMode.SELF_PACED else p.item
            slot = (p.keypad_id, item)
            if slot not in last[poll.poll_id] or last[poll.poll_id][slot].counter < p.counter:
                last[poll.poll_id][slot] = p
    polls = {}
    for poll in session.polls:
        presses = last[poll.poll_id]
        counts = {}
        for item in poll.items if poll.mode is not PollMode.CONSENT else ():
            grades = Counter(cfg.grade_keys.index(p.key) for (_, i), p in presses.items() if i == item)
            counts[item] = [grades[g] for g in range(len(cfg.scale))]
        colours = (
            Counter(cfg.consent_keys[p.key] for p in presses.values())
            if poll.mode is PollMode.CONSENT
            else {}
        )
        polls[poll.poll_id] = {"voters": {k for k, _ in presses}, "tallies": counts, "colours": colours}
    revealed: dict[str, list[int]] = {}
    for poll in session.polls:  # the latest revealed grades poll of each proposal
        if poll.mode is not PollMode.CONSENT and poll.state is PollState.REVEALED:
            for item in poll.items:
                revealed[session.proposals[item].label] = polls[poll.poll_id]["tallies"][item]
    tallies = {p.label: revealed[p.label] for p in cfg.proposals if p.label in revealed}
    electorate = max([session.electorate, *(sum(t) for t in tallies.values())])
    ranking = rank(tallies, cfg.scale, cfg.rule, cfg.missing, electorate)
    return {"polls": polls, "ranking": ranking_to_json(ranking)}


def check(db, engine: Engine) -> None:
    session = engine.session
    want = journal_recount(db, engine)
    for poll in session.polls:
        counted = want["polls"][poll.poll_id]
        assert poll.turnout == len(counted["voters"]), poll.poll_id
        if poll.mode is PollMode.CONSENT:
            assert {c: n for c, n in poll.colours.items() if n} == dict(counted["colours"])
        else:
            assert {i: poll.tally(i) for i in poll.items} == counted["tallies"]
    state = engine.snapshot()
    assert ranking_to_json(session.revealed_ranking()) == want["ranking"]
    assert [(r["proposal"], r["rank"], r["tally"]) for r in state["ranking"]["ranking"]] == [
        (r["proposal"], r["rank"], r["tally"]) for r in want["ranking"]["ranking"]
    ]
    assert [p["turnout"] for p in state["polls"]] == [
        None if p is session.active else len(want["polls"][p.poll_id]["voters"]) for p in session.polls
    ]
    if session.polls:
        shown = session.active or session.polls[-1]
        voters = want["polls"][shown.poll_id]["voters"]
        assert state["poll"]["turnout"] == len(voters)
        assert state["poll"]["voted"] == sorted(session.keypads[k].number for k in voters)


def a_command(rnd: random.Random, engine: Engine) -> Command:
    """Mostly the next step of the last poll's life; sometimes any command, refused or not."""
    session = engine.session
    last = session.polls[-1] if session.polls else None
    if rnd.random() < 0.7:
        if last is not None and last.state is PollState.OPEN:
            return ClosePoll()
        if last is not None and last.state is PollState.CLOSING:
            return EndGrace()
        if last is not None and last.state is PollState.CLOSED:
            return Reveal()
        mode = rnd.choice([PollMode.GRADES, PollMode.GRADES, PollMode.CONSENT, PollMode.SELF_PACED])
        return OpenPoll(mode, (1, 2) if mode is PollMode.SELF_PACED else None)
    return rnd.choice(
        [
            OpenPoll(PollMode.GRADES),
            ClosePoll(),
            EndGrace(),
            Reveal(),
            ResetPoll(rnd.randint(1, 6), "essai"),
            Select(rnd.randint(1, 3)),
        ]
    )


class Presses:
    """Random presses: rising counters per keypad, some sent again, some out of order; mostly
    keys of the poll's kind, some of the other kind or of neither; mostly the current poll."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.counter = dict.fromkeys(KEYPADS, 0)
        self.sent: list[Press] = []

    def __call__(self, engine: Engine) -> Press:
        rnd = self.rnd
        if self.sent and rnd.random() < 0.1:
            return rnd.choice(self.sent)  # a retransmission: the same answer again
        kid = rnd.choice(KEYPADS)
        self.counter[kid] += rnd.choice([1, 1, 1, 2])  # a lost press now and then
        counter = self.counter[kid] - (rnd.random() < 0.1)  # one that overtook another
        session = engine.session
        last = session.polls[-1] if session.polls else None
        consent = last is not None and last.mode is PollMode.CONSENT
        keys = session.config.consent_keys if consent else session.config.grade_keys
        press = Press(
            kid,
            counter,
            rnd.choice([session.last_poll_id] * 4 + [0xFFFF, 1]),
            rnd.choice([0, 0, 0, 1, 2, 3]),
            rnd.choice(list(keys)) if rnd.random() < 0.9 else rnd.choice(KEYS),
            at=engine.clock(),
        )
        self.sent.append(press)
        return press


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_live_aggregates_equal_a_recount_of_the_journal(tmp_path, seed):
    rnd = random.Random(seed)
    a_press = Presses(rnd)
    db = tmp_path / "s.db"
    now = [100.0]
    engine = await Engine.open(
        Journal(db), make_config(n_keypads=6, n_props=3), clock=lambda: now[0], timers=False
    )
    try:
        for _ in range(STEPS):
            now[0] += 0.4
            polling = bool(engine.session.polls) and engine.session.polls[-1].state is PollState.OPEN
            if rnd.random() < (0.15 if polling else 0.6):
                try:
                    await engine.act(a_command(rnd, engine))
                except SessionError:
                    pass  # refused: nothing journaled, nothing changed
            else:
                for _ in range(rnd.randint(1, 12)):  # one batch: decided in one loop turn or two
                    assert engine.submit_press(a_press(engine), None)
                await engine.wait_until(lambda: engine.idle, 10)
            check(db, engine)
        assert any(p.state is PollState.REVEALED for p in engine.session.polls)
    finally:
        await engine.stop()
