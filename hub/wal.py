"""Damage in a journal's write-ahead log that SQLite would silently take as the log's end.

SQLite reads the WAL frame by frame and stops at the first frame whose checksum or salt does not
match: after a power cut that is the torn, never-acknowledged tail, and losing it is right. But a
flipped bit in an acknowledged frame looks the same to SQLite, and every record after it would
vanish without a word. The two can be told apart: the journal commits one transaction after the
other, each written only once the previous one was synced, so when two or more commit frames of
the current log follow a bad frame, at least the first of them was synced, and the bad frame,
written before it, was too: it is damage, not a torn tail. (One commit after a bad frame is the
transaction a power cut interrupted.)

A frame after the bad one counts as a commit only when it is whole: its salts are the log's and
its checksum follows from the checksum stored in the frame before it (the checksums are chained,
so that is what can be checked once the chain is broken). A torn sector can leave a frame header
whose salts survived but whose "database size" field is garbage, and stale frames of an earlier
log (another salt) lie beyond the current one after a checkpoint restarted the log: neither is a
commit that was written. Format: sqlite.org/fileformat2.html, "WAL File Format".
"""

from __future__ import annotations

import struct
from array import array
from pathlib import Path

HEADER, FRAME_HEADER = 32, 24
MAGIC_LE, MAGIC_BE = 0x377F0682, 0x377F0683


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = array("I", data)
    if words.itemsize != 4:  # pragma: no cover - every platform clicker runs on
        raise RuntimeError("array('I') is not 32-bit here")
    if big_endian != (struct.pack("=I", 1) == struct.pack(">I", 1)):
        words.byteswap()
    mask = 0xFFFFFFFF
    it = iter(words)
    for a, b in zip(it, it):
        s0 = (s0 + a + s1) & mask
        s1 = (s1 + b + s0) & mask
    return s0, s1


def wal_damage(db: str | Path) -> str | None:
    """One line naming the damage in ``db``'s WAL, or None (no WAL, or none that loses a record
    that was committed and synced)."""
    try:
        data = Path(f"{db}-wal").read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    except OSError as exc:
        return f"the WAL cannot be read ({exc.strerror})"
    if len(data) < HEADER:
        return None
    magic, _version, page_size, _ckpt, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:HEADER])
    if magic not in (MAGIC_LE, MAGIC_BE) or not 512 <= page_size <= 65536 or page_size & (page_size - 1):
        return None  # no log SQLite would read, and no way to tell its frames apart
    big = magic == MAGIC_BE
    size = FRAME_HEADER + page_size
    frames = (len(data) - HEADER) // size
    if _checksum(data[:24], 0, 0, big) != (c1, c2):
        return _commits_beyond(data, (salt1, salt2), page_size, 0, big)
    s0, s1 = c1, c2
    for i in range(frames):
        at = HEADER + i * size
        fs1, fs2, k1, k2 = struct.unpack_from(">4I", data, at + 8)
        if (fs1, fs2) != (salt1, salt2):
            return _commits_beyond(data, (salt1, salt2), page_size, i + 1, big)
        s0, s1 = _checksum(data[at : at + 8], s0, s1, big)
        s0, s1 = _checksum(data[at + FRAME_HEADER : at + size], s0, s1, big)
        if (s0, s1) != (k1, k2):
            return _commits_beyond(data, (salt1, salt2), page_size, i + 1, big)
    return None


def _commits_beyond(data: bytes, salts: tuple[int, int], page_size: int, bad: int, big: bool) -> str | None:
    """Damage if two whole commit frames of the current log come after the bad frame ``bad``
    (1-based; 0: the header)."""
    size = FRAME_HEADER + page_size
    frames = (len(data) - HEADER) // size
    commits = 0
    for i in range(bad, frames):
        at = HEADER + i * size
        _page, db_size, fs1, fs2, k1, k2 = struct.unpack_from(">6I", data, at)
        if (fs1, fs2) != salts or db_size == 0:
            continue
        seed = struct.unpack_from(">2I", data, at - size + 16 if i else 24)  # the previous checksum
        s0, s1 = _checksum(data[at : at + 8], seed[0], seed[1], big)
        commits += _checksum(data[at + FRAME_HEADER : at + size], s0, s1, big) == (k1, k2)
    if commits < 2:
        return None
    where = "its header" if bad == 0 else f"frame {bad} of {frames}"
    return f"the WAL is damaged at {where}: {commits} commits written after it are lost"
