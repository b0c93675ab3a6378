"""The message a room publishes for each journal record, and its strict decoding.

The payload (MessagePack) carries the record exactly as the room journaled it: its sequence,
kind, journal format and stored body bytes, and its hash. The plenary checks the room's hash
chain with the journal's own ``chain_hash`` and decodes the body with the journal's own codec
for that format, then replays it with the same ``apply`` as ``clicker verify``. A payload that
is not such a record is refused with one line; it never reaches the tally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgpack

from hub.codec import CODECS
from hub.errors import ClickerError
from hub.federation.access import ROOM_NAME
from hub.journal import KIND_IDS
from hub.records import KINDS

HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_RAW = 512 * 1024
FIELDS = frozenset({"room", "seq", "kind", "fmt", "raw", "hash"})


class WireError(ClickerError):
    """A payload on a room's subject that is not a journal record; one line."""


@dataclass(frozen=True, slots=True)
class RoomRecord:
    room: str
    seq: int
    kind: str
    fmt: int  # the room journal's format: which codec and which chain link
    raw: bytes  # the body exactly as journaled: the hash covers these bytes
    hash: str  # hex

    def to_json(self) -> dict[str, Any]:
        """As a map (the plenary journal's ``room`` record holds it; ``raw`` stays bytes)."""
        return {
            "room": self.room,
            "seq": self.seq,
            "kind": self.kind,
            "fmt": self.fmt,
            "raw": self.raw,
            "hash": self.hash,
        }


def encode(rec: RoomRecord) -> bytes:
    return bytes(msgpack.packb(rec.to_json(), use_bin_type=True))


def from_json(doc: Any, room: str | None = None) -> RoomRecord:
    """Check every field; ``room`` is the room the subject names (they must agree)."""
    if not isinstance(doc, dict) or set(doc) != FIELDS:
        raise WireError(f"not a journal record (expected {', '.join(sorted(FIELDS))})")
    r, seq, kind, fmt, raw, digest = (doc[k] for k in ("room", "seq", "kind", "fmt", "raw", "hash"))
    if not isinstance(r, str) or not ROOM_NAME.match(r):
        raise WireError("bad room name")
    if room is not None and r != room:
        raise WireError(f"a record of room {r!r} on the subject of room {room!r}")
    if type(seq) is not int or not 1 <= seq < 2**63:
        raise WireError("seq must be a positive integer")
    if not isinstance(kind, str) or kind not in KINDS or kind not in KIND_IDS:
        raise WireError("not a room's record kind")
    if type(fmt) is not int or fmt not in CODECS:
        raise WireError("unknown journal format")
    if not isinstance(raw, bytes) or len(raw) > MAX_RAW:
        raise WireError("bad record body")
    if not isinstance(digest, str) or not HASH.match(digest):
        raise WireError("bad record hash")
    return RoomRecord(r, seq, kind, fmt, raw, digest)


def decode(data: bytes, room: str | None = None) -> RoomRecord:
    try:
        doc = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception:  # the library's several ways of saying "not MessagePack"
        raise WireError("not MessagePack") from None
    return from_json(doc, room)
