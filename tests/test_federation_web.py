"""The plenary's web app: views by room, paper sheets entered and confirmed by two guarantors,
online imports; every refusal one line (422), nothing journaled without the token."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from hub.federation.access import plenary_credential
from hub.federation.audit import verify_plenary
from hub.federation.plenary import Plenary
from hub.federation.web import create_plenary_app
from hub.journal import Journal
from hub.model import FRENCH_7
from hub.web.server import serve_app
from tests.federation_helpers import convention_config

TOKEN = "plenary-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHEET = {"batch": "Jaude 1", "by": "Ana", "ballots": 4, "tallies": {"1": [0, 0, 1, 1, 1, 1, 0]}}


@pytest.fixture
async def plenary(tmp_path):
    # no NATS server at that address: the plenary keeps trying, and the console still works
    p = Plenary(Journal(tmp_path / "plenary.db"), plenary_credential(), ["nats://127.0.0.1:9"])
    await p.start(convention_config(["eco", "soc"]))
    yield p
    await p.stop()


@pytest.fixture
async def client(plenary):
    app = create_plenary_app(plenary, TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        yield c


async def test_paper_sheet_counts_once_two_guarantors_confirmed_it(client, plenary):
    r = await client.post("/api/paper", json=SHEET, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"batch": "Jaude 1", "version": 1}
    votation = (await client.get("/api/state/votation")).json()["votation"]
    assert votation["table"] == []  # entered, not yet counted
    assert votation["channels"]["paper"]["batches"]["Jaude 1"]["counted"] is None
    for guarantor in ("Bea", "Carl"):
        r = await client.post(
            "/api/paper/confirm",
            json={"batch": "Jaude 1", "version": 1, "guarantor": guarantor},
            headers=AUTH,
        )
        assert r.status_code == 200
    assert r.json()["guarantors"] == ["Bea", "Carl"]
    (row,) = (await client.get("/api/state/votation?channel=total")).json()["votation"]["table"]
    assert row["channels"] == {"paper": [0, 0, 1, 1, 1, 1, 0]} and row["electorate"] == 4
    history = (await client.get("/api/state/history")).json()
    assert history["ranking"]["ranking"][0]["number"] == 1
    assert (await client.get("/api/state?channel=paper")).json()["plenary"]["view"] == "paper"
    paper = (await client.get("/api/state/history?channel=paper")).json()
    assert paper["ranking"]["ranking"][0]["tally"] == [0, 0, 1, 1, 1, 1, 0]


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        (
            "/api/paper",
            {**SHEET, "tallies": {"9": [0] * 7}},
            "fiche '9' is not one of the convention's fiches",
        ),
        ("/api/paper", {**SHEET, "tallies": {"1": [5, 0, 0, 0, 0, 0, 0]}}, "5 judgments for 4 ballots"),
        ("/api/paper/confirm", {"batch": "nope", "version": 1, "guarantor": "Bea"}, "no sheet 'nope'"),
    ],
)
async def test_refused_entries_are_one_line_and_change_nothing(client, plenary, path, body, detail):
    before = plenary.journal.records
    r = await client.post(path, json=body, headers=AUTH)
    assert r.status_code == 422 and detail in r.json()["detail"]
    assert plenary.journal.records == before


async def test_corrections_need_a_reason_and_confirmations_need_the_token(client, plenary):
    assert (await client.post("/api/paper", json=SHEET, headers=AUTH)).status_code == 200
    r = await client.post("/api/paper", json=SHEET, headers=AUTH)
    assert r.status_code == 422 and "needs its reason" in r.json()["detail"]
    r = await client.post(
        "/api/paper/confirm", json={"batch": "Jaude 1", "version": 1, "guarantor": "Ana"}, headers=AUTH
    )
    assert r.status_code == 422 and "cannot also confirm" in r.json()["detail"]
    before = plenary.journal.records
    for path in ("/api/paper", "/api/paper/confirm", "/api/online?name=f.csv&by=Ana"):
        r = await client.post(path, json=SHEET, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
    assert plenary.journal.records == before


async def test_online_import_from_a_csv_file(client, plenary, tmp_path):
    text = "number," + ",".join(FRENCH_7) + "\n1,1,1,1,1,1,1,4\n2,0,0,0,0,0,0,3\n"
    r = await client.post("/api/online?name=web.csv&format=csv&by=Ana", content=text.encode(), headers=AUTH)
    assert r.status_code == 200 and r.json()["ballots"] == 10 and "sha256:" in r.json()["source"]
    rows = {
        row["number"]: row for row in (await client.get("/api/state/votation")).json()["votation"]["table"]
    }
    assert rows[2]["channels"]["online"] == [0, 0, 0, 0, 0, 0, 3] and rows[2]["electorate"] == 10
    r = await client.post("/api/online?name=bad.csv&format=csv&by=Ana", content=b"number,x\n", headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"].startswith("bad.csv, row 1:")
    await plenary.stop()
    audit = verify_plenary(tmp_path / "plenary.db")
    assert audit.ok and audit.convention.online.results()[1] == ([1, 1, 1, 1, 1, 1, 4], 10)


async def test_views_and_the_live_channel(client, plenary):
    assert (await client.get("/api/state?channel=nope")).status_code == 404
    room = (await client.get("/api/state?channel=eco")).json()
    assert room["plenary"]["view"] == "eco" and room["poll"] is None  # nothing received yet
    views = [v["id"] for v in room["plenary"]["views"]]
    assert views == ["total", "eco", "soc", "paper", "online"]
    server = await serve_app(lambda: create_plenary_app(plenary, TOKEN), "127.0.0.1", 0)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/live?channel=soc") as ws:
            first = json.loads(await ws.recv())
            assert first["plenary"]["view"] == "soc"
            assert [r["room"] for r in first["plenary"]["rooms"]] == ["eco", "soc"]
    finally:
        await server.stop()
