"""BLE receivers against fakes of bleak's client and scanner: the same link state machine as
serial (handshake, heartbeat, results, reconnect), the MTU request, and the advert mode."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hub.commands import OpenPoll
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode, PressStatus
from hub.receivers.adverts import AdvertReceiver
from hub.receivers.link import ReceiverLink
from hub.transports.ble import AdvertTransport, GattTransport
from hub.wire.advert import encode_advert
from hub.wire.messages import PressMessage
from hub.wire.mic import compute_mic
from tests.conftest import FAST_LINK, make_config
from tests.fake_bleak import FakeBleakClient, FakeBleakScanner, FakeBleDevice


@pytest.fixture
def hub(open_hub):
    return open_hub


def press(kid=1001, counter=1, key="5", poll_id=1, nonce=0):  # nonce 0: make_config's session
    return PressMessage(kid, counter, nonce, poll_id, 0, ord(key), 70, -40, 10, 0)


async def test_gatt_receiver_handshake_results_and_reconnect(hub):
    dev = FakeBleDevice()
    rx = ReceiverLink(GattTransport(dev, client_factory=FakeBleakClient), hub, FAST_LINK)
    hub.add_receiver(rx)
    await asyncio.wait_for(rx.connected_event.wait(), 5)
    assert rx.health.firmware == "2.0.0" and rx.health.kind == "ble"
    await hub.wait_until(lambda: bool(dev.poll_states), 5)
    assert dev.poll_states[-1].poll_id == 1
    dev.notify(press())
    await hub.wait_until(lambda: len(dev.results) == 1, 5)
    assert dev.results[0].status == PressStatus.COUNTED
    dev.drop()  # out of range
    await hub.wait_until(lambda: rx.health.connects == 2 and rx.health.connected, 10)
    dev.notify(press(counter=1), flags=1)  # the receiver repeats what it never heard answered
    await hub.wait_until(lambda: len(dev.results) == 2, 5)
    assert dev.results[1].status == PressStatus.DUPLICATE


async def test_gatt_mtu_is_requested_and_enforced(hub):
    dev = FakeBleDevice(mtu=250, mtu_needs_request=True)
    rx = ReceiverLink(GattTransport(dev, client_factory=FakeBleakClient), hub, FAST_LINK)
    hub.add_receiver(rx)
    await asyncio.wait_for(rx.connected_event.wait(), 5)  # 23 until asked, then 250: the longest frame fits
    small = FakeBleDevice(address="AA:BB:CC:DD:EE:02", mtu=247, mtu_needs_request=True)
    rx2 = ReceiverLink(GattTransport(small, client_factory=FakeBleakClient), hub, FAST_LINK)
    hub.add_receiver(rx2)
    await hub.wait_until(lambda: "MTU 247" in rx2.health.last_error, 5)
    assert not rx2.health.connected


async def test_gatt_bad_frames_are_counted(hub):
    dev = FakeBleDevice()
    rx = ReceiverLink(GattTransport(dev, client_factory=FakeBleakClient), hub, FAST_LINK)
    hub.add_receiver(rx)
    await asyncio.wait_for(rx.connected_event.wait(), 5)
    good = bytearray(press().encode(3)[:-1])
    dev.notify_raw(b"\x01\x10\x00")  # too short
    from cobs import cobs

    frame = bytearray(cobs.decode(bytes(good)))
    frame[8] ^= 0xFF
    dev.notify_raw(bytes(frame))  # bad CRC
    await hub.wait_until(lambda: rx.health.rx_bad == 2, 5)
    assert rx.health.rejected == {"bad_length": 1, "bad_crc": 1}
    assert rx.health.connected


async def test_gatt_device_that_cannot_be_reached_is_retried(hub):
    dev = FakeBleDevice()
    dev.refuse_connect = True
    rx = ReceiverLink(GattTransport(dev, client_factory=FakeBleakClient), hub, FAST_LINK)
    hub.add_receiver(rx)
    await asyncio.sleep(0.3)
    assert not rx.health.connected and "device not found" in rx.health.last_error
    dev.refuse_connect = False
    await asyncio.wait_for(rx.connected_event.wait(), 5)


async def test_advert_mode_counts_presses_without_acknowledgement(tmp_path):
    key = bytes(range(16))
    cfg = make_config(n_keypads=3)
    cfg.roster[0] = dataclasses.replace(cfg.roster[0], key=key)
    h = await Engine.open(Journal(tmp_path / "a.db"), cfg)
    try:
        await h.act(OpenPoll(PollMode.GRADES))
        FakeBleakScanner.instances.clear()
        listener = AdvertReceiver(AdvertTransport(scanner_factory=FakeBleakScanner), h)
        h.add_receiver(listener)
        await asyncio.wait_for(listener.connected_event.wait(), 5)
        scanner = FakeBleakScanner.instances[-1]
        p = press(kid=1001, counter=4, key="6")
        p = dataclasses.replace(p, mic=compute_mic(key, p))
        for _ in range(5):  # a keypad repeats its advert
            scanner.advertise({0xFFFF: encode_advert(p)})
        scanner.advertise({0x004C: b"someone else"})
        scanner.advertise({0xFFFF: b"\x01\x02"})  # truncated
        await h.wait_until(lambda: sum(h.session.statuses.values()) == 5, 5)
        assert h.session.statuses[PressStatus.COUNTED] == 1
        assert h.session.statuses[PressStatus.DUPLICATE] == 4
        assert h.session.active.tally(1)[5] == 1
        assert listener.health.rx_bad == 1 and listener.health.presses == 5
    finally:
        await h.stop()
    assert not scanner.running


async def test_a_recording_tap_on_ble_transports_replays_to_the_same_tallies(tmp_path):
    """The tap works on any transport: a GATT receiver (one frame per value) and the adverts
    (one advert per chunk), recorded, then played back into a fresh hub by `clicker replay`."""
    from hub.commands import ClosePoll, EndGrace, Reveal
    from hub.records import poll_tallies
    from hub.replay import replay
    from hub.traffic import TrafficRecorder
    from hub.transports.tap import tap

    key = bytes(range(16))
    cfg = make_config(n_keypads=4)
    cfg.roster[3] = dataclasses.replace(cfg.roster[3], key=key)
    traffic = tmp_path / "ble.jsonl"
    recorder = TrafficRecorder(traffic)
    h = await Engine.open(Journal(tmp_path / "b.db"), cfg)
    try:
        recorder.start(h)
        await h.act(OpenPoll(PollMode.GRADES))
        dev = FakeBleDevice()
        gatt = ReceiverLink(tap(GattTransport(dev, client_factory=FakeBleakClient), recorder), h, FAST_LINK)
        FakeBleakScanner.instances.clear()
        adverts = AdvertReceiver(tap(AdvertTransport(scanner_factory=FakeBleakScanner), recorder), h)
        h.add_receiver(gatt)
        h.add_receiver(adverts)
        await asyncio.wait_for(gatt.connected_event.wait(), 5)
        await asyncio.wait_for(adverts.connected_event.wait(), 5)
        for kid, counter, key_ in ((1001, 1, "5"), (1002, 1, "2"), (1001, 2, "7")):
            dev.notify(press(kid, counter, key_))
        p = press(kid=1004, counter=3, key="6")
        FakeBleakScanner.instances[-1].advertise(
            {0xFFFF: encode_advert(dataclasses.replace(p, mic=compute_mic(key, p)))}
        )
        await h.wait_until(lambda: sum(h.session.statuses.values()) == 4 and len(dev.results) == 3, 5)
        await h.act(ClosePoll())
        await h.act(EndGrace())
        await h.act(Reveal(1))
        assert h.session.poll(1).tally(1) == [0, 1, 0, 0, 0, 1, 1]
        recorder.truth(poll_tallies(h.session))
    finally:
        await h.stop()
        await recorder.close()
    summary = await replay(traffic, speed=50)
    assert summary["tallies_match"] and summary["presses_counted"] == 4
