"""The faults a venue has, at the level of `clicker serve`: a disk that fills up (the journal's
file size limited with RLIMIT_FSIZE in the child, no root needed), a journal damaged before a
restart, a copy taken after a crash. Each leaves either a journal that verifies and holds every
press answered ``counted``, or a refusal in one line; never a lie, never a traceback."""

from __future__ import annotations

import asyncio
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys

import pytest

from hub.commands import ClosePoll, EndGrace, OpenPoll, Reveal
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode, PressStatus
from hub.verify import verify
from tests.conftest import make_config
from tests.fake_receiver import FakeReceiver
from tests.journals import counted_in, forge_vote

EXIT_JOURNAL_FAILED = 74


async def open_session(db) -> None:
    """A journal with a grades poll open, written by a hub that then stopped cleanly."""
    hub = await Engine.open(Journal(db), make_config(n_keypads=70))
    await hub.act(OpenPoll(PollMode.GRADES))
    await hub.stop()


async def burst_until_exit(rx: FakeReceiver, child: asyncio.subprocess.Process) -> None:
    """70 keypads pressing again and again, each press sent twice (a retransmission), until the
    hub exits."""
    await asyncio.wait_for(rx.connected.wait(), 30)
    await asyncio.sleep(0.2)  # let POLL_STATE through
    for round_ in range(1, 100_000):
        for k in range(70):
            rx.press(1001 + k, round_, "1234567"[(k + round_) % 7])
            if round_ > 1:
                rx.press(1001 + k, round_ - 1, "1234567"[(k + round_ - 1) % 7])
        await asyncio.sleep(0.002)
        if child.returncode is not None:
            return


async def test_a_full_disk_stops_the_hub_loudly_and_leaves_a_journal_that_verifies(tmp_path):
    base = tmp_path / "base.db"
    await open_session(base)
    rng = random.Random(10)
    for fill in range(12):
        db = tmp_path / f"full{fill}.db"
        shutil.copy(base, db)
        limit = db.stat().st_size + rng.randint(200_000, 1_500_000)

        def cap(limit: int = limit) -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        rx = FakeReceiver()
        url = await rx.start()
        web = ["--port", "0"] if fill == 0 else ["--no-web"]  # once with the projector and console up
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "serve", "--db", str(db), "--receiver", url, *web,
            stderr=asyncio.subprocess.PIPE, preexec_fn=cap,
        )  # fmt: skip
        try:
            presser = asyncio.create_task(burst_until_exit(rx, child))
            status = await asyncio.wait_for(child.wait(), 60)
            await presser
            stderr = (await child.stderr.read()).decode()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
            await rx.close()
        last = stderr.strip().splitlines()[-1]
        assert status == EXIT_JOURNAL_FAILED, stderr
        assert "Traceback" not in stderr and stderr.count("disk full") == 1  # one line says it
        assert re.fullmatch(
            rf"hub stopped: disk full: {re.escape(str(db))} \(the file size limit was reached\); "
            r"the journal holds records 1 to \d+, head \d+:[0-9a-f]{16}",
            last,
        ), last
        v = verify(db)
        assert v.ok, f"fill-up {fill}: {v.problem}"
        assert not v.complete
        counted = {(r.keypad_id, r.counter) for r in rx.results if r.status == PressStatus.COUNTED}
        assert len(counted) > 50  # it ran for a while before the disk filled up
        missing = counted - counted_in(db)
        assert not missing, f"fill-up {fill}: {len(missing)} presses answered counted are missing"


@pytest.fixture
async def stopped_journal(tmp_path):
    db = tmp_path / "s.db"
    hub = await Engine.open(Journal(db), make_config(n_keypads=10))
    await hub.act(OpenPoll(PollMode.GRADES))
    answers: list = []
    from hub.model import Press

    for i in range(400):
        hub.submit_press(Press(1001 + i % 10, 1 + i, 1, 0, "1234567"[i % 7]), answers.append)
    await hub.wait_until(lambda: len(answers) == 400, 10)
    await hub.act(ClosePoll())
    await hub.act(EndGrace())
    await hub.stop()
    return db


def zero_page(db) -> None:
    data = bytearray(db.read_bytes())
    middle = len(data) // 4096 // 2
    data[middle * 4096 : (middle + 1) * 4096] = bytes(4096)
    db.write_bytes(bytes(data))


def truncate(db) -> None:
    db.write_bytes(db.read_bytes()[: len(db.read_bytes()) // 2])


def garbage(db) -> None:
    db.write_bytes(b"\x00clicker?" * 3000)


@pytest.mark.parametrize("damage", [forge_vote, zero_page, truncate, garbage])
def test_serve_refuses_a_damaged_journal_in_one_line(stopped_journal, damage):
    db = stopped_journal
    damage(db)
    before = db.read_bytes()
    v = verify(db)
    assert not v.ok
    out = subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--db", str(db), "--no-web"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip() == f"clicker: error: {db}: {v.problem}"  # verify's line, and nothing else
    assert db.read_bytes() == before


async def test_a_copy_after_a_crash_says_what_it_lacks_and_backup_holds_everything(tmp_path):
    """After a crash, session.db alone lacks what is still in its WAL: verify must not call it
    complete, a head noted after the last checkpoint proves the loss, and `clicker backup`
    copies everything that was answered."""
    db = tmp_path / "s.db"
    hub = await Engine.open(Journal(db), make_config(n_keypads=70))
    from hub.model import Press

    answers: list = []
    try:
        for poll, presses in ((1, 200), (2, 2000)):
            await hub.act(OpenPoll(PollMode.GRADES))
            for i in range(presses):
                press = Press(1001 + i % 70, 100 * poll + i // 70, poll, 0, "1234567"[i % 7])
                hub.submit_press(press, answers.append)
            await hub.wait_until(lambda n=len(answers) + presses: len(answers) == n, 20)
            await hub.act(ClosePoll())
            await hub.act(EndGrace())
            if poll == 1:
                await hub.act(Reveal(1))  # a checkpoint into s.db
        # poll 2, only in the WAL (closed, not revealed, so not yet on the projector: the head as
        # the journal holds it, which `clicker verify --head` takes all the same)
        noted = "{}:{}".format(*hub.journal.durable)
        crash = tmp_path / "crash"  # the files as a crash leaves them (every commit was synced)
        crash.mkdir()
        for suffix in ("", "-wal"):
            shutil.copy(f"{db}{suffix}", crash / f"s.db{suffix}")
    finally:
        await hub.stop()
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(crash / "s.db", bare / "s.db")  # what `cp session.db` hands over

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60, check=False
        )

    out = cli("verify", str(bare / "s.db"))
    assert out.returncode == 3 and "INCOMPLETE" in out.stderr  # never "OK" for a journal that lost its tail
    out = cli("verify", str(bare / "s.db"), "--head", noted)
    assert out.returncode == 1 and f"head {noted} is not in this journal" in out.stderr
    counted = {(a.keypad_id, a.counter) for a in answers if a.status == PressStatus.COUNTED}
    assert counted - counted_in(bare / "s.db")  # the bare copy did lose counted presses

    out = cli("backup", str(crash / "s.db"), str(tmp_path / "copy.db"))
    assert out.returncode == 0, out.stderr
    out = cli("verify", str(tmp_path / "copy.db"), "--head", noted)
    assert out.returncode == 3 and "INCOMPLETE: no closing record" in out.stderr  # the hub crashed
    assert counted <= counted_in(tmp_path / "copy.db")
    with sqlite3.connect(tmp_path / "copy.db") as conn:  # one self-contained file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
