"""Receivers on a serial port: device paths and pyserial URLs (``socket://host:port``, ...),
through pyserial-asyncio-fast, framed with COBS.

The link reads through its own asyncio protocol, so that flow control goes down to the
transport: ``pause_reading`` when the hub has enough of this receiver's presses waiting (the
bytes then wait in the kernel and in the receiver), a bounded read size (a flood is decoded one
chunk at a time, between everybody else's work), and ``pause_writing`` when the receiver does not
read what the hub answers. The write buffer never exceeds ``WRITE_CAP``: beyond it the link is
dropped and opened again, and the keypads retry.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import serial_asyncio_fast
from serial.tools import list_ports

from hub.aio import within
from hub.receivers.base import EnginePort
from hub.receivers.link import ReceiverLink
from hub.wire import StreamDecoder
from hub.wire.messages import Message

BAUD = 115200
# Espressif's USB serial/JTAG (the ESP32-S3's native USB port): hardware.md, "Receiver".
DEFAULT_VID_PID = ((0x303A, 0x1001),)
READ_SIZE = 16384  # bytes per read on a socket (about 540 presses); a serial port reads 1 KiB
WRITE_HIGH = 64 * 1024  # the transport calls pause_writing above this
WRITE_LOW = 16 * 1024
WRITE_CAP = 1 << 20  # answers waiting to be written: beyond this the link is dropped
CLOSE_WAIT = 3.0  # for the transport to close the port (pyserial closes it on a worker thread)


def find_usb_receivers(ids: tuple[tuple[int, int], ...] = DEFAULT_VID_PID) -> list[str]:
    """Device paths of plugged-in receivers, found by USB VID:PID."""
    return sorted(p.device for p in list_ports.comports() if (p.vid, p.pid) in ids)


def _write_once(fd: int) -> Callable[[bytes], int]:
    """One non-blocking write to a serial port's file descriptor.

    pyserial's own write, with the write timeout of 0 that the transport sets, retries forever
    while the port's buffer is full (EAGAIN: pyserial issue 280), which freezes the event loop
    the moment a receiver stops reading; this one raises BlockingIOError instead, and the
    transport keeps the bytes in its (bounded, see WRITE_CAP) buffer until the port drains."""
    return lambda data: os.write(fd, data)


class _LinkProtocol(asyncio.BufferedProtocol, asyncio.Protocol):
    """Bytes in, to the link's decoder; the transport's flow-control calls, to the link.

    A socket transport fills ``get_buffer`` (at most ``READ_SIZE`` bytes a read); the serial
    transport calls ``data_received``."""

    def __init__(self, link: SerialReceiver) -> None:
        self.link = link
        self._buffer = bytearray(READ_SIZE)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._buffer)

    def buffer_updated(self, nbytes: int) -> None:
        self.link._received(bytes(self._buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        self.link._received(data)

    def eof_received(self) -> bool:
        return False  # close

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self.link._lose(f"the port closed{f': {exc}' if exc else ''}")

    def pause_writing(self) -> None:
        self.link._writing_blocked(True)

    def resume_writing(self) -> None:
        self.link._writing_blocked(False)


class SerialReceiver(ReceiverLink):
    kind = "serial"

    def __init__(
        self, url: str, hub: EnginePort, name: str | None = None, clock: Callable[[], float] | None = None
    ):
        super().__init__(name or url, hub, *([clock] if clock else []))
        self.url = url
        self._transport: Any = None
        self._protocol: _LinkProtocol | None = None
        self._out = bytearray()
        self.decoder = StreamDecoder()
        self.write_peak = 0  # the most bytes ever waiting in the transport's write buffer

    async def _connect(self) -> None:
        self.decoder = StreamDecoder()
        self._out = bytearray()
        loop = asyncio.get_running_loop()
        transport, protocol = await within(
            serial_asyncio_fast.create_serial_connection(
                loop, lambda: _LinkProtocol(self), self.url, baudrate=BAUD
            ),
            5.0,
        )
        assert isinstance(protocol, _LinkProtocol)
        self._transport, self._protocol = transport, protocol
        self._transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        port = getattr(self._transport, "_serial", None)
        if (
            port is not None
            and isinstance(transport, serial_asyncio_fast.SerialTransport)
            and hasattr(port, "fd")
        ):
            port.write = _write_once(port.fd)

    def _received(self, data: bytes) -> None:
        self._alive()
        for frame in self.decoder.feed(data):
            self._deliver(frame)
        if self.decoder.rejected_total != self.health.rx_bad:
            self.health.rejected = {str(k): v for k, v in self.decoder.rejected.items()}
            self.health.rx_bad = self.decoder.rejected_total

    def _pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def _send_frame(self, message: Message, flags: int) -> None:
        """Frames sent in one loop turn (a batch of results) leave in one write."""
        if self._transport is None or self._transport.is_closing():
            raise OSError("port closed")
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out += message.encode(self._seq, flags)

    def _flush(self) -> None:
        data, self._out = bytes(self._out), bytearray()
        transport = self._transport
        if not data or transport is None or transport.is_closing():
            return
        waiting = transport.get_write_buffer_size()
        if waiting + len(data) > WRITE_CAP:  # it does not read: drop the link, keypads retry
            self.health.unread += 1
            self.health.last_error = f"the receiver left {waiting} bytes of answers unread"
            transport.abort()
            self._lose(self.health.last_error)
            return
        transport.write(data)
        self.write_peak = max(self.write_peak, transport.get_write_buffer_size())

    async def _disconnect(self) -> None:
        transport, protocol = self._transport, self._protocol
        if transport is not None and not transport.is_closing():
            self._flush()  # what was sent last (an ERROR saying why, say) leaves before the close
        self._transport = self._protocol = None
        if transport is None:
            return
        transport.close()
        if protocol is not None:
            try:
                await within(asyncio.shield(protocol.closed), CLOSE_WAIT)
            except TimeoutError:  # it does not read: what is left for it is dropped, not kept
                transport.abort()
