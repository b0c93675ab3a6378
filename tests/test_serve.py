"""`clicker serve` as a technician runs it: a session file, a receiver URL, the web server;
a poll driven through the API; a clean stop on SIGTERM; a journal that verifies and resumes."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys

import httpx

from hub.model import PressStatus
from hub.verify import verify
from tests.fake_receiver import FakeReceiver


async def start_serve(*args):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "serve", *args, stderr=asyncio.subprocess.PIPE
    )
    lines = []
    while not any("console:" in ln for ln in lines):
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "serve exited: " + "".join(lines)
        lines.append(line)
    console = next(ln for ln in lines if "console:" in ln)
    base, token = re.search(r"(http://[^/]+)/console#token=(\S+)", console).groups()
    return proc, base, token


async def test_serve_runs_a_poll_and_stops_cleanly(tmp_path):
    session = tmp_path / "session.json"
    session.write_text(
        json.dumps(
            {
                "title": "Essai",
                "proposals": [{"number": 1, "title": "Vélo"}, {"number": 2, "title": "Bus"}],
                "roster": [{"keypad_id": 7, "number": 1}, {"keypad_id": 8, "number": 2}],
            }
        ),
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    rx = FakeReceiver()
    url = await rx.start()
    proc, base, token = await start_serve(
        "--session", str(session), "--db", str(db), "--receiver", url, "--port", "0"
    )
    try:
        await asyncio.wait_for(rx.connected.wait(), 20)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base) as web:
            r = await web.post("/api/polls/open", json={"mode": "grades"}, headers=auth)
            assert r.status_code == 200, r.text
            rx.press(7, 1, "6")
            await rx.wait_results(1)
            assert rx.results[0].status == PressStatus.COUNTED
            state = (await web.get("/api/state")).json()
            assert state["poll"]["voted"] == [1] and state["receivers"][0]["connected"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await rx.close()
    v = verify(db)
    assert v.ok and v.presses == 1
    # resumed without a session file: the journal has it all, and the console's token is the same
    first_token = token
    assert (tmp_path / "s.db.token").stat().st_mode & 0o777 == 0o600
    rx = FakeReceiver()
    url = await rx.start()
    proc, base, token = await start_serve("--db", str(db), "--receiver", url, "--port", "0")
    try:
        assert token == first_token  # every open console tab keeps working
        async with httpx.AsyncClient(base_url=base) as web:
            state = (await web.get("/api/state")).json()
            assert state["poll"]["state"] == "open" and state["poll"]["turnout"] == 1
            r = await web.post("/api/polls/close", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await rx.close()
    # --new-token rotates it: the old one is refused from then on
    proc, base, token = await start_serve("--db", str(db), "--port", "0", "--new-token")
    try:
        assert token != first_token and (tmp_path / "s.db.token").read_text().strip() == token
        async with httpx.AsyncClient(base_url=base) as web:
            for _ in range(100):  # the poll closed before the restart ends its grace period first
                if (await web.get("/api/state")).json()["poll"]["state"] == "closed":
                    break
                await asyncio.sleep(0.1)
            old = await web.post("/api/proposals/next", headers={"Authorization": f"Bearer {first_token}"})
            assert old.status_code == 401
            new = await web.post("/api/proposals/next", headers={"Authorization": f"Bearer {token}"})
            assert new.status_code == 200, new.text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


def test_the_token_file_is_the_owners_alone_and_a_bad_one_is_replaced(tmp_path):
    import os

    from hub.web.token import control_token, token_path

    db = tmp_path / "j.db"
    token = control_token(db)
    assert control_token(db) == token and token_path(db).stat().st_mode & 0o777 == 0o600
    os.chmod(token_path(db), 0o644)  # copied carelessly
    assert control_token(db) == token and token_path(db).stat().st_mode & 0o777 == 0o600
    token_path(db).write_text("short\n")
    fresh = control_token(db)
    assert fresh != token and len(fresh) >= 24 and control_token(db) == fresh
    assert control_token(db, new=True) != fresh


def test_serve_refuses_bad_session_files(tmp_path):
    import subprocess

    bad = tmp_path / "s.json"
    bad.write_text('{"title": "x", "colour": 1}', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--session", str(bad), "--db", str(tmp_path / "d.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        out.returncode != 0
        and "unknown key 'colour'" in out.stderr
        and len(out.stderr.strip().splitlines()) == 1
    )
    out = subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "no journal to resume" in out.stderr


def test_the_start_up_heap_is_collected_then_left_out_of_every_later_collection():
    """What `clicker serve` does once its hub is up (hub/heap.py): the start-up's garbage is
    collected (not kept for the day), what is alive is never walked by a collection again,
    what is made later is, and a stopped hub gives it all back to the collector."""
    import gc
    import weakref

    from hub.heap import freeze_startup_heap, thaw_heap

    class Node:
        pass

    garbage = Node()
    garbage.me = garbage  # a cycle only the collector frees
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(100)]
    try:
        frozen = freeze_startup_heap()
        assert gone() is None
        assert frozen == gc.get_freeze_count() >= len(kept)
        later = [Node()]
        walked = {id(o) for o in gc.get_objects()}
        assert id(later) in walked and id(kept) not in walked
    finally:
        thaw_heap()
    assert gc.get_freeze_count() == 0 and id(kept) in {id(o) for o in gc.get_objects()}
