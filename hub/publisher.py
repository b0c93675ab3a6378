"""The state the engine publishes: versions, subscribers, and the coalescing that keeps a burst
of presses from becoming a backlog of stale states.

Every change bumps the version and marks the state dirty; the publishing task builds one state
when the loop is free and hands it to every subscriber, so a burst of presses produces one new
state, never one per press. Waiters (``wait_until``) wake on every change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

State = dict[str, Any]


class Publisher:
    def __init__(self, build: Callable[[int], State]) -> None:
        self._build = build
        # Versions (and the parts' revisions, which are versions) grow across restarts too: a
        # client holding a part from before a restart never mistakes a new one for it.
        self.version = time.time_ns() // 1000
        self._dirty = asyncio.Event()
        self._tick = asyncio.Event()  # replaced on every change: wait_until wakes on each
        self._subscribers: list[Callable[[State], None]] = []

    def changed(self) -> None:
        self.version += 1
        self._dirty.set()
        self._tick.set()
        self._tick = asyncio.Event()

    def subscribe(self, callback: Callable[[State], None]) -> Callable[[], None]:
        """Receive every published state (the newest one when several changes come at once);
        returns the way to unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def snapshot(self) -> State:
        """The state now (docs/live-and-control.md)."""
        return self._build(self.version)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Wait (at most ``within`` seconds: TimeoutError) until ``predicate`` holds; it is
        checked after every change."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._tick.wait()

    async def run(self) -> None:
        """The publishing task (owned by the engine)."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not self._subscribers:
                continue
            state = self.snapshot()
            for callback in list(self._subscribers):
                try:
                    callback(state)
                except Exception:  # a broken subscriber must not stop the others
                    log.exception("subscriber failed")
            await asyncio.sleep(0)  # let presses in before the next state
