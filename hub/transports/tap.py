"""A recording tap around any transport: every chunk the hub reads and every frame it writes,
with the transport's opens, ends and closes, go to a traffic recording (hub/traffic.py) as
they happen, while the transport works as it would without the tap. ``clicker serve
--record`` and ``clicker demo --record`` put one on each receiver; ``clicker replay`` plays the
recording back through ``ReplayTransport`` (hub/transports/replay.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.transports.base import Transport

if TYPE_CHECKING:
    from hub.traffic import TrafficRecorder


def tap(transport: Transport, recorder: TrafficRecorder | None) -> Transport:
    """The transport, recorded when there is a recorder."""
    return transport if recorder is None else RecordingTap(transport, recorder)


class RecordingTap(Transport):
    def __init__(self, inner: Transport, recorder: TrafficRecorder) -> None:
        super().__init__(inner.name)
        self.inner = inner
        self.kind = inner.kind
        self.framing = inner.framing
        self.health = inner.health
        self.recorder = recorder

    async def open(self) -> None:
        await self.inner.open()
        self.recorder.opened(self.name, self.kind, self.framing)

    async def read(self) -> bytes:
        chunk = await self.inner.read()
        if chunk:
            self.recorder.chunk(self.name, "in", chunk)
        else:
            self.recorder.ended(self.name)
        return chunk

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        self.recorder.chunk(self.name, "out", data)

    async def close(self) -> None:
        self.recorder.closed(self.name)
        await self.inner.close()

    @property
    def writable(self) -> bool:
        return self.inner.writable

    async def wait_writable(self) -> None:
        await self.inner.wait_writable()

    def blocked_for(self) -> float:
        return self.inner.blocked_for()
