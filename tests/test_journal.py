"""The journal: durable before answered, replay equals live, verify catches every tampering,
and a hub killed with SIGKILL mid-burst loses no press it answered `counted`."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from hub.codec import CODECS
from hub.commands import ClosePoll, OpenPoll, Reveal, Select
from hub.engine import Engine
from hub.journal import KIND_IDS, KIND_NAMES, LAYOUTS, Journal
from hub.model import PollMode, Press, PressStatus
from hub.verify import verify
from tests.conftest import make_config
from tests.fake_receiver import FakeReceiver
from tests.journals import counted_in


def comparable(snapshot: dict) -> dict:
    ignored = ("version", "at", "receivers", "revisions", "journal")
    return {k: v for k, v in snapshot.items() if k not in ignored}


async def run_session(db, presses: int = 40) -> dict:
    hub = await Engine.open(Journal(db), make_config(n_keypads=10))
    answers: list = []
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        for i in range(presses):
            kid = 1001 + i % 10
            hub.submit_press(Press(kid, i + 1, 0xFFFF, 0, "1234567"[i % 7], at=hub.clock()), answers.append)
        await hub.wait_until(lambda: len(answers) == presses, 10)
        await hub.act(ClosePoll())
        await hub.wait_until(lambda: hub.session.polls[0].state == "closed", 10)
        await hub.act(Reveal(1))
        await hub.act(Select(2))
        await hub.act(OpenPoll(PollMode.CONSENT))
        hub.submit_press(Press(1001, 1000, 0xFFFF, 0, "D", at=hub.clock()), answers.append)
        await hub.wait_until(lambda: len(answers) == presses + 1, 10)
        return comparable(hub.snapshot())
    finally:
        await hub.stop()


async def test_replay_equals_live_state(tmp_path):
    db = tmp_path / "s.db"
    live = await run_session(db)
    hub = await Engine.open(Journal(db))  # no config: everything comes from the journal
    try:
        assert comparable(hub.snapshot()) == live
        assert hub.session.active.poll_id == 2  # the consent round is still open
    finally:
        await hub.stop()
    v = verify(db)
    assert v.ok, v.problem
    assert v.presses == 41 and v.polls == 2


async def test_group_commit_puts_a_burst_in_few_transactions(tmp_path):
    hub = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=50))
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        answers: list = []
        for i in range(500):
            hub.submit_press(Press(1001 + i % 50, i + 1, 0xFFFF, 0, "4", at=hub.clock()), answers.append)
        await hub.wait_until(lambda: len(answers) == 500, 10)
        assert hub.journal.records == 502  # session + open + 500 presses
        assert hub.journal.commits < 20
    finally:
        await hub.stop()


@pytest.fixture
async def journal_db(tmp_path):
    db = tmp_path / "s.db"
    await run_session(db, presses=20)
    return db


CODEC = CODECS[2]
LAYOUT = LAYOUTS[2]


def rewrite(db, sql, *args, rechain=False):
    conn = sqlite3.connect(db)
    conn.execute(sql, args)
    if rechain:  # a forger who also recomputes the hashes: the recount must catch it
        prev = LAYOUT.genesis
        for seq, kind, body in conn.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall():
            prev = LAYOUT.link(prev, seq, KIND_NAMES[kind], body)
            conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))
    conn.commit()
    conn.close()


def edited_press(raw: bytes, **changes) -> bytes:
    """A press record's body with some press fields (or its status) changed."""
    rec = CODEC.decode("press", raw)
    status = changes.pop("status", rec.status)
    return CODEC.encode_press(rec.press._replace(**changes), status, rec.poll_id)


def run_cli_verify(db):
    return subprocess.run(
        [sys.executable, "-m", "hub", "verify", str(db)], capture_output=True, text=True, timeout=60
    )


def test_verify_accepts_a_good_journal(journal_db):
    out = run_cli_verify(journal_db)
    assert out.returncode == 0, out.stderr
    assert "chain intact" in out.stdout


def press_row(db, n=1):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT seq, body FROM journal WHERE kind = ? ORDER BY seq", (KIND_IDS["press"],))
    rows = rows.fetchall()
    conn.close()
    return rows[n]


def test_verify_names_an_edited_record(journal_db):
    seq, body = press_row(journal_db)
    key = CODEC.decode("press", body).press.key
    edited = edited_press(body, key="71"[key == "7"])
    rewrite(journal_db, "UPDATE journal SET body = ? WHERE seq = ?", edited, seq)
    out = run_cli_verify(journal_db)
    assert out.returncode != 0
    assert f"record {seq} (press): hash chain broken" in out.stderr and len(out.stderr.splitlines()) == 1


def test_verify_names_a_deleted_record(journal_db):
    seq, _ = press_row(journal_db, 3)
    rewrite(journal_db, "DELETE FROM journal WHERE seq = ?", seq)
    out = run_cli_verify(journal_db)
    assert out.returncode != 0 and f"record {seq} is missing" in out.stderr


def test_verify_recounts_even_when_the_chain_was_rebuilt(journal_db):
    seq, body = press_row(journal_db, 15)  # keypad 6's last press: the one its vote stands on
    key = CODEC.decode("press", body).press.key
    forged = edited_press(body, key="12"[key == "1"])  # change a vote, re-hash everything
    rewrite(journal_db, "UPDATE journal SET body = ? WHERE seq = ?", forged, seq, rechain=True)
    v = verify(journal_db)
    assert not v.ok and "recorded tally" in v.problem


def test_verify_catches_a_forged_status(journal_db):
    seq, body = press_row(journal_db, 0)
    forged = edited_press(body, status=int(PressStatus.INVALID_KEY))
    rewrite(journal_db, "UPDATE journal SET body = ? WHERE seq = ?", forged, seq, rechain=True)
    v = verify(journal_db)
    assert not v.ok and v.problem.startswith(f"record {seq} (press): press recorded as INVALID_KEY")


def test_verify_refuses_files_that_are_not_journals(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    out = run_cli_verify(junk)
    assert out.returncode != 0 and "not a clicker journal" in out.stderr
    out = run_cli_verify(tmp_path / "missing.db")
    assert out.returncode != 0 and "no such file" in out.stderr
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert run_cli_verify(empty).returncode != 0


async def test_sigkill_mid_burst_loses_no_counted_press(tmp_path):
    db = tmp_path / "kill.db"
    # A session with an open poll, written by a hub that then stops cleanly.
    hub = await Engine.open(Journal(db), make_config(n_keypads=70))
    await hub.act(OpenPoll(PollMode.GRADES))
    await hub.stop()

    rx = FakeReceiver()
    url = await rx.start()
    child = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--receiver", url, "--db", str(db), "--no-web"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(rx.connected.wait(), 30)
        await asyncio.sleep(0.2)  # let POLL_STATE through
        sent = 0

        async def burst() -> None:  # 70 keypads pressing, again and again, until stopped
            nonlocal sent
            for round_ in range(10_000):
                for k in range(70):
                    sent += 1
                    rx.press(1001 + k, 10 + round_, "1234567"[(k + round_) % 7])
                await asyncio.sleep(0.002)

        presser = asyncio.create_task(burst())
        await rx.wait_results(600, 30)
        os.kill(child.pid, signal.SIGKILL)  # in the middle of the burst
        child.wait(timeout=10)
        await asyncio.sleep(0.05)
        presser.cancel()
        await asyncio.gather(presser, return_exceptions=True)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        await rx.close()
    counted = {(r.keypad_id, r.counter) for r in rx.results if r.status == PressStatus.COUNTED}
    assert len(counted) >= 600 and sent > len(rx.results)  # killed mid-burst, answers outstanding
    journaled = counted_in(db)
    assert counted <= journaled, f"{len(counted - journaled)} presses answered counted but not journaled"
    v = verify(db)
    assert v.ok, v.problem
