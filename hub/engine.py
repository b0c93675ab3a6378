"""The engine: the one loop that decides presses and commands, journals them, then answers.

receivers -> session decision -> journal commit -> PRESS_RESULT -> publish.

Only this loop mutates the session. Facilitator actions wait in their own short queue and each
press source (a receiver) in its own bounded inbox (hub/inbox.py); one loop turn takes every
waiting action first, then a fixed share of each inbox, decides them, writes them to the journal
in one transaction, and only then answers the keypads and the facilitator: a keypad lights green
only for a press that is on disk. A receiver that floods gets its share of each turn and is told
to stop reading when its inbox fills; it never delays the others, nor an action. Publishing is
coalesced: a burst of presses produces one new state, built when the loop is free, never a
backlog of stale ones (hub/publisher.py). The grace period and the countdown are the engine's
own timers (hub/timers.py), which act through the same loop.

An engine is whole when built: ``await Engine.open(journal, config)`` replays and verifies the
journal (or starts it with the session), and returns a running engine whose session is there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.announce import poll_state_message, session_nonce
from hub.beacons import Beacons
from hub.commands import POLL_COMMANDS, Command, EndGrace, Reveal
from hub.errors import ClickerError
from hub.inbox import FlowLimits, Inbox
from hub.journal import CHECKPOINT_PASSIVE, CHECKPOINT_TRUNCATE, Journal, JournalError
from hub.live import LiveState
from hub.model import Press
from hub.publisher import Publisher, State
from hub.receivers.base import Receiver
from hub.records import PRESS, CloseRecord, RecordError, ResultRecord, SessionRecord, apply_command
from hub.session import Poll, Session, SessionConfig, SessionError, SessionView
from hub.timers import PollTimers
from hub.verify import BadJournal, Recount
from hub.wal import wal_damage
from hub.wire.messages import PollStateMessage, PressResult
from hub.wire.presses import check_mic

log = logging.getLogger(__name__)
MAX_INFLIGHT = 2


@dataclass(frozen=True, slots=True)
class ActionLimits:
    """How long a facilitator's command waits, and how many may wait (tests pass shorter ones)."""

    taken_within: float = 10.0  # a command not taken by the loop by then is withdrawn (HubBusy)
    durable_within: float = 30.0  # a command taken: how long to wait for the journal to confirm it
    waiting: int = 64  # commands waiting at once; more are refused (HubBusy)


Reply = Callable[[PressResult], None]
Entry = tuple[str, bytes]  # a record's kind and its encoded body, as the journal takes them


@dataclass(slots=True)
class _Work:
    press: Press | None = None
    reply: Reply | None = None
    command: Command | None = None
    done: asyncio.Future[Any] | None = None
    taken: bool = False  # a command the loop has taken: it can no longer be withdrawn


class HubFailure(ClickerError):
    """The journal could not be written: the hub stops answering rather than lie."""


class JournalRefused(ClickerError):
    """The journal does not verify (or is not a journal): the hub will not serve from it."""


class HubBusy(ClickerError):
    """A command was not applied (the loop did not take it in time, or too many wait): nothing
    changed, it can be tried again."""


class ActionPending(ClickerError):
    """A command was applied but the journal has not confirmed it yet: check the state before
    repeating it."""


def _read_outcome(done: asyncio.Future[Any]) -> None:
    """A command's outcome is read here too, so that a refusal whose caller stopped waiting is
    not reported by asyncio as an exception nobody retrieved."""
    if not done.cancelled():
        done.exception()


async def _replay(journal: Journal) -> Recount:
    """Open the journal and replay it, verifying its chain, sequence and recount as it goes
    (the same check as ``clicker verify``, one streaming pass on the journal's thread)."""
    recount = Recount()
    damage = await asyncio.to_thread(wal_damage, journal.path)
    if damage is not None:  # resuming would write over the records SQLite cannot see
        await journal.close()
        raise JournalRefused(damage)
    try:
        await journal.open(recount.feed)
    except (JournalError, BadJournal) as exc:
        await journal.close()
        raise JournalRefused(str(exc)) from None
    except BaseException:  # cancelled (Ctrl-C at start-up): closed once its thread's replay ends
        await journal.close()
        raise
    return recount


class Engine:
    """The hub's one writer: a running session, its journal, its receivers and its published
    state. Built by ``Engine.open``; stopped by ``stop``."""

    def __init__(
        self,
        journal: Journal,
        session: Session,
        public_head: tuple[int, str],
        clock: Callable[[], float],
        timers: bool,
        flow: FlowLimits,
        limits: ActionLimits,
    ) -> None:
        """Use ``Engine.open``: it replays the journal first."""
        self.flow = flow
        self.limits = limits
        self.journal = journal
        self._session = session  # changed by this loop only: others get ``session``, read-only
        self.clock = clock
        self.receivers: list[Receiver] = []
        self.batches = 0
        # The head published in the live state: the journal's (seq, hash) as of the last commit
        # after which no poll was in flight (``Session.quiet``). Never a head taken while a poll
        # is open or awaiting its reveal: it would commit to the keys pressed.
        self.public_head = public_head
        self.failure: BaseException | None = None
        self.stopped = asyncio.Event()
        self._beacons = Beacons(session.keypads)
        self._live = LiveState(session)
        self.publisher = Publisher(self._build)
        self._timers = PollTimers(session, clock, self._act_until_taken) if timers else None
        self._observers: list[Callable[[Command], None]] = []
        self._actions: deque[_Work] = deque()  # commands: taken first, every turn
        self._inboxes: list[Inbox[_Work]] = []  # one per press source, a share of each per turn
        self._turn = 0
        self._work = asyncio.Event()
        self._direct = self.open_inbox("direct")  # submit_press without an inbox of its own
        self._inflight: deque[asyncio.Task[None]] = deque()
        self._committing = 0  # batches handed to the journal and not yet answered
        self._closed = False
        self._tasks = [
            asyncio.create_task(self._run(), name="hub loop"),
            asyncio.create_task(self.publisher.run(), name="hub publisher"),
        ]
        if self._timers is not None:
            self._timers.schedule()
        self.publisher.changed()

    @classmethod
    async def open(
        cls,
        journal: Journal,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.time,
        timers: bool = True,
        flow: FlowLimits = FlowLimits(),
        limits: ActionLimits = ActionLimits(),
    ) -> Engine:
        """A running engine on ``journal``: back exactly where it was, its journal verified as
        ``clicker verify`` would (JournalRefused otherwise, before anyone is answered); an empty
        journal is started with ``config`` (SessionError without one). ``timers=False`` leaves
        the grace periods and countdowns to whoever drives the engine (a replay of recorded
        traffic replays the timers' own commands). ``flow``: the receivers' inboxes."""
        recount = await _replay(journal)
        session, head = recount.session, recount.quiet_head
        if session is None:
            if config is None:
                await journal.close()
                raise SessionError("the journal is empty and no session was given")
            try:
                entry = journal.codec.encode_record(SessionRecord(config))
            except RecordError as exc:
                await journal.close()
                raise SessionError(f"the session description {exc}") from None
            session = Session(config, check_mic)
            head = await journal.append([entry])
        return cls(journal, session, head, clock, timers, flow, limits)

    async def stop(self) -> None:
        """Stop the receivers, the loop and the journal (after its closing record, unless it
        failed); calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        for r in self.receivers:
            await r.stop()
        if self._timers is not None:
            await self._timers.stop()
        await cancel_and_wait(*self._tasks)
        if self._inflight:  # let commits already handed to the journal finish and be answered
            await asyncio.wait(self._inflight, timeout=10)
            await cancel_and_wait(*self._inflight)
            self._inflight.clear()
        self._tasks = []
        if self.failure is None:
            await self._close_journal()
        await self.journal.close()
        self.stopped.set()

    async def _close_journal(self) -> None:
        """The closing record, then everything into the main file: after a clean stop the
        journal file alone is complete, and says so."""
        closing = [self.journal.codec.encode_record(CloseRecord(self.clock()))]
        try:
            await self.journal.append(closing, checkpoint=CHECKPOINT_TRUNCATE)
        except Exception as exc:
            self._fail(exc)

    @property
    def session(self) -> SessionView:
        """The running session, to read (only the loop changes it: through presses and commands)."""
        return self._session

    def add_receiver(self, receiver: Receiver) -> None:
        self.receivers.append(receiver)
        receiver.start()

    # --- the published state -----------------------------------------------------------------

    def subscribe(self, callback: Callable[[State], None]) -> Callable[[], None]:
        """Receive every published state (the newest one when several changes come at once)."""
        return self.publisher.subscribe(callback)

    def snapshot(self) -> State:
        """The whole state (docs/live-and-control.md); its parts are shared between snapshots
        and rebuilt only when their revision moves: read them, never mutate them."""
        return self.publisher.snapshot()

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Wait (at most ``within`` seconds) until the hub's state satisfies ``predicate``."""
        await self.publisher.wait_until(predicate, within)

    @property
    def version(self) -> int:
        return self.publisher.version

    def observe(self, callback: Callable[[Command], None]) -> None:
        """Be told every command the loop applies, in the order it applies them (a traffic
        recorder keeps them beside the bytes)."""
        self._observers.append(callback)

    def _build(self, version: int) -> State:
        return self._live.build(
            version,
            [r.health.to_json() for r in self.receivers],
            self._beacons.low,
            self.clock(),
            self.public_head,
        )

    # --- inputs (called on the loop's thread) ---------------------------------------------------

    def open_inbox(
        self, name: str, on_high: Callable[[], None] | None = None, on_low: Callable[[], None] | None = None
    ) -> Inbox[_Work]:
        """A bounded inbox for one press source (hub/inbox.py: ``on_high`` stop reading,
        ``on_low`` read again)."""
        inbox: Inbox[_Work] = Inbox(name, self._work.set, on_high, on_low, self.flow)
        self._inboxes.append(inbox)
        return inbox

    def close_inbox(self, inbox: Inbox[_Work]) -> None:
        inbox.clear()
        if inbox in self._inboxes:
            self._inboxes.remove(inbox)

    def submit_press(self, press: Press, reply: Reply | None, inbox: Inbox[_Work] | None = None) -> bool:
        """Queue a press for the loop; False when its inbox is full (it is not answered: the
        receiver sends it again)."""
        return (self._direct if inbox is None else inbox).put(_Work(press=press, reply=reply))

    async def act(self, command: Command) -> Any:
        """Run a facilitator command through the loop (stamped with the hub's time); returns
        what it returns once it is journaled.

        Commands go before presses, so the loop takes one within a turn. One it did not take in
        ``limits.taken_within`` is withdrawn (HubBusy: nothing changed); one it took is applied,
        and its answer waits for the journal (ActionPending after ``limits.durable_within``).
        A caller that stops waiting (cancelled, or told ActionPending) leaves the command to the
        loop: its outcome is still journaled, and nobody is left owing an unread answer."""
        if self.failure is not None:
            raise HubFailure(str(self.failure))
        limits = self.limits
        if len(self._actions) >= limits.waiting:
            raise HubBusy(f"{len(self._actions)} actions are already waiting: nothing was done, try again")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_read_outcome)
        work = _Work(command=replace(command, at=self.clock()), done=done)
        self._actions.append(work)
        self._work.set()
        try:
            return await within(asyncio.shield(done), limits.taken_within)
        except TimeoutError:
            if not work.taken:
                self._actions.remove(work)
                raise HubBusy("the hub is busy: the action was not applied, try again") from None
        try:
            return await within(asyncio.shield(done), limits.durable_within)
        except TimeoutError:
            raise ActionPending("applied, but the journal has not confirmed it yet") from None

    async def _act_until_taken(self, command: Command) -> None:
        """A command of the hub's own timers: tried again while the loop is too busy to take it
        (nothing was applied then), until applied or refused."""
        while True:
            try:
                await self.act(command)
            except HubBusy:
                await asyncio.sleep(0.05)
                continue
            except (SessionError, ActionPending, HubFailure):
                pass
            return

    def keypad_seen(self, keypad_id: int, battery: int, rssi: int) -> None:
        """An idle beacon (KEYPAD_SEEN) of a roster keypad: its battery may be low."""
        if self._beacons.heard(keypad_id, battery):
            self.publisher.changed()

    def receiver_changed(self) -> None:
        self.publisher.changed()

    def session_nonce(self) -> int:
        return session_nonce(self._session)

    def poll_state_message(self) -> PollStateMessage:
        return poll_state_message(self._session)

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing being committed: every press and command given so far
        is decided, journaled and answered."""
        return not self._actions and not any(self._inboxes) and not self._committing

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Take everything waiting, decide it, hand it to the journal, repeat.

        Commits are pipelined: the next batch is decided while the previous one is being
        written (at most ``MAX_INFLIGHT`` batches in flight), and each batch is answered only
        when its own commit is durable. The single journal thread keeps commits in order.
        """
        while True:
            await self._work.wait()
            self._work.clear()
            batch = self._take()
            if self._actions or any(self._inboxes):
                self._work.set()  # more is waiting: another turn after this one
            if self.failure is not None:  # the journal failed: decide nothing more, answer nothing
                for work in batch:
                    if work.done is not None and not work.done.done():
                        work.done.set_exception(HubFailure(str(self.failure)))
                continue
            entries, finish, abort, checkpoint = self._decide(batch)
            self._committing += 1
            commit = asyncio.ensure_future(self.journal.append(entries, checkpoint))
            self._inflight.append(
                asyncio.create_task(self._complete(commit, finish, abort), name="hub commit")
            )
            while self._inflight and (self._inflight[0].done() or len(self._inflight) > MAX_INFLIGHT):
                await self._inflight.popleft()

    async def _complete(
        self,
        commit: asyncio.Future[tuple[int, str]],
        finish: Callable[[tuple[int, str]], None],
        abort: Callable[[], None],
    ) -> None:
        try:
            durable = await commit  # durable before anyone hears about it
        except Exception as exc:  # the journal failed: stop answering rather than lie
            self._fail(exc)
            abort()
            return
        finally:
            self._committing -= 1
        if self.failure is None:
            self.batches += 1
            finish(durable)  # publishes: whoever waits for the engine to be idle wakes
        else:
            abort()

    def _fail(self, exc: BaseException) -> None:
        """The first failure stops the hub: nothing more is decided, committed or answered."""
        if self.failure is None:
            self.failure = exc
            log.info("hub stopped: %s", exc)  # the runner says it, once, with the journal's head
            self.stopped.set()
            self.publisher.changed()

    def _take(self) -> list[_Work]:
        """One turn's work: every waiting command, then up to ``flow.share`` presses of each inbox,
        starting with a different inbox each turn.

        The end of a grace period waits for the presses that arrived before it: a press that
        came in time counts, however long it waited in an inbox."""
        batch: list[_Work] = []
        deferred: list[_Work] = []
        ends = self._session.grace_ends_at()
        for work in self._actions:
            if isinstance(work.command, EndGrace) and ends is not None and self._arrived_by(ends):
                deferred.append(work)
            else:
                work.taken = True
                batch.append(work)
        self._actions.clear()
        self._actions.extend(deferred)
        inboxes, share = self._inboxes, self.flow.share
        if inboxes:
            self._turn = (self._turn + 1) % len(inboxes)
            for inbox in inboxes[self._turn :] + inboxes[: self._turn]:
                if inbox:
                    batch += inbox.take(share)
        return batch

    def _arrived_by(self, moment: float) -> bool:
        """Whether some inbox still holds a press that arrived by ``moment``."""
        for inbox in self._inboxes:
            oldest = inbox.oldest()
            if oldest is not None and oldest.press is not None and oldest.press.at <= moment:
                return True
        return False

    def _decide(
        self, batch: list[_Work]
    ) -> tuple[list[Entry], Callable[[tuple[int, str]], None], Callable[[], None], int | None]:
        """Decide a batch: the records to journal, what to do once they are durable (answer;
        publish the head if no poll is in flight), what to do if they never are (tell the
        waiting commands why), and whether the commit ends with a checkpoint (after a reveal:
        the main file then holds every head shown)."""
        session = self._session
        codec = self.journal.codec
        entries: list[Entry] = []
        # (reply, keypad_id, counter, status, poll_id): the PRESS_RESULT is built when it is sent,
        # so a batch waiting for its commit holds one small object per press, not two.
        replies: list[tuple[Reply, int, int, int, int]] = []
        answers: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        poll_changed = False
        checkpoint = None
        for work in batch:
            if work.press is not None:
                decision = session.handle_press(work.press)
                status = int(decision.status)
                entries.append((PRESS, codec.encode_press(work.press, status, decision.poll_id)))
                if work.reply is not None:
                    p = work.press
                    replies.append((work.reply, p.keypad_id, p.counter, status, decision.poll_id))
            elif work.command is not None and work.done is not None:
                command = work.command
                try:
                    entry = codec.encode_record(command)  # before applying: all or nothing
                    outcome = apply_command(session, command)
                except (SessionError, RecordError) as exc:
                    refused = exc if isinstance(exc, SessionError) else SessionError(str(exc))
                    answers.append((work.done, None, refused))  # nothing changed
                    continue
                entries.append(entry)
                for observe in self._observers:
                    observe(command)
                if isinstance(command, EndGrace) and isinstance(outcome, Poll):
                    entries.append(codec.encode_record(ResultRecord.of(outcome)))
                if isinstance(command, Reveal):
                    checkpoint = CHECKPOINT_PASSIVE
                poll_changed |= isinstance(command, POLL_COMMANDS)
                answers.append((work.done, outcome, None))

        quiet = session.quiet  # no poll in flight once this batch is applied (its head is public)
        nonce = session_nonce(session)

        def finish(durable: tuple[int, str]) -> None:
            if quiet:
                self.public_head = durable
            for reply, keypad_id, counter, status, poll_id in replies:
                reply(PressResult(keypad_id, counter, status, poll_id, nonce))
            for fut, outcome, exc in answers:
                if fut.done():
                    continue
                if exc is not None:
                    fut.set_exception(exc)
                else:
                    fut.set_result(outcome)
            if poll_changed:
                for r in self.receivers:
                    r.send_poll_state()
                if self._timers is not None:
                    self._timers.schedule()
            self.publisher.changed()

        def abort() -> None:
            for fut, _, exc in answers:
                if not fut.done():
                    fut.set_exception(exc or HubFailure(str(self.failure)))

        return entries, finish, abort, checkpoint
