"""The journal's record encodings (pure): one codec per journal format, each both ways.

A record is a kind and a body. A press body is a ``PressRecord`` (what the keypad sent and the
hub's answer); every other body is a dict of JSON values. The bytes a codec produces are what
the journal stores and what its hash chain covers, so encoding is canonical: the same record
always gives the same bytes (map keys sorted, integers in their shortest form, floats as
64-bit doubles, so times replay exactly).

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
from hub.records import PRESS, PressRecord

Body = PressRecord | dict[str, Any]
PRESS_FIELDS = Press._fields


class RecordError(ValueError):
    """A stored body that does not decode to a record of its kind; the message is one line."""


class Codec(Protocol):
    format: int

    def encode(self, kind: str, body: dict[str, Any]) -> bytes:
        """Raises RecordError for a value the format cannot hold (integers beyond 64 bits)."""
        ...

    def encode_press(self, press: Press, status: int, poll_id: int) -> bytes: ...

    def decode(self, kind: str, raw: bytes) -> Body: ...


_TYPES = tuple(str if n in ("key", "receiver") else float if n == "at" else int for n in PRESS_FIELDS)
_N = len(PRESS_FIELDS)


def _press(fields: list[Any], status: Any, poll_id: Any) -> PressRecord:
    """A press record from decoded values, each of its declared type (the common case is
    checked in one comparison: the replay of a long day decodes a million of them)."""
    if type(status) is not int or type(poll_id) is not int:
        raise RecordError("press status and poll must be integers")
    n = len(fields)
    types = tuple(map(type, fields))
    if types != _TYPES and types != _TYPES[:n]:  # a record of an older Press has fewer fields
        if not 5 <= n <= len(PRESS_FIELDS):
            raise RecordError(f"a press has {n} fields")
        for name, value, expected in zip(PRESS_FIELDS, fields, _TYPES):
            if type(value) is not expected and not (expected is float and type(value) is int):
                raise RecordError(f"press field {name} is {type(value).__name__}")
    return PressRecord(status, poll_id, Press._make(fields) if n == _N else Press(*fields))


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

    def decode(self, kind: str, raw: bytes) -> Body:
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise RecordError("not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise RecordError(f"not JSON ({exc.msg})") from None
        if not isinstance(body, dict):
            raise RecordError("not a JSON object")
        if kind != PRESS:
            return body
        fields = body.get("press")
        if not isinstance(fields, dict) or set(fields) - set(PRESS_FIELDS):
            raise RecordError("not a press")
        try:
            values = [fields[name] for name in PRESS_FIELDS[: len(fields)]]
        except KeyError as exc:
            raise RecordError(f"press field {exc.args[0]} is missing") from None
        return _press(values, body.get("status"), body.get("poll_id"))


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
            return _press(body[2:], body[0], body[1])
        if not isinstance(body, dict):
            raise RecordError("not a map")
        return body


CODECS: dict[int, Codec] = {1: JsonCodec(), 2: MsgpackCodec()}
