"""A convention through a real nats-server: rooms publish their journals, the plenary adds
them up, and nothing is lost or counted twice when NATS, a room or the plenary fails."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import sys

import httpx
import nats
import pytest

from hub.codec import CODECS
from hub.federation.access import load_credential, room_subject
from hub.federation.audit import verify_plenary
from hub.federation.convention import TOTAL, add_results, room_results
from hub.federation.natsserver import NatsServer, free_port
from hub.federation.plenary import Plenary
from hub.federation.setup import write_setup
from hub.federation.wire import RoomRecord, encode
from hub.journal import Journal, JournalError, read_records
from hub.verify import verify
from tests.fake_receiver import FakeReceiver
from tests.federation_helpers import RoomWriter, convention_config, room_config
from tests.federation_rig import Rig
from tests.test_serve import start_serve

KEYS = "1234567"


@pytest.fixture
async def rig(tmp_path):
    r = Rig(tmp_path, ["eco", "soc"])
    await r.server.start()
    yield r
    await r.close()


def ballots(seed: int, n: int = 10) -> dict[int, str]:
    rng = random.Random(seed)
    return {k: rng.choice(KEYS) for k in range(1, n + 1) if rng.random() < 0.9}


def rooms_own_total(rig: Rig) -> dict:
    """What the rooms' own journals say, recounted by clicker verify, added up."""
    parts = []
    for node in rig.rooms.values():
        v = verify(node.db)
        assert v.ok, v.problem
        parts.append(room_results(v.session, revealed_only=False))
    return add_results(parts)


async def test_rooms_vote_through_a_nats_outage_and_the_plenary_catches_up(rig):
    for node in rig.rooms.values():
        await node.start()
    plenary = await rig.start_plenary()
    for node in rig.rooms.values():
        await node.vote(1, ballots(node.index))
    await rig.caught_up()
    await rig.server.stop()  # the messaging server goes down mid-session
    for fiche in (2, 3):
        for node in rig.rooms.values():
            await node.vote(fiche, ballots(10 * fiche + node.index))  # rooms vote on, answered
    assert all(a.status == 0 for n in rig.rooms.values() for a in n.answers)
    assert 2 not in plenary.conv.results(TOTAL, revealed_only=False)
    await rig.server.start()
    await rig.caught_up(60)
    assert plenary.conv.results(TOTAL, revealed_only=False) == rooms_own_total(rig)
    assert plenary.conv.alarm_count == 0
    for node in rig.rooms.values():
        assert node.publisher.stats.failures > 0  # the outage was felt, and overcome
    await plenary.stop()
    audit = verify_plenary(rig.plenary_db)
    assert audit.ok, audit.problem
    assert audit.convention.table(False) == plenary.conv.table(False)


async def test_plenary_restarted_resumes_from_its_consumers(rig):
    for node in rig.rooms.values():
        await node.start()
    plenary = await rig.start_plenary()
    await rig.rooms["eco"].vote(1, ballots(1))
    await rig.caught_up()
    before = sum(c.seq for c in plenary.conv.rooms.values())
    await plenary.stop()  # while it is away, the rooms vote on
    await rig.rooms["eco"].vote(2, ballots(2))
    await rig.rooms["soc"].vote(1, ballots(3))
    plenary = await rig.start_plenary()
    await rig.caught_up()
    assert plenary.conv.results(TOTAL, revealed_only=False) == rooms_own_total(rig)
    # it resumed where its consumers were: only what it had not seen came (nothing read again)
    counts = [s["counts"] for s in plenary.rooms_status()]
    assert (
        sum(c.get("extends", 0) for c in counts)
        == sum(n.journal_head()[0] for n in rig.rooms.values()) - before
    )
    assert sum(c.get("duplicate", 0) for c in counts) == 0


async def publish_raw(rig: Rig, room: str, records: list[RoomRecord], ids: list[str] | None = None):
    """Publish records as the room's own credentials allow (a faulty or hostile publisher)."""
    cred = rig.creds[room]
    errors = []

    async def on_error(e):
        errors.append(str(e))

    nc = await nats.connect(
        rig.server.url, user=cred.user, password=cred.password, inbox_prefix=cred.inbox, error_cb=on_error
    )
    try:
        js = nc.jetstream()
        acks = []
        for i, rec in enumerate(records):
            msg_id = ids[i] if ids else f"{rec.room}:{rec.seq}"
            acks.append(await js.publish(room_subject(room), encode(rec), headers={"Nats-Msg-Id": msg_id}))
        return acks, errors
    finally:
        await nc.close()


async def test_resent_late_and_forged_records(rig):
    plenary = await rig.start_plenary()
    w = RoomWriter("eco", room_config(1, 10))
    for fiche in (1, 2, 3):
        w.vote(fiche, ballots(fiche))
    recs = w.records
    n = len(recs)
    # the same record stored many times (ids defeating JetStream's own de-duplication), records late
    order = recs[:5] + recs[8:12] + recs[5:8] + recs[12:]
    resent = [r for r in order for _ in range(3)]
    acks, errors = await publish_raw(rig, "eco", resent, [f"x{i}" for i in range(len(resent))])
    assert not errors and len({a.seq for a in acks}) == 3 * n  # all stored: the plenary must sort it out
    same_id, _ = await publish_raw(rig, "eco", recs[:3], [f"x{i}" for i in range(3)])
    assert all(a.duplicate for a in same_id)  # the same message id again: JetStream keeps one
    # a forged record and an out-of-chain one on the room's own subject
    reveal = CODECS[2].encode("action", {"action": "reveal", "at": 1.0, "poll_id": 1})
    forged = RoomRecord("eco", n + 1, "action", 2, reveal, "ab" * 32)
    old = RoomRecord("eco", 3, recs[2].kind, 2, recs[2].raw + b"\x00", recs[2].hash)
    await publish_raw(rig, "eco", [forged, old], ["forged", "old"])
    await plenary.wait_until(lambda: plenary.conv.alarm_count >= 1 and plenary.conv.rooms["eco"].seq == n, 20)
    status = plenary.intake.status("eco")
    assert status["seq"] == n and status["head"] == w.head
    counts = status["counts"]
    assert counts["extends"] + counts.get("released_extends", 0) == n  # each applied once
    assert counts["duplicate"] + counts.get("released_duplicate", 0) == 2 * n  # the copies dropped
    assert counts["ahead"] == 3 * 4  # the 4 records that came early, held until 6..8 arrived
    assert plenary.conv.rooms["eco"].session.final_tallies() == w.session.final_tallies()
    state = plenary.snapshot("eco")
    assert any("refused" in a["reason"] for a in state["plenary"]["alarms"])  # visible, never silent
    revealed = [(e.proposal, e.tally) for e in w.session.revealed_ranking().entries]
    assert [
        (r["proposal"], r["tally"]) for r in state["ranking"]["ranking"]
    ] == revealed  # as the room shows it
    await plenary.stop()
    assert verify_plenary(rig.plenary_db).ok


async def test_a_room_with_another_rooms_credentials_is_refused_by_the_server(rig):
    plenary = await rig.start_plenary()
    w = RoomWriter("soc", room_config(2, 5))
    w.vote(1, {20_001: "7"})
    cred = rig.creds["eco"]
    errors = []

    async def on_error(e):
        errors.append(str(e))

    nc = await nats.connect(
        rig.server.url, user=cred.user, password=cred.password, inbox_prefix=cred.inbox, error_cb=on_error
    )
    try:
        js = nc.jetstream()
        with pytest.raises(nats.errors.TimeoutError):  # no acknowledgement: the server dropped it
            await js.publish(room_subject("soc"), encode(w.records[0]), timeout=1)
        await nc.flush()
        await asyncio.sleep(0.2)
    finally:
        await nc.close()
    assert any('permissions violation for publish to "clicker.room.soc"' in e for e in errors)
    pcred = rig.plenary_cred
    pc = await nats.connect(
        rig.server.url, user=pcred.user, password=pcred.password, inbox_prefix=pcred.inbox, error_cb=on_error
    )
    try:
        info = await pc.jetstream().stream_info(pcred.stream)
        assert info.state.messages == 0  # nothing reached the stream
        await pc.publish(room_subject("soc"), encode(w.records[0]))  # nor may the plenary publish
        await pc.flush()
        await asyncio.sleep(0.2)
    finally:
        await pc.close()
    assert any('publish to "clicker.room.soc"' in e for e in errors[1:])
    assert plenary.conv.rooms["soc"].seq == 0


# --- processes killed with SIGKILL ------------------------------------------------------------------


def write_json(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def plenary_heads(db) -> dict[str, tuple[int, str]]:
    """The last record of each room in a plenary journal, read from disk (while it runs)."""
    heads: dict[str, tuple[int, str]] = {}
    try:
        for rec in read_records(db):
            if rec.kind == "room":
                heads[rec.body["room"]] = (rec.body["seq"], rec.body["hash"])
    except JournalError:  # not created yet
        return {}
    return heads


async def until(predicate, within: float, step: float = 0.05) -> None:
    async with asyncio.timeout(within):
        # a file on disk, another process: nothing to wait on but time
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(step)


async def start_cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def sigkill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await proc.wait()


async def test_plenary_killed_mid_stream_and_restarted(rig, tmp_path):
    for node in rig.rooms.values():
        node.keypads = 60
        await node.start()
    creds = write_json(tmp_path / "plenary.json", rig.plenary_cred.to_json([rig.server.url]))
    conv = write_json(tmp_path / "convention.json", rig.convention().to_json())
    db = tmp_path / "killed.db"
    args = ["plenary", "--db", str(db), "--nats-credentials", str(creds), "--no-web"]
    proc = await start_cli(*args, "--convention", str(conv))
    try:
        voting = asyncio.gather(
            *(node.vote(f, ballots(f * node.index, 60)) for node in rig.rooms.values() for f in (1,))
        )
        await until(lambda: db.exists() and sum(s for s, _ in plenary_heads(db).values()) > 30, 120)
        await sigkill(proc)  # in the middle of the rooms' records
        await voting
        for node in rig.rooms.values():
            await node.vote(2, ballots(7 * node.index, 60))
        proc = await start_cli(*args)  # resumes its journal and its consumers
        heads = {r: n.journal_head() for r, n in rig.rooms.items()}
        await until(lambda: plenary_heads(db) == heads, 180)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            await sigkill(proc)
    audit = verify_plenary(db)  # a record journaled twice would break the rooms' chains here
    assert audit.ok, audit.problem
    assert audit.convention.results(TOTAL, revealed_only=False) == rooms_own_total(rig)
    assert audit.convention.alarm_count == 0


async def test_room_hub_killed_mid_publish_and_restarted(rig, tmp_path):
    plenary = await rig.start_plenary()
    creds = write_json(tmp_path / "eco.json", rig.creds["eco"].to_json([rig.server.url]))
    config = room_config(1, 300, grace_s=0.05)
    doc = {k: v for k, v in config.to_json().items() if k != "nonce"}  # a new session draws its own
    session = write_json(tmp_path / "session.json", {**doc, "proposals": [{"number": 1, "title": "Vélo"}]})
    db = rig.rooms["eco"].db
    rx = FakeReceiver()
    url = await rx.start()
    fed = ["--federate", rig.server.url, "--nats-credentials", str(creds)]
    proc = await start_serve(
        "--session", str(session), "--db", str(db), "--receiver", url, "--port", "0", *fed
    )
    child = proc[0]
    try:
        await asyncio.wait_for(rx.connected.wait(), 20)
        async with httpx.AsyncClient(base_url=proc[1]) as web:
            r = await web.post(
                "/api/polls/open", json={"mode": "grades"}, headers={"Authorization": f"Bearer {proc[2]}"}
            )
            assert r.status_code == 200, r.text
        for i in range(1500):
            rx.press(10_001 + i % 300, i + 1, KEYS[i % 7])
        await until(lambda: plenary.conv.rooms["eco"].seq > 50, 120, 0.005)
        await sigkill(child)  # mid-burst, mid-publish
        await rx.close()
        seq, _ = rig.rooms["eco"].journal_head()
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            (cursor,) = conn.execute("SELECT seq FROM outbox").fetchone()
        assert cursor < seq  # records were committed that the outbox had not delivered
        child = await start_cli("serve", "--db", str(db), "--no-web", *fed)  # resumes the journal
        await rig.caught_up(60)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
            await asyncio.wait_for(child.wait(), 20)
    own = verify(db)
    assert own.complete and own.seq > seq  # stopped cleanly the second time: a closing record
    await plenary.wait_until(lambda: plenary.conv.rooms["eco"].head == own.head, 20)  # it was delivered
    assert plenary.conv.alarm_count == 0
    info = await stream_subjects(rig)
    assert info["clicker.room.eco"] == own.seq  # re-sent records were stored once


async def stream_subjects(rig: Rig) -> dict[str, int]:
    """Messages stored per subject, as the plenary's user may ask."""
    cred = rig.plenary_cred
    nc = await nats.connect(rig.server.url, user=cred.user, password=cred.password, inbox_prefix=cred.inbox)
    try:
        info = await nc.jetstream().stream_info(cred.stream, subjects_filter=">")
        return dict(info.state.subjects or {})
    finally:
        await nc.close()


async def test_a_site_with_its_own_leaf_node_as_setup_writes_it(tmp_path):
    """Across a town: room soc's hub talks to its site's leaf node; the leaf node forwards only
    its rooms' subjects to the central server, where the plenary consumes them."""
    central, leaf_port, site = free_port(), free_port(), free_port()
    out = tmp_path / "fed"
    write_setup(
        out,
        ["eco", "soc"],
        f"127.0.0.1:{central}",
        sites={"nord": ["soc"]},
        leaf_port=leaf_port,
        site_listen=f"127.0.0.1:{site}",
    )
    conf = json.loads((out / "nats.conf").read_text())
    conf["jetstream"]["store_dir"] = str(tmp_path / "js")
    hub_server = NatsServer.from_config(tmp_path / "central", conf)
    leaf_server = NatsServer.from_config(tmp_path / "leaf", json.loads((out / "leaf-nord.conf").read_text()))
    pcred, pservers = load_credential(out / "plenary.json")
    scred, sservers = load_credential(out / "room-soc.json")
    assert sservers == [f"nats://127.0.0.1:{site}"] and pservers == [f"nats://127.0.0.1:{central}"]
    plenary = Plenary(Journal(tmp_path / "plenary.db"), pcred, pservers)
    w = RoomWriter("soc", room_config(2, 5))
    w.vote(1, {20_001: "6", 20_002: "7"})
    await hub_server.start()
    await leaf_server.start()
    try:
        await plenary.start(convention_config(["eco", "soc"]))
        await asyncio.wait_for(plenary.stream_ready.wait(), 20)
        errors = []

        async def on_error(e):
            errors.append(str(e))

        nc = await nats.connect(
            sservers, user=scred.user, password=scred.password, inbox_prefix=scred.inbox, error_cb=on_error
        )
        try:
            js = nc.jetstream()
            for _ in range(100):  # the leaf link comes up a moment after the leaf node
                try:
                    await js.publish(
                        room_subject("soc"),
                        encode(w.records[0]),
                        timeout=0.5,
                        headers={"Nats-Msg-Id": "soc:1"},
                    )
                    break
                except (nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError):
                    await asyncio.sleep(0.1)
            for rec in w.records[1:]:
                await js.publish(room_subject("soc"), encode(rec), headers={"Nats-Msg-Id": f"soc:{rec.seq}"})
            with pytest.raises(nats.errors.TimeoutError):
                await js.publish(room_subject("eco"), encode(w.records[0]), timeout=0.5)
        finally:
            await nc.close()
        await plenary.wait_until(lambda: plenary.conv.rooms["soc"].head == w.head, 20)
        assert any('permissions violation for publish to "clicker.room.eco"' in e for e in errors)
        assert plenary.conv.rooms["eco"].seq == 0
        assert plenary.conv.results("soc", revealed_only=False)[1][0] == w.session.final_tallies()[1]
    finally:
        await plenary.stop()
        await leaf_server.stop()
        await hub_server.stop()


async def test_a_plenary_whose_journal_fails_stops_and_its_successor_gets_everything_back(rig):
    """The plenary's journal write fails with records received: it stops acknowledging and
    deciding (fail-stop). A new plenary on the same journal is handed back, at once and in order,
    everything that was not acknowledged: no gap, nothing lost, nothing twice."""
    for node in rig.rooms.values():
        await node.start()
    plenary = await rig.start_plenary()
    await rig.rooms["eco"].vote(1, ballots(1))
    await rig.caught_up()
    journal_append = plenary.journal.append

    async def failing(entries):
        raise OSError(28, "No space left on device")

    plenary.journal.append = failing  # the disk fills up
    await rig.rooms["eco"].vote(2, ballots(2))
    await asyncio.wait_for(plenary.stopped.wait(), 20)
    assert isinstance(plenary.failure, OSError)
    stuck = plenary.conv.rooms["eco"].seq
    plenary.journal.append = journal_append
    await plenary.stop()
    await rig.rooms["eco"].vote(3, ballots(3))  # and the room goes on
    await rig.rooms["soc"].vote(1, ballots(4))
    plenary = await rig.start_plenary()
    assert plenary.conv.rooms["eco"].seq < stuck  # what was decided but never written is gone
    await rig.caught_up()
    assert plenary.conv.results(TOTAL, revealed_only=False) == rooms_own_total(rig)
    assert plenary.conv.alarm_count == 0  # the unacknowledged records came back before any gap alarm
