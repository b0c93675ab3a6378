"""``clicker replay``: a recording (hub/traffic.py) played back into a fresh hub, through the
same receiver links as a live session, on the recording's clock; the hub's tallies must come
out as the recording's.

The hub's clock follows the recording, not the wall, from the recorded hub's own clock: a
replay at any speed sees the same press times and ages, so the same grace periods and the same
decisions. The recorded chunks are released on their receivers' replay transports one at a
time, each once the hub has decided every press of the one before (so presses are decided in
the order the hub read them), and each recorded command once the hub has decided everything
released before it; the hub's own timers stay off (their commands are in the recording).

Tallies come out the same. Statuses can differ in one way only: the live hub takes a share of
every receiver's presses per loop turn, so two presses of one keypad read in the same turn
from two receivers may have been decided newest first there (the older one "superseded") and
oldest first here (both "counted"), or the reverse; the vote that stands is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from hub.engine import Engine
from hub.journal import Journal
from hub.receivers.adverts import AdvertReceiver
from hub.receivers.base import Receiver
from hub.receivers.link import ReceiverLink
from hub.records import poll_tallies
from hub.session import SessionConfig, SessionError
from hub.traffic import (
    Applied,
    Chunk,
    Ended,
    Event,
    Gap,
    Opened,
    Outline,
    TrafficError,
    Truth,
    open_traffic,
    outline,
)
from hub.transports.base import Framing
from hub.transports.replay import ReplayTransport

STEP_TIMEOUT = 30.0  # one step of the replay (a chunk handled, a connection opened, a command)


async def replay(
    path: str | Path,
    speed: float = 1.0,
    db: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    plan: Outline | None = None,
) -> dict[str, Any]:
    """Replay a recording into a fresh hub; returns a summary with ``tallies_match``.
    ``plan``: the recording's outline, if the caller has read it already."""
    if speed <= 0:
        raise TrafficError("--speed must be positive")
    if plan is None:
        plan = await asyncio.to_thread(outline, path)  # the whole file checked, never held
    meta = plan.meta
    try:
        config = SessionConfig.from_json(meta.session, journaled=True)
    except SessionError as exc:
        raise TrafficError(f"{path}: {exc}") from None
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="clicker-replay-")
        db = Path(tmp.name) / "replay.db"
    journal = Journal(db)
    base, timeline = (meta.clock if meta.clock is not None else time.time()), [0.0]

    def clock() -> float:
        return base + timeline[0]

    try:
        engine = await Engine.open(journal, config, clock=clock, timers=False)
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    transports: dict[str, ReplayTransport] = {}
    opens: dict[str, int] = {}
    truth: Truth | None = None
    lost = 0
    try:
        for name, first in plan.receivers.items():
            transports[name] = t = ReplayTransport(name, first.kind, first.framing)
            receiver: Receiver = (
                AdvertReceiver(t, engine) if first.framing is Framing.ADVERT else ReceiverLink(t, engine)
            )
            engine.add_receiver(receiver)
        started, t_prev = time.monotonic(), 0.0
        i = 0
        async with contextlib.aclosing(_read(path)) as events:
            async for e in events:
                i += 1
                if isinstance(e, Truth):
                    truth = e
                    continue
                if isinstance(e, Gap):  # the recorder could not keep these: said in the summary
                    lost += e.lost
                    continue
                await asyncio.sleep(max(0.0, started + e.t / speed - time.monotonic()))
                t_prev = timeline[0] = max(t_prev, e.t)
                if isinstance(e, Applied):  # the command at the very time it had (its ``at``)
                    timeline[0] = e.command.at - base
                async with asyncio.timeout(STEP_TIMEOUT):
                    await _step(engine, transports, opens, e)
                if progress:
                    progress(i, plan.events)
        await engine.wait_until(lambda: engine.idle, STEP_TIMEOUT)
        session = engine.session
        tallies = poll_tallies(session)
        statuses = {s.name.lower(): n for s, n in session.statuses.items()}
        return {
            "polls": len(session.polls),
            "presses_received": sum(statuses.values()),
            "presses_counted": statuses["counted"],
            "duplicates": statuses["duplicate"],
            "tallies_match": truth is not None and truth.tallies == tallies,
            "recorded_tallies": truth is not None,
            "lost_events": lost,  # not in the recording (its disk did not keep up): not replayed
        }
    finally:
        await engine.stop()
        if tmp is not None:
            tmp.cleanup()


async def _read(path: str | Path, batch: int = 256) -> AsyncGenerator[Event, None]:
    """The recording's events, read off the loop a batch at a time (a day's recording is never
    held in memory)."""
    _, events = await asyncio.to_thread(open_traffic, path)
    try:
        while chunk := await asyncio.to_thread(lambda: list(itertools.islice(events, batch))):
            for e in chunk:
                yield e
    finally:
        events.close()


async def _step(
    engine: Engine, transports: dict[str, ReplayTransport], opens: dict[str, int], e: object
) -> None:
    if isinstance(e, Opened):
        t = transports[e.receiver]
        opens[e.receiver] = opens.get(e.receiver, 0) + 1
        t.allow_open()
        await t.opened(opens[e.receiver])
    elif isinstance(e, Chunk) and e.direction == "in":
        t = transports[e.receiver]
        t.feed(e.data)
        await t.taken()
        await engine.wait_until(lambda: engine.idle, STEP_TIMEOUT)  # decided in the order read
    elif isinstance(e, Ended):
        t = transports[e.receiver]
        if t.is_open:  # (a close after the end of the connection has nothing left to end)
            t.feed(b"")
            await t.taken()
    elif isinstance(e, Applied):
        await engine.wait_until(lambda: engine.idle, STEP_TIMEOUT)
        await engine.act(e.command)
