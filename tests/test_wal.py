"""Telling a WAL damaged after acknowledged commits (hub/wal.py) from the tail a power cut tore,
on logs SQLite itself wrote through the crash VFS (tests/crash_vfs.py)."""

from __future__ import annotations

import itertools
import random
import struct
from pathlib import Path

import apsw

from hub.wal import FRAME_HEADER, HEADER, wal_damage
from tests.crash_vfs import CrashDisk

PAGE = 4096
FRAME = FRAME_HEADER + PAGE
_names = itertools.count()


def rows_in(db: Path) -> int:
    conn = apsw.Connection(str(db))
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchall()[0][0])
    finally:
        conn.close()


def a_restarted_log(tmp_path: Path) -> tuple[dict[str, bytes], list[tuple[int, bytes]], int]:
    """A log restarted by a checkpoint over a longer, older one; five commits synced in it, then
    one more transaction written and not yet synced. Returns the durable files, the unsynced
    writes to the WAL, and the number of rows committed and synced."""
    disk = CrashDisk(f"walcase{next(_names)}")
    db = tmp_path / "w.db"
    rng = random.Random(5)
    snapshots: list[tuple[dict[str, bytes], list[tuple[int, bytes]]]] = []
    try:
        conn = apsw.Connection(str(db), vfs=disk.name)
        for sql in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "CREATE TABLE t (n, b)"):
            conn.execute(sql).fetchall()
        for n in range(40):  # the older log: dozens of frames
            with conn:
                conn.execute("INSERT INTO t VALUES (?, ?)", (n, rng.randbytes(3000)))
        conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_PASSIVE)  # the next write restarts the log
        for n in range(40, 45):
            with conn:
                conn.execute("INSERT INTO t VALUES (?, ?)", (n, rng.randbytes(3000)))

        def snapshot(d: CrashDisk) -> None:
            wal = d.files[f"{db}-wal"]
            snapshots.append((d.durable_image(), [(o, x) for o, x in wal.pending if x is not None]))

        disk.on_op = snapshot
        with conn:  # one transaction of several pages, cut before its sync
            conn.executemany("INSERT INTO t VALUES (?, ?)", [(n, rng.randbytes(3000)) for n in range(45, 49)])
        disk.on_op = None
        conn.close()
    finally:
        disk.unregister()
    durable, pending = max(snapshots, key=lambda s: len(s[1]))
    return {Path(p).name: data for p, data in durable.items()}, pending, 45


def lay_out(files: dict[str, bytes], into: Path) -> Path:
    into.mkdir()
    for name, data in files.items():
        if name in ("w.db", "w.db-wal"):
            (into / name).write_bytes(data)
    return into / "w.db"


def test_a_torn_sector_in_the_unsynced_tail_over_an_older_log_is_not_damage(tmp_path):
    """What a power cut left once: of the transaction being written, the first frame's header
    but not its page (a bad frame), the second frame not at all (a stale frame of the older log
    in its place), a later frame whose header's first sector was torn (its salts survived, its
    "database size" is garbage) and the commit frame. SQLite ends the log at the bad frame and
    loses only the unsynced transaction: that is no damage, though two frames after the bad one
    look like commits."""
    files, pending, synced = a_restarted_log(tmp_path)
    frames = [(pending[i], pending[i + 1]) for i in range(0, len(pending), 2)]
    assert len(frames) >= 4 and all(len(h[1]) == FRAME_HEADER and len(p[1]) == PAGE for h, p in frames)
    (first_header, _), _, *middle, (commit_header, commit_page) = frames
    wal = bytearray(files["w.db-wal"])
    start = (first_header[0] - HEADER) // FRAME
    assert len(wal) > HEADER + (start + len(frames) + 5) * FRAME  # stale frames of the older log beyond
    assert struct.unpack_from(">I", commit_header[1], 4)[0] != 0  # it is the commit frame
    wal[first_header[0] : first_header[0] + FRAME_HEADER] = first_header[1]
    (torn_at, torn_header), (page_at, page) = middle[-1]
    wal[torn_at : torn_at + FRAME_HEADER] = b"\x78\x07\x5b\x82\x18\x76\x2f\xa0" + torn_header[8:]
    wal[page_at : page_at + PAGE] = page
    wal[commit_header[0] : commit_header[0] + FRAME_HEADER] = commit_header[1]
    wal[commit_page[0] : commit_page[0] + PAGE] = commit_page[1]
    db = lay_out(files | {"w.db-wal": bytes(wal)}, tmp_path / "cut")
    assert wal_damage(db) is None
    assert rows_in(db) == synced  # every synced commit is there: nothing was lost


def test_a_flipped_bit_before_synced_commits_of_a_restarted_log_is_damage(tmp_path):
    """The case the check exists for, in the same log: a bit flipped in the restarted log's first
    frame, five synced commits after it, stale frames of the older log beyond. SQLite would
    silently end the log at that frame."""
    files, _, synced = a_restarted_log(tmp_path)
    wal = bytearray(files["w.db-wal"])
    wal[HEADER + FRAME_HEADER + 100] ^= 0x40
    db = lay_out(files | {"w.db-wal": bytes(wal)}, tmp_path / "flipped")
    damage = wal_damage(db)
    assert damage is not None and damage.startswith("the WAL is damaged at frame 1 of "), damage
    assert rows_in(db) < synced  # what SQLite alone would have made of it
