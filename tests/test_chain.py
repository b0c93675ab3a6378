"""A long journal's chain checked by a child process beside the recount (hub/chain.py): whatever
the damage, the verdict is word for word the one a single pass gives, for ``clicker verify``
and for the hub's start-up, and the first problem by record wins whichever process meets it."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

import msgpack
import pytest

from hub import chain, journal
from hub.commands import ClosePoll, EndGrace, OpenPoll, Reveal
from hub.engine import Engine, JournalRefused
from hub.journal import KIND_NAMES, LAYOUTS, Journal, read_records
from hub.model import PollMode, Press, PressStatus
from hub.verify import verify
from tests.conftest import make_config

LAYOUT = LAYOUTS[2]


async def write_session(db: Path) -> None:
    """Two polls of 40 keypads, each pressing three times (the last press counts)."""
    hub = await Engine.open(Journal(db), make_config(n_keypads=40))
    answers: list[object] = []
    try:
        for poll in (1, 2):
            await hub.act(OpenPoll(PollMode.GRADES))
            for i in range(120):
                press = Press(1001 + i % 40, 10 * poll + i // 40, poll, 0, "1234567"[i % 7])
                hub.submit_press(press, answers.append)
            await hub.wait_until(lambda n=120 * poll: len(answers) == n, 10)
            await hub.act(ClosePoll())
            await hub.act(EndGrace())
            await hub.act(Reveal(poll))
    finally:
        await hub.stop()


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("chain") / "clean.db"
    asyncio.run(write_session(db))
    return db


def presses(db: Path) -> list[int]:
    return [r.seq for r in read_records(db) if r.kind == "press"]


def rehash(conn: sqlite3.Connection, before: int | None = None) -> None:
    """Redo the chain (up to record ``before``, excluded), as a forger would."""
    prev = LAYOUT.genesis
    rows = conn.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall()
    for seq, kind, raw in rows:
        if before is not None and seq >= before:
            return
        prev = LAYOUT.link(prev, seq, KIND_NAMES[kind], raw)
        conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))


def edit(conn: sqlite3.Connection, seq: int, change) -> None:
    """Record ``seq``'s press fields changed (``change(fields)``: new fields, or raw bytes)."""
    (body,) = conn.execute("SELECT body FROM journal WHERE seq = ?", (seq,)).fetchone()
    new = change(msgpack.unpackb(body))
    raw = new if type(new) is bytes else msgpack.packb(new)
    conn.execute("UPDATE journal SET body = ? WHERE seq = ?", (raw, seq))


def break_link(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("UPDATE journal SET hash = zeroblob(32) WHERE seq = ?", (seq,))


def forged(f: list) -> list:
    return [int(PressStatus.DUPLICATE), *f[1:]]  # a counted press recorded as a duplicate


def float_counter(f: list) -> list:
    return [*f[:3], float(f[3]), *f[4:]]


def forge_then_break(conn, seqs) -> None:  # this process meets the first problem
    edit(conn, seqs[20], forged)
    break_link(conn, seqs[200])
    rehash(conn, before=seqs[200])


def break_then_forge(conn, seqs) -> None:  # the child meets the first problem
    edit(conn, seqs[200], forged)
    rehash(conn)
    break_link(conn, seqs[20])


def end_at_last_press(conn: sqlite3.Connection, seqs: list[int]) -> None:
    conn.execute("DELETE FROM journal WHERE seq > ?", (seqs[-1],))


def last_press_hash(value: object):
    """The journal cut after its last press, whose hash is stored as ``value`` (not 32 bytes)."""

    def damage(conn: sqlite3.Connection, seqs: list[int]) -> None:
        end_at_last_press(conn, seqs)
        conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (value, seqs[-1]))

    return damage


def moved_past_the_end(conn: sqlite3.Connection, seqs: list[int]) -> None:
    end_at_last_press(conn, seqs)
    conn.execute("UPDATE journal SET seq = seq + 5 WHERE seq = ?", (seqs[-1],))


DAMAGE = {
    "the last record a press whose hash is text": last_press_hash("abc"),
    "the last record a press whose hash is a number": last_press_hash(7),
    "the last record a press whose hash is 31 bytes": last_press_hash(bytes(31)),
    "a press's hash 31 bytes": lambda conn, seqs: conn.execute(
        "UPDATE journal SET hash = zeroblob(31) WHERE seq = ?", (seqs[5],)
    ),
    "a press of an unknown kind": lambda conn, seqs: conn.execute(
        "UPDATE journal SET kind = 99 WHERE seq = ?", (seqs[5],)
    ),
    "a press's status a boolean, chain redone": lambda conn, seqs: (
        edit(conn, seqs[5], lambda f: [False, *f[1:]]),
        rehash(conn),
    ),
    "the last press moved past the end": moved_past_the_end,
    "a press's body text that is not UTF-8": lambda conn, seqs: conn.execute(
        "UPDATE journal SET body = CAST(x'c3' AS TEXT) WHERE seq = ?", (seqs[5],)
    ),
    "a press edited, chain not redone": lambda conn, seqs: edit(conn, seqs[5], forged),
    "a press's status forged, chain redone": lambda conn, seqs: (edit(conn, seqs[5], forged), rehash(conn)),
    "a press's counter a float, chain redone": lambda conn, seqs: (
        edit(conn, seqs[7], float_counter),
        rehash(conn),
    ),
    "a body that is not MessagePack, chain redone": lambda conn, seqs: (
        edit(conn, seqs[9], lambda f: b"\xc1"),
        rehash(conn),
    ),
    "a record missing": lambda conn, seqs: conn.execute("DELETE FROM journal WHERE seq = ?", (seqs[11],)),
    "a forged status before a broken link": forge_then_break,
    "a broken link before a forged status": break_then_forge,
}


def damaged(clean: Path, tmp: Path, name: str) -> Path:
    db = tmp / f"{len(list(tmp.iterdir()))}.db"
    shutil.copy(clean, db)
    seqs = presses(db)
    with sqlite3.connect(db) as conn:
        DAMAGE[name](conn, seqs)
    return db


def both_ways(monkeypatch, db: Path) -> tuple[str, str, int]:
    """verify's problem checked in one process, then with the child forced; and how many
    children were started and gave the verdict (this process never checked the chain itself)."""
    monkeypatch.setattr(chain, "CHILD_FROM", 10**12)
    alone = verify(db)
    started: list[object] = []
    original = chain.ChainBeside.start.__func__

    def start(cls, path, records, vfs=None):
        beside = original(cls, path, records, vfs)
        started.append(beside)
        return beside

    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    monkeypatch.setattr(chain.ChainBeside, "start", classmethod(start))
    checked_here: list[object] = []
    monkeypatch.setattr(journal, "check_chain", lambda *args: checked_here.append(args))
    beside = verify(db)
    return alone.problem, beside.problem, 0 if checked_here else sum(b is not None for b in started)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_the_verdict_is_the_one_a_single_pass_gives(clean, tmp_path, monkeypatch, name):
    db = damaged(clean, tmp_path, name)
    alone, beside, children = both_ways(monkeypatch, db)
    assert children == 1
    assert alone and beside == alone


def test_the_first_problem_by_record_wins_whichever_process_meets_it(clean, tmp_path, monkeypatch):
    seqs = presses(clean)
    db = damaged(clean, tmp_path, "a forged status before a broken link")
    alone, beside, _ = both_ways(monkeypatch, db)
    assert alone.startswith(f"record {seqs[20]} (press): press recorded as DUPLICATE") and beside == alone
    db = damaged(clean, tmp_path, "a broken link before a forged status")
    alone, beside, _ = both_ways(monkeypatch, db)
    assert alone.startswith(f"record {seqs[20]} (press): hash chain broken") and beside == alone


def test_a_clean_journal_starts_the_same_hub_with_the_check_beside(clean, tmp_path, monkeypatch):
    states = []
    for threshold in (10**12, 1):
        monkeypatch.setattr(chain, "CHILD_FROM", threshold)
        db = tmp_path / f"{threshold}.db"
        shutil.copy(clean, db)

        async def start(db: Path = db) -> tuple[object, ...]:
            hub = await Engine.open(Journal(db))
            try:
                s = hub.session
                return hub.journal.durable, dict(s.statuses), [p.tally(p.items[0]) for p in s.polls]
            finally:
                await hub.stop()

        states.append(asyncio.run(start()))
        assert verify(db).ok
    assert states[0] == states[1]


@pytest.mark.parametrize(
    "name",
    [
        "a press's counter a float, chain redone",
        "the last record a press whose hash is text",
        "the last record a press whose hash is a number",
    ],
)
async def test_the_hub_refuses_a_damaged_journal_in_the_words_of_verify(clean, tmp_path, monkeypatch, name):
    db = damaged(clean, tmp_path, name)
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    expected = verify(db).problem
    with pytest.raises(JournalRefused) as refused:
        await Engine.open(Journal(db))
    assert str(refused.value) == expected


@pytest.mark.parametrize("child", ["exits without a word", "says nonsense", "cannot start"])
def test_a_child_that_gives_no_verdict_leaves_the_check_to_this_process(clean, tmp_path, monkeypatch, child):
    script = tmp_path / "child.py"
    says = {"exits without a word": "raise SystemExit(1)", "says nonsense": "print('{]')"}
    script.write_text(says.get(child, ""))
    db = damaged(clean, tmp_path, "a press edited, chain not redone")
    monkeypatch.setattr(chain, "CHILD_FROM", 10**12)
    expected = verify(db).problem
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    if child == "cannot start":
        monkeypatch.setattr(chain.sys, "executable", str(tmp_path / "no-such-python"))
    else:
        real = chain.subprocess.Popen
        monkeypatch.setattr(
            chain.subprocess, "Popen", lambda argv, **kw: real([sys.executable, str(script)], **kw)
        )
    assert verify(db).problem == expected
    assert "hash chain broken" in expected


async def test_a_journal_left_with_its_log_by_a_crash_is_checked_the_same(tmp_path, monkeypatch):
    """The child reads the records the log holds (a hub that did not stop cleanly), as the hub
    that resumes it does."""
    live, crashed = tmp_path / "live.db", tmp_path / "crashed"
    hub = await Engine.open(Journal(live), make_config(n_keypads=40))
    answers: list[object] = []
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        for i in range(80):
            hub.submit_press(Press(1001 + i % 40, 1 + i // 40, 1, 0, "1234567"[i % 7]), answers.append)
        await hub.wait_until(lambda: len(answers) == 80, 10)
        crashed.mkdir()
        for suffix in ("", "-wal"):  # as a power cut leaves them: the presses are in the log only
            shutil.copy(f"{live}{suffix}", crashed / f"live.db{suffix}")
    finally:
        await hub.stop()
    db = crashed / "live.db"
    assert Path(f"{db}-wal").stat().st_size > 0
    monkeypatch.setattr(chain, "CHILD_FROM", 10**12)
    alone = verify(db)
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    beside = verify(db)
    assert (alone.ok, alone.complete, alone.records, alone.head) == (True, False, beside.records, beside.head)
    assert beside.ok and alone.records > 80
    hub = await Engine.open(Journal(db))  # resumed, the chain checked beside
    try:
        assert hub.session.statuses[PressStatus.COUNTED] == 80
        assert hub.session.polls[-1].turnout == 40
    finally:
        await hub.stop()


async def test_a_journal_the_hub_is_writing_verifies_up_to_where_it_was_when_verify_began(
    clean, tmp_path, monkeypatch
):
    """A guarantor may verify the live journal: the child and the recount both stop at the
    record that was last when they began, whatever the hub appends meanwhile."""
    db = tmp_path / "live.db"
    shutil.copy(clean, db)
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    hub = await Engine.open(Journal(db))
    answers: list[object] = []
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        counter = 100

        async def keep_pressing() -> None:
            nonlocal counter
            while True:
                for k in range(40):
                    hub.submit_press(Press(1001 + k, counter, 0, 0, "1234567"[k % 7]), answers.append)
                counter += 1
                await asyncio.sleep(0.002)

        pressing = asyncio.create_task(keep_pressing())
        try:
            verdicts = [await asyncio.to_thread(verify, db) for _ in range(5)]
        finally:
            pressing.cancel()
            await asyncio.gather(pressing, return_exceptions=True)
        await hub.wait_until(lambda: len(answers) == 40 * (counter - 100), 10)
    finally:
        await hub.stop()
    assert all(v.ok and not v.complete for v in verdicts), [v.problem for v in verdicts]
    assert verdicts[-1].records > verdicts[0].records  # the hub went on appending meanwhile


def test_the_child_runs_this_hub_even_from_a_folder_holding_another(clean, tmp_path, monkeypatch):
    """``python -m`` puts the current folder first on the child's path: started where another
    checkout's ``hub`` lies, the child would check with that code, not this hub's."""
    db = damaged(clean, tmp_path, "a press edited, chain not redone")
    monkeypatch.setattr(chain, "CHILD_FROM", 10**12)
    expected = verify(db).problem
    other = tmp_path / "another-checkout"
    (other / "hub").mkdir(parents=True)
    (other / "hub" / "__init__.py").write_text("")
    (other / "hub" / "chain.py").write_text(
        'print(\'{"checked": 0, "head": "", "problem": "a check by another hub"}\')'
    )
    monkeypatch.chdir(other)
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    assert verify(db).problem == expected


def test_a_child_that_hangs_is_stopped_and_reaped_and_the_check_done_here(clean, tmp_path, monkeypatch):
    db = damaged(clean, tmp_path, "a press edited, chain not redone")
    monkeypatch.setattr(chain, "CHILD_FROM", 10**12)
    expected = verify(db).problem
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    monkeypatch.setattr(chain, "TIMEOUT_S", 0.5)
    started: list[chain.subprocess.Popen[bytes]] = []
    real = chain.subprocess.Popen

    def hanging(argv, **kw):
        started.append(real([sys.executable, "-c", "import time; time.sleep(60)"], **kw))
        return started[-1]

    monkeypatch.setattr(chain.subprocess, "Popen", hanging)
    assert verify(db).problem == expected
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL  # killed and waited for


async def test_a_start_up_cancelled_while_the_child_checks_closes_the_journal_and_reaps_it(
    clean, tmp_path, monkeypatch
):
    """Ctrl-C while the hub replays its journal: the replay on the journal's thread runs to its
    end, then the child is reaped and the journal closed (no thread, no connection left)."""
    db = tmp_path / "s.db"
    shutil.copy(clean, db)
    monkeypatch.setattr(chain, "CHILD_FROM", 1)
    started: list[chain.ChainBeside] = []
    original = chain.ChainBeside.start.__func__

    def start(cls, path, records, vfs=None):
        started.append(original(cls, path, records, vfs))
        return started[-1]

    monkeypatch.setattr(chain.ChainBeside, "start", classmethod(start))
    journal = Journal(db)
    opening = asyncio.create_task(Engine.open(journal))
    for _ in range(1000):
        if started:
            break
        await asyncio.sleep(0.01)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert len(started) == 1 and started[0]._proc.returncode is not None
    # and the journal's thread is gone (tests/conftest.py fails a test that leaves one)
