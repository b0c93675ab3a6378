"""The live broadcaster: every websocket client has a latest-only mailbox and its own sender
task with a send timeout, so a slow or dead client never delays the hub or the others.

A state is encoded once for everyone: its live part once per version, each part (``session``,
``history``) once per revision; a client is sent a part only when it does not hold that
revision yet (its first message holds them all)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import WebSocket

from hub.aio import within
from hub.live import PARTS, live_part

log = logging.getLogger(__name__)
SEND_TIMEOUT = 2.0


class Encoder:
    """JSON texts of the latest state's live part and of each part's latest revision."""

    def __init__(self) -> None:
        self._live: tuple[int, bytes] = (-1, b"")
        self._parts: dict[str, tuple[int, bytes]] = {}

    def message(self, state: dict[str, Any], held: dict[str, int]) -> str:
        """The message for a client holding the parts' revisions ``held`` (updated in place)."""
        if self._live[0] != state["version"] or not self._live[1]:
            self._live = (state["version"], orjson.dumps(live_part(state)))
        text = self._live[1]
        pieces = [text[:-1]]
        for name, revision in state["revisions"].items():
            if held.get(name) == revision:
                continue
            cached = self._parts.get(name)
            if cached is None or cached[0] != revision:
                body = orjson.dumps({k: state[k] for k in PARTS[name] if k in state})
                cached = self._parts[name] = (revision, body)
            pieces.append(b"," + cached[1][1:-1])
            held[name] = revision
        return (b"".join(pieces) + b"}").decode()


class Client:
    def __init__(self, ws: WebSocket, encoder: Encoder) -> None:
        self.ws = ws
        self.encoder = encoder
        self.latest: dict[str, Any] | None = None
        self.ready = asyncio.Event()
        self.sent_version = -1
        self.held: dict[str, int] = {}  # the parts' revisions this client has been sent

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
            text = self.encoder.message(state, self.held)
            await within(self.ws.send_text(text), SEND_TIMEOUT)  # a stalled client times out
            self.sent_version = state["version"]


class Broadcaster:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.latest: dict[str, Any] | None = None
        self.encoder = Encoder()

    def publish(self, state: dict[str, Any]) -> None:
        self.latest = state
        for c in self.clients:
            c.offer(state)

    async def serve(self, ws: WebSocket, snapshot: dict[str, Any]) -> None:
        """One client's life: the full snapshot first, then each newer state."""
        client = Client(ws, self.encoder)
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
