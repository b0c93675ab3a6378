"""Power cuts below the database: the hub's real journal code over a VFS that loses every write
not yet synced (tests/crash_vfs.py). At hundreds of random instants of a session (commits,
checkpoints at reveals, the closing checkpoint), the disk as a power cut would leave it is taken
aside; each such image must verify, be a prefix of the journal the session went on to write,
and hold every press the hub had answered ``counted`` by then. A failed write must stop the
journal for good: nothing queued behind it lands, nothing more is answered."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from hub.commands import ClosePoll, EndGrace, OpenPoll, Reveal
from hub.engine import Engine, HubFailure
from hub.journal import Journal, read_records
from hub.model import PollMode, Press, PressStatus
from hub.records import PressRecord
from hub.verify import verify
from tests.conftest import make_config
from tests.crash_vfs import CrashDisk, write_image
from tests.journals import counted_in

_names = itertools.count()


async def a_day(hub: Engine, rng: random.Random, answers: list) -> None:
    """Polls of bursts of presses (new votes, changed minds, retransmissions) with reveals."""
    sent = 0
    for poll in range(3):
        mode = PollMode.CONSENT if poll == 1 else PollMode.GRADES
        await hub.act(OpenPoll(mode))
        keys = "ABCD" if mode is PollMode.CONSENT else "1234567"
        for _burst in range(rng.randint(15, 25)):
            for _ in range(rng.randint(1, 40)):
                kid = 1001 + rng.randrange(70)
                counter = 10 * poll + rng.randint(1, 8)
                press = Press(
                    kid, counter, 0xFFFF, 0, rng.choice(keys), 80, -60, 0, 0, "/dev/ttyACM0", hub.clock()
                )
                hub.submit_press(press, answers.append)
                sent += 1
            if rng.random() < 0.5:  # sometimes let commits pile up, sometimes wait for answers
                await hub.wait_until(lambda n=sent: len(answers) == n, 20)
            await asyncio.sleep(0)
        await hub.wait_until(lambda n=sent: len(answers) == n, 20)
        await hub.act(ClosePoll())
        await hub.act(EndGrace())
        await hub.act(Reveal(poll + 1))  # a checkpoint


CUTS = 80  # power cuts per session, whatever the timing (a session makes several hundred disk operations)


class Cuts:
    """A fixed number of instants, drawn uniformly among all the disk operations of a session
    (reservoir sampling, on the journal's thread with a generator of its own): how many cuts
    are tested does not depend on how the loop happened to group the commits."""

    def __init__(self, seed: int, size: int = CUTS) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.seen = 0
        self.kept: list[tuple[int, dict[str, bytes], int]] = []  # (operation, image, answered)

    def offer(self, disk: CrashDisk, answered: int) -> None:
        self.seen += 1
        slot = len(self.kept) if len(self.kept) < self.size else self.rng.randrange(self.seen)
        if slot < self.size:
            taken = (self.seen, disk.crash_image(), answered)
            if slot == len(self.kept):
                self.kept.append(taken)
            else:
                self.kept[slot] = taken

    def images(self) -> list[tuple[dict[str, bytes], int]]:
        return [(image, answered) for _, image, answered in sorted(self.kept, key=lambda k: k[0])]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_power_cut_at_any_instant_loses_no_counted_press(tmp_path, seed):
    rng = random.Random(seed)  # the session's, on the loop's thread
    disk = CrashDisk(f"crash{next(_names)}", seed)
    db = tmp_path / "s.db"
    answers: list = []
    sampler = Cuts(seed + 1000)

    hub = await Engine.open(Journal(db, vfs=disk.name), make_config(n_keypads=70))
    try:
        disk.on_op = lambda d: sampler.offer(d, len(answers))  # before each disk operation
        await a_day(hub, rng, answers)
    finally:
        await hub.stop()
        disk.on_op = None
        disk.unregister()
    cuts = sampler.images()
    assert len(cuts) == CUTS, f"only {sampler.seen} disk operations in a whole session"
    final = [(r.seq, r.hash) for r in read_records(db)]
    for n, (image, answered) in enumerate(cuts):
        crashed = write_image(image, db, tmp_path / f"cut{n}")
        v = verify(crashed)
        assert v.ok, f"cut {n}: {v.problem}"
        records = [(r.seq, r.hash) for r in read_records(crashed)]
        assert records == final[: len(records)], f"cut {n}: not a prefix of the journal"
        counted = {(a.keypad_id, a.counter) for a in answers[:answered] if a.status == PressStatus.COUNTED}
        lost = counted - counted_in(crashed)
        assert not lost, f"cut {n}: {len(lost)} presses answered counted are missing"
        if n % 25 == 0:  # and the hub resumes from it
            again = await Engine.open(Journal(crashed))
            await again.stop()
            assert verify(crashed).complete


async def test_after_a_failed_write_nothing_queued_lands_and_nothing_more_is_answered(tmp_path):
    rng = random.Random(7)
    for attempt in range(6):
        disk = CrashDisk(f"crash{next(_names)}")
        db = tmp_path / f"s{attempt}.db"
        answers: list = []
        hub = await Engine.open(Journal(db, vfs=disk.name), make_config(n_keypads=70))
        try:
            await hub.act(OpenPoll(PollMode.GRADES))
            disk.fail_from = disk.ops + rng.randint(2, 60)
            for i in range(3000):  # commits pile up behind the one that fails
                hub.submit_press(
                    Press(1001 + i % 70, 1 + i // 70, 0xFFFF, 0, "1234567"[i % 7]), answers.append
                )
                if i % 50 == 0:
                    await asyncio.sleep(0)
            await asyncio.wait_for(hub.stopped.wait(), 20)
            answered_at_failure = len(answers)
            with pytest.raises(HubFailure, match="I/O error"):
                await hub.act(ClosePoll())
            await asyncio.sleep(0.05)
            assert len(answers) == answered_at_failure  # nothing answered after the failure
        finally:
            await hub.stop()
            disk.unregister()
        assert str(hub.failure) == f"I/O error: {db}: simulated I/O error (SQLITE_IOERR)"
        assert disk.writes_after_failure <= 1  # the failing write; no later commit even tried
        v = verify(db)
        assert v.ok and not v.complete, v.problem
        durable_seq = hub.journal.durable[0]  # the last commit that succeeded
        answered = {(a.keypad_id, a.counter, a.status) for a in answers}
        journaled, beyond = set(), set()
        for r in read_records(db):
            if isinstance(r.body, PressRecord):
                p = r.body.press
                (beyond if r.seq > durable_seq else journaled).add((p.keypad_id, p.counter, r.body.status))
        assert journaled == answered  # every commit that succeeded was answered, and only those
        # Beyond it, at most the failed commit itself: its frames were written before its sync
        # failed, and SQLite cannot unwrite them. Never answered, and decided on durable state.
        assert not beyond & answered
