"""`clicker serve --record` records a real session (a simulated room of signing keypads behind
two receivers over a lossy radio, one receiver's connection dropped mid-session, the polls
driven through the console's API), and `clicker replay` plays the recording back into a fresh
hub through the same receiver links: the same tallies, which are the journal's own."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import httpx

from hub.records import poll_tallies
from hub.roster import save_roster
from hub.sim.ether import Impairments
from hub.sim.room import SimRoom
from hub.traffic import Applied, Chunk, Ended, Opened, Truth, read_traffic
from hub.verify import verify
from tests.test_serve import start_serve

FICHES = 3


async def _vote(web: httpx.AsyncClient, auth: dict[str, str], room: SimRoom, opened: dict) -> None:
    poll = opened["poll_id"]
    room.up[poll] = opened["items"][0]
    await room.wait_voted(poll, 60)
    r = await web.post("/api/polls/close", headers=auth)
    assert r.status_code == 200, r.text
    for _ in range(600):  # the hub's own timer ends the grace period (recorded as a command)
        if (await web.get("/api/state")).json()["poll"]["state"] == "closed":
            break
        await asyncio.sleep(0.05)
    r = await web.post(f"/api/polls/{poll}/reveal", headers=auth)
    assert r.status_code == 200, r.text


async def test_serve_record_then_replay_gives_the_same_tallies(tmp_path):
    from hub.proposals import clermont_fiches

    fiches = clermont_fiches()[:FICHES]
    room = SimRoom(fiches, 24, seed=11, impair=Impairments(loss=0.05), receivers=2, speed=25)
    save_roster(tmp_path / "roster.json", room.roster())
    (tmp_path / "fiches.json").write_text(
        json.dumps([{"number": f.number, "title": f.title} for f in fiches]), encoding="utf-8"
    )
    (tmp_path / "session.json").write_text(
        json.dumps(
            {
                "title": "Enregistrement",
                "proposals": "fiches.json",
                "roster": "roster.json",
                "require_mic": True,
                "grace_s": 0.3,
            }
        ),
        encoding="utf-8",
    )
    db, traffic = tmp_path / "s.db", tmp_path / "traffic.jsonl"
    urls = await room.start()
    args = ["--session", str(tmp_path / "session.json"), "--db", str(db), "--port", "0"]
    proc, base, token = await start_serve(
        *args, "--receiver", urls[0], "--receiver", urls[1], "--record", str(traffic)
    )
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=base) as web:
            for _ in range(600):  # both receivers connected
                state = (await web.get("/api/state")).json()
                if len(state["receivers"]) == 2 and all(r["connected"] for r in state["receivers"]):
                    break
                await asyncio.sleep(0.05)
            for n, fiche in enumerate(fiches):
                if n == 1:  # a cable pulled: the hub opens that receiver again (a second connection)
                    room.receivers[0].drop_connection()
                assert (
                    await web.post(f"/api/proposals/{fiche.number}/select", headers=auth)
                ).status_code == 200
                opened = await web.post("/api/polls/open", json={"mode": "grades"}, headers=auth)
                assert opened.status_code == 200, opened.text
                await _vote(web, auth, room, opened.json())
            consent = await web.post("/api/polls/open", json={"mode": "consent"}, headers=auth)
            assert consent.status_code == 200, consent.text
            await _vote(web, auth, room, consent.json())
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        await room.close()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert f"traffic recorded: {traffic}" in err.decode()

    # the recording: both receivers' connections (one opened twice), their bytes, every command
    # the hub applied (its timers' ends of grace included), and its tallies, which are the journal's
    meta, events = read_traffic(traffic)
    opens = [e.receiver for e in events if isinstance(e, Opened)]
    assert sorted(set(opens)) == sorted(urls) and len(opens) >= 3
    assert any(isinstance(e, Ended) for e in events)
    assert sum(len(e.data) for e in events if isinstance(e, Chunk) and e.direction == "in") > 1000
    names = [e.command.NAME for e in events if isinstance(e, Applied)]
    assert names.count("open") == FICHES + 1 and names.count("grace_end") == FICHES + 1
    (truth,) = [e for e in events if isinstance(e, Truth)]
    v = verify(db)
    assert v.ok, v.problem
    assert truth.tallies == poll_tallies(v.session) and len(truth.tallies) == FICHES + 1
    assert meta.clock is not None and meta.session["nonce"] == v.session.config.nonce
    assert traffic.stat().st_mode & 0o777 == 0o600  # it holds the session's keys, like the journal

    replayed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "replay",
        str(traffic),
        "--speed",
        "10",
        "--db",
        str(tmp_path / "replay.db"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(replayed.communicate(), 120)
    assert replayed.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["tallies_match"] is True and summary["polls"] == FICHES + 1
    again = verify(tmp_path / "replay.db")
    assert again.ok and poll_tallies(again.session) == truth.tallies
    assert again.presses == v.presses  # every press the hub decided, decided again
