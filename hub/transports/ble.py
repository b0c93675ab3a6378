"""BLE with bleak: a receiver's GATT service (docs/protocol.md: one decoded frame per value,
no COBS), and the adverts the hub's own adapter hears from keypads directly (one-way).

bleak's client and scanner are passed in (``client_factory``, ``scanner_factory``) so the tests
replace them with fakes of the same API, at the lowest layer.

Bounded as far as BLE allows: notifications and adverts cannot be paused, so beyond
``MAX_WAITING`` values not yet read by the link they are dropped (never answered: the receiver,
or the keypad, sends them again); writes still waiting are at most ``MAX_WRITES``, beyond which
the link is dropped and opened again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from hub.aio import cancel_and_wait, within
from hub.transports.base import Chunks, Framing, Transport, TransportClosed
from hub.wire.advert import COMPANY_ID
from hub.wire.framing import MAX_DECODED

SERVICE_UUID = "16e83246-023e-4201-98e3-df49a93c1b1d"
NOTIFY_UUID = "16e83247-023e-4201-98e3-df49a93c1b1d"
WRITE_UUID = "16e83248-023e-4201-98e3-df49a93c1b1d"
# Every frame must fit one value: the longest frame (247 bytes, a POLL_STATE of a large
# self-paced poll) plus the 3 bytes of the ATT header (docs/protocol.md, "BLE GATT profile").
MIN_MTU = MAX_DECODED + 3
CONNECT_TIMEOUT = 15.0
MAX_WRITES = 256  # writes waiting for the adapter; more means the receiver takes none
MAX_WAITING = 4096  # values heard and not yet read by the link


class Factory(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


async def _next_value(transport: Transport, values: Chunks | None) -> bytes:
    """The next value a BLE callback queued (b"" once closed), counted in the transport's health."""
    if values is None:
        return b""
    value = await values.get()
    if value:
        transport.health.chunks_in += 1
        transport.health.bytes_in += len(value)
    return value


def _default_client(*args: Any, **kwargs: Any) -> Any:
    from bleak import BleakClient

    return BleakClient(*args, **kwargs)


def _default_scanner(*args: Any, **kwargs: Any) -> Any:
    from bleak import BleakScanner

    return BleakScanner(*args, **kwargs)


class GattTransport(Transport):
    """A receiver reached over BLE GATT."""

    kind = "ble"
    framing = Framing.DATAGRAM

    def __init__(
        self, device: Any, name: str | None = None, client_factory: Factory = _default_client
    ) -> None:
        super().__init__(name or f"ble:{getattr(device, 'address', device)}")
        self.device = device
        self.client_factory = client_factory
        self._client: Any = None
        self._values: Chunks | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        values = Chunks(MAX_WAITING)
        self._client = self.client_factory(self.device, disconnected_callback=lambda _c: values.end())
        await within(self._client.connect(), CONNECT_TIMEOUT)
        await self._ensure_mtu()
        await self._client.start_notify(NOTIFY_UUID, lambda _ch, data: self._put(values, bytes(data)))
        self._values = values
        self.health.opens += 1

    def _put(self, values: Chunks, value: bytes) -> None:
        if not values.put(value):
            self.health.dropped += 1

    async def _ensure_mtu(self) -> None:
        """Ask for a larger MTU where the backend needs asking (BlueZ), then insist on it."""
        if self._client.mtu_size < MIN_MTU:
            acquire = getattr(getattr(self._client, "_backend", None), "_acquire_mtu", None)
            if acquire is not None:
                await within(acquire(), 5.0)
        if self._client.mtu_size < MIN_MTU:
            raise TransportClosed(f"MTU {self._client.mtu_size} is below {MIN_MTU}")

    async def read(self) -> bytes:
        return await _next_value(self, self._values)

    def write(self, data: bytes) -> None:
        if self._client is None or self._values is None:
            raise TransportClosed("not connected")
        if len(self._writes) >= MAX_WRITES:
            self.health.unread += 1
            self.health.last_error = f"{len(self._writes)} writes to the receiver still waiting"
            self._values.end()  # the link reads the end: it drops this connection and reopens
            raise TransportClosed("the receiver takes no writes")
        task = asyncio.get_running_loop().create_task(self._write(data))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        self.health.writes += 1
        self.health.bytes_out += len(data)

    async def _write(self, data: bytes) -> None:
        try:
            await within(self._client.write_gatt_char(WRITE_UUID, data, response=False), 5.0)
        except Exception as exc:  # a lost write is retransmitted by the protocol
            self.health.last_error = f"write failed: {exc}"[:200]

    async def close(self) -> None:
        await cancel_and_wait(*self._writes)
        if self._values is not None:
            self._values.end()
            self._values = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                await within(self._client.disconnect(), 5.0)
            self._client = None


class AdvertTransport(Transport):
    """Keypads heard directly in their BLE adverts: one advert per chunk (its RSSI as one
    signed byte, then its manufacturer data); nothing can be written back."""

    kind = "adverts"
    framing = Framing.ADVERT

    def __init__(self, name: str = "ble-adverts", scanner_factory: Factory = _default_scanner) -> None:
        super().__init__(name)
        self.scanner_factory = scanner_factory
        self._scanner: Any = None
        self._values: Chunks | None = None

    async def open(self) -> None:
        values = Chunks(MAX_WAITING)
        self._scanner = self.scanner_factory(detection_callback=lambda d, adv: self._heard(values, adv))
        await self._scanner.start()
        self._values = values
        self.health.opens += 1

    def _heard(self, values: Chunks, adv: Any) -> None:
        data = (getattr(adv, "manufacturer_data", None) or {}).get(COMPANY_ID)
        if data is not None:  # else someone else's advert
            rssi = max(-128, min(127, int(getattr(adv, "rssi", 0) or 0)))
            if not values.put(rssi.to_bytes(1, "little", signed=True) + bytes(data)):
                self.health.dropped += 1

    async def read(self) -> bytes:
        return await _next_value(self, self._values)

    def write(self, data: bytes) -> None:
        raise TransportClosed("adverts are one-way: there is no one to tell")

    async def close(self) -> None:
        if self._values is not None:
            self._values.end()
            self._values = None
        if self._scanner is not None:
            with contextlib.suppress(Exception):
                await within(self._scanner.stop(), 5.0)
            self._scanner = None


async def discover(scanner_factory: Factory = _default_scanner, within_s: float = 5.0) -> list[Any]:
    """BLE receivers in range: devices advertising the clicker service."""
    found: dict[str, Any] = {}

    def seen(device: Any, adv: Any) -> None:
        if SERVICE_UUID in [u.lower() for u in (getattr(adv, "service_uuids", None) or [])]:
            found[device.address] = device

    scanner = scanner_factory(detection_callback=seen, service_uuids=[SERVICE_UUID])
    await scanner.start()
    try:
        await asyncio.sleep(within_s)
    finally:
        await scanner.stop()
    return list(found.values())
