"""Serial ports and sockets: device paths and pyserial URLs (``socket://host:port``, ...),
through pyserial-asyncio-fast; the bytes are a COBS-framed stream.

Flow control goes down to the asyncio transport: it stops reading the port once a few chunks
wait for the link (at most ``READ_SIZE`` bytes a read on a socket, about 540 presses, so a
flood is decoded one chunk at a time, between everybody else's work), and its write buffer is
watched (``pause_writing``): the receiver that does not read what the hub answers is seen, and
beyond ``WRITE_CAP`` the link is dropped and opened again (the keypads retry).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import serial_asyncio_fast
from serial.tools import list_ports

from hub.aio import within
from hub.transports.base import Chunks, Framing, Transport, TransportClosed

BAUD = 115200
# Espressif's USB serial/JTAG (the ESP32-S3's native USB port): hardware.md, "Receiver".
DEFAULT_VID_PID = ((0x303A, 0x1001),)
READ_SIZE = 16384  # bytes per read on a socket (about 540 presses); a serial port reads 1 KiB
READ_AHEAD = 4  # chunks read from the port and not yet by the link: then stop reading it
WRITE_HIGH = 64 * 1024  # the transport calls pause_writing above this
WRITE_LOW = 16 * 1024
WRITE_CAP = 1 << 20  # answers waiting to be written: beyond this the link is dropped
OPEN_TIMEOUT = 5.0
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


class _Protocol(asyncio.BufferedProtocol, asyncio.Protocol):
    """The asyncio side: bytes in to the chunk buffer, flow-control calls to the transport.

    A socket transport fills ``get_buffer`` (at most ``READ_SIZE`` bytes a read); the serial
    transport calls ``data_received``."""

    def __init__(self, owner: SerialTransport, chunks: Chunks) -> None:
        self.owner = owner
        self.chunks = chunks
        self._buffer = bytearray(READ_SIZE)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._buffer)

    def buffer_updated(self, nbytes: int) -> None:
        self.chunks.put(bytes(self._buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        self.chunks.put(data)

    def eof_received(self) -> bool:
        return False  # close

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if exc is not None:
            self.owner.health.last_error = f"the port closed: {exc}"
        self.chunks.end()

    def pause_writing(self) -> None:
        self.owner.set_write_blocked(True)

    def resume_writing(self) -> None:
        self.owner.set_write_blocked(False)


class SerialTransport(Transport):
    kind = "serial"
    framing = Framing.STREAM

    def __init__(self, url: str, name: str | None = None, baudrate: int = BAUD) -> None:
        super().__init__(name or url)
        self.url = url
        self.baudrate = baudrate
        self._asyncio: Any = None  # the asyncio transport while open
        self._protocol: _Protocol | None = None
        self._chunks: Chunks | None = None
        self._out = bytearray()

    async def open(self) -> None:
        self._out = bytearray()
        self.set_write_blocked(False)
        loop = asyncio.get_running_loop()
        chunks = Chunks(READ_AHEAD, self._pause, self._resume)
        transport, protocol = await within(
            serial_asyncio_fast.create_serial_connection(
                loop, lambda: _Protocol(self, chunks), self.url, baudrate=self.baudrate
            ),
            OPEN_TIMEOUT,
        )
        assert isinstance(protocol, _Protocol)
        self._asyncio, self._protocol, self._chunks = transport, protocol, chunks
        transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        port = getattr(transport, "_serial", None)
        if (
            port is not None
            and isinstance(transport, serial_asyncio_fast.SerialTransport)
            and hasattr(port, "fd")
        ):
            port.write = _write_once(port.fd)
        self.health.opens += 1

    def _pause(self) -> None:
        if self._asyncio is not None and not self._asyncio.is_closing():
            self._asyncio.pause_reading()

    def _resume(self) -> None:
        if self._asyncio is not None and not self._asyncio.is_closing():
            self._asyncio.resume_reading()

    async def read(self) -> bytes:
        if self._chunks is None:
            return b""
        chunk = await self._chunks.get()
        if chunk:
            self.health.chunks_in += 1
            self.health.bytes_in += len(chunk)
        return chunk

    def write(self, data: bytes) -> None:
        """Frames written in one loop turn (a batch of answers) leave in one write."""
        if self._asyncio is None or self._asyncio.is_closing():
            raise TransportClosed("port closed")
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out += data

    def _flush(self) -> None:
        data, self._out = bytes(self._out), bytearray()
        transport = self._asyncio
        if not data or transport is None or transport.is_closing():
            return
        waiting = transport.get_write_buffer_size()
        if waiting + len(data) > WRITE_CAP:  # it does not read: drop the link, keypads retry
            self.health.last_error = f"the receiver left {waiting} bytes of answers unread"
            self.health.unread += 1
            transport.abort()
            return
        transport.write(data)
        self.health.writes += 1
        self.health.bytes_out += len(data)
        self.health.write_peak = max(self.health.write_peak, transport.get_write_buffer_size())

    async def close(self) -> None:
        transport, protocol = self._asyncio, self._protocol
        if transport is not None and not transport.is_closing():
            self._flush()  # what was written last (an ERROR saying why, say) leaves before the close
        self._asyncio = self._protocol = None
        if self._chunks is not None:
            self._chunks.end()
        if transport is None:
            return
        transport.close()
        if protocol is not None:
            try:
                await within(asyncio.shield(protocol.closed), CLOSE_WAIT)
            except TimeoutError:  # it does not read: what is left for it is dropped, not kept
                transport.abort()
