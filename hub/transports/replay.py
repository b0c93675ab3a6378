"""A transport that plays a recording back: what the hub read, chunk by chunk, connection by
connection, when the replay's driver (hub/replay.py) releases it; what the hub writes is
counted and dropped (the replay compares results, not answers)."""

from __future__ import annotations

import asyncio

from hub.transports.base import Framing, Transport, TransportClosed


class ReplayTransport(Transport):
    def __init__(self, name: str, kind: str, framing: Framing) -> None:
        super().__init__(name)
        self.kind = kind
        self.framing = framing
        self.epochs = 0  # connections opened so far
        self._recorded_epochs = 0  # connections the recording has released so far
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._open = False
        self._changed = asyncio.Event()  # opened, or waiting in read with nothing left
        self._idle = False

    # --- the driver's side ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._open

    def allow_open(self) -> None:
        """The recording opened the transport again: the link may too."""
        self._recorded_epochs += 1
        self._changed.set()

    async def opened(self, epoch: int) -> None:
        """Return once the link has opened the transport ``epoch`` times."""
        while self.epochs < epoch:
            self._changed.clear()
            await self._changed.wait()

    def feed(self, chunk: bytes) -> None:
        """A chunk the hub read in the recording (``b""``: the connection ended there). A chunk
        for a connection the replay's link has already closed is dropped and counted."""
        if not self._open:
            self.health.dropped += 1
            return
        self._idle = False
        self._chunks.put_nowait(chunk)

    async def taken(self) -> None:
        """Return once the link has taken (and handled) every chunk fed so far, or the
        connection is closed."""
        while self._open and not (self._idle and self._chunks.empty()):
            self._changed.clear()
            await self._changed.wait()

    # --- the link's side -------------------------------------------------------------------------

    async def open(self) -> None:
        if self.epochs >= self._recorded_epochs:
            raise TransportClosed("the recording has no more connections of this receiver")
        self.epochs += 1
        self._open = True
        self.health.opens += 1
        self._changed.set()

    async def read(self) -> bytes:
        if not self._open:
            return b""
        if self._chunks.empty():
            self._idle = True
            self._changed.set()
        chunk = await self._chunks.get()
        self._idle = False
        if chunk:
            self.health.chunks_in += 1
            self.health.bytes_in += len(chunk)
        else:
            self._open = False
            self._changed.set()
        return chunk

    def write(self, data: bytes) -> None:
        if not self._open:
            raise TransportClosed("closed")
        self.health.writes += 1
        self.health.bytes_out += len(data)

    async def close(self) -> None:
        if self._open:
            self._open = False
            while not self._chunks.empty():  # what this connection never read is not read later
                self._chunks.get_nowait()
        self._changed.set()
