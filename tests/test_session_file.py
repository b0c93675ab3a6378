"""The session file and the roster as a facilitator writes them: every mistake is refused where it
enters, with one line naming the file, the entry and the field (and the allowed values), before
anything is journaled; a journal restarted with a different session file is never silently kept."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.engine import Engine
from hub.journal import Journal
from hub.roster import RosterError, keypad_id_arg, parse_roster
from hub.session_file import differences, journaled_session, load_session_file

GOOD = {
    "title": "Essai",
    "proposals": [{"number": 1, "title": "Vélo"}, {"number": 2, "title": "Bus"}],
    "roster": [{"keypad_id": 7, "number": 1}, {"keypad_id": "0x00A1B2C3", "number": 2}],
    "electorate": 70,
}


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def write(tmp_path, doc, name="session.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def refused(result) -> str:
    """The CLI refused with exactly one line on stderr and no traceback; that line."""
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"electorate": "70"}, "field 'electorate': must be an integer, not \"70\""),
        ({"anonymous": "false"}, "field 'anonymous': must be true or false, not \"false\""),
        ({"title": None}, "field 'title': must be text, not null"),
        ({"missing": "rejet"}, "field 'missing': \"rejet\" is not one of: reject, ignore, median"),
        ({"rule": "borda"}, "is not one of: majority-judgment, usual, typical, central"),
        ({"colour": 1}, "unknown key 'colour' (known: title, proposals, roster,"),
        ({"grace_s": True}, "field 'grace_s': must be a number, not true"),
        ({"grace_s": -1}, "field 'grace_s': -1 is out of range"),
        ({"min_group": "5"}, "field 'min_group': must be an integer, not \"5\""),
        ({"consent_keys": {"A": "pink"}}, '"pink" is not one of: green, yellow, orange, red'),
        ({"grades": ["Bon", "Bon"]}, "a grade appears twice"),
        ({"grades": list("abcdefghijk")}, "11 items, at most 10"),
        ({"grade_keys": "123"}, "3 keys for 7 grades"),
        ({"proposals": 5}, "field 'proposals': must be a file name or a list of fiches, not 5"),
        ({"proposals": "0"}, "field 'proposals': \"0\": a fiches file ends in .csv or .json"),
        ({"roster": "keypads.csv"}, "field 'roster': \"keypads.csv\": a roster file ends in .json"),
        ({"proposals": [{"number": 1}]}, "proposals: fiche 1 (number 1), field 'title': missing (required)"),
        ({"proposals": [{"number": 3, "title": "a"}, {"number": 3, "title": "b"}]}, "fiche number 3 already"),
        ({"roster": [{"keypad_id": 7}]}, "roster: keypad 1 (id 0x00000007), field 'number': missing"),
    ],
)
def test_bad_session_files_are_refused_naming_file_and_field(tmp_path, change, expected):
    path = write(tmp_path, {**GOOD, **change})
    db = tmp_path / "s.db"
    line = refused(cli("serve", "--session", str(path), "--db", str(db), "--no-web"))
    assert line.startswith(f"clicker: error: {path}: ") and expected in line, line
    assert not db.exists()  # nothing journaled, not even an empty journal
    assert refused(cli("check", str(path))) == line  # the same door without starting anything


def test_a_missing_title_or_roster_is_refused(tmp_path):
    doc = {k: v for k, v in GOOD.items() if k != "title"}
    assert "field 'title': missing (required)" in refused(cli("check", str(write(tmp_path, doc))))
    doc = {k: v for k, v in GOOD.items() if k != "roster"}
    assert '"roster" is required' in refused(cli("check", str(write(tmp_path, doc))))
    ok = cli("check", str(write(tmp_path, {**doc, "open_roster": True})))
    assert ok.exit_code == 0 and "0 keypads" in ok.stdout


def test_files_named_by_the_session_are_checked_with_their_own_names(tmp_path):
    (tmp_path / "fiches.csv").write_bytes("number;title\n1;Première fiche\n".encode("latin-1"))
    path = write(tmp_path, {**GOOD, "proposals": "fiches.csv"})
    line = refused(cli("check", str(path)))
    assert f"{tmp_path / 'fiches.csv'}: line 2: byte 0xE8 is not UTF-8" in line
    (tmp_path / "fiches.csv").write_text("number;title\n1;Première fiche\n", encoding="utf-8-sig")
    (tmp_path / "roster.json").write_text('{"keypads": [{"keypad_id": 1, "number": 1}]}', encoding="utf-8")
    ok = cli("check", str(write(tmp_path, {**GOOD, "proposals": "fiches.csv", "roster": "roster.json"})))
    assert ok.exit_code == 0 and "1 fiches, 1 keypads" in ok.stdout
    assert "no such file" in refused(cli("check", str(write(tmp_path, {**GOOD, "roster": "nope.json"}))))


def test_roster_errors_name_the_entry_by_position_and_id():
    def message(entries):
        with pytest.raises(RosterError) as info:
            parse_roster(entries, "roster.json")
        return str(info.value)

    twice = [{"keypad_id": 5, "number": 1}, {"keypad_id": "0x5", "number": 2}]
    assert message(twice) == "roster.json: keypad 2 (id 0x00000005): the same id as keypad 1"
    same_number = [{"keypad_id": 5, "number": 1}, {"keypad_id": 6, "number": 1}]
    assert message(same_number) == (
        "roster.json: keypad 2 (id 0x00000006): number 1 is already used by keypad 1 (id 0x00000005)"
    )
    assert (
        message([{"keypad_id": 1}])
        == "roster.json: keypad 1 (id 0x00000001): field 'number': missing (required)"
    )
    # one way to write ids: JSON integers or "0x..." strings; a decimal string is refused, saying how
    assert "keypad 1: field 'keypad_id': \"161\": a keypad id is a JSON integer (161)" in message(
        [{"keypad_id": "161", "number": 1}]
    )
    assert "out of range" in message([{"keypad_id": 2**32, "number": 1}])
    ids = [k.keypad_id for k in parse_roster({"keypads": [{"keypad_id": "0x00A1B2C3", "number": 1}]})]
    assert ids == [0x00A1B2C3]
    assert keypad_id_arg("0x00A1B2C3") == keypad_id_arg("10597059") == 0x00A1B2C3


def test_keypads_enrol_takes_ids_the_documented_way(tmp_path):
    roster = tmp_path / "roster.json"
    assert cli("keypads", "enrol", str(roster), "--id", "0xA1", "--number", "1").exit_code == 0
    assert "keypad 0x000000a1 is already enrolled" in refused(
        cli("keypads", "enrol", str(roster), "--id", "161", "--number", "2")
    )
    assert "a keypad id is decimal (161) or hexadecimal (0xA1)" in refused(
        cli("keypads", "enrol", str(roster), "--id", "0o17", "--number", "2")
    )


async def _journal_with(tmp_path, doc):
    db = tmp_path / "s.db"
    hub = await Engine.open(Journal(db), load_session_file(write(tmp_path, doc, "first.json")))
    await hub.stop()
    return db


async def test_restarting_with_a_different_session_file_is_refused_field_by_field(tmp_path):
    db = await _journal_with(tmp_path, GOOD)
    before = db.read_bytes()
    changed = {**GOOD, "title": "Essai corrigé", "electorate": 71}
    changed["proposals"] = [*GOOD["proposals"], {"number": 3, "title": "Tram"}]
    result = cli("serve", "--session", str(write(tmp_path, changed)), "--db", str(db), "--no-web")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert "holds a different session than" in lines[0]
    assert '  title: "Essai" in the journal, "Essai corrigé" in the file' in lines
    assert "  electorate: 70 in the journal, 71 in the file" in lines
    assert "  proposals: 2 fiches in the journal, 3 in the file" in lines
    assert "--resume" in lines[-1] and len(lines) == 5
    assert db.read_bytes() == before
    # the same file again is no difference: a plain restart resumes
    assert differences(journaled_session(db), load_session_file(write(tmp_path, GOOD))) == []


async def test_resume_ignores_the_session_file_and_says_so(tmp_path):
    db = await _journal_with(tmp_path, GOOD)
    changed = write(tmp_path, {**GOOD, "title": "Autre"})
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hub", "serve", "--db", str(db), "--session", str(changed)),
        *("--resume", "--port", "0"),
        stderr=asyncio.subprocess.PIPE,
    )
    lines = []
    try:
        while not any("console:" in ln for ln in lines):
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, "serve exited: " + "".join(lines)
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert f"{changed} is ignored (--resume)" in lines[0]
    assert journaled_session(db).title == "Essai"


def test_a_config_written_as_a_session_file_reads_back_the_same(tmp_path):
    """What tools write (session_document) is what the schema reads; the nonce is the hub's own."""
    from hub.session_file import session_document

    config = load_session_file(write(tmp_path, {**GOOD, "grades": ["Non", "Bof", "Oui"], "anonymous": False}))
    assert config.nonce is not None and "nonce" not in session_document(config)
    again = load_session_file(write(tmp_path, session_document(config), "again.json"))
    assert differences(config, again) == []
