"""The compact journal format, the record API, streaming reads, the closing record, noted heads
and ``clicker backup``."""

from __future__ import annotations

import asyncio
import gc
import shutil
import sqlite3
import subprocess
import sys
import weakref

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import journal as journal_module
from hub.codec import CODECS, RecordError
from hub.commands import ClosePoll, EndGrace, OpenPoll, Reveal, Select
from hub.engine import Engine, JournalRefused
from hub.journal import FORMAT, KIND_IDS, Journal, JournalError, JournalReader, chain_hash, read_records
from hub.model import PollMode, Press, PressStatus
from hub.records import NoteRecord, PressRecord
from hub.session import SessionError
from hub.verify import Head, verify
from tests.conftest import make_config
from tests.journals import forge_vote


def clicker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60, check=False
    )


presses = st.builds(
    Press,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 0xFFFF),
    st.integers(0, 255),
    st.text(min_size=1, max_size=1),
    st.integers(0, 255),
    st.integers(-128, 127),
    st.integers(0, 2**16),
    st.integers(0, 2**32 - 1),
    st.text(max_size=40),
    st.floats(allow_nan=False, allow_infinity=False),
    session_nonce=st.integers(0, 2**32 - 1),
)


@settings(max_examples=300)
@given(presses, st.integers(0, 7), st.integers(0, 0xFFFF))
def test_press_records_round_trip_in_both_formats(press, status, poll_id):
    for codec in CODECS.values():
        raw = codec.encode_press(press, status, poll_id)
        assert codec.decode("press", raw) == PressRecord(status, poll_id, press)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200)
@given(st.dictionaries(st.text(max_size=8), json_values))
def test_other_records_encode_canonically(body):
    codec = CODECS[FORMAT]
    raw = codec.encode("note", body)
    assert codec.decode("note", raw) == NoteRecord(body)
    assert codec.encode("note", dict(reversed(list(body.items())))) == raw  # key order does not matter


def test_a_press_of_fewer_fields_than_any_press_had_is_refused_in_one_line():
    """An older Press had fewer fields, never fewer than its first five (up to the key)."""
    fields = [1001, 5, 1, 0]  # keypad, counter, poll, item: no key
    json_press = b'{"poll_id":1,"press":{"counter":5,"item":0,"keypad_id":1001,"poll_id":1},"status":0}'
    for codec, raw in ((CODECS[2], msgpack.packb([0, 1, *fields])), (CODECS[1], json_press)):
        with pytest.raises(RecordError, match="a press has 4 fields"):
            codec.decode("press", raw)


def test_a_value_the_format_cannot_hold_is_refused_not_raised():
    for codec in CODECS.values():
        with pytest.raises(RecordError, match="cannot be journaled"):
            codec.encode("action", {"action": "select", "proposal": 2**70})


async def test_an_action_that_cannot_be_journaled_changes_nothing(open_hub):
    with pytest.raises(SessionError, match="cannot be journaled"):
        await open_hub.act(Select(2**70))
    await open_hub.act(ClosePoll())  # the loop goes on


async def write_presses(db, n: int, receiver: str = "/dev/ttyACM0") -> Engine:
    hub = await Engine.open(Journal(db), make_config(n_keypads=70))
    await hub.act(OpenPoll(PollMode.GRADES))
    answers: list = []
    for i in range(n):
        press = Press(1001 + i % 70, 1 + i, 1, 0, "1234567"[i % 7], 80, -60, 30, 0, receiver, hub.clock())
        hub.submit_press(press, answers.append)
    await hub.wait_until(lambda: len(answers) == n, 20)
    return hub


async def test_a_press_takes_under_100_bytes_in_the_journal(tmp_path):
    """Format 1 took about 290 bytes per press; a 32-byte hash stays in every record."""
    db = tmp_path / "s.db"
    hub = await write_presses(db, 5000)
    await hub.stop()  # checkpointed: the main file holds everything
    assert not (tmp_path / "s.db-wal").exists() or (tmp_path / "s.db-wal").stat().st_size == 0
    per_press = db.stat().st_size / 5000
    assert per_press < 100, per_press
    with sqlite3.connect(db) as conn:
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM journal GROUP BY kind").fetchall())
        assert kinds[KIND_IDS["press"]] == 5000
        assert {len(h) for (h,) in conn.execute("SELECT hash FROM journal")} == {32}


async def test_records_after_a_sequence_number(tmp_path):
    """The API a publisher uses: durable records after a cursor, in order, chain-checked."""
    hub = await write_presses(tmp_path / "s.db", 50)
    try:
        seq, head = hub.journal.durable
        assert seq == 52
        first = await hub.journal.records_after(0, limit=10)
        assert [r.seq for r in first] == list(range(1, 11)) and first[0].kind == "session"
        rest = await hub.journal.records_after(10, limit=1000)
        assert [r.seq for r in rest] == list(range(11, 53)) and rest[-1].hash == head
        assert rest[-1].to_json()["body"]["press"]["receiver"] == "/dev/ttyACM0"
        assert await hub.journal.records_after(52) == []
        prev = first[0].hash  # a subscriber checks the chain with the published bytes
        for rec in [*first[1:], *rest]:
            assert chain_hash(prev, rec.seq, rec.kind, rec.raw) == rec.hash
            prev = rec.hash
        waiting = asyncio.create_task(hub.journal.committed_after(52))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        await hub.act(ClosePoll())
        assert (await asyncio.wait_for(waiting, 5))[0] == 53
    finally:
        await hub.stop()


async def test_an_outbox_cursor_rides_on_the_next_commit(tmp_path):
    db = tmp_path / "s.db"
    hub = await write_presses(db, 5)
    hub.journal.set_outbox_cursor("nats", 4)
    assert hub.journal.outbox_cursor("nats") == 4 and hub.journal.outbox_cursor("other") == 0
    commits = hub.journal.commits
    await hub.act(ClosePoll())
    assert hub.journal.commits == commits + 1  # no commit of its own
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT seq FROM outbox WHERE name = 'nats'").fetchall() == [(4,)]
    await hub.stop()
    again = Journal(db)
    await again.open()
    assert again.outbox_cursor("nats") == 4
    await again.close()
    assert verify(db).ok  # beside the chain, not in it


async def test_the_published_head_never_moves_while_a_poll_is_open(tmp_path):
    """A head taken right after a press could be brute-forced back to its key: the live state
    carries the head as of the last commit after which no poll was in flight (open, closing, or
    closed awaiting its reveal)."""
    db = tmp_path / "s.db"
    hub = await write_presses(db, 20)
    try:
        assert hub.snapshot()["journal"]["seq"] == 1  # the session record, before the open
        await hub.act(ClosePoll())
        assert hub.snapshot()["journal"]["seq"] == 1  # closing: presses still count
        await hub.act(EndGrace())
        assert hub.snapshot()["journal"]["seq"] == 1  # closed, not revealed: its keys still secret
        await hub.act(Reveal(1))
        assert hub.snapshot()["journal"] == dict(zip(("seq", "head"), hub.journal.durable, strict=True))
    finally:
        await hub.stop()
    resumed = await Engine.open(Journal(db))
    try:
        assert resumed.snapshot()["journal"]["seq"] == resumed.journal.durable[0]  # the closing record
    finally:
        await resumed.stop()


class CountingConnection:
    """A connection that notes how many rows each query hands back."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.fetched: list[int] = []

    def execute(self, *args):
        rows = self.conn.execute(*args).fetchall()
        self.fetched.append(len(rows))
        return Fetched(rows)


class Fetched:
    def __init__(self, rows: list) -> None:
        self.rows = rows

    def fetchall(self) -> list:
        return self.rows


async def test_replay_and_verify_hold_one_bounded_batch(tmp_path, monkeypatch):
    """However long the journal, reading it holds at most one batch of rows, and the replay
    keeps no record once it is applied."""
    db = tmp_path / "s.db"
    hub = await write_presses(db, 300)
    await hub.stop()
    monkeypatch.setattr(journal_module, "READ_BATCH", 16)

    with JournalReader(db) as reader:  # the rows: fetched 16 at a time
        counting = CountingConnection(reader._conn)
        n = sum(1 for _ in journal_module._records(counting, reader.layout))
    assert n == 303 and max(counting.fetched) == 16 and len(counting.fetched) >= 303 // 16

    alive: list[weakref.ref] = []  # the records: the replay holds none of them
    most = 0

    def consume(rec) -> None:
        nonlocal most
        alive.append(weakref.ref(rec))
        gc.collect(0)
        most = max(most, sum(r() is not None for r in alive))

    replay = Journal(db)
    await replay.open(consume)
    await replay.close()
    assert len(alive) == 303 and most <= 2  # the one being applied (and the generator's last)
    assert verify(db).ok


async def test_the_hub_refuses_a_journal_that_does_not_verify(tmp_path):
    db = tmp_path / "s.db"
    hub = await write_presses(db, 20)
    await hub.act(ClosePoll())
    await hub.act(EndGrace())  # the result record: the recount will disagree
    await hub.stop()
    forge_vote(db)
    v = verify(db)
    assert not v.ok
    before = db.read_bytes()
    with pytest.raises(JournalRefused) as refused:
        await Engine.open(Journal(db))
    assert str(refused.value) == v.problem
    assert db.read_bytes() == before  # nothing was appended to it
    out = clicker("serve", "--db", str(db), "--no-web")
    assert out.returncode == 1 and out.stderr.strip() == f"clicker: error: {db}: {v.problem}"


@pytest.mark.parametrize("column", ["kind", "body", "hash"])
async def test_a_value_stored_as_text_that_is_not_utf8_is_refused_naming_its_record(tmp_path, column):
    """The compact format reads its values as stored: a forger's text column that is not UTF-8
    gets the hub's and verify's one line, never an exception out of start-up."""
    db = tmp_path / "s.db"
    hub = await write_presses(db, 1500)  # past the first batch of rows read
    await hub.stop()
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE journal SET {column} = CAST(x'c3' AS TEXT) WHERE seq = 1200")
    v = verify(db)
    assert v.problem == "record 1200: malformed row (text that is not UTF-8)"
    with pytest.raises(JournalRefused) as refused:
        await Engine.open(Journal(db))
    assert str(refused.value) == v.problem
    with JournalReader(db) as reader:  # a publisher reading on gets the records before it
        records = reader.records(after=1198)
        assert next(records).seq == 1199
        with pytest.raises(JournalError, match="record 1200: malformed row"):
            next(records)


async def test_verify_says_complete_only_after_a_clean_stop(tmp_path):
    db = tmp_path / "s.db"
    hub = await write_presses(db, 30)
    try:
        copy = tmp_path / "copy.db"
        out = clicker("backup", str(db), str(copy))  # while the hub runs
        assert out.returncode == 0, out.stderr
        assert "no closing record yet" in out.stdout
        out = clicker("verify", str(copy))
        assert out.returncode == 3 and "no closing record" in out.stderr
        assert verify(copy).presses == 30  # every press answered so far is in the copy
    finally:
        await hub.stop()
    out = clicker("verify", str(db))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert clicker("backup", str(db), str(copy)).returncode == 1  # never overwrites


async def test_noted_heads_prove_the_journal_holds_everything_before_them(tmp_path):
    db = tmp_path / "s.db"
    hub = await write_presses(db, 40)
    noted = [hub.snapshot()["journal"]]
    await hub.act(ClosePoll())
    await hub.act(EndGrace())
    await hub.act(Reveal(1))
    noted.append(hub.snapshot()["journal"])
    await hub.stop()
    heads = [f"{j['seq']}:{j['head'][:16]}" for j in noted]
    out = clicker("verify", str(db), "--head", heads[0], "--head", noted[1]["head"])
    assert out.returncode == 0 and "the 2 noted heads are in it" in out.stdout, out.stderr
    head_file = tmp_path / "heads.txt"
    head_file.write_text(f"# noted by the guarantors\n{heads[0]}\n\n{heads[1]}  # after the close\n")
    assert clicker("verify", str(db), "--heads", str(head_file)).returncode == 0

    cut = tmp_path / "cut.db"  # the same journal without its tail
    shutil.copy(db, cut)
    with sqlite3.connect(cut) as conn:
        conn.execute("DELETE FROM journal WHERE seq > ?", (noted[1]["seq"] - 1,))
    assert verify(cut).ok  # a clean truncation: without heads it still reads as a shorter journal
    out = clicker("verify", str(cut), "--heads", str(head_file))
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"clicker: error: {cut}: head {heads[1]} is not in this journal, which ends at record "
        f"{noted[1]['seq'] - 1}: records noted during the session are missing"
    )
    assert clicker("verify", str(db), "--head", "12:xyz").returncode == 1
    wrong = Head(noted[0]["seq"], "0" * 16)
    v = verify(db, heads=[wrong])
    assert not v.ok and v.problem.startswith(f"record {noted[0]['seq']} (session): its hash")


async def test_an_answered_press_is_durable_and_counted(tmp_path):
    db = tmp_path / "s.db"
    hub = await write_presses(db, 10)
    seq, _ = hub.journal.durable
    await hub.stop()
    got = [r for r in read_records(db) if r.kind == "press"]
    assert len(got) == 10 and all(r.body.status == PressStatus.COUNTED for r in got)
    assert seq == 12  # session, open, 10 presses; the closing record comes after


async def test_a_reader_during_a_reveal_or_the_stop_never_stops_the_hub(tmp_path, caplog):
    """A guarantor's backup or verify holds a read snapshot: the checkpoints of a reveal and of
    the clean stop then leave part of the WAL, they do not fail (the records are durable)."""
    import apsw

    db = tmp_path / "s.db"
    hub = await write_presses(db, 20)
    reader = apsw.Connection(f"file:{db}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        await hub.act(ClosePoll())
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM journal").fetchall() == [(23,)]  # a snapshot
        await hub.act(EndGrace())  # frames after the reader's snapshot
        await hub.act(Reveal(1))
        await hub.act(Select(2))  # the hub goes on
        await hub.stop()
        assert hub.failure is None
        assert "a reader holds the WAL" in caplog.text
    finally:
        reader.close()
    v = verify(db)
    assert v.ok and v.complete
