"""The one loop: receivers -> session decision -> journal commit -> PRESS_RESULT -> publish.

Only this loop mutates the session. Facilitator actions wait in their own short queue and each
press source (a receiver) in its own bounded inbox (hub/inbox.py); one loop turn takes every
waiting action first, then a fixed share of each inbox, decides them, writes them to the journal
in one transaction, and only then answers the keypads and the facilitator: a keypad lights green
only for a press that is on disk. A receiver that floods gets its share of each turn and is told
to stop reading when its inbox fills; it never delays the others, nor an action. Publishing is
coalesced: a burst of presses produces one new state, built when the loop is free, never a
backlog of stale ones.
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
from hub.codec import RecordError
from hub.commands import POLL_COMMANDS, ClosePoll, Command, EndGrace, Reveal
from hub.errors import ClickerError
from hub.inbox import SHARE, Inbox
from hub.journal import CHECKPOINT_PASSIVE, CHECKPOINT_TRUNCATE, Journal, JournalError
from hub.live import LiveState
from hub.model import PollMode, Press
from hub.protocol import PollStateCode
from hub.receivers.link import ReceiverLink
from hub.records import PRESS, CloseRecord, ResultRecord, SessionRecord, apply_command
from hub.session import LOW_BATTERY, Poll, PollState, Session, SessionConfig, SessionError
from hub.verify import BadJournal, Recount
from hub.wal import wal_damage
from hub.wire.messages import PollState as PollStateMsg
from hub.wire.messages import PressResult
from hub.wire.presses import check_mic

log = logging.getLogger(__name__)
ACTION_TIMEOUT = 10.0  # an action not taken by the loop by then is withdrawn (HubBusy)
COMMIT_TIMEOUT = 30.0  # an action taken: how long to wait for the journal to confirm it
MAX_ACTIONS = 64  # actions waiting at once; more are refused (HubBusy)
MAX_INFLIGHT = 2


@dataclass(slots=True)
class _Work:
    press: Press | None = None
    reply: Callable[[PressResult], None] | None = None
    action: Command | None = None
    done: asyncio.Future[Any] | None = None
    taken: bool = False  # an action the loop has taken: it can no longer be withdrawn


class HubFailure(ClickerError):
    """The journal could not be written: the hub stops answering rather than lie."""


class JournalRefused(ClickerError):
    """The journal does not verify (or is not a journal): the hub will not serve from it."""


class HubBusy(ClickerError):
    """An action was not applied (the loop did not take it in time, or too many wait): nothing
    changed, it can be tried again."""


class ActionPending(ClickerError):
    """An action was applied but the journal has not confirmed it yet: check the state before
    repeating it."""


class Hub:
    def __init__(self, journal: Journal, clock: Callable[[], float] = time.time) -> None:
        self.journal = journal
        self.clock = clock
        self.session: Session | None = None
        self.receivers: list[ReceiverLink] = []
        # Versions (and the parts' revisions, which are versions) grow across restarts too: a
        # client holding a part from before a restart never mistakes a new one for it.
        self.version = time.time_ns() // 1000
        self.batches = 0
        self.keypads_seen: dict[int, dict[str, int]] = {}  # roster keypads heard idle (KEYPAD_SEEN)
        self._seen_low: set[int] = set()
        self._live: LiveState | None = None
        self._actions: deque[_Work] = deque()  # facilitator actions: taken first, every turn
        self._inboxes: list[Inbox[_Work]] = []  # one per press source, a share of each per turn
        self._turn = 0
        self._work = asyncio.Event()
        self._direct = self.open_inbox("direct")  # submit_press without an inbox of its own
        self._tasks: list[asyncio.Task[None]] = []
        self._grace_task: asyncio.Task[None] | None = None
        self._countdown_task: asyncio.Task[None] | None = None
        self._inflight: deque[asyncio.Task[None]] = deque()
        self._dirty = asyncio.Event()
        self._tick = asyncio.Event()  # replaced on every change: wait_until wakes on each
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self.failure: BaseException | None = None
        # The head published in the live state: the journal's (seq, hash) as of the last commit
        # after which no poll was open. Never a head taken while a poll is open: with the head
        # before it, a head right after a press could be brute-forced back to that press's key.
        self.public_head: tuple[int, str] = (0, "")
        self._started = False
        self._closed = False
        self.stopped = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, config: SessionConfig | None = None) -> None:
        """Open the journal and replay it, verifying its chain, sequence and recount as it goes
        (the same check as ``clicker verify``, one streaming pass), so the hub is back exactly
        where it was; a journal that does not verify is refused (JournalRefused) before anyone
        is answered."""
        recount = Recount()
        damage = await asyncio.to_thread(wal_damage, self.journal.path)
        if damage is not None:  # resuming would write over the records SQLite cannot see
            await self.journal.close()
            raise JournalRefused(damage)
        try:
            await self.journal.open(recount.feed)  # on the journal thread: the loop stays free
        except (JournalError, BadJournal) as exc:
            await self.journal.close()
            raise JournalRefused(str(exc)) from None
        session = recount.session
        self.public_head = recount.quiet_head
        if session is None:
            if config is None:
                await self.journal.close()
                raise SessionError("the journal is empty and no session was given")
            try:
                entry = self.journal.codec.encode_record(SessionRecord(config))
            except RecordError as exc:
                await self.journal.close()
                raise SessionError(f"the session description {exc}") from None
            session = Session(config, check_mic)
            self.public_head = await self.journal.append([entry])
        self.session = session
        self._live = LiveState(session)
        self._started = True
        self._tasks = [
            asyncio.create_task(self._run(), name="hub loop"),
            asyncio.create_task(self._publisher(), name="hub publisher"),
        ]
        self._schedule_grace()
        self._schedule_countdown()
        self._changed()

    async def stop(self) -> None:
        """Stop receivers, the loop and the journal; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        for r in self.receivers:
            await r.stop()
        await cancel_and_wait(*self._tasks, self._grace_task, self._countdown_task)
        if self._inflight:  # let commits already handed to the journal finish and be answered
            await asyncio.wait(self._inflight, timeout=10)
            await cancel_and_wait(*self._inflight)
            self._inflight.clear()
        self._tasks, self._grace_task, self._countdown_task = [], None, None
        if self._started and self.failure is None:
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

    def add_receiver(self, receiver: ReceiverLink) -> None:
        self.receivers.append(receiver)
        receiver.start()

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Receive every published state (the newest one when several changes come at once)."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    # --- inputs (called on the loop's thread) ---------------------------------------------------

    def open_inbox(
        self, name: str, on_high: Callable[[], None] | None = None, on_low: Callable[[], None] | None = None
    ) -> Inbox[_Work]:
        """A bounded inbox for one press source (hub/inbox.py: ``on_high`` stop reading,
        ``on_low`` read again)."""
        inbox: Inbox[_Work] = Inbox(name, self._work.set, on_high, on_low)
        self._inboxes.append(inbox)
        return inbox

    def close_inbox(self, inbox: Inbox[_Work]) -> None:
        inbox.clear()
        if inbox in self._inboxes:
            self._inboxes.remove(inbox)

    def submit_press(
        self,
        press: Press,
        reply: Callable[[PressResult], None] | None,
        inbox: Inbox[_Work] | None = None,
    ) -> bool:
        """Queue a press for the loop; False when its inbox is full (it is not answered: the
        receiver sends it again)."""
        return (self._direct if inbox is None else inbox).put(_Work(press=press, reply=reply))

    async def act(self, command: Command) -> Any:
        """Run a facilitator command through the loop (stamped with the hub's time); returns
        what it returns once it is journaled.

        Commands go before presses, so the loop takes one within a turn. One it did not take in
        ``ACTION_TIMEOUT`` is withdrawn (HubBusy: nothing changed); one it took is applied, and
        its answer waits for the journal (ActionPending if that takes ``COMMIT_TIMEOUT``)."""
        if self.failure is not None:
            raise HubFailure(str(self.failure))
        if len(self._actions) >= MAX_ACTIONS:
            raise HubBusy(f"{len(self._actions)} actions are already waiting: nothing was done, try again")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        work = _Work(action=replace(command, at=self.clock()), done=done)
        self._actions.append(work)
        self._work.set()
        try:
            return await within(asyncio.shield(done), ACTION_TIMEOUT)
        except TimeoutError:
            if not work.taken:
                self._actions.remove(work)
                raise HubBusy("the hub is busy: the action was not applied, try again") from None
        try:
            return await within(asyncio.shield(done), COMMIT_TIMEOUT)
        except TimeoutError:
            raise ActionPending("applied, but the journal has not confirmed it yet") from None

    def keypad_seen(self, keypad_id: int, battery: int, rssi: int) -> None:
        """An idle beacon: kept for the roster's keypads only, so memory stays bounded whatever
        ids a receiver reports."""
        if self.session is None or keypad_id not in self.session.keypads:
            return
        self.keypads_seen[keypad_id] = {"battery": battery, "rssi": rssi}
        if battery < LOW_BATTERY:
            self._seen_low.add(keypad_id)
        else:
            self._seen_low.discard(keypad_id)
        self._changed()

    def receiver_changed(self) -> None:
        self._changed()

    def session_nonce(self) -> int:
        """The session's nonce (0 for a session journaled before v1.1, which has none)."""
        assert self.session is not None
        return self.session.config.nonce or 0

    def poll_state_message(self) -> PollStateMsg:
        """The poll as keypads learn it: its id, state, mode, the session nonce they sign
        under, the valid keys and the proposal numbers (docs/protocol.md, POLL_STATE)."""
        assert self.session is not None
        s = self.session
        nonce = self.session_nonce()
        poll = s.active
        if poll is None:
            return PollStateMsg(s.last_poll_id, PollStateCode.IDLE, PollMode.NONE, nonce, b"", ())
        keys = "".join(s.config.consent_keys) if poll.mode is PollMode.CONSENT else s.config.grade_keys
        state = PollStateCode.OPEN if poll.state is PollState.OPEN else PollStateCode.CLOSING
        items = tuple(n for n in poll.items if n)  # a consent round on no proposal has none
        return PollStateMsg(poll.poll_id, state, poll.mode, nonce, keys.encode("ascii"), items)

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        """Take everything waiting, decide it, hand it to the journal, repeat.

        Commits are pipelined: the next batch is decided while the previous one is being
        written (at most ``MAX_INFLIGHT`` batches in flight), and each batch is answered only
        when its own commit is durable. The single journal thread keeps commits in order.
        """
        assert self.session is not None
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
        if self.failure is None:
            self.batches += 1
            finish(durable)
        else:
            abort()

    def _fail(self, exc: BaseException) -> None:
        """The first failure stops the hub: nothing more is decided, committed or answered."""
        if self.failure is None:
            self.failure = exc
            log.info("hub stopped: %s", exc)  # the runner says it, once, with the journal's head
            self.stopped.set()
            self._changed()

    def _take(self) -> list[_Work]:
        """One turn's work: every waiting action, then up to ``SHARE`` presses of each inbox,
        starting with a different inbox each turn.

        The end of a grace period waits for the presses that arrived before it: a press that
        came in time counts, however long it waited in an inbox."""
        assert self.session is not None
        batch: list[_Work] = []
        deferred: list[_Work] = []
        ends = self.session.grace_ends_at()
        for work in self._actions:
            assert work.action is not None
            if isinstance(work.action, EndGrace) and ends is not None and self._arrived_by(ends):
                deferred.append(work)
            else:
                work.taken = True
                batch.append(work)
        self._actions.clear()
        self._actions.extend(deferred)
        inboxes = self._inboxes
        if inboxes:
            self._turn = (self._turn + 1) % len(inboxes)
            for inbox in inboxes[self._turn :] + inboxes[: self._turn]:
                if inbox:
                    batch += inbox.take(SHARE)
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
    ) -> tuple[list[tuple[str, bytes]], Callable[[tuple[int, str]], None], Callable[[], None], int | None]:
        """Decide a batch: the records to journal, what to do once they are durable (answer;
        publish the head if no poll is open), what to do if they never are (tell the waiting
        actions why), and whether the commit ends with a checkpoint (after a reveal: the main
        file then holds every head shown)."""
        session = self.session
        assert session is not None
        codec = self.journal.codec
        entries: list[tuple[str, bytes]] = []
        # (reply, keypad_id, counter, status, poll_id): the PRESS_RESULT is built when it is sent,
        # so a batch waiting for its commit holds one small object per press, not two.
        replies: list[tuple[Callable[[PressResult], None], int, int, int, int]] = []
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
            elif work.action is not None and work.done is not None:
                command = work.action
                try:
                    entry = codec.encode_record(command)  # before applying: all or nothing
                    outcome = apply_command(session, command)
                except (SessionError, RecordError) as exc:
                    refused = exc if isinstance(exc, SessionError) else SessionError(str(exc))
                    answers.append((work.done, None, refused))  # nothing changed
                    continue
                entries.append(entry)
                if isinstance(command, EndGrace) and isinstance(outcome, Poll):
                    entries.append(codec.encode_record(ResultRecord.of(outcome)))
                if isinstance(command, Reveal):
                    checkpoint = CHECKPOINT_PASSIVE
                poll_changed |= isinstance(command, POLL_COMMANDS)
                answers.append((work.done, outcome, None))

        quiet = session.quiet  # no poll in flight once this batch is applied (its head is public)

        nonce = self.session_nonce()

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
                self._schedule_grace()
                self._schedule_countdown()
            self._changed()

        def abort() -> None:
            for fut, _, exc in answers:
                if not fut.done():
                    fut.set_exception(exc or HubFailure(str(self.failure)))

        return entries, finish, abort, checkpoint

    def _schedule_grace(self) -> None:
        assert self.session is not None
        ends = self.session.grace_ends_at()
        if ends is None or (self._grace_task is not None and not self._grace_task.done()):
            return
        self._grace_task = asyncio.create_task(self._end_grace(ends), name="grace period")

    async def _end_grace(self, ends: float) -> None:
        await asyncio.sleep(max(0.0, ends - self.clock()))
        # it waits for the presses that arrived in time, however many
        await self._act_until_taken(EndGrace())

    async def _act_until_taken(self, command: Command) -> None:
        """An action of the hub's own timers: tried again while the loop is too busy to take it
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

    def _schedule_countdown(self) -> None:
        """A poll whose countdown closes it: close it when the countdown reaches zero (the close
        is an ordinary journaled action, ``by: countdown``, so a replay needs no timer)."""
        assert self.session is not None
        ends = self.session.countdown_ends_at()
        task = self._countdown_task
        if task is not None and not task.done():
            if ends is not None and task.get_name() == f"countdown {ends[0]}":
                return
            task.cancel()  # the poll was closed (or reset) before its countdown ended
        self._countdown_task = None
        if ends is not None:
            poll_id, when = ends
            self._countdown_task = asyncio.create_task(
                self._end_countdown(poll_id, when), name=f"countdown {poll_id}"
            )

    async def _end_countdown(self, poll_id: int, when: float) -> None:
        await asyncio.sleep(max(0.0, when - self.clock()))
        await self._act_until_taken(ClosePoll(poll_id, "countdown"))

    # --- publishing --------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1
        self._dirty.set()
        self._tick.set()
        self._tick = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Wait (at most ``within`` seconds) until the hub's state satisfies ``predicate``."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._tick.wait()

    def snapshot(self) -> dict[str, Any]:
        """The whole state (docs/live-and-control.md); its parts are shared between snapshots
        and rebuilt only when their revision moves: read them, never mutate them."""
        assert self._live is not None
        return self._live.build(
            self.version,
            [r.health.to_json() for r in self.receivers],
            self._seen_low,
            self.clock(),
            self.public_head,
        )

    async def _publisher(self) -> None:
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
