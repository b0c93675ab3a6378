"""The hub's own two timers: the end of a closing poll's grace period, and the countdown that
closes a poll when it reaches zero.

Each fires a declared command through the engine (``EndGrace``, ``ClosePoll(poll_id,
"countdown")``), journaled like a facilitator's: a replay of the journal needs no timer, and a
restarted hub ends an overdue grace period or countdown at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from hub.aio import cancel_and_wait
from hub.commands import ClosePoll, Command, EndGrace
from hub.session import Session


class PollTimers:
    def __init__(
        self, session: Session, clock: Callable[[], float], act: Callable[[Command], Awaitable[None]]
    ) -> None:
        self._session = session
        self._clock = clock
        self._act = act
        self._grace: asyncio.Task[None] | None = None
        self._countdown: asyncio.Task[None] | None = None

    def schedule(self) -> None:
        """Start or cancel the timers after a poll's state changed (and once at start-up)."""
        ends = self._session.grace_ends_at()
        if ends is not None and (self._grace is None or self._grace.done()):
            self._grace = asyncio.create_task(self._at(ends, EndGrace()), name="grace period")
        countdown = self._session.countdown_ends_at()
        task = self._countdown
        if task is not None and not task.done():
            if countdown is not None and task.get_name() == f"countdown {countdown[0]}":
                return
            task.cancel()  # the poll was closed (or reset) before its countdown ended
        self._countdown = None
        if countdown is not None:
            poll_id, when = countdown
            self._countdown = asyncio.create_task(
                self._at(when, ClosePoll(poll_id, "countdown")), name=f"countdown {poll_id}"
            )

    async def _at(self, when: float, command: Command) -> None:
        await asyncio.sleep(max(0.0, when - self._clock()))
        await self._act(command)

    async def stop(self) -> None:
        await cancel_and_wait(self._grace, self._countdown)
        self._grace = self._countdown = None
