"""The control API and the live channel: every mutating endpoint needs the token, refused
actions change nothing, /ws/live gives a snapshot then increasing versions, and a stalled
client does not hold the others back."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
import websockets

from hub.commands import OpenPoll
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode, Press
from hub.web.app import create_app
from hub.web.server import start_web
from tests.conftest import make_config

TOKEN = "s3cret-token"
MUTATING = [
    ("/api/polls/open", {"mode": "grades"}),
    ("/api/polls/close", None),
    ("/api/polls/1/reveal", None),
    ("/api/polls/1/reset", {"reason": "test"}),
    ("/api/proposals/2/select", None),
    ("/api/proposals/next", None),
    ("/api/proposals/previous", None),
    ("/api/display", {"view": "ranking"}),
    ("/api/session/proposals", {"text": "number,title\n1,x\n"}),
    ("/api/session/roster", {"keypads": []}),
]


@pytest.fixture
async def hub(tmp_path):
    h = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=5))
    yield h
    await h.stop()


@pytest.fixture
async def client(hub):
    app = create_app(hub, TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(("path", "body"), MUTATING)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
async def test_every_mutating_endpoint_needs_the_token(client, hub, path, body, headers):
    before = hub.journal.records
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 401 and r.json()["detail"] == "missing or wrong control token"
    assert hub.journal.records == before  # nothing journaled, nothing changed


async def test_a_whole_poll_through_the_api(client, hub):
    r = await client.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
    assert r.status_code == 200 and r.json() == {
        "poll_id": 1,
        "mode": "grades",
        "state": "open",
        "items": [1],
        "countdown_close": False,
    }
    answers = []
    hub.submit_press(Press(1001, 1, 1, 0, "6", at=hub.clock()), answers.append)
    await hub.wait_until(lambda: len(answers) == 1, 5)
    state = (await client.get("/api/state")).json()
    assert state["poll"]["turnout"] == 1 and state["poll"]["voted"] == [1]
    assert "results" not in state["poll"]  # never the distribution while open
    assert (await client.post("/api/polls/close", headers=AUTH)).json()["state"] == "closing"
    await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 5)
    assert (await client.post("/api/polls/1/reveal", headers=AUTH)).json()["state"] == "revealed"
    state = (await client.get("/api/state")).json()
    assert state["poll"]["results"]["items"][0]["balanced_tally"] == [4, 0, 0, 0, 0, 1, 0]
    assert "ranking" not in state and "polls" not in state  # the history is a part of its own
    history = (await client.get("/api/state/history")).json()
    assert history["revision"] == state["revisions"]["history"]
    row = history["ranking"]["ranking"][0]
    assert (row["proposal"], row["number"], row["title"]) == ("Fiche 1", 1, "Fiche 1")
    assert [(p["poll_id"], p["state"], p["turnout"]) for p in history["polls"]] == [(1, "revealed", 1)]
    assert (await client.post("/api/proposals/next", headers=AUTH)).json() == {"current": 2}
    r = await client.post("/api/polls/1/reset", json={"reason": "essai"}, headers=AUTH)
    assert r.json()["state"] == "reset"
    assert hub.session.poll(1).reset_reason == "essai"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/polls/close", None, 409),  # nothing open
        ("/api/polls/9/reveal", None, 409),
        ("/api/polls/open", {"mode": "borda"}, 422),
        ("/api/polls/open", {"mode": "self-paced"}, 409),  # no items
        ("/api/polls/1/reset", {"reason": ""}, 422),
        ("/api/proposals/99/select", None, 409),
        ("/api/proposals/previous", None, 409),
    ],
)
async def test_refused_actions_change_nothing(client, hub, path, body, status):
    before = hub.journal.records
    r = await client.post(path, json=body, headers=AUTH)
    assert r.status_code == status
    assert hub.journal.records == before


async def test_openapi_lists_every_endpoint(client):
    doc = (await client.get("/openapi.json")).json()
    for path, _ in MUTATING:
        template = path.replace("/1/", "/{poll_id}/").replace("/2/", "/{number}/")
        assert template in doc["paths"], template
    assert "/api/state" in doc["paths"]


async def test_pages_are_served(client):
    for path in ("/", "/console", "/static/projector.js", "/static/palette.json"):
        assert (await client.get(path)).status_code == 200


async def test_live_snapshot_then_increasing_versions_and_a_stalled_client(hub):
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    stalled = socket.create_connection(("127.0.0.1", web.port))
    try:
        # A client that completes the handshake and then never reads a byte.
        stalled.sendall(
            b"GET /ws/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        async with websockets.connect(f"ws://127.0.0.1:{web.port}/ws/live") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "state" and first["poll"] is None
            await hub.act(OpenPoll(PollMode.GRADES))
            for i in range(300):  # many states: the stalled client's buffers fill up
                hub.submit_press(
                    Press(1001 + i % 5, i + 1, 0xFFFF, 0, "1234567"[i % 7], at=hub.clock()), None
                )
                await asyncio.sleep(0)
            await hub.wait_until(lambda: sum(hub.session.statuses.values()) == 300, 10)
            final = hub.version
            versions = [first["version"]]
            while versions[-1] < final:
                versions.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["version"])
            assert versions == sorted(set(versions))  # strictly increasing, newest wins
            assert len(versions) < 300  # coalesced: not one message per press
    finally:
        stalled.close()
        await web.stop()


def upload(client, path, text, fmt, name=None):
    """As the console sends a file: its bytes as the body."""
    params = {"format": fmt} | ({"name": name} if name else {})
    data = text.encode() if isinstance(text, str) else text
    return client.post(path, content=data, params=params, headers=AUTH)


async def test_import_fiches_and_roster_before_the_first_vote(client, hub):
    csv = "number,title,transition\n7,Vélo partout,écologique\n8,Frigos solidaires,sociale\n"
    r = await upload(client, "/api/session/proposals", csv, "csv")
    assert r.status_code == 200 and r.json() == {"proposals": 2}
    assert [p["number"] for p in (await client.get("/api/state/session")).json()["proposals"]] == [7, 8]
    roster = '{"keypads": [{"keypad_id": 77, "number": 1}, {"keypad_id": 78, "number": 2}]}'
    r = await client.post("/api/session/roster", content=roster, headers=AUTH)
    assert r.json() == {"keypads": 2} and hub.session.electorate == 2
    await client.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
    r = await upload(client, "/api/session/proposals", csv, "csv")
    assert r.status_code == 409 and "once a vote" in r.json()["detail"]
    # the imports are journaled: a restarted hub has the same fiches and roster
    from hub.verify import verify

    assert verify(hub.journal.path).ok


@pytest.mark.parametrize(
    ("path", "text", "fmt", "message"),
    [
        ("/api/session/proposals", "title\nx\n", "csv", "no 'number' column"),
        (
            "/api/session/proposals",
            "number,title\nabc,x\n",
            "csv",
            "line 2, field 'number': 'abc' is not a whole number",
        ),
        ("/api/session/proposals", "number,title\n1,a\n1,b\n", "csv", "number 1 already used (line 2)"),
        ("/api/session/proposals", "[1, 2", "json", "not JSON"),
        ("/api/session/roster", "{nope", "json", "not JSON"),
        (
            "/api/session/roster",
            '{"keypads": [{"number": 1}]}',
            "json",
            "keypad 1: field 'keypad_id': missing",
        ),
        ("/api/session/roster", "a,b", "csv", "a roster is a JSON file"),
    ],
)
async def test_bad_imports_are_refused_with_one_line(client, hub, path, text, fmt, message):
    before = hub.journal.records
    r = await upload(client, path, text, fmt, f"file.{fmt}")
    assert r.status_code == 422 and message in r.json()["detail"]
    assert hub.journal.records == before


async def test_poll_charts_for_slides_only_once_revealed_or_with_the_token(client, hub):
    await client.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
    assert (await client.get("/api/polls/1/chart.svg")).status_code == 409  # still open: nothing to draw
    assert (await client.get("/api/polls/1/chart.svg", headers=AUTH)).status_code == 409
    answers = []
    hub.submit_press(Press(1001, 1, 1, 0, "6", at=hub.clock()), answers.append)
    await hub.wait_until(lambda: answers, 5)
    await client.post("/api/polls/close", headers=AUTH)
    await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 5)
    refused = await client.get("/api/polls/1/chart.svg")  # closed, not revealed: not for the public
    assert refused.status_code == 401 and "not revealed" in refused.json()["detail"]
    assert (
        await client.get("/api/polls/1/chart.png", headers={"Authorization": "Bearer no"})
    ).status_code == 401
    preview = await client.get("/api/polls/1/chart.svg", headers=AUTH)  # the console may preview it
    assert preview.status_code == 200 and preview.content.startswith(b"<?xml")
    await client.post("/api/polls/1/reveal", headers=AUTH)
    svg = await client.get("/api/polls/1/chart.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml")
    png = await client.get("/api/polls/1/chart.png")
    assert png.content[:4] == b"\x89PNG"
    assert (await client.get("/api/polls/9/chart.png")).status_code == 404


async def test_countdown_is_shown_and_checked(client, hub):
    r = await client.post("/api/polls/open", json={"mode": "grades", "countdown_s": 5000}, headers=AUTH)
    assert r.status_code == 409 and "countdown" in r.json()["detail"]
    r = await client.post("/api/polls/open", json={"mode": "grades", "countdown_s": 30}, headers=AUTH)
    poll = (await client.get("/api/state")).json()["poll"]
    assert poll["countdown_ends"] == pytest.approx(poll["opened_at"] + 30)


async def test_moving_away_while_a_poll_is_open_is_refused_with_a_code(client, hub):
    await client.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
    before = hub.journal.records
    for path in ("/api/proposals/next", "/api/proposals/3/select"):
        r = await client.post(path, headers=AUTH)
        assert r.status_code == 409
        assert r.json()["code"] == "poll_active" and r.json()["params"] == {"poll_id": 1, "state": "open"}
    assert hub.journal.records == before and hub.session.current == 1
    assert (await client.post("/api/proposals/1/select", headers=AUTH)).status_code == 200  # staying is fine
    await client.post("/api/polls/close", headers=AUTH)
    r = await client.post("/api/proposals/next", headers=AUTH)  # still in its grace period
    assert r.status_code == 409 and r.json()["params"]["state"] == "closing"
    await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 5)
    assert (await client.post("/api/proposals/next", headers=AUTH)).json() == {"current": 2}


async def test_a_countdown_can_close_the_poll_at_zero(client, hub):
    r = await client.post(
        "/api/polls/open", json={"mode": "grades", "countdown_s": 0.3, "countdown_close": True}, headers=AUTH
    )
    assert r.json()["countdown_close"] is True
    await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 10)
    poll = (await client.get("/api/state")).json()["poll"]
    assert (poll["state"], poll["closed_by"], poll["countdown_close"]) == ("closed", "countdown", True)
    # the close is journaled like the facilitator's: a replay reaches the same state without a timer
    from hub.verify import verify

    replayed = verify(hub.journal.path).session
    assert replayed.poll(1).closed_by == "countdown" and replayed.poll(1).state == "closed"


async def test_a_countdown_that_does_not_close_and_one_closed_early(client, hub):
    await client.post("/api/polls/open", json={"mode": "grades", "countdown_s": 0.2}, headers=AUTH)
    await asyncio.sleep(0.5)
    assert hub.session.poll(1).state == "open"  # shown only: the facilitator closes
    await client.post("/api/polls/close", headers=AUTH)
    await hub.wait_until(lambda: hub.session.poll(1).state == "closed", 5)
    await client.post("/api/proposals/next", headers=AUTH)
    await client.post(
        "/api/polls/open", json={"mode": "grades", "countdown_s": 60, "countdown_close": True}, headers=AUTH
    )
    await client.post("/api/polls/close", headers=AUTH)  # closed by hand long before zero
    await hub.wait_until(lambda: hub.session.poll(2).state == "closed", 5)
    assert hub.session.poll(2).closed_by == "facilitator"
    r = await client.post("/api/polls/open", json={"mode": "grades", "countdown_close": True}, headers=AUTH)
    assert r.status_code == 409 and r.json()["code"] == "countdown_range"


async def test_a_second_round_is_labelled_and_kept_in_the_history(client, hub):
    for _ in range(2):
        await client.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
        await client.post("/api/polls/close", headers=AUTH)
        await hub.wait_until(lambda: hub.session.polls[-1].state == "closed", 5)
        await client.post(f"/api/polls/{hub.session.polls[-1].poll_id}/reveal", headers=AUTH)
    history = (await client.get("/api/state/history")).json()
    assert [(p["poll_id"], p["items"], p["round"]) for p in history["polls"]] == [(1, [1], 1), (2, [1], 2)]
    assert (await client.get("/api/state")).json()["poll"]["round"] == 2


async def test_the_projector_view_is_chosen_from_the_console(client, hub):
    r = await client.post("/api/display", json={"view": "ranking", "assembly": "*"}, headers=AUTH)
    assert r.json() == {"view": "ranking", "assembly": "*"}
    assert (await client.get("/api/state")).json()["display"] == {"view": "ranking", "assembly": "*"}
    r = await client.post("/api/display", json={"view": "auto", "assembly": "nope"}, headers=AUTH)
    assert r.status_code == 409 and r.json()["code"] == "no_assembly"
    assert hub.session.display == {"view": "ranking", "assembly": "*"}
