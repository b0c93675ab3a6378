"""Recorded radio traffic cannot vote in another session: a genuine signed press recorded in
session A and written unchanged into session B (same roster, same keys) through the hub's real
serial transport is answered stale_session and counts nothing, whether B drew another nonce or,
by a 1-in-4-billion chance, the same one (then the keypad store refuses it)."""

from __future__ import annotations

import asyncio
import dataclasses

from typer.testing import CliRunner

from hub.cli import app
from hub.commands import OpenPoll
from hub.engine import Engine
from hub.journal import Journal
from hub.model import Keypad, PollMode, PressStatus
from hub.proposals import Proposal
from hub.receivers.link import ReceiverLink
from hub.roster import load_roster, save_roster
from hub.session import SessionConfig
from hub.transports.serial import SerialTransport
from hub.wire.messages import PressMessage
from hub.wire.mic import compute_mic
from tests.conftest import FAST_LINK
from tests.fake_receiver import FakeReceiver

KEYPAD = 0x5A7D4120
KEY = bytes(range(32, 48))


def config(roster: list[Keypad], nonce: int | None = None) -> SessionConfig:
    extra = {} if nonce is None else {"nonce": nonce}
    proposals = [Proposal(1, "Fiche 1"), Proposal(2, "Fiche 2")]
    return SessionConfig(title="x", proposals=proposals, roster=roster, require_mic=True, **extra)


async def run_session(db, cfg: SessionConfig, frames: list[bytes], signed: tuple[tuple[int, str], ...] = ()):
    """A hub with a grades poll open, a receiver on its serial transport writing ``frames`` as
    they are, then presses of KEYPAD signed for this session. Returns the results, the tally,
    and the wire bytes of the signed presses."""
    hub = await Engine.open(Journal(db), cfg)
    rx = FakeReceiver()
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        receiver = ReceiverLink(SerialTransport(await rx.start(), name="rx"), hub, FAST_LINK)
        hub.add_receiver(receiver)
        await asyncio.wait_for(receiver.connected_event.wait(), 10)
        assert rx.session_nonce == cfg.nonce  # HELLO named this session
        sent = []
        for frame in frames:
            rx.send_raw(frame)
        for counter, key in signed:
            p = PressMessage(KEYPAD, counter, rx.session_nonce, 1, 0, ord(key), 80, -50, 0, 0)
            p = dataclasses.replace(p, mic=compute_mic(KEY, p))  # what the keypad sends
            sent.append(p.encode(100 + counter))
            rx.send_raw(sent[-1])
        await rx.wait_results(len(frames) + len(signed))
        return list(rx.results), hub.session.active.tally(1), sent
    finally:
        await hub.stop()
        await rx.close()


async def test_a_press_recorded_in_one_session_cannot_vote_in_the_next(tmp_path):
    roster_file = tmp_path / "roster.json"
    save_roster(roster_file, [Keypad(KEYPAD, 1, key=KEY), Keypad(0x00A1B2C3, 2, key=bytes(16))])

    # Session A: the keypad votes "6"; an eavesdropper records the frame.
    a = config(load_roster(roster_file))
    results, tally, recorded = await run_session(tmp_path / "a.db", a, [], ((41, "6"),))
    assert [r.status for r in results] == [PressStatus.COUNTED] and tally[5] == 1

    # After the session, the keypad store learns the keypad's highest counter.
    out = CliRunner().invoke(app, ["keypads", "sync", str(roster_file), str(tmp_path / "a.db")])
    assert out.exit_code == 0, out.output
    assert "1 counters raised" in out.output
    assert load_roster(roster_file)[0].counter == 41

    # Session B, same keys: the recording, replayed unchanged, is refused and counts nothing;
    # the answer names B's nonce. The keypad's own next press counts.
    b = config(load_roster(roster_file))
    assert b.nonce != a.nonce
    results, tally, _ = await run_session(tmp_path / "b.db", b, recorded, ((42, "2"),))
    assert [(r.counter, r.status) for r in results] == [
        (41, PressStatus.STALE_SESSION),
        (42, PressStatus.COUNTED),
    ]
    assert results[0].session_nonce == b.nonce
    assert tally == [0, 1, 0, 0, 0, 0, 0]

    # Session C drew A's nonce by chance: the keypad store still refuses the recording.
    c = config(load_roster(roster_file), nonce=a.nonce)
    results, tally, _ = await run_session(tmp_path / "c.db", c, recorded)
    assert [r.status for r in results] == [PressStatus.STALE_SESSION] and sum(tally) == 0

    # ... which is what the store is for: without it, the same collision would let it vote.
    bare = config([Keypad(KEYPAD, 1, key=KEY)], nonce=a.nonce)
    results, tally, _ = await run_session(tmp_path / "d.db", bare, recorded)
    assert [r.status for r in results] == [PressStatus.COUNTED] and tally[5] == 1


async def test_a_receiver_of_another_revision_is_refused_clearly(tmp_path, caplog):
    """A v1.1 hub and a v1 receiver: the hub answers its HELLO_ACK with ERROR, says why once in
    the log and on the console, reads none of its frames, and keeps trying (it may be flashed)."""
    from tests.conftest import FAST_LINK, make_config

    hub = await Engine.open(Journal(tmp_path / "v.db"), make_config())
    old = FakeReceiver(revision=1)
    try:
        receiver = ReceiverLink(SerialTransport(await old.start(), name="old"), hub, FAST_LINK)
        hub.add_receiver(receiver)
        await old.wait_for(lambda: old.hellos >= 2 and len(old.errors) >= 2)
        assert not receiver.health.connected and receiver.health.connects == 0
        assert old.errors[0].code == 1 and "revision 1" in old.errors[0].text
        assert "update its firmware" in receiver.health.last_error
        warnings = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(warnings) == 1 and "speaks protocol revision 1" in warnings[0].getMessage()
        assert not old.poll_states  # the poll is never announced to it
    finally:
        await hub.stop()
        await old.close()
