"""The journal's record encodings (pure): one codec per journal format, each both ways.

A record is a kind and a body: one of the declared records of hub/records.py for a room's
journal (the plenary's own kinds stay JSON documents). The bytes a codec produces are what the
journal stores and what its hash chain covers, so encoding is canonical: the same record always
gives the same bytes (map keys sorted, integers in their shortest form, floats as 64-bit
doubles, so times replay exactly). Both formats store a record's JSON form
(``hub.records.record_to_json``), except a press in format 2:

- Format 1 (the first journals): canonical JSON text; a press is
  ``{"press": {field: value}, "status": s, "poll_id": p}``.
- Format 2 (compact): MessagePack; a press is the array ``[status, poll_id, *press fields]``
  in ``Press`` field order (a field added to ``Press`` at its end keeps old records readable),
  every other body a map.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import msgpack
import orjson

from hub.model import Press
from hub.records import (
    PRESS,
    Body,
    PressRecord,
    RecordError,
    RoomRecord,
    press_from_json,
    press_record,
    record_from_json,
    record_kind,
    record_to_json,
)

__all__ = ["CODECS", "Body", "Codec", "JsonCodec", "MsgpackCodec", "RecordError"]


class Codec(Protocol):
    format: int

    def encode(self, kind: str, body: dict[str, Any]) -> bytes:
        """A JSON document as stored; RecordError for a value the format cannot hold (integers
        beyond 64 bits)."""
        ...

    def encode_press(self, press: Press, status: int, poll_id: int) -> bytes: ...

    def encode_record(self, record: RoomRecord) -> tuple[str, bytes]:
        """A declared record: its kind and its stored bytes."""
        ...

    def decode(self, kind: str, raw: bytes) -> Body: ...


class JsonCodec:
    """Format 1: canonical JSON (sorted keys, UTF-8, no spaces)."""

    format = 1

    def encode(self, kind: str, body: dict[str, Any]) -> bytes:
        try:
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except TypeError as exc:  # orjson.JSONEncodeError: an integer beyond 64 bits, say
            raise RecordError(f"cannot be journaled ({exc})") from None

    def encode_press(self, press: Press, status: int, poll_id: int) -> bytes:
        return self.encode(PRESS, {"press": press._asdict(), "status": status, "poll_id": poll_id})

    def encode_record(self, record: RoomRecord) -> tuple[str, bytes]:
        kind = record_kind(record)
        return kind, self.encode(kind, record_to_json(record))

    def decode(self, kind: str, raw: bytes) -> Body:
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise RecordError("not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise RecordError(f"not JSON ({exc.msg})") from None
        if not isinstance(body, dict):
            raise RecordError("not a JSON object")
        if kind == PRESS:
            return press_from_json(body)
        return record_from_json(kind, body)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


class MsgpackCodec:
    """Format 2: MessagePack; a press is one flat array (see the module's docstring)."""

    format = 2

    def __init__(self) -> None:
        self._packb: Callable[[Any], bytes] = msgpack.Packer(use_bin_type=True, autoreset=True).pack

    def encode(self, kind: str, body: dict[str, Any]) -> bytes:
        try:
            return self._packb(_sorted(body))
        except (OverflowError, TypeError, ValueError) as exc:  # an integer beyond 64 bits, say
            raise RecordError(f"cannot be journaled ({exc})") from None

    def encode_press(self, press: Press, status: int, poll_id: int) -> bytes:
        return self._packb((status, poll_id, *press))

    def encode_record(self, record: RoomRecord) -> tuple[str, bytes]:
        if isinstance(record, PressRecord):
            return PRESS, self.encode_press(record.press, record.status, record.poll_id)
        kind = record_kind(record)
        return kind, self.encode(kind, record_to_json(record))

    def decode(self, kind: str, raw: bytes) -> Body:
        try:
            body = msgpack.unpackb(raw, raw=False, strict_map_key=True, use_list=True)
        except UnicodeDecodeError:
            raise RecordError("a text field is not UTF-8") from None
        except Exception as exc:  # the library's several ways of saying "not MessagePack"
            raise RecordError(f"not MessagePack ({type(exc).__name__})") from None
        if kind == PRESS:
            if not isinstance(body, list) or len(body) < 2:
                raise RecordError("not a press")
            return press_record(body[2:], body[0], body[1])
        if not isinstance(body, dict):
            raise RecordError("not a map")
        return record_from_json(kind, body)


CODECS: dict[int, Codec] = {1: JsonCodec(), 2: MsgpackCodec()}
