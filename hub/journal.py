"""The append-only journal: SQLite (through APSW) in WAL mode with ``synchronous=FULL``, hash-chained.

One writer thread owns the connection; the hub's loop hands it all the records of one loop turn
at a time, each already encoded by the journal's codec, and they go in one transaction (group
commit), so a burst of presses costs one fsync, not one each. Each record's hash covers the
previous record's hash, so any edit, deletion or reordering breaks the chain from that record on.

Fail-stop: after the first failed write, sync or checkpoint, the writer is poisoned on its own
thread: every later commit, even one already queued, fails with the same one-line cause, and
nothing more is written (not even SQLite's checkpoint on close).

Reading is streaming: records come in bounded batches (``READ_BATCH``), each checked against
the chain as it is read, so replaying or verifying a journal holds one batch, not the journal.

Formats (``PRAGMA user_version``): 0 is the first format (text kinds, JSON bodies, hex hashes);
2 is the compact one (kind as a small integer, MessagePack bodies, 32-byte hashes), written by
this version. A journal is appended to in its own format, so old journals keep their chain.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import struct
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import apsw
import msgpack

from hub.chain import ChainBeside, ChainVerdict
from hub.codec import CODECS, Body, Codec, RecordError
from hub.errors import ClickerError
from hub.model import Press
from hub.records import (
    ACTION,
    CLOSE,
    KINDS,
    NOTE,
    PRESS,
    PRESS_ROW,
    RESULT,
    SESSION,
    PressRecord,
    press_record,
    record_to_json,
)

log = logging.getLogger(__name__)

GENESIS = "0" * 64
FORMAT = 2  # what new journals are written in
APPLICATION_ID = 0x434C4B52  # "CLKR" in the SQLite header: the file is a clicker journal
READ_BATCH = 1000
KIND_IDS = {PRESS: 1, SESSION: 2, ACTION: 3, RESULT: 4, NOTE: 5, CLOSE: 6}  # 1 is stored in 0 bytes
# the plenary's own records (hub/federation/convention.py): its journal is a journal like a room's
KIND_IDS |= {"convention": 16, "room": 17, "alarm": 18, "sheet": 19, "confirm": 20}
KIND_NAMES = {v: k for k, v in KIND_IDS.items()}
KIND_BYTES = {k: v.to_bytes(1, "big") for k, v in KIND_IDS.items()}
SCHEMA = """
CREATE TABLE journal (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, body BLOB NOT NULL, hash BLOB NOT NULL);
PRAGMA user_version = 2;
PRAGMA application_id = 1129073490;
"""
# Where publishers keep how far they got; beside the chain, not in it (verify ignores it).
OUTBOX = "CREATE TABLE IF NOT EXISTS outbox (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
SET_CURSOR = (
    "INSERT INTO outbox (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq"
)
CHECKPOINT_PASSIVE = apsw.SQLITE_CHECKPOINT_PASSIVE  # at a reveal: never waits for a reader
CHECKPOINT_TRUNCATE = apsw.SQLITE_CHECKPOINT_TRUNCATE  # at a clean stop: the WAL emptied
BUSY_TIMEOUT_MS = 2000  # another program holding the write lock longer than this stops the hub


class JournalError(ClickerError):
    """A journal that cannot be used (not a clicker journal, unreadable, or damaged at a record);
    the message is one line naming the first bad record or the file's problem."""


class JournalFailure(ClickerError):
    """The journal could not be written; the message names the cause in one line."""


@dataclass(slots=True, weakref_slot=True)
class Record:
    """One record as read back: ``raw`` is the stored body, the bytes its hash covers; ``link``
    the hash as stored (32 bytes, or hex in the first format), turned into hex only when asked:
    a replay of a million records needs the last one's."""

    seq: int
    kind: str
    body: Body
    link: bytes | str
    raw: bytes

    @property
    def hash(self) -> str:
        """The hash in hex."""
        link = self.link
        return link if type(link) is str else link.hex()  # type: ignore[union-attr]

    def to_json(self) -> dict[str, Any]:
        body = self.body if isinstance(self.body, dict) else record_to_json(self.body)
        return {"seq": self.seq, "kind": self.kind, "hash": self.hash, "body": body}


# --- formats --------------------------------------------------------------------------------------


class _Layout:
    """How one format stores a record: the row, the chain link, the codec."""

    format: int
    codec: Codec
    genesis: Any
    select = "SELECT seq, kind, body, hash FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
    insert = "INSERT INTO journal (seq, kind, body, hash) VALUES (?, ?, ?, ?)"

    def link(self, prev: Any, seq: int, kind: str, raw: bytes) -> Any:
        raise NotImplementedError

    def row(self, seq: int, kind: str, raw: bytes, link: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def parse(self, row: tuple[Any, ...]) -> tuple[int, str, bytes, Any]:
        raise NotImplementedError

    def hex(self, link: Any) -> str:
        raise NotImplementedError

    def unhex(self, head: str) -> Any:
        raise NotImplementedError

    def batch(
        self, rows: list[Any], prev: Any, expected: int, checked_beside: bool = False
    ) -> Generator[Record, None, tuple[Any, int]]:
        """Check and decode ``rows`` (read in order from record ``expected`` on, after the link
        ``prev``); returns the last link and the next expected sequence number. JournalError at
        the first row that is missing, broken or undecodable. ``checked_beside``: ``check``
        checks the rows in another process (hub/chain.py), so each record's link is taken as
        stored, and a press as decoded."""
        parse, link_of, decode = self.parse, self.link, self.codec.decode
        for row in rows:
            seq, kind, raw, link = parse(row)
            if seq != expected:
                raise JournalError(f"record {expected} is missing (found {seq} next)")
            if not checked_beside and link_of(prev, seq, kind, raw) != link:
                raise _broken(seq, kind)
            yield Record(seq, kind, _decode(decode, seq, kind, raw), link, raw)
            prev, expected = link, seq + 1
        return prev, expected

    def check(self, rows: list[Any], prev: Any, expected: int) -> tuple[Any, int, str]:
        """``batch``'s checks of the rows and the chain, in the same order, without decoding:
        the last link and the next sequence number, and the problem at that one ("" if none)."""
        parse, link_of = self.parse, self.link
        for row in rows:
            try:
                seq, kind, raw, link = parse(row)
            except JournalError as exc:
                return prev, expected, str(exc)
            if seq != expected:
                return prev, expected, f"record {expected} is missing (found {seq} next)"
            if link_of(prev, seq, kind, raw) != link:
                return prev, expected, str(_broken(seq, kind))
            prev, expected = link, seq + 1
        return prev, expected, ""


def _broken(seq: int, kind: str) -> JournalError:
    return JournalError(f"record {seq} ({kind}): hash chain broken (edited, inserted or reordered)")


def _decode(decode: Callable[[str, bytes], Body], seq: int, kind: str, raw: bytes) -> Body:
    try:
        return decode(kind, raw)
    except RecordError as exc:
        raise JournalError(f"record {seq} ({kind}): {exc}") from None


_tuple_new = tuple.__new__
_SEQ_KIND = struct.Struct(">QB")  # what format 2's chain covers besides the hashes and the body


class _TextLayout(_Layout):
    """Format 1: kind as text, canonical JSON text, the hash as 64 hex digits."""

    format = 1
    codec = CODECS[1]
    genesis = GENESIS
    # read as bytes: a damaged record that is not UTF-8 must be reported, not raise
    select = (
        "SELECT seq, CAST(kind AS BLOB), CAST(body AS BLOB), CAST(hash AS BLOB) FROM journal "
        "WHERE seq > ? ORDER BY seq LIMIT ?"
    )

    def link(self, prev: str, seq: int, kind: str, raw: bytes) -> str:
        return hashlib.sha256(f"{prev}\n{seq}\n{kind}\n".encode() + raw).hexdigest()

    def row(self, seq: int, kind: str, raw: bytes, link: str) -> tuple[Any, ...]:
        return (seq, kind, raw.decode(), link)

    def parse(self, row: tuple[Any, ...]) -> tuple[int, str, bytes, str]:
        seq, kind, raw, digest = row
        kind = kind.decode("ascii", "replace") if isinstance(kind, bytes) else kind
        if kind not in KINDS:
            raise JournalError(f"record {seq}: unknown record kind {str(kind)[:20]!r}")
        if not isinstance(raw, bytes) or not isinstance(digest, bytes):
            raise JournalError(f"record {seq} ({kind}): malformed row")
        return seq, kind, raw, digest.decode("ascii", "replace")

    def hex(self, link: str) -> str:
        return link

    def unhex(self, head: str) -> str:
        return head


class _CompactLayout(_Layout):
    """Format 2: kind as a small integer, MessagePack body, the hash as 32 bytes."""

    format = 2
    codec = CODECS[2]
    genesis = bytes(32)

    def link(self, prev: bytes, seq: int, kind: str, raw: bytes) -> bytes:
        """sha256(previous hash, 32 bytes || seq, 8 bytes big-endian || kind id, 1 byte || body)."""
        return hashlib.sha256(prev + seq.to_bytes(8, "big") + KIND_BYTES[kind] + raw).digest()

    def row(self, seq: int, kind: str, raw: bytes, link: bytes) -> tuple[Any, ...]:
        return (seq, KIND_IDS[kind], raw, link)

    def parse(self, row: tuple[Any, ...]) -> tuple[int, str, bytes, bytes]:
        seq, kind_id, raw, digest = row
        kind = KIND_NAMES.get(kind_id) if type(kind_id) is int else None
        if kind is None:
            raise JournalError(f"record {seq}: unknown record kind {str(kind_id)[:20]!r}")
        if type(raw) is not bytes or type(digest) is not bytes or len(digest) != 32:
            raise JournalError(f"record {seq} ({kind}): malformed row")
        return seq, kind, raw, digest

    def hex(self, link: bytes) -> str:
        return link.hex()

    def unhex(self, head: str) -> bytes:
        return bytes.fromhex(head)

    def check(self, rows: list[Any], prev: Any, expected: int) -> tuple[Any, int, str]:
        """``_Layout.check`` with the chain inlined, and a press's types checked as ``batch``
        checks them before trusting them: a reader beside this check builds presses unchecked."""
        names, sha, head, unpack = KIND_NAMES, hashlib.sha256, _SEQ_KIND.pack, msgpack.unpackb
        for row in rows:
            seq, kind_id, raw, digest = row
            kind = names.get(kind_id) if type(kind_id) is int else None
            if kind is None:
                return prev, expected, f"record {seq}: unknown record kind {str(kind_id)[:20]!r}"
            if type(raw) is not bytes or type(digest) is not bytes or len(digest) != 32:
                return prev, expected, f"record {seq} ({kind}): malformed row"
            if seq != expected:
                return prev, expected, f"record {expected} is missing (found {seq} next)"
            if sha(prev + head(seq, kind_id) + raw).digest() != digest:
                return prev, expected, str(_broken(seq, kind))
            if kind_id == 1:
                try:
                    fields = unpack(raw)
                except Exception:
                    fields = None
                common = type(fields) is list and tuple(map(type, fields)) == PRESS_ROW
            if kind_id != 1 or not common:  # decoded as the reader does, for its very words
                try:
                    for _ in self.batch([row], prev, expected):
                        pass
                except JournalError as exc:
                    return prev, expected, str(exc)
            prev, expected = digest, seq + 1
        return prev, expected, ""

    def batch(
        self, rows: list[Any], prev: Any, expected: int, checked_beside: bool = False
    ) -> Generator[Record, None, tuple[Any, int]]:
        """``_Layout.batch`` with the row's checks, the chain and a press's decoding inlined:
        the same checks in the same order, with a few calls a record fewer (a long day's
        replay makes a million of them)."""
        names, sha, head, unpack = KIND_NAMES, hashlib.sha256, _SEQ_KIND.pack, msgpack.unpackb
        decode, fields_n = self.codec.decode, len(PRESS_ROW)
        for seq, kind_id, raw, digest in rows:
            # a press whose row ``check`` vouches for, as it is; its link is kept (it is the
            # head if it is the last), so a row whose hash is not 32 bytes is read as below
            if checked_beside and kind_id == 1 and type(digest) is bytes and len(digest) == 32:
                try:
                    fields = unpack(raw)
                except Exception:
                    fields = None
                if type(fields) is list and len(fields) == fields_n:
                    press = _tuple_new(PressRecord, (fields[0], fields[1], _tuple_new(Press, fields[2:])))
                    yield Record(seq, PRESS, press, digest, raw)
                    prev, expected = digest, seq + 1
                    continue
            kind = names.get(kind_id) if type(kind_id) is int else None
            if kind is None:
                raise JournalError(f"record {seq}: unknown record kind {str(kind_id)[:20]!r}")
            if type(raw) is not bytes or type(digest) is not bytes or len(digest) != 32:
                raise JournalError(f"record {seq} ({kind}): malformed row")
            if seq != expected:
                raise JournalError(f"record {expected} is missing (found {seq} next)")
            if not checked_beside:
                link = sha(prev + head(seq, kind_id) + raw).digest()
                if link != digest:
                    raise _broken(seq, kind)
            else:
                link = digest
            body: Body | None = None
            if kind_id == 1:  # a press: [status, poll_id, *fields], the common case checked at once
                try:
                    fields = unpack(raw)
                except Exception:  # the codec says which way it is not MessagePack
                    fields = None
                if type(fields) is list and tuple(map(type, fields)) == PRESS_ROW:  # the common case
                    body = _tuple_new(PressRecord, (fields[0], fields[1], _tuple_new(Press, fields[2:])))
                elif type(fields) is list and len(fields) >= 2:
                    try:
                        body = press_record(fields[2:], fields[0], fields[1])
                    except RecordError as exc:
                        raise JournalError(f"record {seq} ({kind}): {exc}") from None
            yield Record(seq, kind, _decode(decode, seq, kind, raw) if body is None else body, link, raw)
            prev, expected = link, seq + 1
        return prev, expected


LAYOUTS: dict[int, _Layout] = {0: _TextLayout(), 2: _CompactLayout()}  # by PRAGMA user_version


def chain_hash(prev: str, seq: int, kind: str, raw: bytes, fmt: int = FORMAT) -> str:
    """The hash (hex) of record ``seq`` in a journal of format ``fmt``, given the previous
    record's hash (hex; ``GENESIS`` before the first): what a subscriber to published records
    recomputes to check the chain."""
    layout = LAYOUTS[0 if fmt == 1 else fmt]
    return layout.hex(layout.link(layout.unhex(prev), seq, kind, raw))


def one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def unopenable(exc: apsw.Error, path: Path | None) -> JournalError:
    """Why SQLite could not open or read a journal, in the words of its cause. A journal in a
    folder that cannot be written (a write-protected stick, a read-only mount) is not "not a
    journal": SQLite needs its -wal and -shm files beside it."""
    if isinstance(exc, apsw.CantOpenError) and path is not None and not os.access(path.parent, os.W_OK):
        return JournalError(
            f"cannot be opened: its folder cannot be written, and SQLite keeps its -wal and -shm "
            f"files beside it (copy it to a writable folder) ({one_line(exc)})"
        )
    if isinstance(exc, apsw.CantOpenError):
        return JournalError(f"cannot be opened ({one_line(exc)})")
    return JournalError(f"not a clicker journal ({one_line(exc)})")


def layout_of(conn: apsw.Connection, path: Path | None = None) -> _Layout:
    """The journal's format, from its header; a file that is not a clicker journal is refused."""
    try:
        version = conn.execute("PRAGMA user_version").fetchall()[0][0]
        app_id = conn.execute("PRAGMA application_id").fetchall()[0][0]
        conn.execute("SELECT seq, kind, body, hash FROM journal LIMIT 0").fetchall()
    except apsw.Error as exc:
        raise unopenable(exc, path) from None
    layout = LAYOUTS.get(version) if isinstance(version, int) else None
    if layout is None or app_id != (APPLICATION_ID if version else 0):
        raise JournalError(f"journal format {version} is not one this version of clicker reads")
    return layout


def _start(conn: apsw.Connection, layout: _Layout, after: int) -> Any:
    """The link the record after ``after`` follows (the genesis before the first)."""
    try:
        if after == 0:
            stray = conn.execute("SELECT seq FROM journal WHERE seq < 1 LIMIT 1").fetchall()
            if stray:
                raise JournalError(f"record {stray[0][0]}: not in the chain (sequence numbers start at 1)")
            return layout.genesis
        found = _rows(conn, layout, after, 1, None)
        if not found or found[0][0] != after:
            raise JournalError(f"record {after} is missing")
        return layout.parse(found[0])[3]
    except apsw.Error as exc:
        raise JournalError(f"the file is damaged ({one_line(exc)})") from None


def _rows(conn: apsw.Connection, layout: _Layout, expected: int, batch: int, until: int | None) -> list[Any]:
    """The next rows from record ``expected`` on, none after record ``until`` if given."""
    try:
        rows: list[Any] = conn.execute(layout.select, (expected - 1, batch)).fetchall()
    except apsw.Error as exc:
        raise JournalError(f"the file is damaged after record {expected - 1} ({one_line(exc)})") from None
    except UnicodeDecodeError:  # text that is not UTF-8 (format 2 reads values as stored)
        rows = _rows_before_undecodable(conn, layout, expected, batch)
    if until is not None and rows and rows[-1][0] > until:
        rows = [row for row in rows if row[0] <= until]
    return rows


def _rows_before_undecodable(conn: apsw.Connection, layout: _Layout, expected: int, batch: int) -> list[Any]:
    """The rows from record ``expected`` on up to the first holding text that is not UTF-8
    (they are checked first, as ever); JournalError naming that row when it is the first."""
    rows: list[Any] = []
    try:
        for row in conn.execute(layout.select, (expected - 1, batch)):
            rows.append(row)
    except UnicodeDecodeError:
        pass
    except apsw.Error as exc:
        raise JournalError(f"the file is damaged after record {expected - 1} ({one_line(exc)})") from None
    if rows:
        return rows
    try:
        found = conn.execute("SELECT seq FROM journal WHERE seq > ? ORDER BY seq LIMIT 1", (expected - 1,))
        seq = found.fetchall()[0][0]
    except (apsw.Error, IndexError) as exc:
        raise JournalError(f"the file is damaged after record {expected - 1} ({one_line(exc)})") from None
    raise JournalError(f"record {seq}: malformed row (text that is not UTF-8)")


def _records(
    conn: apsw.Connection,
    layout: _Layout,
    after: int = 0,
    batch: int = 0,
    checked_beside: bool = False,
    until: int | None = None,
) -> Iterator[Record]:
    """Records after ``after``, in order, each checked against the chain as it comes; raises
    JournalError at the first one that is missing, broken or undecodable. ``checked_beside``: the
    same without what ``check_chain`` checks in another process (hub/chain.py). ``until``: the
    last record to read (a journal a hub is writing goes on growing)."""
    batch = batch or READ_BATCH
    expected = after + 1
    prev = _start(conn, layout, after)
    while rows := _rows(conn, layout, expected, batch, until):
        prev, expected = yield from layout.batch(rows, prev, expected, checked_beside)


def _replay(
    conn: apsw.Connection,
    layout: _Layout,
    consume: Callable[[Record], None] | None,
    path: Path,
    vfs: str | None = None,
) -> Record | None:
    """Hand every record to ``consume``, in order, chain-checked (by a child process beside
    this one for a long journal: hub/chain.py); the last record, None if there is none."""
    try:
        records = int(conn.execute("SELECT MAX(seq) FROM journal").fetchall()[0][0] or 0)
    except apsw.Error:  # a damaged file: the reader below says where
        records = 0
    beside = ChainBeside.start(path, records, vfs) if consume is not None else None
    if consume is None or beside is None:
        last: Record | None = None
        for last in _records(conn, layout):
            if consume is not None:
                consume(last)
        return last

    def check_here() -> ChainVerdict:
        return ChainVerdict(*check_chain(conn, layout, records))

    last, consumed = None, 0
    try:
        try:  # both stop at the last record there was when they began
            for last in _records(conn, layout, checked_beside=True, until=records):
                consume(last)
                consumed = last.seq
        except Exception:  # what the check beside found at or before this record comes first
            first = beside.outcome(consumed, True, "", check_here)
            if first:
                raise JournalError(first) from None
            raise
        head = layout.hex(last.link if last is not None else layout.genesis)
        first = beside.outcome(consumed, False, head, check_here)
        if first:
            raise JournalError(first)
    finally:
        beside.stop()
    return last


def check_chain(conn: apsw.Connection, layout: _Layout, until: int | None = None) -> tuple[int, str, str]:
    """``_records``' checks of every row, hash and record up to ``until``, without building the
    presses (their values' types are checked): how many records passed, the last one's hash
    (hex), and the problem with the next ("" when none), in ``_records``' words."""
    expected, prev = 1, layout.genesis
    try:
        prev = _start(conn, layout, 0)
        while rows := _rows(conn, layout, expected, READ_BATCH, until):
            prev, expected, problem = layout.check(rows, prev, expected)
            if problem:
                return expected - 1, layout.hex(prev), problem
    except JournalError as exc:
        return expected - 1, layout.hex(prev), str(exc)
    return expected - 1, layout.hex(prev), ""


class JournalReader:
    """A journal opened read-only (a copy, or one a hub is writing), read record by record."""

    def __init__(self, path: str | Path) -> None:
        self.path = path = Path(path)
        if not path.is_file():
            raise JournalError("no such file")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            self._conn = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        except apsw.Error as exc:
            raise JournalError(f"cannot be opened ({one_line(exc)})") from None
        try:
            self.layout = layout_of(self._conn, path)
        except JournalError:
            self._conn.close()
            raise

    @property
    def format(self) -> int:
        return self.layout.format

    def records(self, after: int = 0) -> Iterator[Record]:
        return _records(self._conn, self.layout, after)

    def replay(self, consume: Callable[[Record], None]) -> None:
        """Hand every record to ``consume``, in order and checked, as the hub does at start-up
        (with a child process checking the chain beside a long journal's recount)."""
        _replay(self._conn, self.layout, consume, self.path)

    def check_chain(self, until: int | None = None) -> tuple[int, str, str]:
        """See ``check_chain``: (records checked, the last one's hash, the problem with the next)."""
        return check_chain(self._conn, self.layout, until)

    def last_seq(self) -> int:
        """The highest sequence number stored (for progress bars; 0 when unreadable)."""
        try:
            return int(self._conn.execute("SELECT MAX(seq) FROM journal").fetchall()[0][0] or 0)
        except (apsw.Error, TypeError, ValueError):
            return 0

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | Path, after: int = 0) -> Iterator[Record]:
    """Every record of the journal at ``path`` after ``after``, chain-checked, one at a time."""
    with JournalReader(path) as reader:
        yield from reader.records(after)


# --- the writer ---------------------------------------------------------------------------------------


STORAGE_ERRNOS = {errno.EIO, errno.EROFS, errno.ENXIO, errno.ENODEV, errno.EACCES, errno.EPERM, errno.EBADF}


def describe_failure(exc: BaseException, path: Path, os_errno: int) -> str:
    """One line naming why the journal could not be written."""
    if isinstance(exc, apsw.BusyError | apsw.LockedError):
        return f"journal locked by another program: {path}"
    if os_errno in (errno.ENOSPC, errno.EDQUOT) or isinstance(exc, apsw.FullError):
        return f"disk full: {path}"
    if os_errno == errno.EFBIG:
        return f"disk full: {path} (the file size limit was reached)"
    if isinstance(exc, apsw.IOError):
        code = apsw.mapping_extended_result_codes.get(getattr(exc, "extendedresult", 0), "SQLITE_IOERR")
        # SQLite keeps the last errno of any system call: trust it only when it is a storage error
        cause = os.strerror(os_errno) if os_errno in STORAGE_ERRNOS else one_line(exc)
        return f"I/O error: {path}: {cause} ({code})"
    return f"journal error: {path}: {one_line(exc)}"


class Journal:
    """The hub's journal; every method runs its SQLite work on the one writer thread."""

    def __init__(self, path: str | Path, vfs: str | None = None) -> None:
        self.path = Path(path)
        self.vfs = vfs
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._reader_pool: ThreadPoolExecutor | None = None
        self._reader: apsw.Connection | None = None
        self._conn: apsw.Connection | None = None
        self._layout: _Layout = LAYOUTS[FORMAT]
        self._link: Any = self._layout.genesis
        self._seq = 0
        self._durable: tuple[int, str] = (0, GENESIS)
        self.failure: JournalFailure | None = None
        self._closed = False
        self._cursors: dict[str, int] = {}
        self._pending_cursors: dict[str, int] = {}
        self._committed: asyncio.Event | None = None
        self.commits = 0
        self.records = 0

    @property
    def codec(self) -> Codec:
        """The codec of this journal's format (entries given to ``append`` use it)."""
        return self._layout.codec

    @property
    def format(self) -> int:
        return self._layout.format

    @property
    def durable(self) -> tuple[int, str]:
        """The last durable record's sequence number and hash (hex)."""
        return self._durable

    @property
    def head(self) -> str:
        return self._durable[1]

    async def open(self, consume: Callable[[Record], None] | None = None) -> None:
        """Open (creating if needed) and hand every record, in order and chain-checked, to
        ``consume`` on the writer thread (the replay at start-up). Raises JournalError on a
        damaged journal, or whatever ``consume`` raises; the journal is then closed."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._open, consume)

    def _open(self, consume: Callable[[Record], None] | None) -> None:
        if not self.path.exists():  # the session record may hold keypad keys: owner only
            try:
                self.path.touch(mode=0o600)
            except OSError as exc:  # no such folder, a read-only one: said before anything runs
                raise JournalError(f"cannot be created ({exc.strerror})") from None
        try:
            conn = apsw.Connection(str(self.path), vfs=self.vfs)
        except apsw.Error as exc:
            raise JournalError(f"cannot be opened ({one_line(exc)})") from None
        try:
            try:
                conn.set_busy_timeout(BUSY_TIMEOUT_MS)
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchall()[0][0]
                conn.execute("PRAGMA synchronous=FULL")
                fresh = not conn.execute("SELECT 1 FROM sqlite_schema LIMIT 1").fetchall()
            except apsw.Error as exc:
                raise unopenable(exc, self.path) from None
            if mode != "wal":
                raise JournalError(f"cannot be put in WAL mode (journal_mode is {mode})")
            if fresh:
                with conn:
                    conn.execute(SCHEMA)
            layout = layout_of(conn)
            conn.execute(OUTBOX)
            rows = conn.execute("SELECT name, seq FROM outbox").fetchall()
            cursors = {str(name): seq for name, seq in rows if isinstance(seq, int)}
            last = _replay(conn, layout, consume, self.path, self.vfs)
        except BaseException:
            conn.close()
            raise
        self._conn, self._layout, self._cursors = conn, layout, cursors
        if last is not None:
            self._seq, self._link = last.seq, last.link
            self._durable = (last.seq, last.hash)

    async def append(
        self, entries: list[tuple[str, bytes]], checkpoint: int | None = None
    ) -> tuple[int, str]:
        """Write ``entries`` (kind, body encoded by ``codec``) in one transaction; once durable,
        return the last record's sequence number and hash. With ``checkpoint``
        (``CHECKPOINT_PASSIVE`` or ``CHECKPOINT_TRUNCATE``) the WAL is then copied into the main
        file, so that the file alone holds every record. Raises JournalFailure, for good, after
        the first failure."""
        cursors, self._pending_cursors = self._pending_cursors, {}
        durable = await asyncio.get_running_loop().run_in_executor(
            self._pool, self._append, entries, checkpoint, cursors
        )
        if self._committed is not None:  # wake whoever waits for a commit
            self._committed.set()
            self._committed = None
        return durable

    async def committed_after(self, seq: int) -> tuple[int, str]:
        """Wait until a record after ``seq`` is durable; return the last durable (seq, hash).
        Wrap it in a timeout: it waits for as long as nothing is committed."""
        while self._durable[0] <= seq:
            if self._committed is None:
                self._committed = asyncio.Event()
            await self._committed.wait()
        return self._durable

    def outbox_cursor(self, name: str) -> int:
        """How far publisher ``name`` got (0 at first); the last value set, even if not yet
        written."""
        return self._cursors.get(name, 0)

    def set_outbox_cursor(self, name: str, seq: int) -> None:
        """Note that publisher ``name`` got to ``seq``; written in the next commit's
        transaction (no fsync of its own) — after a crash it may be a little behind."""
        self._cursors[name] = seq
        self._pending_cursors[name] = seq

    def _append(
        self, entries: list[tuple[str, bytes]], checkpoint: int | None, cursors: dict[str, int] | None = None
    ) -> tuple[int, str]:
        if self.failure is not None:  # poisoned: nothing decided after a failure may land
            raise self.failure
        conn = self._conn
        if conn is None:
            raise JournalFailure(f"journal not open: {self.path}")
        layout = self._layout
        rows, seq, link = [], self._seq, self._link
        for kind, raw in entries:
            seq += 1
            link = layout.link(link, seq, kind, raw)
            rows.append(layout.row(seq, kind, raw, link))
        try:
            if rows or cursors:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(layout.insert, rows)
                if cursors:
                    conn.executemany(SET_CURSOR, list(cursors.items()))
                conn.execute("COMMIT")
        except Exception as exc:
            raise self._poison(exc) from None
        self._seq, self._link = seq, link
        self._durable = (seq, layout.hex(link))
        if rows:
            self.commits += 1
            self.records += len(rows)
        if checkpoint is not None:
            self._checkpoint(checkpoint)
        return self._durable

    def _checkpoint(self, mode: int) -> None:
        """Copy the WAL into the main file. A reader on an older snapshot (a backup, a verify,
        a publisher) may hold part of it back: the records are durable in the WAL all the same,
        so that is said, never taken for a failure; a failed write or sync is one."""
        assert self._conn is not None
        try:
            logged, done = self._conn.wal_checkpoint(mode=mode)
        except (apsw.BusyError, apsw.LockedError):
            logged, done = -1, 0
        except Exception as exc:
            raise self._poison(exc) from None
        if logged != done:
            log.warning("journal %s: a reader holds the WAL; the main file is not complete yet", self.path)

    def _poison(self, exc: Exception) -> JournalFailure:
        conn = self._conn
        assert conn is not None
        os_errno = 0
        try:
            os_errno = conn.system_errno
        except apsw.Error:
            pass
        self.failure = JournalFailure(describe_failure(exc, self.path, os_errno))
        for cleanup in (
            lambda: conn.config(apsw.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1),  # write nothing more
            lambda: conn.execute("ROLLBACK") if conn.in_transaction else None,
        ):
            try:
                cleanup()
            except apsw.Error:
                pass
        return self.failure

    async def records_after(self, seq: int, limit: int = READ_BATCH) -> list[Record]:
        """Up to ``limit`` durable records after ``seq``, chain-checked from record ``seq`` on,
        read through a read-only connection on a thread of their own (never delays commits)."""
        if self._reader_pool is None:
            self._reader_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-reader")
        return await asyncio.get_running_loop().run_in_executor(
            self._reader_pool, self._read_after, seq, limit
        )

    def _read_after(self, seq: int, limit: int) -> list[Record]:
        if self._reader is None:
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            self._reader = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        out: list[Record] = []
        for rec in _records(self._reader, self._layout, seq, batch=limit):
            out.append(rec)
            if len(out) >= limit:
                break
        return out

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        def _close_reader() -> None:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            if self._reader_pool is not None:
                await loop.run_in_executor(self._reader_pool, _close_reader)
            await loop.run_in_executor(self._pool, _close)
        finally:
            if self._reader_pool is not None:
                self._reader_pool.shutdown(wait=True)
            self._pool.shutdown(wait=True)
