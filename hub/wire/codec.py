"""How a message becomes a payload and back; the layouts themselves are generated.

``hub/wire/messages.py`` is generated from ``protocol/wire.toml``: one slotted dataclass per
message, with its type code and the ``struct`` of its fixed part. This module holds the three
shapes a payload can take, so the generated classes carry data and nothing else:

- ``Message``: a fixed layout (HELLO, PRESS, ...);
- ``Counted``: a fixed head, then arrays each preceded by a u8 count (POLL_STATE);
- ``Text``: a fixed head, then UTF-8 to the end of the payload (LOG, ERROR).

The dataclasses are slotted, not frozen: a frozen dataclass costs five times more to build, and
the hub builds two messages per press. Treat them as values all the same.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import Any, ClassVar, NamedTuple, Self

from hub.protocol import FLAG_RETRANSMIT, MAX_PAYLOAD
from hub.wire.framing import FrameError, RawFrame, Reject, encode_frame

_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a message's field values in layout order."""
    names = tuple(f.name for f in fields(cls))
    if len(names) < 2:  # attrgetter returns a bare value for one name and wants at least one
        return lambda m: tuple(getattr(m, n) for n in names)
    return attrgetter(*names)


def _values(msg: Any) -> tuple[Any, ...]:
    """A message's field values in layout order (the getter is built once per class)."""
    get = _GETTERS.get(type(msg))
    if get is None:
        get = _GETTERS[type(msg)] = _getter(type(msg))
    return get(msg)


class Message:
    """A message of fixed layout: ``TYPE`` and the ``LAYOUT`` of all its fields."""

    __slots__ = ()
    TYPE: ClassVar[int]
    LAYOUT: ClassVar[struct.Struct]

    def payload(self) -> bytes:
        return self.LAYOUT.pack(*_values(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        if len(payload) != cls.LAYOUT.size:
            raise FrameError(
                Reject.BAD_LENGTH, f"{cls.__name__} needs {cls.LAYOUT.size} bytes, got {len(payload)}"
            )
        return cls(*cls.LAYOUT.unpack(payload))

    def encode(self, seq: int, flags: int = 0) -> bytes:
        """This message as one frame on the wire (COBS and delimiter included)."""
        return encode_frame(self.TYPE, self.payload(), seq, flags)


class Counted(Message):
    """A fixed head (``LAYOUT``), then one counted array per entry of ``ARRAYS``: ``(item
    format, most items)``; an item format of ``"s"`` makes the array ``bytes``."""

    __slots__ = ()
    ARRAYS: ClassVar[tuple[tuple[str, int], ...]]

    def payload(self) -> bytes:
        values = _values(self)
        head = len(values) - len(self.ARRAYS)
        out = [self.LAYOUT.pack(*values[:head])]
        for (fmt, most), array in zip(self.ARRAYS, values[head:]):
            if len(array) > most:
                raise ValueError(f"{type(self).__name__}: {len(array)} entries, at most {most}")
            out.append(bytes([len(array)]))
            out.append(bytes(array) if fmt == "s" else struct.pack(f"<{len(array)}{fmt}", *array))
        return b"".join(out)

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        name = cls.__name__
        if len(payload) < cls.LAYOUT.size:
            raise FrameError(Reject.BAD_LENGTH, f"{name} too short")
        values: list[Any] = list(cls.LAYOUT.unpack_from(payload))
        at = cls.LAYOUT.size
        for fmt, most in cls.ARRAYS:
            if at >= len(payload):
                raise FrameError(Reject.BAD_LENGTH, f"{name} ends before a count")
            count, at = payload[at], at + 1
            size = count * (1 if fmt == "s" else struct.calcsize(f"<{fmt}"))
            if count > most or at + size > len(payload):
                raise FrameError(Reject.BAD_LENGTH, f"{name} announces {count} entries")
            chunk = bytes(payload[at : at + size])
            values.append(chunk if fmt == "s" else struct.unpack(f"<{count}{fmt}", chunk))
            at += size
        if at != len(payload):
            raise FrameError(Reject.BAD_LENGTH, f"{name} has {len(payload) - at} bytes too many")
        return cls(*values)


class Text(Message):
    """A fixed head (``LAYOUT``), then UTF-8 text to the end of the payload: cut to fit when
    written, invalid sequences replaced (never raised) when read."""

    __slots__ = ()

    def payload(self) -> bytes:
        *head, text = _values(self)
        return self.LAYOUT.pack(*head) + str(text).encode("utf-8")[: MAX_PAYLOAD - self.LAYOUT.size]

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        if len(payload) < cls.LAYOUT.size:
            raise FrameError(Reject.BAD_LENGTH, f"{cls.__name__} too short")
        head = cls.LAYOUT.unpack_from(payload)
        text = bytes(payload[cls.LAYOUT.size :]).decode("utf-8", "replace")
        return cls(*(*head, text))


class Frame(NamedTuple):
    """A checked frame: its link header and its typed message."""

    seq: int
    flags: int
    message: Message

    @property
    def retransmit(self) -> bool:
        return bool(self.flags & FLAG_RETRANSMIT)


def parse_with(types: dict[int, type[Message]], raw: RawFrame) -> Frame:
    cls = types.get(raw.type)
    if cls is None:
        raise FrameError(Reject.UNKNOWN_TYPE, f"type {raw.type:#04x}")
    return Frame(raw.seq, raw.flags, cls.from_payload(raw.payload))
