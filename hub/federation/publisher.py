"""A room's outbox: every committed journal record, in order, to the room's JetStream subject.

It reads what the hub has committed (beside the writer, never in its way) from the outbox
cursor on, publishes a window of records, and moves the cursor only when JetStream has
acknowledged all of them. Each message's id is the room and the record's sequence, so a record
sent again (after an outage, a restart, a lost acknowledgement) is stored once. Nothing here
is on a keypad's path: when NATS is down, the room votes on and the outbox catches up later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS

from hub.aio import within
from hub.federation.access import Credential, msg_id, room_subject
from hub.federation.link import (
    BACKOFF_CAP,
    BACKOFF_START,
    LinkHealth,
    close_quietly,
    connect_forever,
    stop_task,
)
from hub.federation.outbox import RecordsReader
from hub.federation.wire import encode
from hub.journal import Journal

log = logging.getLogger(__name__)
WINDOW = 256  # records in flight at once
ACK_TIMEOUT = 5.0
IDLE_WAKE = 1.0
FLUSH_S = 2.0  # at a clean stop, how long the outbox may try to deliver the last records


@dataclass
class OutboxStats:
    published: int = 0  # records acknowledged by JetStream
    stored_twice: int = 0  # acknowledged as duplicates (a re-send JetStream dropped)
    failures: int = 0
    cursor: int = 0
    committed: int = 0
    last_ack_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "duplicates_dropped_by_stream": self.stored_twice,
            "failures": self.failures,
            "cursor": self.cursor,
            "behind": max(0, self.committed - self.cursor),
            "last_ack_at": self.last_ack_at,
        }


class RoomPublisher:
    def __init__(
        self,
        journal: Journal,
        cred: Credential,
        servers: list[str],
        tls_ca: str | None = None,
        window: int = WINDOW,
        on_acked: Callable[[int], None] | None = None,
    ) -> None:
        if cred.room is None:
            raise ValueError("a room publisher needs a room's credentials")
        self.room = cred.room
        self.journal = journal
        self.cred = cred
        self.servers = servers
        self.tls_ca = tls_ca
        self.window = window
        self.subject = room_subject(cred.room)
        self.outbox_name = f"nats:{cred.stream}:{cred.room}"
        self.health = LinkHealth()
        self.stats = OutboxStats()
        self._on_acked = on_acked
        self._reader = RecordsReader(Path(journal.path), cred.room)
        self._js: Any = None
        self._nc: NATS | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.stats.cursor = self.journal.outbox_cursor(self.outbox_name)
        self._task = asyncio.create_task(self._run(), name=f"outbox {self.room}")

    async def stop(self, flush_s: float = FLUSH_S) -> None:
        """Stop; first, for at most ``flush_s``, deliver what is left (the hub's closing record,
        when the hub has just stopped): the plenary then holds the whole journal."""
        await stop_task(self._task)
        self._task = None
        if flush_s > 0 and self._js is not None and self._nc is not None and self._nc.is_connected:
            with contextlib.suppress(TimeoutError, nats.errors.Error, OSError):
                async with asyncio.timeout(flush_s):
                    while await self._send_window(self._js):
                        pass
        await close_quietly(self._nc)
        self._nc = None
        await self._reader.close()

    def to_json(self) -> dict[str, Any]:
        return {"room": self.room, "subject": self.subject, **self.health.to_json(), **self.stats.to_json()}

    async def _run(self) -> None:
        self._nc = await connect_forever(
            self.cred, self.servers, self.health, f"clicker room {self.room}", self.tls_ca
        )
        js = self._js = self._nc.jetstream()
        backoff = BACKOFF_START
        while True:
            try:
                sent = await self._send_window(js)
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                self.stats.failures += 1
                self.health.last_error = f"publishing: {exc or type(exc).__name__}"
                await self.health.backoff(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
                continue
            backoff = BACKOFF_START
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await within(self.journal.committed_after(self.stats.cursor), IDLE_WAKE)

    async def _send_window(self, js: Any) -> int:
        """Publish the records after the cursor (a window); move the cursor once all are acked."""
        records = await self._reader.read_after(self.stats.cursor, self.window)
        if records:
            self.stats.committed = max(self.stats.committed, records[-1].seq)
        if not records:
            return 0
        if self._nc is None or not self._nc.is_connected:
            raise nats.errors.ConnectionClosedError  # wait for nats-py to reconnect
        futures: list[asyncio.Future[Any]] = []
        try:
            for rec in records:
                futures.append(
                    await js.publish_async(
                        self.subject, encode(rec), headers={"Nats-Msg-Id": msg_id(self.room, rec.seq)}
                    )
                )
            async with asyncio.timeout(ACK_TIMEOUT):
                acks = await asyncio.gather(*futures)
        finally:
            for f in futures:  # an unanswered publish must not hold nats-py's pending slots
                f.cancel()
        self.stats.published += len(acks)
        self.stats.stored_twice += sum(1 for a in acks if a.duplicate)
        self.stats.cursor = records[-1].seq
        self.stats.last_ack_at = time.time()
        self.health.last_error = ""
        self.journal.set_outbox_cursor(self.outbox_name, self.stats.cursor)
        if self._on_acked is not None:
            self._on_acked(self.stats.cursor)
        return len(records)
