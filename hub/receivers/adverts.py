"""Keypads heard directly in their BLE adverts (docs/protocol.md, "Advert mode"): presses go to
the engine, nothing goes back (an advert cannot be answered: the keypad repeats it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.inbox import Inbox
from hub.receivers.base import EnginePort, ReceiverHealth
from hub.receivers.link import LinkTimings
from hub.transports.base import Transport
from hub.wire.advert import decode_advert
from hub.wire.framing import FrameError
from hub.wire.presses import from_wire

log = logging.getLogger(__name__)


class AdvertReceiver:
    """The hub's own BLE adapter as a receiver: it hears keypads, and tells them nothing."""

    def __init__(
        self, transport: Transport, engine: EnginePort, timings: LinkTimings = LinkTimings()
    ) -> None:
        self.transport = transport
        self.name = transport.name
        self.engine = engine
        self.timings = timings
        self.health = ReceiverHealth(self.name, transport.kind)
        self.inbox: Inbox[Any] | None = None
        self.connected_event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._shed = 0  # presses the engine's inbox refused

    def start(self) -> None:
        self.inbox = self.engine.open_inbox(self.name)  # adverts cannot be paused: beyond it, shed
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.inbox is not None:
            self.engine.close_inbox(self.inbox)
            self.inbox = None

    def send_poll_state(self) -> None:
        """Adverts are one-way: there is no one to tell."""

    async def _run(self) -> None:
        backoff = self.timings.backoff_start
        while True:
            try:
                await self.transport.open()
                self.health.connected = True
                self.health.connects += 1
                self.connected_event.set()
                self.engine.receiver_changed()
                backoff = self.timings.backoff_start
                while chunk := await self.transport.read():
                    self._heard(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the adapter went away: try again
                self.health.last_error = f"{type(exc).__name__}: {exc}"[:200]
                log.info("receiver %s: %s", self.name, self.health.last_error)
            finally:
                self.health.shed = self._shed + self.transport.health.dropped
                if self.health.connected:
                    self.health.connected = False
                    self.connected_event.clear()
                    self.engine.receiver_changed()
                with contextlib.suppress(Exception):
                    await within(self.transport.close(), self.timings.close)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.timings.backoff_cap)

    def _heard(self, chunk: bytes) -> None:
        rssi = int.from_bytes(chunk[:1], "little", signed=True)
        try:
            press = decode_advert(chunk[1:], rssi)
        except FrameError as exc:
            self.health.rx_bad += 1
            self.health.rejected[str(exc.reason)] = self.health.rejected.get(str(exc.reason), 0) + 1
            return
        self.health.presses += 1
        if not self.engine.submit_press(from_wire(press, self.name, self.engine.clock()), None, self.inbox):
            self._shed += 1  # the keypad repeats its advert
            self.health.shed = self._shed + self.transport.health.dropped
