"""Fakes of bleak's BleakClient and BleakScanner API (the lowest layer the hub touches), with a
receiver's firmware behind the GATT characteristics."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import ClassVar

from hub.protocol import REVISION, Radio
from hub.transports.ble import NOTIFY_UUID, WRITE_UUID
from hub.wire.framing import pack_frame, unpack_frame
from hub.wire.messages import Hello, HelloAck, Ping, PollStateMessage, PressResult, Status, parse


class FakeBleDevice:
    """The receiver's side: answers HELLO and PING, records results, can notify presses."""

    def __init__(self, address: str = "AA:BB:CC:DD:EE:01", mtu: int = 517, mtu_needs_request: bool = False):
        self.address = address
        self.name = "clicker-rx"
        self.mtu = mtu
        self.mtu_needs_request = mtu_needs_request
        self.client: FakeBleakClient | None = None
        self.results: list[PressResult] = []
        self.poll_states: list[PollStateMessage] = []
        self.connects = 0
        self.refuse_connect = False
        self.boot_id = 7
        self._seq = 0

    def notify(self, msg, flags: int = 0) -> None:
        client = self.client
        assert client is not None and client.callback is not None
        data = bytearray(pack_frame(msg.TYPE, msg.payload(), self._seq, flags))
        self._seq = (self._seq + 1) & 0xFFFF
        client.callback(SimpleNamespace(uuid=NOTIFY_UUID), data)

    def notify_raw(self, data: bytes) -> None:
        assert self.client is not None and self.client.callback is not None
        self.client.callback(SimpleNamespace(uuid=NOTIFY_UUID), bytearray(data))

    def written(self, data: bytes) -> None:
        msg = parse(unpack_frame(data)).message
        if isinstance(msg, Hello):
            self.notify(HelloAck(REVISION, 2, 0, 0, 99, self.boot_id, Radio.BLE_ADVERTS, 37, 255))
        elif isinstance(msg, Ping):
            self.notify(Status(5, 1, 0, 0, 0))
        elif isinstance(msg, PressResult):
            self.results.append(msg)
        elif isinstance(msg, PollStateMessage):
            self.poll_states.append(msg)

    def drop(self) -> None:
        """The radio link breaks: bleak calls disconnected_callback."""
        client = self.client
        if client is not None and client.is_connected:
            client.is_connected = False
            if client.disconnected_callback:
                client.disconnected_callback(client)


class FakeBleakClient:
    """Same constructor and coroutine methods as bleak.BleakClient."""

    def __init__(self, device: FakeBleDevice, disconnected_callback=None, **_kw) -> None:
        self.device = device
        self.disconnected_callback = disconnected_callback
        self.is_connected = False
        self.callback = None
        self._mtu = 23 if device.mtu_needs_request else device.mtu
        self._backend = SimpleNamespace(_acquire_mtu=self._acquire_mtu)

    @property
    def mtu_size(self) -> int:
        return self._mtu

    async def _acquire_mtu(self) -> None:
        self._mtu = self.device.mtu

    async def connect(self, **_kw) -> bool:
        await asyncio.sleep(0)
        if self.device.refuse_connect:
            raise OSError("device not found")  # bleak raises BleakError; any exception reconnects
        self.is_connected = True
        self.device.client = self
        self.device.connects += 1
        return True

    async def disconnect(self) -> bool:
        self.is_connected = False
        return True

    async def start_notify(self, uuid: str, callback) -> None:
        assert uuid == NOTIFY_UUID
        self.callback = callback

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool = False) -> None:
        assert uuid == WRITE_UUID and response is False
        if not self.is_connected:
            raise OSError("not connected")
        await asyncio.sleep(0)
        self.device.written(bytes(data))


class FakeBleakScanner:
    """Same shape as bleak.BleakScanner: detection_callback(device, advertisement_data)."""

    instances: ClassVar[list[FakeBleakScanner]] = []

    def __init__(self, detection_callback=None, service_uuids=None, **_kw) -> None:
        self.callback = detection_callback
        self.running = False
        FakeBleakScanner.instances.append(self)

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def advertise(self, manufacturer_data: dict[int, bytes], rssi: int = -60, address: str = "K1") -> None:
        if self.running and self.callback:
            self.callback(
                SimpleNamespace(address=address),
                SimpleNamespace(manufacturer_data=manufacturer_data, rssi=rssi, service_uuids=[]),
            )
