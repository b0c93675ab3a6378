"""Flow control per receiver, through the real serial transport: a receiver flooding the hub
gets its share of each loop turn and is paused, never the others; its heartbeats and the others'
keep the links up; a facilitator's action goes before the flood; a receiver that stops reading
its answers is dropped with every buffer bounded. Counted in presses and link drops, not time."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from hub.commands import OpenPoll, Select
from hub.engine import Engine
from hub.inbox import FlowLimits
from hub.journal import Journal
from hub.model import PollMode, PressStatus
from hub.receivers.link import ReceiverLink
from hub.transports.serial import WRITE_CAP, SerialTransport
from tests.conftest import FAST_LINK, make_config
from tests.fake_receiver import FakeReceiver

# Smaller shares and water marks, so that a flood of a few thousand presses shows them; a
# silence limit of 2 s (not FAST_LINK's 0.6 s), so that a loaded machine is not taken for a
# starved heartbeat.
SHARE, CAPACITY = 32, 4096
FLOW = FlowLimits(share=SHARE, high=128, low=32, capacity=CAPACITY)
LINK = replace(FAST_LINK, silence=2.0)
FLOOD = 8000


@pytest.fixture
async def open_hub(tmp_path):
    """A running hub of 10 keypads with small inboxes and a grades poll open."""
    h = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=10), flow=FLOW)
    await h.act(OpenPoll(PollMode.GRADES))
    yield h
    await h.stop()


def decided(hub) -> int:
    return sum(hub.session.statuses.values())


async def attach(hub, rx: FakeReceiver, name: str, url: str | None = None, timings=LINK) -> ReceiverLink:
    receiver = ReceiverLink(SerialTransport(url or await rx.start(), name=name), hub, timings)
    hub.add_receiver(receiver)
    await asyncio.wait_for(receiver.connected_event.wait(), 10)
    return receiver


async def test_a_flooding_receiver_cannot_starve_another_nor_an_action(open_hub):
    hub = open_hub
    flooder, quiet = FakeReceiver(), FakeReceiver()
    try:
        loud = await attach(hub, flooder, "flood")
        calm = await attach(hub, quiet, "quiet")
        flooder.flood(FLOOD, range(1001, 1009))
        await hub.wait_until(lambda: decided(hub) > 2 * SHARE, 10)  # the flood is under way
        waited = []  # presses the hub decided for others while each quiet press waited
        for counter in range(1, 11):
            before = decided(hub)
            quiet.press(1010, counter, "1234567"[counter % 7])
            await quiet.wait_results(counter)
            waited.append(decided(hub) - before - 1)
        before = decided(hub)
        await hub.act(Select(1))  # the console, during the flood
        action_waited = decided(hub) - before
        flood_left = FLOOD - len(flooder.results)
        await flooder.wait_results(FLOOD, within=60)
        # every quiet press was answered while the flood went on, within a few turns of the loop
        # (the one under way, the commits in flight, its own): never behind the whole flood
        assert flood_left > 0, "the flood ended before the quiet receiver was measured"
        assert max(waited) <= 8 * SHARE, waited
        assert action_waited <= 8 * SHARE
        assert [r.status for r in quiet.results] == [PressStatus.COUNTED] * 10
        assert len(flooder.results) == FLOOD  # the flood is answered in full, at its share
        # the flooder was paused and bounded; nobody's link dropped, heartbeats kept flowing
        assert loud.health.paused >= 1 and loud.inbox.peak <= CAPACITY and loud.health.shed == 0
        assert calm.health.paused == 0
        assert loud.health.connects == 1 and calm.health.connects == 1
        assert loud.health.connected and calm.health.connected
    finally:
        await flooder.close()
        await quiet.close()


async def test_a_receiver_that_does_not_read_is_dropped_with_its_buffers_bounded(open_hub, tmp_path):
    hub = open_hub
    deaf, other = FakeReceiver(), FakeReceiver()
    try:
        url = await deaf.start_pty(tmp_path / "ttyDEAF")
        stuck = await attach(hub, deaf, "deaf", url, replace(LINK, write_stall=0.3))
        fine = await attach(hub, other, "other")
        deaf.stop_reading()  # from now on, the hub's answers pile up on its side
        for burst in range(1, 41):
            deaf.flood(500, range(1001, 1009), first_counter=burst * 100)
            other.press(1010, burst, "3")
            await other.wait_results(burst)
            if stuck.health.unread:
                break
            await asyncio.sleep(0.05)
        await hub.wait_until(lambda: stuck.health.unread >= 1, 10)
        assert "has not read its answers" in stuck.health.last_error or "unread" in stuck.health.last_error
        await hub.wait_until(lambda: not stuck.health.connected, 5)
        # bounded on the way: the answers waiting to be written, the presses waiting to be decided
        assert stuck.transport.health.write_peak <= WRITE_CAP
        assert stuck.inbox.peak <= CAPACITY
        # the other receiver never noticed
        assert all(r.status == PressStatus.COUNTED for r in other.results)
        assert fine.health.connects == 1 and fine.health.connected
    finally:
        await deaf.close()
        await other.close()


FULL_PORT = """
import asyncio, os, sys, tty
from hub.transports.serial import SerialTransport

async def main():
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(slave, False)
    port = SerialTransport(os.ttyname(slave), name="full")
    await port.open()
    stuck = 0
    while stuck < 3:  # fill the port towards the receiver, which reads nothing, until it is full
        try:
            os.write(slave, b"x" * 4096)
            stuck = 0
        except BlockingIOError:
            stuck += 1
            await asyncio.sleep(0.05)  # the kernel moves what it can towards the reader
    port.write(b"y" * 16384)  # pyserial's own write would retry forever here
    await asyncio.sleep(0.05)
    print("buffered", port.health.write_peak, flush=True)
    await port.close()

asyncio.run(main())
"""


async def test_a_full_serial_port_never_blocks_the_loop(tmp_path):
    """A write to a serial port whose buffer is full is kept by the transport: it does not spin
    in pyserial's retry loop (run in a process of its own, which would never end)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FULL_PORT, stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[1]
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail("a write to a full serial port blocked the event loop")
    assert proc.returncode == 0 and out.startswith(b"buffered ") and int(out.split()[1]) > 0
