"""``clicker plenary``: every room's records through durable JetStream consumers, checked and
applied by the pure core, journaled, acknowledged, and published as live state.

One loop owns the convention, like a room hub's loop owns its session: consumers hand it
batches of messages (one batch per room in flight, so memory stays bounded), the console hands
it paper entries and confirmations; it decides everything waiting, writes the plenary journal
in one transaction, and only then acknowledges the messages and answers the console. A plenary
killed at any moment loses nothing: what it had not journaled was not acknowledged and comes
back from the consumers; what comes back twice is recognised by its room's chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from hub.aio import cancel_and_wait, within
from hub.errors import ClickerError
from hub.federation.access import SUBJECT_PREFIX, Credential, room_subject
from hub.federation.convention import (
    CONVENTION,
    TOTAL,
    Convention,
    ConventionConfig,
    PlenaryError,
    apply_plenary,
)
from hub.federation.intake import Intake, Receipt
from hub.federation.link import (
    BACKOFF_CAP,
    BACKOFF_START,
    LinkHealth,
    close_quietly,
    connect_forever,
    stop_task,
)
from hub.federation.live import ViewState, plenary_live, votation_part
from hub.federation.wire import WireError, decode
from hub.journal import Journal, Record
from hub.tally import Ranking

log = logging.getLogger(__name__)
FETCH_BATCH = 256
ACK_WAIT_S = 10.0
REDELIVER_LATER_S = 2.0
DUPLICATE_WINDOW_S = 600.0
ACTION_TIMEOUT = 10.0
TICK_S = 1.0
STOP_DRAIN_S = 5.0


class PlenaryFailure(ClickerError):
    """The plenary journal could not be written: the plenary stops rather than acknowledge."""


@dataclass(slots=True)
class _Work:
    room: str | None = None
    msgs: list[Msg] | None = None
    action: tuple[str, dict[str, Any]] | None = None
    done: asyncio.Future[Any] | None = None


def stream_config(stream: str) -> StreamConfig:
    """Every room's subject in one stream, on disk; records cannot be deleted or purged."""
    return StreamConfig(
        name=stream,
        subjects=[f"{SUBJECT_PREFIX}.*"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
        deny_delete=True,
        deny_purge=True,
    )


def consumer_config(room: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=f"plenary-{room}",
        filter_subject=room_subject(room),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT_S,
        max_deliver=-1,
        max_ack_pending=-1,
    )


class Plenary:
    def __init__(
        self,
        journal: Journal,
        cred: Credential,
        servers: list[str],
        clock: Callable[[], float] = time.time,
        tls_ca: str | None = None,
        fetch_batch: int = FETCH_BATCH,
    ) -> None:
        self.journal = journal
        self.cred = cred
        self.servers = servers
        self.clock = clock
        self.tls_ca = tls_ca
        self.fetch_batch = fetch_batch
        self.conv: Convention | None = None
        self.intake: Intake[Msg] | None = None
        self.health = LinkHealth()
        self.version = time.time_ns() // 1000  # grows across restarts, as a hub's
        self.failure: BaseException | None = None
        self.stopped = asyncio.Event()
        self.stream_ready = asyncio.Event()  # connected, and the stream exists
        self.on_accepted: Callable[[str, int], None] | None = None  # (room, seq) once journaled
        self._queue: deque[_Work] = deque()
        self._work = asyncio.Event()
        self._tick = asyncio.Event()
        self._dirty = asyncio.Event()
        self._subscribers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self._rankings: dict[str, tuple[int, Ranking]] = {}
        self._views: dict[str, ViewState] = {}
        self._votation: tuple[int, int, dict[str, Any]] | None = None  # (results version, revision, part)
        self._tasks: list[asyncio.Task[None]] = []
        self._nc: NATS | None = None
        self._resumed: set[str] = set()
        self._busy = False  # a loop turn is deciding, writing or acknowledging
        self._closed = False

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self, config: ConventionConfig | None = None) -> None:
        """Replay the plenary journal (every room's accepted records), then consume."""
        replayed: list[Convention | None] = [None]

        def consume(rec: Record) -> None:  # on the journal's thread, before anything runs
            replayed[0] = apply_plenary(replayed[0], rec.kind, rec.body)

        await self.journal.open(consume)
        conv = replayed[0]
        if conv is None:
            if config is None:
                await self.journal.close()
                raise PlenaryError("the plenary journal is empty and no convention was given")
            await self.journal.append([(CONVENTION, self.journal.codec.encode(CONVENTION, config.to_json()))])
            conv = Convention(config)
        self.conv = conv
        self.intake = Intake(conv)
        self._tasks = [
            asyncio.create_task(self._run(), name="plenary loop"),
            asyncio.create_task(self._link(), name="plenary consumers"),
            asyncio.create_task(self._publisher(), name="plenary publisher"),
        ]
        self._changed()

    async def stop(self) -> None:
        """A clean stop: no more fetching; what was fetched is decided, journaled and
        acknowledged (so nothing comes back as a duplicate); then the loop ends."""
        if self._closed:
            return
        self._closed = True
        tasks: list[asyncio.Task[None] | None] = [*self._tasks] or [None, None]
        loop_task, link_task, *others = tasks
        await stop_task(link_task)
        if loop_task is not None and not loop_task.done() and self.failure is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_DRAIN_S):
                    while self._queue or self._busy:
                        self._work.set()
                        await self._tick.wait()
            if self._nc is not None and self._nc.is_connected:
                with contextlib.suppress(TimeoutError, nats.errors.Error, OSError):
                    await self._nc.flush(timeout=2)  # the last acknowledgements reach the server
        await cancel_and_wait(loop_task, *others)
        self._tasks = []
        for w in self._queue:
            if w.done is not None and not w.done.done():
                w.done.cancel()
        await close_quietly(self._nc)
        self._nc = None
        await self.journal.close()
        self.stopped.set()

    # --- the console's actions -------------------------------------------------------------------

    async def act(self, kind: str, body: dict[str, Any]) -> Any:
        """A paper entry, a correction or a confirmation; returns once journaled. A refused one
        raises PlenaryError and changes nothing."""
        if self.failure is not None:
            raise PlenaryFailure(str(self.failure))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Work(action=(kind, {**body, "at": self.clock()}), done=done))
        self._work.set()
        return await within(done, ACTION_TIMEOUT)

    # --- NATS: the stream and one durable consumer per room --------------------------------------

    async def _link(self) -> None:
        assert self.conv is not None
        self._nc = await connect_forever(self.cred, self.servers, self.health, "clicker plenary", self.tls_ca)
        js = self._nc.jetstream()
        backoff = BACKOFF_START
        while True:
            try:
                await js.add_stream(stream_config(self.cred.stream))
                break
            except nats.js.errors.BadRequestError:  # it exists with settings of its own: use it
                break
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                self.health.last_error = f"creating the stream: {exc or type(exc).__name__}"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
        self.stream_ready.set()
        consumers = [asyncio.create_task(self._consume(js, r), name=f"consumer {r}") for r in self.conv.rooms]
        try:
            await asyncio.gather(*consumers)
        finally:
            await asyncio.gather(*(stop_task(c) for c in consumers))

    async def _consume(self, js: Any, room: str) -> None:
        sub = None
        backoff = BACKOFF_START
        inbox = (self.cred.inbox + ".").encode()
        while True:
            try:
                if sub is None:
                    sub = await js.pull_subscribe(
                        room_subject(room),
                        durable=f"plenary-{room}",
                        stream=self.cred.stream,
                        config=consumer_config(room),
                        inbox_prefix=inbox,
                    )
                    await self._resume(js, room)
                msgs = await sub.fetch(self.fetch_batch, timeout=TICK_S)
            except nats.errors.TimeoutError:
                continue
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                self.health.last_error = f"room {room}: {exc or type(exc).__name__}"
                await self.health.backoff(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
                continue
            backoff = BACKOFF_START
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._queue.append(_Work(room=room, msgs=msgs, done=done))
            self._work.set()
            await done  # one batch per room in flight

    async def _resume(self, js: Any, room: str) -> None:
        """Back where the consumer's acknowledgements stop: what a plenary killed earlier had
        received but not acknowledged comes again now, in order, not after the ack wait."""
        if room in self._resumed:
            return
        self._resumed.add(room)
        try:
            await js.reset_consumer(self.cred.stream, f"plenary-{room}")
        except nats.js.errors.APIError as exc:  # a server before 2.12: redelivered after ACK_WAIT_S
            log.info("consumer %s not reset: %s", room, exc)

    # --- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await within(self._work.wait(), TICK_S)
            self._work.clear()
            batch = list(self._queue)
            self._queue.clear()
            if self.failure is not None:
                continue
            self._busy = True  # until this turn's decisions are journaled and acknowledged
            receipt, answers = self._decide(batch)
            if receipt.entries:
                try:
                    codec = self.journal.codec
                    await self.journal.append([(k, codec.encode(k, b)) for k, b in receipt.entries])
                except Exception as exc:  # stop deciding and answering, say why
                    self.failure = exc
                    log.critical("plenary stopped: %s", exc)
                    for fut, _, _ in answers:
                        if not fut.done():
                            fut.set_exception(PlenaryFailure(str(exc)))
                    self.stopped.set()
                    continue
            for fut, outcome, refused in answers:
                if fut.done():
                    continue
                if refused is not None:
                    fut.set_exception(refused)
                else:
                    fut.set_result(outcome)
            await self._settle(receipt)
            if self.on_accepted is not None:
                for kind, body in receipt.entries:
                    if kind == "room":
                        self.on_accepted(body["room"], body["seq"])
            self._busy = False
            if receipt.entries or batch:
                self._changed()

    def _decide(
        self, batch: list[_Work]
    ) -> tuple[Receipt[Msg], list[tuple[asyncio.Future[Any], Any, Exception | None]]]:
        conv, intake = self.conv, self.intake
        assert conv is not None and intake is not None
        now = self.clock()
        receipt: Receipt[Msg] = Receipt()
        answers: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
        for work in batch:
            if work.msgs is not None and work.room is not None:
                for msg in work.msgs:
                    try:
                        rec = decode(msg.data, work.room)
                    except WireError as exc:
                        receipt.extend(intake.refuse_message(work.room, str(exc), msg, now))
                        continue
                    receipt.extend(intake.offer(rec, msg, now))
                if work.done is not None:
                    answers.append((work.done, None, None))
            elif work.action is not None and work.done is not None:
                kind, body = work.action
                try:
                    apply_plenary(conv, kind, body)
                except PlenaryError as exc:
                    answers.append((work.done, None, exc))  # nothing changed, nothing journaled
                    continue
                receipt.entries.append((kind, body))
                answers.append((work.done, body, None))
        receipt.extend(intake.check_gaps(now))
        return receipt, answers

    async def _settle(self, receipt: Receipt[Msg]) -> None:
        """Acknowledge what is journaled; ask again later for what was not kept. A lost
        acknowledgement only brings a duplicate back."""
        try:
            for msg in receipt.acks:
                await msg.ack()
            for msg in receipt.later:
                await msg.nak(delay=REDELIVER_LATER_S)
        except (nats.errors.Error, OSError) as exc:
            self.health.last_error = f"acknowledging: {exc or type(exc).__name__}"

    # --- live state ----------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1
        self._dirty.set()
        self._tick.set()
        self._tick = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within_s: float) -> None:
        async with asyncio.timeout(within_s):
            while not predicate():
                await self._tick.wait()

    def ranking(self, view: str) -> Ranking:
        """The view's ranking, recomputed only when a result may have changed."""
        assert self.conv is not None
        cached = self._rankings.get(view)
        if cached is None or cached[0] != self.conv.results_version:
            cached = (self.conv.results_version, self.conv.ranking(view))
            self._rankings[view] = cached
        return cached[1]

    def rooms_status(self) -> list[dict[str, Any]]:
        assert self.intake is not None
        return [self.intake.status(r) for r in self.intake.rooms]

    def snapshot(self, view: str = TOTAL) -> dict[str, Any]:
        """One view's whole state (its parts shared with earlier snapshots: never mutate them)."""
        conv = self.conv
        assert conv is not None
        if view not in conv.views():
            raise PlenaryError(f"no view {view!r}")
        ranking = None if view in conv.rooms and conv.rooms[view].session else self.ranking(view)
        builder = self._views.setdefault(view, ViewState(conv, view))
        state = builder.build(self.version, self.clock(), ranking)
        if self._votation is None or self._votation[0] != conv.results_version:
            self._votation = (conv.results_version, self.version, votation_part(conv))
        state = {**state, **self._votation[2]}
        state["revisions"] = {**state["revisions"], "votation": self._votation[1]}
        link = {**self.health.to_json(), "stream": self.cred.stream, "failure": str(self.failure or "")}
        state["plenary"] = plenary_live(conv, view, self.rooms_status(), link)
        return state

    def subscribe(self, view: str, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self._subscribers.setdefault(view, []).append(callback)
        return lambda: self._subscribers[view].remove(callback)

    async def _publisher(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            for view, callbacks in list(self._subscribers.items()):
                if not callbacks:
                    continue
                state = self.snapshot(view)
                for callback in list(callbacks):
                    try:
                        callback(state)
                    except Exception:
                        log.exception("subscriber failed")
            await asyncio.sleep(0.05)  # at most 20 states a second: the loop comes first
