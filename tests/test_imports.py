"""Fiches files through the two doors that take them, the command line (a session file naming
the CSV) and the console's import (the file's bytes to the API): one code path, so the same file
gets the same answer, a refusal naming the row and the field, and nothing half imported."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.engine import Engine
from hub.journal import Journal
from hub.web.app import create_app
from tests.conftest import make_config

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def hub(tmp_path):
    h = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=3, n_props=2))
    yield h
    await h.stop()


@pytest.fixture
async def client(hub):
    transport = httpx.ASGITransport(app=create_app(hub, TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        yield c


def through_cli(tmp_path, data: bytes, name: str = "fiches.csv") -> tuple[bool, str]:
    """(accepted, message after the file's name) from `clicker check` on a session naming the file."""
    (tmp_path / name).write_bytes(data)
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"title": "t", "proposals": name, "open_roster": True}), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(session)])
    if result.exit_code == 0:
        return True, result.stdout
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert len(lines) == 1, result.output
    prefix = f"clicker: error: {tmp_path / name}: "
    assert lines[0].startswith(prefix), lines[0]
    return False, lines[0].removeprefix(prefix)


async def through_api(client, data: bytes, name: str = "fiches.csv") -> tuple[bool, str]:
    r = await client.post(
        "/api/session/proposals",
        content=data,
        params={"name": name},
        headers=AUTH | {"Content-Type": "text/csv"},
    )
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        return True, str(r.json()["proposals"])
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and detail.startswith(f"{name}: ")
    return False, detail.removeprefix(f"{name}: ")


async def both(tmp_path, client, hub, data: bytes) -> str:
    """Refused the same way by both doors; the journal is untouched. Returns the message."""
    before = hub.journal.records
    cli_ok, cli_msg = through_cli(tmp_path, data)
    api_ok, api_msg = await through_api(client, data)
    assert not cli_ok and not api_ok and cli_msg == api_msg
    assert hub.journal.records == before
    return cli_msg


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # an unclosed quote must not swallow the rows after it
        (b'number,title\n1,"Unclosed\n2,B\n', "line 2, field 'title': a quote is not closed"),
        (b'number,title\n1,"Unclosed\n2,B"\n', "line 2, field 'title': holds a line break"),
        # any encoding but UTF-8 is refused, never guessed: the same message in both places
        ("number,title\n1,Première fiche\n".encode("latin-1"), "line 2: byte 0xE8 is not UTF-8"),
        ("number,title\n1,x\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
        (b"number,title,transition\n1,Velo\n", "line 2: 2 fields, the header has 3"),
        (b"number,title\n1,a,extra\n", "line 2: 3 fields, the header has 2"),
        (b"number,title\n1,a\n2,b\n1,c\n", "line 4: fiche number 1 already used (line 2)"),
        (b"number,title\nun,a\n", "line 2, field 'number': 'un' is not a whole number"),
        (b"number,title\n1,  \n", "line 2, field 'title': empty"),
        (b"number,title\n1," + b"x" * 301 + b"\n", "line 2, field 'title': 301 characters, at most 300"),
        (b"number,title," + b"h" * 140_000 + b"\n1,a,b\n", "line 1: column 3's name has 140,000 characters"),
        (b"number,title\n1,a\n2," + b"y" * 200_000 + b"\n", "line 3, field 'title': 200,000 characters"),
        (b"titre,transition\n", "line 1: no 'number' column"),
        (b"number,title\n", "no fiche"),
        (b"number,title\n1,a\x00b\n", "line 2: a NUL character"),
    ],
)
async def test_bad_fiches_files_are_refused_alike_naming_row_and_field(tmp_path, client, hub, data, expected):
    assert expected in await both(tmp_path, client, hub, data)


@pytest.mark.parametrize(
    "data",
    [
        "number;title;transition\n1;Première fiche;sociale\n2;Deuxième, avec virgule;écologique\n".encode(),
        "number\ttitle\ttransition\n1\tPremière fiche\tsociale\n2\tDeuxième\técologique\n".encode(),
        '\ufeffnumber,title,transition\r\n1,Première fiche,sociale\r\n2,"Deuxième; « citée »",\r\n'.encode(),
        "Numéro;Titre;Transition\n1;Première fiche;sociale\n\n2;Deuxième;\n;;\n".encode(),
    ],
)
async def test_what_spreadsheets_write_is_accepted_alike(tmp_path, client, hub, data):
    cli_ok, cli_out = through_cli(tmp_path, data)
    api_ok, count = await through_api(client, data)
    assert cli_ok and "2 fiches" in cli_out and api_ok and count == "2"
    state = hub.snapshot()
    assert state["proposals"][0]["title"] == "Première fiche"


async def test_an_import_is_all_or_nothing(client, hub):
    before = [p.title for p in hub.session.config.proposals]
    bad_last_row = b'number,title\n10,a\n11,b\n12,"c\n'
    ok, _ = await through_api(client, bad_last_row)
    assert not ok and [p.title for p in hub.session.config.proposals] == before


async def test_a_json_import_takes_the_same_schema(tmp_path, client, hub):
    doc = [{"number": 1, "title": "a", "colour": "x"}]
    r = await client.post("/api/session/proposals?name=f.json", content=json.dumps(doc), headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"] == (
        "f.json: fiche 1: unknown key 'colour' (known: number, title, transition, subject, text, extra)"
    )
    r = await client.post(
        "/api/session/proposals?name=f.json", content='[{"number": "1", "title": "a"}]', headers=AUTH
    )
    assert r.json()["detail"] == "f.json: fiche 1, field 'number': must be an integer, not \"1\""
