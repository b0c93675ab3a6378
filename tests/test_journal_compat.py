"""Journals written by earlier versions of clicker keep verifying, resuming and exporting.

``tests/fixtures/journal-v1.db`` was written by ``tests/fixtures/make_journal.py`` with the
first journal format (text kinds, JSON bodies, hex hashes) and is never rewritten."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.commands import ClosePoll, EndGrace
from hub.engine import Engine
from hub.journal import LAYOUTS, Journal, read_records
from hub.model import PressStatus
from hub.verify import verify
from tests.fixtures.make_journal import T0, V2_NONCE, write_journal

FIXTURES = Path(__file__).parent / "fixtures"
V1_HEAD = "f4e3de480d1f4168d127297ad99d4bbf497b77aaef3729ff830d0f152acbcde7"


def test_a_v1_journal_verifies_and_recounts():
    v = verify(FIXTURES / "journal-v1.db")
    assert v.ok, v.problem
    assert (v.records, v.presses, v.polls) == (74, 50, 5)
    assert v.head == V1_HEAD
    s = v.session
    assert s.poll(1).tally(1) == [1, 3, 1, 0, 1, 0, 2]
    assert s.poll(2).state == "reset" and s.poll(2).reset_reason == "cartons mal distribués"
    assert s.poll(3).colours == {"green": 4, "yellow": 4, "orange": 0, "red": 0}
    assert (s.poll(4).tally(3), s.poll(4).tally(4)) == ([1, 1, 1, 2, 1, 1, 1], [1, 1, 1, 1, 1, 2, 1])
    assert s.active.poll_id == 5 and len(s.active.voters) == 4
    assert s.statuses[PressStatus.BAD_MIC] == 1 and s.statuses[PressStatus.UNKNOWN_KEYPAD] == 1


async def test_a_v1_journal_resumes_and_stays_verifiable(tmp_path):
    db = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "journal-v1.db", db)
    answers: list = []
    hub = await Engine.open(Journal(db), clock=lambda: T0 + 50)
    try:
        assert hub.session.active.poll_id == 5
        from hub.model import Press

        hub.submit_press(Press(1005, 40, 5, 0, "6", at=T0 + 50), answers.append)
        await hub.wait_until(lambda: len(answers) == 1, 5)
        assert answers[0].status == PressStatus.COUNTED
        await hub.act(ClosePoll())
        await hub.act(EndGrace())
    finally:
        await hub.stop()
    v = verify(db)
    assert v.ok, v.problem
    assert v.presses == 51 and v.session.poll(5).tally(2) == [0, 1, 1, 1, 1, 1, 0]


def test_a_v1_journal_exports(tmp_path):
    from typer.testing import CliRunner

    from hub.cli import app

    out = CliRunner().invoke(app, ["export", str(FIXTURES / "journal-v1.db"), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["tallies"] == {
        "Fiche 1": [1, 3, 1, 0, 1, 0, 2],
        "Fiche 3": [1, 1, 1, 2, 1, 1, 1],
        "Fiche 4": [1, 1, 1, 1, 1, 2, 1],
    }


V2_HEAD = "4dba443785679a9454602978ddf05dc652526ae26e9448d8d370a4bdd67bc7c3"


def test_a_v2_journal_verifies_complete_and_recounts():
    v = verify(FIXTURES / "journal-v2.db")
    assert v.ok and v.complete, v.problem
    assert (v.records, v.presses, v.polls, v.head) == (70, 42, 4, V2_HEAD)
    s = v.session
    assert s.config.nonce == V2_NONCE and [p.number for p in s.config.proposals] == [1, 2, 3, 4]
    assert s.poll(1).tally(1) == [1, 3, 1, 0, 2, 0, 2]
    assert s.poll(2).state == "reset" and s.poll(2).colours == {
        "green": 3,
        "yellow": 1,
        "orange": 1,
        "red": 1,
    }
    assert (s.poll(3).tally(3), s.poll(3).tally(4)) == ([1, 1, 1, 2, 1, 1, 1], [1, 1, 1, 1, 1, 2, 1])
    assert s.poll(3).closed_by == "countdown" and s.display == {"view": "ranking", "assembly": ""}
    assert s.statuses[PressStatus.STALE_SESSION] == 2 and s.statuses[PressStatus.COUNTED] == 37


async def test_today_s_code_writes_the_v2_journal_byte_for_byte(tmp_path):
    """The declared commands and records are journaled exactly as the dicts they replaced."""
    await write_journal(str(tmp_path / "again.db"), "v2")
    kept = [(r.seq, r.kind, r.raw, r.hash) for r in read_records(FIXTURES / "journal-v2.db")]
    again = [(r.seq, r.kind, r.raw, r.hash) for r in read_records(tmp_path / "again.db")]
    assert again == kept


def odd_journal(tmp_path: Path, **settings: object) -> Path:
    """The first-format fixture with its session record's settings changed as an older version
    could have journaled them (what it was given, unchecked), the chain redone over it."""
    db = tmp_path / "odd.db"
    shutil.copy(FIXTURES / "journal-v1.db", db)
    layout = LAYOUTS[0]
    with sqlite3.connect(db) as conn:
        body = json.loads(conn.execute("SELECT body FROM journal WHERE seq = 1").fetchone()[0])
        conn.execute("UPDATE journal SET body = ? WHERE seq = 1", (json.dumps(body | settings),))
        prev = layout.genesis
        for seq, kind, raw in conn.execute("SELECT seq, kind, CAST(body AS BLOB) FROM journal ORDER BY seq"):
            prev = layout.link(prev, seq, kind, raw)
            conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))
    return db


def each_command(db: Path, tmp_path: Path) -> dict[str, list[str]]:
    return {
        "verify": ["verify", str(db)],
        "export csv": ["export", str(db), "--format", "csv"],
        "export json": ["export", str(db), "--format", "json"],
        "report": ["report", str(db), "-o", str(tmp_path / "r.pdf")],
        "serve --resume": ["serve", "--resume", "--db", str(db), "--no-web", "--port", "0"],
    }


COMMANDS = ["verify", "export csv", "export json", "report", "serve --resume"]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_old_journal_with_an_electorate_journaled_as_text_works_with_every_command(tmp_path, command):
    """An older version journaled the session file's "electorate": "70" as it was: read as the
    70 voters a session file's "70" means today, by every command (it once made export and
    report end in a traceback)."""
    db = odd_journal(tmp_path, electorate="70")
    args = each_command(db, tmp_path)[command]
    if command == "serve --resume":  # it runs until Ctrl-C: once it serves, interrupt it
        proc = subprocess.Popen([sys.executable, "-m", "hub", *args], stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()
            assert first.startswith(f"journal {db}: 74 records verified"), first
        finally:
            proc.send_signal(signal.SIGINT)
            rest = proc.communicate(timeout=60)[1]
        assert proc.returncode == 0 and "Traceback" not in rest, rest
        return
    out = CliRunner().invoke(app, args)
    assert out.exit_code == (3 if command == "verify" else 0), out.output  # 3: no closing record
    if command == "export json":
        assert json.loads(out.stdout)["voters"] == 70
    if command == "report":
        assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"electorate": "seventy"}, "record 1 (session): electorate 'seventy' is not a positive whole"),
        ({"electorate": 0}, "record 1 (session): electorate 0 is not a positive whole number"),
        ({"title": ["Convention"]}, "record 1 (session): title ['Convention'] is not text"),
    ],
)
def test_an_old_journal_with_a_setting_that_means_nothing_is_refused_in_one_line(
    tmp_path, command, settings, problem
):
    db = odd_journal(tmp_path, **settings)
    out = CliRunner().invoke(app, each_command(db, tmp_path)[command])
    assert out.exit_code == 1 and (out.exception is None or isinstance(out.exception, SystemExit)), out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0], out.stderr
    assert not (tmp_path / "r.pdf").exists()
