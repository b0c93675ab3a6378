"""The transport interface: what a receiver link needs to move bytes, and nothing more.

A transport is opened, read chunk by chunk, written frame by frame, and closed; it can be
opened again after it was lost. What a chunk is depends on its ``framing``:

- ``STREAM``: pieces of a COBS-framed byte stream (a serial port, a socket), cut anywhere;
- ``DATAGRAM``: one whole frame per chunk, without COBS (a BLE GATT value);
- ``ADVERT``: one keypad advert per chunk: its signal strength (one signed byte) and its
  manufacturer data (docs/protocol.md, "Advert mode").

Reading is pulled: a link that has enough presses waiting stops calling ``read``, and the
transport stops reading its device once its own small buffer is full (the bytes then wait in
the kernel and in the receiver), so flow control reaches the wire. Writing is pushed and
bounded: ``write`` queues bytes, ``writable`` is False while the receiver does not take them,
and beyond the transport's cap ``write`` raises ``TransportClosed`` after dropping the link.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from hub.errors import ClickerError


class Framing(StrEnum):
    STREAM = "stream"
    DATAGRAM = "datagram"
    ADVERT = "advert"


class TransportClosed(ClickerError):
    """The transport is not open (never opened, lost, or dropped because the peer does not
    read); the message says why in one line."""


@dataclass
class TransportHealth:
    """Counters of the bytes that went through, for the console and the benchmarks."""

    opens: int = 0
    chunks_in: int = 0
    bytes_in: int = 0
    writes: int = 0
    bytes_out: int = 0
    write_peak: int = 0  # the most bytes ever waiting to be written
    unread: int = 0  # times it was dropped because the receiver did not read its answers
    dropped: int = 0  # chunks its device delivered beyond what it may hold (never answered)
    last_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Transport(ABC):
    """One receiver's bytes. ``name`` names the receiver (its URL, address or role)."""

    kind: str = "transport"
    framing: Framing = Framing.STREAM

    def __init__(self, name: str) -> None:
        self.name = name
        self.health = TransportHealth()
        self._write_blocked_at: float | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    @abstractmethod
    async def open(self) -> None:
        """Open the device (raise an exception saying why it cannot be opened)."""

    @abstractmethod
    async def read(self) -> bytes:
        """The next chunk; ``b""`` once the transport is lost (end of stream, disconnected)."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Queue bytes for the receiver (one frame, or several of one loop turn)."""

    @abstractmethod
    async def close(self) -> None:
        """Close the device and everything the transport started; what was written last
        leaves first (an ERROR saying why, say)."""

    @property
    def writable(self) -> bool:
        """False while the receiver is not taking what is written (the write buffer is above
        its high-water mark)."""
        return self._write_blocked_at is None

    async def wait_writable(self) -> None:
        """Return once the receiver takes what is written again."""
        await self._writable.wait()

    def blocked_for(self) -> float:
        """How long writes have been blocked (0 when they are not)."""
        since = self._write_blocked_at
        return 0.0 if since is None else time.monotonic() - since

    def set_write_blocked(self, blocked: bool) -> None:
        """For implementations (and their asyncio protocols): the write buffer went above (or
        back below) its high mark."""
        if blocked and self._write_blocked_at is None:
            self._write_blocked_at = time.monotonic()
            self._writable.clear()
        elif not blocked:
            self._write_blocked_at = None
            self._writable.set()


class Chunks:
    """A transport's buffer of chunks read from its device and not yet by its link.

    With ``pause``/``resume`` (a device that can stop being read): ``pause`` when it holds
    ``limit`` chunks, ``resume`` once the link has taken half of them. Without (a BLE
    notification or advert cannot be refused): beyond ``limit`` a chunk is not kept and ``put``
    says so (its sender repeats what is never answered). After ``end`` it yields ``b""``."""

    def __init__(
        self, limit: int, pause: Callable[[], None] | None = None, resume: Callable[[], None] | None = None
    ) -> None:
        self._items: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._limit = limit
        self._pause, self._resume = pause, resume
        self._paused = False
        self._ended = False

    def put(self, chunk: bytes) -> bool:
        if self._pause is None and len(self._items) >= self._limit:
            return False
        self._items.append(chunk)
        self._ready.set()
        if self._pause is not None and len(self._items) >= self._limit and not self._paused:
            self._paused = True
            self._pause()
        return True

    def end(self) -> None:
        self._ended = True
        self._ready.set()

    async def get(self) -> bytes:
        while not self._items:
            if self._ended:
                return b""
            self._ready.clear()
            await self._ready.wait()
        chunk = self._items.popleft()
        if self._paused and len(self._items) <= self._limit // 2 and self._resume is not None:
            self._paused = False
            self._resume()
        return chunk
