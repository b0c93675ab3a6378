"""Receivers on a serial port: device paths and pyserial URLs (``socket://host:port``, ...),
through pyserial-asyncio-fast, framed with COBS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import serial_asyncio_fast
from serial.tools import list_ports

from hub.aio import cancel_and_wait, within
from hub.receivers.link import HubPort, LinkLost, ReceiverLink
from hub.wire import StreamDecoder
from hub.wire.messages import Message

BAUD = 115200
# Espressif's USB serial/JTAG (the ESP32-S3's native USB port): hardware.md, "Receiver".
DEFAULT_VID_PID = ((0x303A, 0x1001),)


def find_usb_receivers(ids: tuple[tuple[int, int], ...] = DEFAULT_VID_PID) -> list[str]:
    """Device paths of plugged-in receivers, found by USB VID:PID."""
    return sorted(p.device for p in list_ports.comports() if (p.vid, p.pid) in ids)


class SerialReceiver(ReceiverLink):
    kind = "serial"

    def __init__(
        self, url: str, hub: HubPort, name: str | None = None, clock: Callable[[], float] | None = None
    ):
        super().__init__(name or url, hub, *([clock] if clock else []))
        self.url = url
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._out = bytearray()
        self.decoder = StreamDecoder()

    async def _connect(self) -> None:
        self.decoder = StreamDecoder()
        self._out = bytearray()
        self._reader, self._writer = await within(
            serial_asyncio_fast.open_serial_connection(url=self.url, baudrate=BAUD), 5.0
        )
        self._read_task = asyncio.create_task(self._read(), name=f"read {self.name}")

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while data := await self._reader.read(65536):
                self._alive()
                for frame in self.decoder.feed(data):
                    self._deliver(frame)
                self.health.rejected = {str(k): v for k, v in self.decoder.rejected.items()}
                self.health.rx_bad = self.decoder.rejected_total
        except (OSError, ConnectionError) as exc:
            self.health.last_error = f"read failed: {exc}"
        # End of stream: wake the state machine, which will find the link silent.
        self._up = False
        self._frames.put_nowait(_EOF)

    def _send_frame(self, message: Message, flags: int) -> None:
        """Frames sent in one loop turn (a batch of results) leave in one write."""
        if self._writer is None or self._writer.is_closing():
            raise OSError("port closed")
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out += message.encode(self._seq, flags)

    def _flush(self) -> None:
        data, self._out = bytes(self._out), bytearray()
        if data and self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    async def _next_frame(self, limit: float):
        frame = await super()._next_frame(limit)
        if frame is _EOF:
            raise LinkLost("the port closed")
        return frame

    async def _disconnect(self) -> None:
        await cancel_and_wait(self._read_task)
        self._read_task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await within(self._writer.wait_closed(), 1.0)
            self._writer = None


_EOF = object()
