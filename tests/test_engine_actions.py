"""A facilitator's command against a loop that cannot keep up: withdrawn and said so when it was
never taken (HubBusy: nothing changed, try again), said to be pending when it was applied but the
disk has not confirmed it (ActionPending: never a failure for something that happened), and never
an answer nobody reads when the caller stops waiting."""

from __future__ import annotations

import asyncio

import pytest

from hub.commands import EndGrace, Select
from hub.engine import ActionLimits, ActionPending, Engine, HubBusy
from hub.journal import Journal
from hub.model import Press
from hub.session import SessionError
from tests.conftest import make_config

GUARD_S = 30  # hang guard only
SHORT = ActionLimits(taken_within=0.3, durable_within=0.3)


class StalledDisk:
    """The journal's commits wait until the disk is released (a stalled USB stick)."""

    def __init__(self, journal: Journal) -> None:
        self.released = asyncio.Event()
        self.waiting = 0
        self._arrived = asyncio.Event()
        self._append = journal.append
        journal.append = self.append  # type: ignore[method-assign]

    async def append(self, entries, checkpoint=None):
        self.waiting += 1
        self._arrived.set()
        await asyncio.wait_for(self.released.wait(), GUARD_S)
        return await self._append(entries, checkpoint)

    async def holding(self, commits: int) -> None:
        """Wait until ``commits`` commits wait for the disk."""
        while self.waiting < commits:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), GUARD_S)


async def _engine(tmp_path) -> tuple[Engine, Journal]:
    journal = Journal(tmp_path / "s.db")
    return await Engine.open(journal, make_config(n_keypads=10, n_props=3), limits=SHORT), journal


async def test_a_command_the_loop_never_took_is_withdrawn_and_changes_nothing(tmp_path):
    engine, journal = await _engine(tmp_path)
    try:
        disk = StalledDisk(journal)
        # Three batches of presses in flight fill the pipeline: the loop waits for the disk.
        for n in range(3):
            engine.submit_press(Press(1001 + n, 1, 0, 0, "1"), None)
            await disk.holding(n + 1)
        with pytest.raises(HubBusy):
            await engine.act(Select(3))
        disk.released.set()
        await engine.wait_until(lambda: engine.idle, GUARD_S)
        assert engine.session.current == 1  # withdrawn: never applied
        await engine.act(Select(2))  # the loop keeps up again: the same kind of command goes through
        assert engine.session.current == 2
    finally:
        await engine.stop()
    reopened = await Engine.open(Journal(tmp_path / "s.db"))
    try:
        assert reopened.session.current == 2  # and the withdrawn one was never journaled
    finally:
        await engine.stop()


async def test_a_command_applied_but_not_yet_durable_is_pending_then_durable(tmp_path):
    engine, journal = await _engine(tmp_path)
    try:
        disk = StalledDisk(journal)
        with pytest.raises(ActionPending):
            await engine.act(Select(3))
        assert engine.session.current == 3  # applied: the console must not repeat it blindly
        disk.released.set()
        await engine.wait_until(lambda: engine.idle, GUARD_S)
    finally:
        await engine.stop()
    reopened = await Engine.open(Journal(tmp_path / "s.db"))
    try:
        assert reopened.session.current == 3  # journaled once the disk came back
    finally:
        await reopened.stop()


async def test_a_refusal_whose_caller_stopped_waiting_is_not_left_unread(tmp_path):
    engine, journal = await _engine(tmp_path)
    try:
        disk = StalledDisk(journal)
        caller = asyncio.create_task(engine.act(EndGrace()))  # no grace period: refused
        await disk.holding(1)
        caller.cancel()  # the console went away
        with pytest.raises((asyncio.CancelledError, SessionError)):
            await caller
        disk.released.set()
        await engine.wait_until(lambda: engine.idle, GUARD_S)
        # tests/conftest.py fails this test if the refusal was left unread
    finally:
        await engine.stop()
