"""Receivers through the real serial transport, over a socket and over a pty: handshake,
results, reconnection when the port closes and comes back, silence, garbage, reboots."""

from __future__ import annotations

import asyncio
import random

import pytest

from hub.model import PressStatus
from hub.receivers.link import ReceiverLink
from hub.transports.serial import SerialTransport
from tests.conftest import FAST_LINK
from tests.fake_receiver import FakeReceiver


@pytest.fixture
def hub(open_hub):
    return open_hub


async def attach(hub, rx: FakeReceiver, transport: str, tmp_path):
    url = await (rx.start() if transport == "tcp" else rx.start_pty(tmp_path / "ttyCLICKER"))
    receiver = ReceiverLink(SerialTransport(url, name="rx"), hub, FAST_LINK)
    hub.add_receiver(receiver)
    await asyncio.wait_for(receiver.connected_event.wait(), 10)
    return receiver


TRANSPORTS = ["tcp", "pty"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_handshake_poll_state_and_results(hub, tmp_path, transport):
    rx = FakeReceiver()
    try:
        receiver = await attach(hub, rx, transport, tmp_path)
        await hub.wait_until(lambda: bool(rx.poll_states), 5)
        assert rx.poll_states[-1].state == 1 and rx.poll_states[-1].keys == b"1234567"
        rx.press(1001, 1, "5")
        rx.press(1001, 1, "5", flags=1)  # the receiver's retransmission
        await rx.wait_results(2)
        assert [r.status for r in rx.results] == [PressStatus.COUNTED, PressStatus.DUPLICATE]
        assert rx.results[0].poll_id == 1
        assert receiver.health.connected and receiver.health.firmware == "1.0.0"
        await hub.wait_until(lambda: receiver.health.last_status.get("uptime_ms") == 1000, 5)
    finally:
        await rx.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_reconnects_when_the_port_closes_and_comes_back(hub, tmp_path, transport):
    rx = FakeReceiver()
    try:
        receiver = await attach(hub, rx, transport, tmp_path)
        if transport == "tcp":
            port = rx.port
            await rx.close()
            await hub.wait_until(lambda: not receiver.health.connected, 5)
            await asyncio.sleep(0.3)  # the hub retries a closed port with backoff
            rx = FakeReceiver()
            await rx.start(port)
        else:
            rx.unplug_pty()
            await hub.wait_until(lambda: not receiver.health.connected, 5)
            await asyncio.sleep(0.3)
            await rx.start_pty(tmp_path / "ttyCLICKER")  # a new pty behind the same path
        await hub.wait_until(lambda: receiver.health.connected and receiver.health.connects == 2, 10)
        rx.press(1002, 7, "3")
        await rx.wait_results(1)
        assert rx.results[0].status == PressStatus.COUNTED
    finally:
        await rx.close()


async def test_a_silent_receiver_is_dropped_and_reopened(hub, tmp_path):
    rx = FakeReceiver(answer_pings=False)
    try:
        receiver = await attach(hub, rx, "tcp", tmp_path)
        await hub.wait_until(lambda: receiver.health.connects >= 2, 10)
        assert "no STATUS" in receiver.health.last_error
        assert rx.hellos >= 2
    finally:
        await rx.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_garbage_on_the_line_is_counted_and_skipped(hub, tmp_path, transport):
    rx = FakeReceiver()
    rnd = random.Random(3)
    try:
        receiver = await attach(hub, rx, transport, tmp_path)
        for i in range(20):
            rx.send_raw(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 40))) + b"\x00")
            rx.press(1001 + i % 10, 100 + i, "1234567"[i % 7])
        await rx.wait_results(20)
        assert all(r.status == PressStatus.COUNTED for r in rx.results)
        assert receiver.health.rx_bad > 0 and receiver.health.connected
    finally:
        await rx.close()


async def test_a_receiver_that_reboots_mid_poll(hub, tmp_path):
    rx = FakeReceiver(boot_id=1)
    try:
        receiver = await attach(hub, rx, "tcp", tmp_path)
        rx.press(1001, 1, "2")
        await rx.wait_results(1)
        before = len(rx.poll_states)
        rx.boot_id = 2  # the receiver restarts: announces its new boot id, queue lost
        from hub.wire.messages import HelloAck

        rx.send(HelloAck(1, 1, 0, 0, 42, 2, 0xFF, 6, 512))
        await hub.wait_until(lambda: receiver.health.reboots == 1, 5)
        await hub.wait_until(lambda: len(rx.poll_states) > before, 5)  # told the poll again
        rx.press(1001, 1, "2")  # the keypad retransmits the press the reboot lost
        rx.press(1002, 1, "6")
        await rx.wait_results(3)
        assert [r.status for r in rx.results] == [
            PressStatus.COUNTED,
            PressStatus.DUPLICATE,
            PressStatus.COUNTED,
        ]
        assert hub.session.active.tally(1) == [0, 1, 0, 0, 0, 1, 0]
    finally:
        await rx.close()


async def test_two_receivers_hearing_the_same_press(hub, tmp_path):
    a, b = FakeReceiver(), FakeReceiver()
    try:
        for rx, name in ((a, "a"), (b, "b")):
            r = ReceiverLink(SerialTransport(await rx.start(), name=name), hub, FAST_LINK)
            hub.add_receiver(r)
            await asyncio.wait_for(r.connected_event.wait(), 10)
        a.press(1003, 5, "7")
        b.press(1003, 5, "7")
        await a.wait_results(1)
        await b.wait_results(1)
        assert sorted(r.status for r in a.results + b.results) == [PressStatus.COUNTED, PressStatus.DUPLICATE]
        assert sum(hub.session.active.tally(1)) == 1
    finally:
        await a.close()
        await b.close()
