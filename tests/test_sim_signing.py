"""The simulator signs: its keypads have keys (a roster's, or drawn from the seed), the demo
requires MICs, and `clicker sim --roster` votes with the roster's keys into a hub that checks
every MIC. Its receivers and keypads speak v1.1 as the firmware does."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys

from hub.commands import OpenPoll
from hub.demo import demo_config
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode, PressStatus
from hub.proposals import clermont_fiches
from hub.protocol import REVISION, ErrorCode
from hub.receivers.link import ReceiverLink
from hub.roster import load_roster
from hub.session import SessionConfig
from hub.sim.ether import Ether, Impairments
from hub.sim.keypad import Led, VirtualKeypad
from hub.sim.receiver import VirtualReceiver
from hub.sim.room import SimRoom
from hub.transports.serial import SerialTransport
from hub.wire import StreamDecoder
from hub.wire.messages import Error, Hello, PressResult
from hub.wire.mic import verify_mic


def test_simulated_keypads_have_keys_drawn_from_the_seed_and_the_demo_requires_mics():
    a, b = SimRoom(clermont_fiches()[:2], 6, seed=9), SimRoom(clermont_fiches()[:2], 6, seed=9)
    assert all(k.key is not None and len(k.key) == 16 for k in a.roster())
    assert [k.key for k in a.roster()] == [k.key for k in b.roster()]  # same seed, same room
    assert len({k.key for k in a.roster()}) == 6
    assert demo_config(clermont_fiches()[:2], a, 25).require_mic


def test_a_virtual_keypad_signs_under_the_nonce_it_heard_and_again_when_told_another():
    key = bytes(range(16))
    kp = VirtualKeypad(0x5A7D4120, 1, key, counter=100)
    kp.session_nonce = 0x01020304  # an earlier session's, kept through deep sleep
    p = kp.press("4", now=0.0)
    assert (p.counter, p.session_nonce) == (101, 0x01020304) and verify_mic(key, p)
    assert kp.on_result(PressResult(p.keypad_id, 101, PressStatus.STALE_SESSION, 2, 0xABCD), 0.1)
    (again,) = kp.due(0.1)  # at once: the same key, a new counter, the hub's nonce
    assert (again.counter, again.session_nonce, again.key) == (102, 0xABCD, ord("4"))
    assert verify_mic(key, again) and kp.in_flight(0)
    kp.on_result(PressResult(p.keypad_id, 102, PressStatus.COUNTED, 2, 0xABCD), 0.2)
    assert kp.led is Led.COUNTED and not kp.in_flight(0)


def test_a_virtual_receiver_refuses_a_hub_of_another_revision():
    sent: list[bytes] = []
    rx = VirtualReceiver(
        "rx",
        Ether(Impairments(loss=0, duplicate=0, corrupt=0, garbage=0), random.Random(1)),
        random.Random(1),
        lambda r: None,
        lambda s: None,
    )
    rx._write = sent.append
    rx.hear(VirtualKeypad(7, 1).press("1", 0.0))
    rx.feed(Hello(1, 0xDEADBEEF).encode(0))  # a v1 hub
    (frame,) = StreamDecoder().feed(b"".join(sent))
    assert isinstance(frame.message, Error) and frame.message.code == ErrorCode.UNSUPPORTED_REVISION
    rx.feed(Hello(REVISION, 0xDEADBEEF).encode(1))  # a v1.1 hub: acknowledged, then the press
    rx._flush()
    kinds = [type(f.message).__name__ for f in StreamDecoder().feed(b"".join(sent))]
    assert kinds == ["Error", "HelloAck", "PressMessage"]


async def test_clicker_sim_with_a_roster_votes_with_its_keys(tmp_path):
    roster = tmp_path / "roster.json"
    for n in (1, 2, 3):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hub",
                "keypads",
                "enrol",
                str(roster),
                "--id",
                str(0xA0 + n),
                "--number",
                str(n),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    subprocess.run(
        [sys.executable, "-m", "hub", "keypads", "provision", str(roster), "--out", str(tmp_path / "nvs")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    keypads = load_roster(roster)
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "sim",
        "--roster",
        str(roster),
        "--loss",
        "0",
        "--speed",
        "40",
        stdout=asyncio.subprocess.PIPE,
    )
    hub = None
    try:
        line = (await asyncio.wait_for(sim.stdout.readline(), 30)).decode()
        url = line.split(": ", 1)[1].strip()
        hub = await Engine.open(
            Journal(tmp_path / "s.db"),
            SessionConfig(title="t", proposals=clermont_fiches()[:1], roster=keypads, require_mic=True),
        )
        receiver = ReceiverLink(SerialTransport(url, name="rx1"), hub)
        hub.add_receiver(receiver)
        await asyncio.wait_for(receiver.connected_event.wait(), 10)
        await hub.act(OpenPoll(PollMode.GRADES))
        # every keypad of the roster votes, signed with its key (a MIC is required)
        await hub.wait_until(lambda: hub.session.turnout(hub.session.active) == 3, 60)
        assert hub.session.statuses[PressStatus.BAD_MIC] == 0
        assert hub.session.keypad_numbers(hub.session.active.voters) == [1, 2, 3]
        assert json.loads(roster.read_text())["keypads"][0]["key"] == keypads[0].key.hex()  # left as it was
    finally:
        if hub is not None:
            await hub.stop()
        sim.send_signal(signal.SIGINT)
        await asyncio.wait_for(sim.wait(), 30)
