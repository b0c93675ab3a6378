"""The live broadcaster: every websocket client has a latest-only mailbox and its own sender
task with a send timeout, so a slow or dead client never delays the hub or the others."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import WebSocket

from hub.aio import within

log = logging.getLogger(__name__)
SEND_TIMEOUT = 2.0


class Client:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.latest: dict[str, Any] | None = None
        self.ready = asyncio.Event()
        self.sent_version = -1

    def offer(self, state: dict[str, Any]) -> None:
        """Replace whatever was waiting: only the newest state matters."""
        self.latest = state
        self.ready.set()

    async def pump(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            state = self.latest
            if state is None or state["version"] <= self.sent_version:
                continue
            await within(self.ws.send_json(state), SEND_TIMEOUT)  # a stalled client times out
            self.sent_version = state["version"]


class Broadcaster:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.latest: dict[str, Any] | None = None

    def publish(self, state: dict[str, Any]) -> None:
        self.latest = state
        for c in self.clients:
            c.offer(state)

    async def serve(self, ws: WebSocket, snapshot: dict[str, Any]) -> None:
        """One client's life: the full snapshot first, then each newer state."""
        client = Client(ws)
        client.offer(snapshot)
        self.clients.add(client)
        pump = asyncio.create_task(client.pump(), name="ws pump")
        reader = asyncio.create_task(self._drain(ws), name="ws reader")
        try:
            await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.clients.discard(client)
            for t in (pump, reader):
                t.cancel()
            await asyncio.gather(pump, reader, return_exceptions=True)

    @staticmethod
    async def _drain(ws: WebSocket) -> None:
        """The channel is read-only; reading only notices the client leaving."""
        while True:
            msg = await ws.receive()
            if msg.get("type") == "websocket.disconnect":
                return
