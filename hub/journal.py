"""The append-only journal: SQLite in WAL mode with ``synchronous=FULL``, hash-chained.

One writer thread owns the connection; the hub's loop hands it all the records of one loop
turn at a time, each already in its canonical JSON text, and they go in one transaction (group
commit), so a burst of presses costs one fsync, not one each. Each record's hash covers the
previous record's hash, so any edit, deletion or reordering breaks the chain from that record on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


class JournalError(Exception):
    """A journal that cannot be used (not a clicker journal, unreadable)."""


@dataclass(frozen=True)
class Record:
    seq: int
    kind: str
    body: dict[str, Any]
    text: str
    hash: str


def encode_body(body: dict[str, Any]) -> str:
    """Canonical JSON (sorted keys, UTF-8, no spaces); the hash covers exactly this text."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def chain_hash(prev: str, seq: int, kind: str, text: str) -> str:
    return hashlib.sha256(f"{prev}\n{seq}\n{kind}\n{text}".encode()).hexdigest()


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        if not Path(path).is_file():
            raise JournalError(f"{path}: no such file")
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    else:
        if not Path(path).exists():  # the session record may hold keypad keys: owner only
            Path(path).touch(mode=0o600)
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
    try:
        conn.execute("SELECT seq, kind, body, hash FROM journal LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise JournalError(f"{path}: not a clicker journal ({exc})") from None
    return conn


def read_records(conn: sqlite3.Connection) -> Iterator[Record]:
    """Every record in order; a body that is not JSON comes back as {} with its raw text."""
    for seq, kind, text, digest in conn.execute("SELECT seq, kind, body, hash FROM journal ORDER BY seq"):
        try:
            body = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            body = {}
        yield Record(seq, kind, body if isinstance(body, dict) else {}, text, digest)


class Journal:
    """The hub's journal; every method runs its SQLite work on the one writer thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._conn: sqlite3.Connection | None = None
        self._last = GENESIS
        self._seq = 0
        self.commits = 0
        self.records = 0

    async def open(self) -> list[Record]:
        """Open (creating if needed) and return every record, for the replay at start-up."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._open)

    def _open(self) -> list[Record]:
        self._conn = connect(self.path)
        records = list(read_records(self._conn))
        if records:
            self._seq, self._last = records[-1].seq, records[-1].hash
        return records

    async def append(self, entries: list[tuple[str, str]]) -> list[int]:
        """Write ``entries`` (kind, ``encode_body`` text) in one transaction; return their
        sequence numbers once durable. The caller encodes: a text holds no reference to live
        state, and a burst's records cost the garbage collector nothing while they wait."""
        if not entries:
            return []
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._append, entries)

    def _append(self, entries: list[tuple[str, str]]) -> list[int]:
        assert self._conn is not None, "journal not open"
        rows, seq, last = [], self._seq, self._last
        for kind, text in entries:
            seq += 1
            last = chain_hash(last, seq, kind, text)
            rows.append((seq, kind, text, last))
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("INSERT INTO journal (seq, kind, body, hash) VALUES (?, ?, ?, ?)", rows)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._seq, self._last = seq, last
        self.commits += 1
        self.records += len(rows)
        return [r[0] for r in rows]

    @property
    def head(self) -> str:
        return self._last

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, _close)
        finally:
            self._pool.shutdown(wait=True)
