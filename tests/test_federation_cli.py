"""clicker verify, export and report on a plenary's journal; federation setup's files."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import stat
import subprocess
import sys

import pytest
from pypdf import PdfReader

from hub.codec import CODECS
from hub.federation.convention import PAPER
from hub.journal import KIND_IDS, KIND_NAMES, LAYOUTS
from tests.federation_helpers import PlenaryJournal


def clicker(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def plenary_db(tmp_path):
    """A plenary journal as the plenary writes it: two rooms' records, a confirmed paper sheet."""
    pj = PlenaryJournal(["eco", "soc"])
    for i, room in enumerate(("eco", "soc"), 1):
        pj.room(room, i, 6, (1, 2, 3))
    sheet = {
        "channel": PAPER,
        "batch": "Jaude",
        "by": "Ana",
        "ballots": 5,
        "tallies": {"4": [0, 1, 1, 1, 1, 1, 0]},
    }
    pj.add("sheet", sheet)
    for g in ("Bea", "Carl"):
        pj.add("confirm", {"channel": PAPER, "batch": "Jaude", "version": 1, "guarantor": g})
    asyncio.run(pj.write(tmp_path / "plenary.db"))
    return tmp_path / "plenary.db", pj.conv


def test_verify_export_and_report_on_a_plenary_journal(plenary_db, tmp_path):
    db, conv = plenary_db
    out = clicker("verify", str(db))
    assert (
        out.returncode == 0
        and out.stdout.startswith("OK: plenary journal")
        and "eco 37, soc 37" in out.stdout
    )
    doc = json.loads(clicker("export", str(db)).stdout)
    assert doc["tallies"]["Fiche 4"] == [0, 1, 1, 1, 1, 1, 0] and doc["electorates"]["Fiche 4"] == 5
    assert doc["tallies"]["Fiche 1"] == [
        a + b for a, b in zip(doc["channels"]["eco"]["Fiche 1"], doc["channels"]["soc"]["Fiche 1"])
    ]
    assert doc["electorates"]["Fiche 1"] == 12 and [r["room"] for r in doc["rooms"]] == ["eco", "soc"]
    rows = list(csv.DictReader(io.StringIO(clicker("export", str(db), "--format", "csv").stdout)))
    assert {r["number"] for r in rows} == {"1", "2", "3", "4"}
    one = next(r for r in rows if r["number"] == "1")
    assert int(one["eco:Excellent"]) + int(one["soc:Excellent"]) == int(one["Excellent"])
    assert sum(int(one[g]) for g in doc["grades"]) + int(one["missing"]) == int(one["electorate"])
    eco = list(
        csv.DictReader(io.StringIO(clicker("export", str(db), "--format", "csv", "--assembly", "eco").stdout))
    )
    assert len(eco) == 3
    bad = clicker("export", str(db), "--format", "csv", "--assembly", "nope")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "no room or channel 'nope'" in bad.stderr
    pdf = tmp_path / "plenary.pdf"
    out = clicker("report", str(db), "-o", str(pdf), timeout=300)
    assert out.returncode == 0, out.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Plénière : résultats combinés" in text and "Tableau de la votation" in text
    assert conv.rooms["eco"].head in text  # the heads to check the rooms' journals against


def test_a_tampered_plenary_journal_names_the_record(plenary_db):
    db, _ = plenary_db
    room = KIND_IDS["room"]
    with sqlite3.connect(db) as conn:
        seq, body = conn.execute(
            "SELECT seq, body FROM journal WHERE kind = ? LIMIT 1 OFFSET 9", (room,)
        ).fetchone()
        conn.execute("UPDATE journal SET body = ? WHERE seq = ?", (body.replace(b"eco", b"soc"), seq))
    out = clicker("verify", str(db))
    assert out.returncode == 1 and f"record {seq} (room): hash chain broken" in out.stderr
    assert out.stderr.count("\n") == 1


def test_a_forger_who_rechains_the_plenary_journal_is_caught_by_the_rooms_chain(plenary_db):
    """A room's vote edited inside the plenary's journal, the plenary's own hashes recomputed:
    the record no longer extends its room's chain, and verify names it."""
    db, _ = plenary_db
    codec, layout = CODECS[2], LAYOUTS[2]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall()
        target = None
        for seq, kind, body in rows:
            doc = codec.decode(KIND_NAMES[kind], body)
            if KIND_NAMES[kind] == "room" and doc["kind"] == "press" and target is None:
                press = codec.decode("press", doc["raw"])
                doc["raw"] = codec.encode_press(press.press._replace(key="7"), press.status, press.poll_id)
                conn.execute("UPDATE journal SET body = ? WHERE seq = ?", (codec.encode("room", doc), seq))
                target = seq
        prev = layout.genesis
        for seq, kind, body in conn.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall():
            prev = layout.link(prev, seq, KIND_NAMES[kind], body)
            conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))
    out = clicker("verify", str(db))
    assert out.returncode == 1 and f"record {target} (room)" in out.stderr, out.stderr
    assert "no longer" in out.stderr or "does not extend" in out.stderr


def test_federation_setup_writes_private_files_with_one_user_per_room(tmp_path):
    out = clicker(
        "federation",
        "setup",
        "--rooms",
        "eco,soc,dem",
        "--out",
        str(tmp_path / "fed"),
        "--site",
        "nord=soc,dem",
    )
    assert out.returncode == 0, out.stderr
    files = sorted(p.name for p in (tmp_path / "fed").iterdir())
    assert files == [
        "leaf-nord.conf",
        "nats.conf",
        "plenary.json",
        "room-dem.json",
        "room-eco.json",
        "room-soc.json",
    ]
    for name in files:
        assert stat.S_IMODE((tmp_path / "fed" / name).stat().st_mode) == 0o600
    conf = json.loads((tmp_path / "fed" / "nats.conf").read_text())
    users = {u["user"]: u for u in conf["accounts"]["CLICKER"]["users"]}
    assert set(users) == {"room-eco", "plenary", "leaf-nord"}  # soc and dem connect through their site
    assert users["room-eco"]["permissions"]["publish"]["allow"] == ["clicker.room.eco"]
    assert users["leaf-nord"]["permissions"]["publish"]["allow"] == ["clicker.room.soc", "clicker.room.dem"]
    bad = clicker("federation", "setup", "--rooms", "Eco Room", "--out", str(tmp_path / "x"))
    assert bad.returncode == 1 and "room name 'Eco Room'" in bad.stderr


async def test_federation_server_runs_the_configuration_setup_wrote(tmp_path):
    """`clicker federation server DIR` runs nats-server with that folder's nats.conf: the plenary's
    credentials reach JetStream there."""
    import nats

    from hub.federation.access import load_credential
    from hub.federation.natsserver import free_port

    port = free_port()
    out = clicker(
        "federation",
        "setup",
        "--rooms",
        "eco",
        "--listen",
        f"127.0.0.1:{port}",
        "--out",
        str(tmp_path / "fed"),
    )
    assert out.returncode == 0, out.stderr
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "federation",
        "server",
        str(tmp_path / "fed"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        cred, servers = load_credential(tmp_path / "fed" / "plenary.json")
        async with asyncio.timeout(30):
            while True:
                try:
                    nc = await nats.connect(
                        servers,
                        user=cred.user,
                        password=cred.password,
                        inbox_prefix=cred.inbox,
                        max_reconnect_attempts=1,
                        connect_timeout=1,
                    )
                    break
                except (OSError, nats.errors.Error):
                    await asyncio.sleep(0.1)
        try:
            info = await nc.jetstream().account_info()
            assert info.limits is not None  # JetStream is enabled for the account
        finally:
            await nc.close()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)
    assert (tmp_path / "fed" / "jetstream").is_dir()
