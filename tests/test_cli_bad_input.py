"""Every command, given what a facilitator gets wrong: a missing file, a folder instead of a
file, an empty one, one that is not SQLite, not UTF-8, with control characters, a NUL, a 10 MB
line, a name with a line break, an output in no folder, a journal in a folder nobody may write.
Each answer is one line on stderr naming what and where, a non-zero exit, no traceback, and
nothing in the folder changed. What should be accepted (a BOM, old Mac line ends) is."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.engine import Engine
from hub.journal import Journal
from hub.verify import verify
from tests.conftest import make_config

ROSTER = '{"keypads": [{"keypad_id": 1, "number": 1}]}'


def session(fiches: str = "fiches.csv", roster: str | None = None) -> str:
    where = f'"roster": "{roster}"' if roster else '"open_roster": true'
    return f'{{"title": "Essai", "proposals": "{fiches}", {where}}}'


def folder_state(root: Path) -> dict[str, str]:
    """Every file under ``root`` and a hash of its bytes (folders by name)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def files(tmp: Path, **contents: str | bytes) -> None:
    for name, data in contents.items():
        path = tmp / name.replace("__", ".")
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")


def not_a_journal(tmp: Path) -> None:
    files(tmp, roster__json=ROSTER, notes__db="ceci n'est pas un journal\n")


CASES = [
    # (files to make, command, what the line must say)
    (lambda t: files(t, s__json=""), ["check", "s.json"], "s.json: not JSON"),
    (lambda t: (t / "s.json").mkdir(), ["check", "s.json"], "s.json: a directory, not a file"),
    (lambda t: None, ["check", "s.json"], "s.json: no such file"),
    (lambda t: files(t, s__json=b'{"title": "\xe9"}'), ["check", "s.json"], "byte 0xE9 is not UTF-8"),
    (
        lambda t: files(t, s__json='{"x": "' + "a" * 10_000_000 + '"}'),
        ["check", "s.json"],
        "10,000,009 bytes",
    ),
    (
        lambda t: files(t, s__json=session(), fiches__csv="number,title\n1,Vélo\x1b[31m\n"),
        ["check", "s.json"],
        "fiches.csv: line 2, field 'title': holds a control character (\\x1b)",
    ),
    (
        lambda t: files(t, s__json=session(), fiches__csv=b"number,title\n1,V\x00lo\n"),
        ["check", "s.json"],
        "fiches.csv: line 2: a NUL character",
    ),
    (
        lambda t: files(
            t,
            s__json=session("clermont-2022", "r.json"),
            r__json=ROSTER.replace("1}", '1, "holder": "a\\u0007"}'),
        ),
        ["check", "s.json"],
        "r.json: keypad 1 (id 0x00000001): field 'holder': holds a control character (\\x07)",
    ),
    (
        lambda t: files(t, s__json=session(fiches="a\\nb.csv")),
        ["check", "s.json"],
        "'a\\nb.csv': no such file",
    ),
    (lambda t: (t / "r.json").mkdir(), ["keypads", "list", "r.json"], "r.json: a directory, not a file"),
    (lambda t: files(t, r__json=b"\xff\xfe{}"), ["keypads", "list", "r.json"], "r.json: UTF-16 text"),
    (not_a_journal, ["keypads", "sync", "roster.json", "notes.db"], "notes.db: the journal does not verify"),
    (
        lambda t: files(t, roster__json=ROSTER),
        ["keypads", "sync", "roster.json", "."],
        ".: a directory, not a journal",
    ),
    (lambda t: files(t, r__json=""), ["keypads", "sync", "r.json", "x.db"], "r.json: not JSON"),
    (
        lambda t: files(t, r__json=ROSTER, nvs="a file"),
        ["keypads", "provision", "r.json", "--out", "nvs"],
        "--out nvs: a file, not a folder",
    ),
    (not_a_journal, ["verify", "notes.db"], "notes.db: not a clicker journal"),
    (not_a_journal, ["serve", "--db", "notes.db", "--no-web"], "notes.db: not a clicker journal"),
    (not_a_journal, ["backup", "notes.db", "copy.db"], "notes.db: not a clicker journal"),
    (lambda t: files(t, empty__db=""), ["verify", "empty.db"], "empty.db: not a clicker journal"),
    (not_a_journal, ["export", "notes.db"], "notes.db: the journal does not verify"),
    (lambda t: (t / "j.db").mkdir(), ["report", "j.db"], "j.db: a directory, not a journal"),
    (lambda t: files(t, d__json="{}"), ["tally", "d.json"], "d.json: "),
    (lambda t: (t / "d.json").mkdir(), ["tally", "d.json"], "d.json: a directory, not a file"),
    (lambda t: (t / "rec").mkdir(), ["replay", "rec"], "rec: a directory, not a recording"),
    (lambda t: files(t, card="x"), ["keypads", "card", "--out", "nowhere/card.txt"], "no such folder"),
    (
        lambda t: files(t, s__json=session(), fiches__csv="number,title\n1,a\n"),
        ["serve", "--session", "s.json", "--db", "nowhere/s.db", "--no-web"],
        "nowhere/s.db: cannot be created (No such file or directory)",
    ),
    (
        lambda t: (
            files(t, s__json=session(), fiches__csv="number,title\n1,a\n"),
            (t / "s.db.token").mkdir(),
        ),
        ["serve", "--session", "s.json", "--db", "s.db", "--port", "0"],
        "s.db.token: a directory, not the console's control token file",
    ),
    (
        lambda t: files(t, s__json=session(), fiches__csv="number,title\n1,a\n"),
        ["serve", "--db", "notes.db", "--session", "s.json", "--resume", "--no-web"],
        "--resume: notes.db holds no session to resume",
    ),
]


@pytest.mark.parametrize(("make", "args", "says"), CASES, ids=[" ".join(c[1])[:40] for c in CASES])
def test_each_command_refuses_bad_input_in_one_line_changing_nothing(tmp_path, monkeypatch, make, args, says):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    before = folder_state(tmp_path)
    result = CliRunner().invoke(app, args)
    lines = result.stderr.splitlines()
    assert result.exit_code != 0 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert len(lines) == 1 and lines[0].startswith("clicker: error: "), result.stderr
    assert says in lines[0] and len(lines[0]) <= 520, lines[0]
    assert folder_state(tmp_path) == before


def test_a_file_name_with_a_line_break_is_quoted_on_the_one_line(tmp_path):
    odd = tmp_path / "fiches\nmars.csv"
    odd.write_bytes(b"number,title\n1,\xe9\n")
    result = CliRunner().invoke(app, ["keypads", "list", str(odd)])
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert repr(str(odd)) in result.stderr  # as Python would write it: '…fiches\nmars.csv'


def test_what_spreadsheets_write_is_accepted_a_bom_and_old_mac_line_ends(tmp_path):
    (tmp_path / "fiches.csv").write_bytes("\ufeffnumber;title\r1;Vélo\r2;Bus\r".encode())
    (tmp_path / "r.json").write_bytes(b"\xef\xbb\xbf" + ROSTER.encode())
    (tmp_path / "s.json").write_text(session(roster="r.json"), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path / "s.json")])
    assert result.exit_code == 0 and "2 fiches, 1 keypads" in result.stdout, result.output


def readonly_folder(tmp_path: Path) -> Path:
    """A folder no one may create a file in. Mode 0555 stops anyone but root; under root (some
    CI runners), sysfs, which refuses new files to root too."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return ro if not os.access(ro, os.W_OK) else Path("/sys")


@pytest.fixture
def journal(tmp_path) -> Path:
    """A journal of one session, the hub stopped."""

    async def make() -> None:
        hub = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=3))
        await hub.stop()

    asyncio.run(make())
    assert verify(tmp_path / "s.db").ok  # read once: SQLite's -wal and -shm files are there
    return tmp_path / "s.db"


@pytest.mark.parametrize("command", ["serve", "backup", "export"])
def test_a_folder_that_cannot_be_written_is_one_line_through_the_installed_command(
    tmp_path, journal, command
):
    """The installed entry point, as a shell runs it: a journal, a copy or an export that
    cannot be written is one line, and nothing is left behind."""
    ro = readonly_folder(tmp_path)
    (tmp_path / "s.json").write_text(session(fiches="clermont-2022"), encoding="utf-8")
    args = {
        "serve": ["serve", "--session", str(tmp_path / "s.json"), "--db", str(ro / "s.db"), "--no-web"],
        "backup": ["backup", str(journal), str(ro / "copy.db")],
        "export": ["export", str(journal), "-o", str(ro / "results.json")],
    }[command]
    before = folder_state(tmp_path)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        (tmp_path / "ro").chmod(0o755)
    lines = proc.stderr.splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("clicker: error: "), proc.stderr
    assert str(ro) in lines[0] and proc.stdout == ""
    assert folder_state(tmp_path) == before
