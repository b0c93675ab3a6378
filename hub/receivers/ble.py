"""BLE receivers with bleak: the GATT service of docs/protocol.md (one decoded frame per value), and
the advert mode where the hub's own adapter hears keypads directly (no acknowledgement).

bleak's client and scanner are passed in (``client_factory``, ``scanner_factory``) so the tests
replace them with fakes of the same API, at the lowest layer.

Bounded like the serial link, as far as BLE allows: notifications cannot be paused, so presses
beyond the receiver's inbox are shed (never answered: the receiver resends them); writes still
waiting are at most ``MAX_WRITES``, beyond which the link is dropped and opened again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.receivers.base import EnginePort, ReceiverHealth
from hub.receivers.link import LinkLost, ReceiverLink
from hub.wire.advert import COMPANY_ID, decode_advert
from hub.wire.framing import MAX_DECODED, FrameError, pack_frame, unpack_frame
from hub.wire.messages import Message, parse
from hub.wire.presses import from_wire

SERVICE_UUID = "16e83246-023e-4201-98e3-df49a93c1b1d"
NOTIFY_UUID = "16e83247-023e-4201-98e3-df49a93c1b1d"
WRITE_UUID = "16e83248-023e-4201-98e3-df49a93c1b1d"
# Every frame must fit one value: the longest frame (247 bytes, a POLL_STATE of a large
# self-paced poll) plus the 3 bytes of the ATT header (docs/protocol.md, "BLE GATT profile").
MIN_MTU = MAX_DECODED + 3
CONNECT_TIMEOUT = 15.0
MAX_WRITES = 256  # writes waiting for the adapter; more means the receiver takes none


def _default_client(*args: Any, **kwargs: Any) -> Any:
    from bleak import BleakClient

    return BleakClient(*args, **kwargs)


def _default_scanner(*args: Any, **kwargs: Any) -> Any:
    from bleak import BleakScanner

    return BleakScanner(*args, **kwargs)


class BleReceiver(ReceiverLink):
    """A receiver reached over BLE GATT; the link state machine is the serial one."""

    kind = "ble"

    def __init__(
        self,
        device: Any,
        hub: EnginePort,
        name: str | None = None,
        client_factory: Callable[..., Any] = _default_client,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name or f"ble:{getattr(device, 'address', device)}", hub, clock)
        self.device = device
        self.client_factory = client_factory
        self._client: Any = None
        self._writes: set[asyncio.Task[None]] = set()

    async def _connect(self) -> None:
        self._client = self.client_factory(self.device, disconnected_callback=self._on_disconnect)
        await within(self._client.connect(), CONNECT_TIMEOUT)
        await self._ensure_mtu()
        await self._client.start_notify(NOTIFY_UUID, self._on_notify)

    async def _ensure_mtu(self) -> None:
        """Ask for a larger MTU where the backend needs asking (BlueZ), then insist on 64."""
        if self._client.mtu_size < MIN_MTU:
            acquire = getattr(getattr(self._client, "_backend", None), "_acquire_mtu", None)
            if acquire is not None:
                await within(acquire(), 5.0)
        if self._client.mtu_size < MIN_MTU:
            raise LinkLost(f"MTU {self._client.mtu_size} is below {MIN_MTU}")

    def _on_notify(self, _characteristic: Any, data: bytearray) -> None:
        self._alive()
        try:
            frame = parse(unpack_frame(bytes(data)))
        except FrameError as exc:
            self.health.rx_bad += 1
            self.health.rejected[str(exc.reason)] = self.health.rejected.get(str(exc.reason), 0) + 1
            return
        self._deliver(frame)

    def _on_disconnect(self, _client: Any) -> None:
        self._lose("BLE disconnected")

    def _send_frame(self, message: Message, flags: int) -> None:
        if self._client is None:
            raise OSError("not connected")
        if len(self._writes) >= MAX_WRITES:
            self.health.unread += 1
            self._lose(f"{len(self._writes)} writes to the receiver still waiting")
            raise OSError("the receiver takes no writes")
        data = pack_frame(message.TYPE, message.payload(), self._seq, flags)
        task = asyncio.get_running_loop().create_task(self._write(data))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, data: bytes) -> None:
        try:
            await within(self._client.write_gatt_char(WRITE_UUID, data, response=False), 5.0)
        except Exception as exc:  # a lost write is retransmitted by the protocol
            self.health.last_error = f"write failed: {exc}"[:200]

    async def _disconnect(self) -> None:
        await cancel_and_wait(*self._writes)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await within(self._client.disconnect(), 5.0)
            self._client = None


class AdvertListener:
    """Keypads heard directly in their BLE adverts: presses go to the hub, nothing goes back."""

    kind = "adverts"

    def __init__(
        self,
        hub: EnginePort,
        scanner_factory: Callable[..., Any] = _default_scanner,
        clock: Callable[[], float] = time.time,
        name: str = "ble-adverts",
    ) -> None:
        self.hub = hub
        self.name = name
        self.scanner_factory = scanner_factory
        self.clock = clock
        self.health = ReceiverHealth(name, self.kind)
        self.connected_event = asyncio.Event()
        self._scanner: Any = None
        self._task: asyncio.Task[None] | None = None
        self.inbox: Any = None

    def start(self) -> None:
        self.inbox = self.hub.open_inbox(self.name)  # adverts cannot be paused: beyond it, shed
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        self._scanner = self.scanner_factory(detection_callback=self._on_advert)
        await self._scanner.start()
        self.health.connected = True
        self.connected_event.set()
        self.hub.receiver_changed()

    def _on_advert(self, _device: Any, adv: Any) -> None:
        data = (getattr(adv, "manufacturer_data", None) or {}).get(COMPANY_ID)
        if data is None:
            return  # someone else's advert
        try:
            p = decode_advert(bytes(data), int(getattr(adv, "rssi", 0) or 0))
        except FrameError as exc:
            self.health.rx_bad += 1
            self.health.rejected[str(exc.reason)] = self.health.rejected.get(str(exc.reason), 0) + 1
            return
        self.health.presses += 1
        # no acknowledgement is possible in advert mode
        if not self.hub.submit_press(from_wire(p, self.name, self.clock()), None, self.inbox):
            self.health.shed += 1  # the keypad repeats its advert

    def send_poll_state(self) -> None:
        """Adverts are one-way: there is no one to tell."""

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.inbox is not None:
            self.hub.close_inbox(self.inbox)
            self.inbox = None
        if self._scanner is not None:
            with contextlib.suppress(Exception):
                await within(self._scanner.stop(), 5.0)
            self._scanner = None
        self.health.connected = False


async def discover(scanner_factory: Callable[..., Any] = _default_scanner, within: float = 5.0) -> list[Any]:
    """BLE receivers in range: devices advertising the clicker service."""
    found: dict[str, Any] = {}

    def seen(device: Any, adv: Any) -> None:
        if SERVICE_UUID in [u.lower() for u in (getattr(adv, "service_uuids", None) or [])]:
            found[device.address] = device

    scanner = scanner_factory(detection_callback=seen, service_uuids=[SERVICE_UUID])
    await scanner.start()
    try:
        await asyncio.sleep(within)
    finally:
        await scanner.stop()
    return list(found.values())


async def start_ble(hub: Any, gatt: bool = True, adverts: bool = False) -> None:
    if gatt:
        for device in await discover():
            hub.add_receiver(BleReceiver(device, hub))
    if adverts:
        hub.add_receiver(AdvertListener(hub))
