"""The API's door, as a hostile or careless client meets it: the Host and the Origin are checked
(DNS rebinding), the token and the size are decided before the body is read, imports are parsed
off the loop so presses keep being answered, and no request ever answers 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.aio import within
from hub.commands import OpenPoll
from hub.engine import Engine, HubFailure
from hub.errors import MESSAGE_LIMIT
from hub.journal import Journal
from hub.model import PollMode, PressStatus
from hub.receivers.link import ReceiverLink
from hub.transports.serial import SerialTransport
from hub.web import app as app_module
from hub.web.app import create_app
from hub.web.door import HostPolicy
from hub.web.server import start_web
from tests.conftest import make_config
from tests.fake_receiver import FakeReceiver

TOKEN = "door-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BIG = 50_000_000


@pytest.fixture
async def hub(tmp_path):
    h = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=10))
    yield h
    await h.stop()


@pytest.fixture
async def receiver(hub):
    """A receiver on the hub's real serial transport (over TCP), connected."""
    rx = FakeReceiver()
    url = await rx.start()
    hub.add_receiver(ReceiverLink(SerialTransport(url, name="rx"), hub))
    await within(rx.connected.wait(), 10)
    yield rx
    await rx.close()


@pytest.fixture
async def web(hub):
    server = await start_web(hub, "127.0.0.1", 0, TOKEN)
    yield server
    await server.stop()


def client_for(hub, base_url="http://127.0.0.1", hosts=None):
    transport = httpx.ASGITransport(app=create_app(hub, TOKEN, hosts=hosts))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def raw_request(port: int, head: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """Send a request's head only and read the status line the hub answers before any body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode())
    await writer.drain()
    return reader, writer, await within(reader.readline(), 10)


async def test_a_foreign_host_is_refused_and_the_hubs_names_are_served(hub):
    async with client_for(hub) as c:
        for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000"):
            assert (await c.get("/api/state", headers={"Host": host})).status_code == 200, host
        r = await c.get("/api/state", headers={"Host": "rebound.example:8000"})
        assert r.status_code == 400 and "is not this hub's" in r.json()["detail"]
        assert (await c.get("/", headers={"Host": "rebound.example"})).status_code == 400
    wide = HostPolicy("0.0.0.0", ["hub.local"])
    async with client_for(hub, hosts=wide) as c:
        for host in ("192.168.1.20:8000", "hub.local", "[fe80::1]:8000"):
            assert (await c.get("/api/state", headers={"Host": host})).status_code == 200, host
        assert (await c.get("/api/state", headers={"Host": "evil.example"})).status_code == 400


WS_HEAD = (
    "GET /ws/live HTTP/1.1\r\nHost: {host}\r\n{origin}Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("127.0.0.1:{port}", None, 101),  # a program, no Origin
        ("127.0.0.1:{port}", "http://127.0.0.1:{port}", 101),  # the hub's own pages
        ("localhost:{port}", "http://localhost:{port}", 101),
        ("127.0.0.1:{port}", "http://evil.example", 403),  # another site's page
        ("127.0.0.1:{port}", "http://127.0.0.1:9999", 403),  # another local server's page
        ("rebound.example:{port}", "http://rebound.example:{port}", 403),  # DNS rebinding
    ],
)
async def test_the_live_channel_checks_host_and_origin(web, host, origin, status):
    port = web.port
    head = WS_HEAD.format(
        host=host.format(port=port), origin=f"Origin: {origin.format(port=port)}\r\n" if origin else ""
    )
    _reader, writer, line = await raw_request(port, head)
    writer.close()
    assert line.split()[1] == str(status).encode(), line


async def test_an_oversized_upload_is_refused_unread_while_presses_are_answered(hub, receiver, web):
    await hub.act(OpenPoll(PollMode.GRADES))
    head = (
        f"POST /api/session/proposals HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n"
        f"Content-Type: text/csv\r\nContent-Length: {BIG}\r\n\r\n"
    )
    # no token: refused before a single body byte was sent
    _reader, writer, line = await raw_request(web.port, head)
    assert b" 401 " in line

    async def push_body() -> int:
        """Keep sending the 50 MB, as a client that ignores the answer would; count what got out."""
        sent = 0
        try:
            while sent < BIG:
                writer.write(b"x" * 65536)
                await within(writer.drain(), 5)
                sent += 65536
        except (ConnectionError, TimeoutError):
            pass
        return sent

    pushing = asyncio.create_task(push_body())
    for i in range(10):  # the room keeps voting meanwhile, and every press is answered
        receiver.press(1001 + i, 1, "5")
    await receiver.wait_results(10)
    assert [r.status for r in receiver.results] == [PressStatus.COUNTED] * 10
    assert await pushing < BIG  # the hub closed the connection: it never read the 50 MB
    writer.close()
    # with the token: the length alone is enough to refuse it (413), still before any body byte
    _reader, writer, line = await raw_request(web.port, head.replace("\r\n\r\n", f"\r\n{_auth()}\r\n\r\n"))
    assert b" 413 " in line
    writer.close()
    assert (await httpx.AsyncClient().get(f"http://127.0.0.1:{web.port}/api/state")).status_code == 200


def _auth() -> str:
    return f"Authorization: Bearer {TOKEN}"


async def test_a_body_without_length_is_read_up_to_the_bound_only(web, hub):
    head = (
        f"POST /api/session/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\n{_auth()}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(head.encode())
    chunk = b"x" * 65536

    async def offer_two_mib() -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            for _ in range(32):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await within(writer.drain(), 5)

    offering = asyncio.create_task(offer_two_mib())
    line = await within(reader.readline(), 10)
    await offering
    writer.close()
    assert b" 413 " in line and hub.journal.records == 1  # the session record only


async def test_imports_are_parsed_off_the_loop_so_presses_keep_being_answered(hub, receiver, monkeypatch):
    """The parser waits (in its thread) until a press has been answered: if it ran on the event
    loop, no press could be answered meanwhile and it would give up waiting."""
    answered = threading.Event()
    waited: list[bool] = []
    real = app_module.parse_proposals

    def parse_while_voting(data, fmt, name):
        waited.append(answered.wait(10))
        return real(data, fmt, name)

    monkeypatch.setattr(app_module, "parse_proposals", parse_while_voting)
    async with client_for(hub) as c:
        upload = asyncio.create_task(
            c.post("/api/session/proposals", content=b"number;title\n1;a\n2;b\n", headers=AUTH)
        )
        while not waited and not upload.done():
            receiver.press(1001, len(receiver.results) + 1, "5")
            await receiver.wait_results(len(receiver.results) + 1)
            answered.set()
        r = await upload
    assert waited == [True] and r.status_code == 200 and r.json() == {"proposals": 2}


async def test_validation_errors_are_one_line_and_a_stopped_hub_answers_503(hub):
    async with client_for(hub) as c:
        r = await c.post(
            "/api/polls/open", content=b"{not json", headers=AUTH | {"Content-Type": "application/json"}
        )
        assert r.status_code == 422 and isinstance(r.json()["detail"], str)
        r = await c.post("/api/polls/open", json={"mode": "borda"}, headers=AUTH)
        assert r.status_code == 422 and r.json()["detail"].startswith("mode: Input should be")
        r = await c.post("/api/polls/abc/reveal", headers=AUTH)
        assert r.status_code == 422 and "poll_id (in the path)" in r.json()["detail"]
        hub.failure = HubFailure("disk full")
        r = await c.post("/api/polls/open", json={"mode": "grades"}, headers=AUTH)
        assert r.status_code == 503 and "disk full" in r.json()["detail"]
        hub.failure = None


PATHS = [
    "/api/state",
    "/api/polls/open",
    "/api/polls/close",
    "/api/polls/{n}/reveal",
    "/api/polls/{n}/reset",
    "/api/proposals/{n}/select",
    "/api/proposals/next",
    "/api/session/proposals",
    "/api/session/roster",
    "/api/polls/{n}/chart.svg",
]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSONISH.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"mode": st.sampled_from(["grades", "consent", "self-paced", "x"])},
        optional={
            "items": st.lists(st.integers(), max_size=3),
            "countdown_s": st.floats(),
            "reason": st.text(),
        },
    ).map(lambda v: json.dumps(v, allow_nan=True).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.sampled_from(PATHS),
    n=st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=8)),
    body=BODIES,
    content_type=st.sampled_from(["application/json", "text/csv", "application/octet-stream", ""]),
    query=st.dictionaries(st.sampled_from(["format", "name"]), st.text(max_size=30), max_size=2),
)
@example(  # found by hypothesis: the file's name, quoted as it was, put a line break in the answer
    method="POST",
    path="/api/session/roster",
    n="1",
    body=b"\n",
    content_type="application/json",
    query={"name": "\n"},
)
@example(method="POST", path="/api/session/roster", n="1", body=b"\n", content_type="", query={})
@example(
    method="POST",
    path="/api/session/roster",
    n="1",
    body=b"[]",
    content_type="",
    query={"name": "a\n.csv"},
)
@example(
    method="POST",
    path="/api/session/proposals",
    n="1",
    body=b"\n",
    content_type="",
    query={"name": "\u2028\x00"},
)
async def test_no_request_ever_answers_500(hub, method, path, n, body, content_type, query):
    url = path.replace("{n}", quote(n, safe="") or "x")
    async with client_for(hub) as c:
        r = await c.request(
            method, url, content=body, params=query, headers=AUTH | {"Content-Type": content_type}
        )
    assert r.status_code < 500, (method, url, r.text)
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        detail = r.json()["detail"]
        assert isinstance(detail, str) and len(detail.splitlines()) <= 1 and len(detail) <= MESSAGE_LIMIT
        assert all(ch.isprintable() for ch in detail), detail
