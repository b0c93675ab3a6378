"""The live state at the end of a long day: its live part does not grow with the history, the
history is rebuilt only when a poll changes state (never on a press), and /ws/live sends a part
only to a client that does not hold its revision yet."""

from __future__ import annotations

import asyncio
import json

import orjson
import websockets

from hub.commands import ClosePoll, OpenPoll, Reveal
from hub.engine import Engine
from hub.journal import Journal
from hub.live import LIVE_KEYS, LiveState, live_part
from hub.model import PollMode, Press
from hub.session import Session
from hub.web.server import start_web
from tests.conftest import make_config

TOKEN = "live-token"


def run_polls(session: Session, polls: int, start: float = 0.0) -> float:
    """``polls`` revealed grades polls, every keypad voting once in each."""
    now = start
    for _ in range(polls):
        now += 10
        poll = session.open_poll(PollMode.GRADES, now)
        for kid in session.keypads:
            session.handle_press(Press(kid, poll.poll_id, poll.poll_id, 0, "1234567"[kid % 7], at=now + 1))
        session.close_poll(now + 2)
        session.finish_grace()
        session.reveal()
        if session.current != session.config.proposals[-1].number:
            session.step(+1)
    return now


def test_the_live_part_weighs_the_same_at_poll_60_as_at_poll_2():
    session = Session(make_config(n_keypads=40, n_props=60))
    live = LiveState(session)
    now = run_polls(session, 2)
    early = live.build(1, [], set(), now)
    now = run_polls(session, 58, now)
    late = live.build(2, [], set(), now)
    assert len(late["polls"]) == 60 and len(late["ranking"]["ranking"]) == 60  # the history grew
    size = [len(orjson.dumps(live_part(s))) for s in (early, late)]
    assert abs(size[0] - size[1]) <= 16, size  # only numbers of a few more digits
    assert set(live_part(late)) == set(LIVE_KEYS)


def test_presses_rebuild_the_live_part_only():
    session = Session(make_config(n_keypads=10, n_props=5))
    live = LiveState(session)
    now = run_polls(session, 3)
    session.open_poll(PollMode.GRADES, now + 10)
    before = live.build(1, [], set(), now)
    for kid in list(session.keypads)[:4]:
        session.handle_press(Press(kid, 100, 4, 0, "5", at=now + 11))
    after = live.build(2, [], set(), now)
    assert after["poll"]["turnout"] == 4 and after["poll"]["voted"] == [1, 2, 3, 4]
    for key in ("session", "proposals", "polls", "ranking"):
        assert after[key] is before[key]  # shared, not rebuilt
    assert after["revisions"] == before["revisions"]
    assert after["polls"][-1]["turnout"] is None  # the active poll's count lives in "poll"
    session.close_poll(now + 12)
    closing = live.build(3, [], set(), now)
    assert closing["revisions"]["history"] == 3 and closing["polls"] is not after["polls"]
    assert closing["polls"][-1]["state"] == "closing" and closing["session"] is before["session"]


async def test_ws_sends_a_part_only_when_its_revision_moved(tmp_path):
    hub = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=5))
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{web.port}/ws/live") as ws:

            async def until(predicate):
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    merged.update(msg)
                    seen.append(msg)
                    if predicate(merged):
                        return msg

            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert {"session", "proposals", "polls", "ranking"} <= set(first)
            merged, seen = dict(first), [first]
            await hub.act(OpenPoll(PollMode.GRADES))
            opened = await until(lambda s: s["poll"] is not None)
            assert opened["polls"][0]["state"] == "open" and "session" not in opened
            for i in range(5):
                hub.submit_press(Press(1001 + i, 1, 1, 0, "1234567"[i], at=hub.clock()), None)
            await until(lambda s: s["poll"]["turnout"] == 5)
            during = [m for m in seen if m["poll"] and m["poll"]["turnout"]]
            assert during and all("polls" not in m and "session" not in m for m in during)
            await hub.act(ClosePoll())
            await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 5)
            await hub.act(Reveal(1))
            await until(lambda s: s["poll"]["state"] == "revealed" and s["ranking"]["ranking"])
            full = hub.snapshot()
            for key in ("session", "proposals", "polls", "ranking", "revisions", "poll"):
                assert merged[key] == json.loads(orjson.dumps(full[key])), key
    finally:
        await web.stop()
        await hub.stop()


def test_a_history_update_rebuilds_only_the_polls_that_changed(monkeypatch):
    """At poll 60 as at poll 2, opening, closing or ending a grace period builds one or two
    polls' summaries (the poll concerned and the one it follows), a reveal or a reset those of
    the polls concerned; every other poll's summary is the same object as before."""
    import hub.live

    session = Session(make_config(n_keypads=10, n_props=61))
    live = LiveState(session)
    built: list[int] = []
    summary = hub.live.poll_summary

    def counting(poll, live_turnout=True):
        if not live_turnout:  # the history's summaries (the live part has its own)
            built.append(poll.poll_id)
        return summary(poll, live_turnout)

    monkeypatch.setattr(hub.live, "poll_summary", counting)
    version = 0

    def update(change):
        nonlocal version
        before = live.build(version, [], set(), 0.0)
        built.clear()
        change()
        version += 1
        after = live.build(version, [], set(), 0.0)
        kept = [i for i, (a, b) in enumerate(zip(before["polls"], after["polls"])) if a is b]
        return list(built), kept, after

    for polls_before in (1, 59):
        run_polls(session, polls_before - len(session.polls))
        n = len(session.polls)
        opened, kept, _ = update(lambda: session.open_poll(PollMode.GRADES, 1e6))
        assert opened == [n + 1] and kept == list(range(n))
        closed, kept, _ = update(lambda: session.close_poll(1e6 + 1))
        assert closed == [n + 1] and kept == list(range(n))
        ended, kept, _ = update(session.finish_grace)
        assert ended == [n + 1] and kept == list(range(n))
        revealed, kept, after = update(session.reveal)
        assert revealed == [n + 1] and kept == list(range(n))
        assert after["polls"][-1]["state"] == "revealed"
        session.step(+1)
    reset, kept, after = update(lambda: session.reset_poll(30, "wrong fiche shown"))
    assert reset == [30] and kept == [i for i in range(60) if i != 29]
    assert (after["polls"][29]["state"], after["polls"][29]["reset_reason"]) == ("reset", "wrong fiche shown")
    assert after["polls"] == [hub.live.poll_summary(p, live_turnout=False) for p in session.polls]


def test_each_part_is_encoded_once_per_revision_whatever_the_number_of_clients(monkeypatch):
    """Every projector and console gets the same bytes: the history (200 polls' summaries and
    the rankings at the end of a day) is encoded once when its revision moves, the live part
    once per version, never once per client."""
    import hub.web.broadcast as broadcast

    session = Session(make_config(n_keypads=10, n_props=8))
    live = LiveState(session)
    now = run_polls(session, 3)
    encoded: list[tuple[str, ...]] = []
    dumps = broadcast.orjson.dumps

    def counting(doc):
        encoded.append(tuple(doc)[:2])
        return dumps(doc)

    monkeypatch.setattr(broadcast.orjson, "dumps", counting)
    encoder = broadcast.Encoder()
    clients = [{} for _ in range(5)]  # the revisions each client holds
    first = live.build(1, [], set(), now)
    texts = [encoder.message(first, held) for held in clients]
    assert len(set(texts)) == 1 and {"polls", "session"} <= set(json.loads(texts[0]))
    assert sorted(encoded) == sorted([("type", "version"), ("session", "proposals"), ("polls", "ranking")])
    encoded.clear()
    session.open_poll(PollMode.GRADES, now + 10)
    opened = live.build(2, [], set(), now + 10)
    texts = [encoder.message(opened, held) for held in clients]
    assert len(set(texts)) == 1 and "session" not in json.loads(texts[0])
    assert sorted(encoded) == sorted([("type", "version"), ("polls", "ranking")])
