"""``clicker verify`` against random damage to the database and its WAL: it never raises, names
the problem in one line, and never says OK for a journal that lost or changed a record at or
before a head the guarantors noted."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub.commands import ClosePoll, EndGrace, OpenPoll, Reveal
from hub.engine import Engine, JournalRefused
from hub.journal import LAYOUTS, Journal, read_records
from hub.model import PollMode, Press
from hub.verify import Head, verify
from tests.conftest import make_config

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = 4096


async def noted_session(db: Path, polls: int, wal_copy: Path | None = None) -> list[Head]:
    """A session whose guarantors note the head after every poll; with ``wal_copy``, the files
    are copied (database and WAL) while the hub is idle after the last poll, as a crash leaves
    them, and the hub then goes on."""
    hub = await Engine.open(Journal(db), make_config(n_keypads=40))
    heads, answers = [], []
    try:
        for poll in range(1, polls + 1):
            await hub.act(OpenPoll(PollMode.GRADES))
            for i in range(120):
                hub.submit_press(
                    Press(1001 + i % 40, 10 * poll + i // 40, poll, 0, "1234567"[i % 7]), answers.append
                )
            await hub.wait_until(lambda n=120 * poll: len(answers) == n, 10)
            await hub.act(ClosePoll())
            await hub.act(EndGrace())
            if poll < polls:
                await hub.act(Reveal(poll))  # a checkpoint: the WAL restarts
            seq, head = hub.journal.durable  # the last poll is not revealed: not yet on the projector
            heads.append(Head(seq, head[:16]))
        if wal_copy is not None:
            wal_copy.mkdir()
            for suffix in ("", "-wal"):
                shutil.copy(f"{db}{suffix}", wal_copy / f"{db.name}{suffix}")
    finally:
        await hub.stop()
    return heads


def damage(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    if not out:
        return bytes(out)
    kind = rng.randrange(5)
    if kind == 0:  # flipped bits
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # a zeroed page
        page = rng.randrange(max(1, len(out) // PAGE))
        out[page * PAGE : (page + 1) * PAGE] = bytes(min(PAGE, len(out) - page * PAGE))
    elif kind == 2:  # truncated
        del out[rng.randrange(len(out)) :]
    elif kind == 3:  # garbage over a stretch
        at = rng.randrange(len(out))
        n = min(rng.randint(1, 600), len(out) - at)
        out[at : at + n] = rng.randbytes(n)
    else:  # bytes that are not UTF-8 text
        at = rng.randrange(len(out))
        n = min(rng.randint(1, 16), len(out) - at)
        out[at : at + n] = b"\xff" * n
    return bytes(out)


def check(path: Path, heads: list[Head], original: list[tuple[int, str]]) -> None:
    v = verify(path, heads=heads)  # never raises: that is the first thing tested
    if not v.ok:
        assert v.problem and "\n" not in v.problem
        return
    # OK with the heads noted: every record up to the last one is there, unchanged
    records = [(r.seq, r.hash) for r in read_records(path)]
    assert records[: len(original)] == original
    assert v.seq >= max(h.seq for h in heads if h.seq is not None)


@pytest.fixture(scope="module")
def journals(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    clean = base / "clean.db"
    clean_heads = asyncio.run(noted_session(clean, 3))
    crashed_dir = base / "crashed"
    crash_heads = asyncio.run(noted_session(base / "live.db", 3, wal_copy=crashed_dir))
    crashed = crashed_dir / "live.db"
    assert Path(f"{crashed}-wal").stat().st_size > 0  # the last poll is in the WAL only
    return clean, clean_heads, crashed, crash_heads


async def test_random_damage_to_the_database_never_raises_nor_passes_a_lost_record(journals, tmp_path):
    clean, heads, _, _ = journals
    original = [(r.seq, r.hash) for r in read_records(clean)]
    rng = random.Random(2026)
    for n in range(250):
        target = tmp_path / f"d{n}.db"
        target.write_bytes(damage(rng, clean.read_bytes()))
        check(target, heads, original)
        target.unlink()


async def test_random_damage_to_the_wal_never_raises_nor_passes_a_lost_record(journals, tmp_path):
    _, _, crashed, heads = journals
    original = [(r.seq, r.hash) for r in read_records(crashed)]
    assert verify(crashed, heads=heads).ok
    wal = Path(f"{crashed}-wal").read_bytes()
    rng = random.Random(17)
    caught = 0
    for n in range(150):
        d = tmp_path / f"w{n}"
        d.mkdir()
        shutil.copy(crashed, d / crashed.name)
        (d / f"{crashed.name}-wal").write_bytes(damage(rng, wal))
        check(d / crashed.name, heads, original)
        caught += not verify(d / crashed.name, heads=heads).ok
        shutil.rmtree(d)
    assert caught > 50  # damage in the live part of the WAL loses records; the last head says so


def test_the_command_line_gives_one_line_and_no_traceback(journals, tmp_path):
    clean, heads, _, _ = journals
    rng = random.Random(5)
    v1 = FIXTURES / "journal-v1.db"
    for n, source in enumerate([clean, clean, v1, v1, v1, clean]):
        target = tmp_path / f"c{n}.db"
        target.write_bytes(damage(rng, source.read_bytes()))
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "hub",
                "verify",
                str(target),
                "--head",
                str(heads[-1]) if source == clean else "1:" + "0" * 16,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Traceback" not in out.stderr
        assert out.returncode in (0, 1, 3) and len(out.stderr.strip().splitlines()) <= 1, out.stderr
        if out.returncode == 0:  # harmless damage (free space): then nothing is lost
            assert [r.hash for r in read_records(target)] == [r.hash for r in read_records(source)]
        else:
            assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["zeroed page", "not UTF-8", "truncated", "damaged WAL"])
def test_each_damage_of_the_report_is_one_line_naming_it(journals, tmp_path, how):
    clean, clean_heads, crashed, crash_heads = journals
    heads = crash_heads if how == "damaged WAL" else clean_heads
    if how == "zeroed page":  # a page in the middle of the file
        target = tmp_path / "z.db"
        data = bytearray(clean.read_bytes())
        middle = len(data) // PAGE // 2
        data[middle * PAGE : (middle + 1) * PAGE] = bytes(PAGE)
        target.write_bytes(bytes(data))
        expected = "the file is damaged"
    elif how == "not UTF-8":  # the first format keeps text: a record that is not, hashes redone
        target = tmp_path / "u.db"
        shutil.copy(FIXTURES / "journal-v1.db", target)
        layout = LAYOUTS[0]
        with sqlite3.connect(target) as conn:
            conn.execute("UPDATE journal SET body = CAST(X'7B22FF227D' AS TEXT) WHERE seq = 6")
            prev = layout.genesis
            rows = conn.execute("SELECT seq, kind, CAST(body AS BLOB) FROM journal ORDER BY seq").fetchall()
            for seq, kind, body in rows:
                prev = layout.link(prev, seq, kind, body)
                conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))
        expected = "record 6 (press): not UTF-8 text"
    elif how == "truncated":
        target = tmp_path / "t.db"
        target.write_bytes(clean.read_bytes()[: 5 * PAGE + 100])
        expected = ""
    else:  # bits flipped in the WAL's live part: SQLite stops there, the noted head is missing
        d = tmp_path / "w"
        d.mkdir()
        shutil.copy(crashed, d / crashed.name)
        wal = bytearray(Path(f"{crashed}-wal").read_bytes())
        wal[32 + 24 + 100] ^= 0x40  # in the first frame's page
        (d / f"{crashed.name}-wal").write_bytes(bytes(wal))
        target = d / crashed.name
        expected = "the WAL is damaged at frame 1 of "
    out = subprocess.run(
        [sys.executable, "-m", "hub", "verify", str(target), "--head", str(heads[-1])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and expected in out.stderr, out.stderr


async def test_the_hub_never_resumes_over_a_damaged_wal(journals, tmp_path):
    """Resuming would write new frames over the ones SQLite cannot read: refused, untouched."""
    _, _, crashed, _ = journals
    d = tmp_path / "w"
    d.mkdir()
    shutil.copy(crashed, d / crashed.name)
    wal = bytearray(Path(f"{crashed}-wal").read_bytes())
    wal[32 + 24 + 100] ^= 0x40
    (d / f"{crashed.name}-wal").write_bytes(bytes(wal))
    with pytest.raises(JournalRefused, match="the WAL is damaged at frame 1"):
        await Engine.open(Journal(d / crashed.name))
    assert (d / f"{crashed.name}-wal").read_bytes() == bytes(wal)
    out = subprocess.run(
        [sys.executable, "-m", "hub", "backup", str(d / crashed.name), str(tmp_path / "copy.db")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 1 and "the WAL is damaged at frame 1" in out.stderr
