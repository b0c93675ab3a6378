"""`clicker serve --record` records a real session (a simulated room of signing keypads behind
two receivers over a lossy radio, one receiver's connection dropped mid-session, the polls
driven through the console's API), and `clicker replay` plays the recording back into a fresh
hub through the same receiver links: the same tallies, which are the journal's own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import httpx

from hub.model import PressStatus
from hub.records import poll_tallies
from hub.roster import save_roster
from hub.sim.ether import Impairments
from hub.sim.room import SimRoom
from hub.traffic import Applied, Chunk, Ended, Gap, Opened, TrafficRecorder, Truth, read_traffic
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
    # the same statuses, but for which of two presses of a keypad read in one loop turn from two
    # receivers was counted and which superseded (hub/replay.py): the vote that stands is the same
    live, replayed = dict(v.session.statuses), dict(again.session.statuses)
    for counts in (live, replayed):
        counts[PressStatus.COUNTED] += counts.pop(PressStatus.SUPERSEDED)
    assert replayed == live
    assert summary["lost_events"] == 0


async def _drain(fd: int) -> bytes:
    """Everything written into a FIFO until its writer closes it."""
    out = bytearray()
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            await asyncio.sleep(0.005)
            continue
        if not data:
            return bytes(out)
        out += data


async def test_a_recorder_behind_a_stuck_disk_stays_bounded_and_says_what_it_lost(tmp_path):
    """The hub never waits for the recording's disk and never holds more than a bounded backlog
    for it: a FIFO nobody reads stands for a stuck disk. What could not be kept is counted and
    written as a gap where the recording resumes, and the replay's reader sees it."""
    fifo = tmp_path / "stuck.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        recorder = TrafficRecorder(fifo, max_pending=64 * 1024, exclusive=False)
        chunk = bytes(range(256)) * 4
        for _ in range(2000):  # 4 MB of lines, on the loop, without waiting for anything
            recorder.chunk("rx1", "in", chunk)
        assert recorder.pending_peak <= 64 * 1024
        assert recorder.lost > 1000  # the FIFO's 64 KiB and the backlog's took the rest
        drained = asyncio.create_task(_drain(reader))
        for _ in range(500):  # the disk is back: the backlog empties
            if recorder.waiting == 0:
                break
            await asyncio.sleep(0.01)
        recorder.truth({"1": [[0, 1]]})  # kept, after a gap line that counts what was lost
        lost = recorder.lost
        await recorder.close()
        lines = [json.loads(x) for x in (await drained).decode().splitlines()]
    finally:
        os.close(reader)
    kinds = [doc["type"] for doc in lines]
    gaps = [doc["lost"] for doc in lines if doc["type"] == "gap"]
    assert kinds[-2:] == ["gap", "truth"] and set(kinds[:-1]) == {"in", "gap"}
    assert sum(gaps) == lost and kinds.count("in") + lost == 2000  # each event kept or counted
    assert all(bytes.fromhex(doc["hex"]) == chunk for doc in lines if doc["type"] == "in")

    meta = {"type": "meta", "version": 2, "t": 0, "session": {}, "clock": 0}
    copy = tmp_path / "copy.jsonl"
    copy.write_text(
        "\n".join(
            json.dumps(doc)
            for doc in [
                meta,
                {"type": "open", "t": 0, "receiver": "rx1", "kind": "serial", "framing": "stream"},
                *lines,
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    _, events = read_traffic(copy)
    assert [e.lost for e in events if isinstance(e, Gap)] == gaps


async def test_serve_record_refuses_in_one_line_what_it_cannot_record(tmp_path):
    """A recording starts with its session (a journal already holding polls is refused), and a
    file that cannot be written, or an earlier recording, is said before anything is written."""
    from hub.commands import OpenPoll
    from hub.engine import Engine
    from hub.journal import Journal
    from hub.model import PollMode
    from tests.conftest import make_config

    db = tmp_path / "s.db"
    engine = await Engine.open(Journal(db), make_config())
    await engine.act(OpenPoll(PollMode.GRADES))
    await engine.stop()
    session = tmp_path / "session.json"
    session.write_text(
        json.dumps({"title": "x", "proposals": [{"number": 1, "title": "Vélo"}], "open_roster": True}),
        "utf-8",
    )
    taken = tmp_path / "taken.jsonl"
    taken.write_text("an earlier recording\n", encoding="utf-8")
    new = ["--session", str(session), "--db", str(tmp_path / "new.db")]
    for args, why in (
        (["--db", str(db), "--record", str(tmp_path / "t.jsonl")], "already holds 1 polls"),
        ([*new, "--record", str(tmp_path / "no" / "t.jsonl")], "No such file or directory"),
        ([*new, "--record", str(taken)], "already exists"),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "serve", *args, "--port", "0", stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        lines = err.decode().strip().splitlines()
        assert proc.returncode != 0 and len(lines) == 1 and why in lines[0], lines
    assert not (tmp_path / "t.jsonl").exists() and not (tmp_path / "new.db").exists()
    assert taken.read_text(encoding="utf-8") == "an earlier recording\n"
