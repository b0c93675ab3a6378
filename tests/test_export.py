"""Exports of a convention day: the JSON pipes into ``clicker tally -`` unchanged and ranks the
same, every CSV row adds up to the electorate, each assembly's rows come out on their own, and
a small assembly's grades never come out alone."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys

import pytest

from hub.engine import Engine
from hub.journal import Journal
from hub.verify import verify
from tests.sessions import Room, convention_config, convention_day

CLICKER = [sys.executable, "-m", "hub"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLICKER, *args], capture_output=True, text=True, timeout=120, input=stdin)


async def _day(db, missing: str) -> None:
    hub = await Engine.open(Journal(db), convention_config(keypads=30, fiches=6, guests=3, missing=missing))
    try:
        await convention_day(Room(hub, seed=3, turnout=0.85), 6)
    finally:
        await hub.stop()


@pytest.fixture(scope="module", params=["reject", "ignore"])
def journal(request, tmp_path_factory):
    db = tmp_path_factory.mktemp("export") / f"day-{request.param}.db"
    asyncio.run(_day(db, request.param))
    return db


def test_json_export_pipes_into_tally_unchanged(journal):
    shell = subprocess.run(
        f"{sys.executable} -m hub export {journal} --format json | {sys.executable} -m hub tally -",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    tallied = json.loads(shell.stdout)
    exported = json.loads(run("export", str(journal), "--format", "json").stdout)
    # the same ranking, rule and policy as the session's own (read from the export)
    assert tallied["ranking"] == exported["ranking"]
    assert (tallied["rule"], tallied["missing"], tallied["voters"]) == (
        exported["rule"],
        exported["missing"],
        exported["voters"],
    )


def test_tally_still_refuses_a_key_it_does_not_know(journal):
    doc = json.loads(run("export", str(journal), "--format", "json").stdout)
    out = run("tally", "-", stdin=json.dumps({**doc, "talies": {}}))
    assert out.returncode == 1 and "unknown key 'talies'" in out.stderr
    out = run("tally", "-", stdin=json.dumps({**doc, "missing": "maybe"}))
    assert out.returncode == 1 and "'missing' must be one of" in out.stderr


def test_command_line_options_override_the_documents_rule(journal):
    doc = run("export", str(journal), "--format", "json").stdout
    out = json.loads(run("tally", "-", "--rule", "typical", "--missing", "median", stdin=doc).stdout)
    assert (out["rule"], out["missing"]) == ("typical", "median")


def test_every_csv_row_adds_up_to_the_electorate(journal):
    session = verify(journal).session
    grades = session.config.scale.names
    rows = list(csv.DictReader(io.StringIO(run("export", str(journal), "--format", "csv").stdout)))
    voters = session.ranking().voters
    assert len(rows) == 6
    for r in rows:
        assert sum(int(r[g]) for g in grades) + int(r["missing"]) == voters
        assert int(r["missing"]) >= 1  # the day has abstentions: the column is not decoration
    # the tallies are the latest round's (fiche 2 was voted twice, fiche 3 reset once)
    assert {int(r["number"]): [int(r[g]) for g in grades] for r in rows} == session.final_tallies()


def test_each_assemblys_rows_and_the_small_one_never_alone(journal):
    session = verify(journal).session
    doc = json.loads(run("export", str(journal), "--format", "json").stdout)
    assert sorted(doc["assemblies"]) == ["démocratique", "invités", "sociale", "écologique"]
    assert doc["min_group"] == 5
    # three guests: never shown alone, merged on every fiche
    assert doc["assemblies"]["invités"]["tallies"] == {}
    assert doc["assemblies"]["invités"]["merged"] == [1, 2, 3, 4, 5, 6]
    grades = session.config.scale.names
    for name in ("écologique", "sociale", "démocratique"):
        out = run("export", str(journal), "--format", "csv", "--assembly", name)
        assert out.returncode == 0, out.stderr
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        members = doc["assemblies"][name]["members"]
        assert members == 10
        tallies = doc["assemblies"][name]["tallies"]
        assert {f"Fiche {r['number']}": [int(r[g]) for g in grades] for r in rows} == tallies
        for r in rows:
            assert sum(int(r[g]) for g in grades) + int(r["missing"]) == members
    # per poll, the published groups cover every judgment once, and each has enough voters
    final = session.final_tallies()
    merged_somewhere = False
    for poll in doc["polls"]:
        for item, groups in poll.get("groups", {}).items():
            assert all(g["voters"] >= 5 for g in groups)
            assert sorted(a for g in groups for a in g["assemblies"]) == sorted(doc["assemblies"])
            merged_somewhere |= any(len(g["assemblies"]) > 1 for g in groups)
            if (
                poll["mode"] == "grades"
                and poll["state"] == "revealed"
                and poll["poll_id"]
                == max(
                    p["poll_id"]
                    for p in doc["polls"]
                    if p["items"] == [int(item)] and p["state"] == "revealed"
                )
            ):
                assert [sum(col) for col in zip(*(g["tally"] for g in groups))] == final[int(item)]
    assert merged_somewhere


def test_an_unknown_assembly_is_one_line(journal):
    out = run("export", str(journal), "--format", "csv", "--assembly", "nope")
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1
    assert "no assembly 'nope'" in out.stderr and "'sociale'" in out.stderr
