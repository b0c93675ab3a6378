"""Typed messages of protocol v1, one dataclass per type, with exact payload layouts.

The dataclasses are slotted, not frozen: a frozen dataclass costs five times more to build, and
the hub builds two messages per press. Treat them as values all the same.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cache
from operator import attrgetter
from typing import Any, ClassVar, NamedTuple

from hub.model import PressStatus  # noqa: F401  (re-exported: part of the wire vocabulary)
from hub.wire.framing import FrameError, RawFrame, Reject, encode_frame


class PollStateCode(IntEnum):
    IDLE = 0
    OPEN = 1
    CLOSING = 2


class PollModeCode(IntEnum):
    GRADES = 1
    CONSENT = 2
    SELF_PACED = 3


class Radio(IntEnum):
    BLE_ADVERTS = 1
    ESP_NOW = 2
    NRF24 = 3
    SIMULATED = 0xFF


@cache
def _names(cls: type) -> tuple[str, ...]:
    """Field names of a message class, in layout order (looked up once per class)."""
    return tuple(f.name for f in fields(cls))


@cache
def _values(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a message's field values in layout order (built once per class)."""
    names = _names(cls)
    if len(names) < 2:  # attrgetter returns a bare value for one name and wants at least one
        return lambda m: tuple(getattr(m, n) for n in names)
    return attrgetter(*names)


@dataclass(slots=True)
class Message:
    """Base: fixed-layout messages declare ``TYPE`` and a struct ``LAYOUT`` of their fields."""

    TYPE: ClassVar[int]
    LAYOUT: ClassVar[struct.Struct]

    def payload(self) -> bytes:
        return self.LAYOUT.pack(*_values(type(self))(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> Message:
        if len(payload) != cls.LAYOUT.size:
            raise FrameError(
                Reject.BAD_LENGTH, f"{cls.__name__} needs {cls.LAYOUT.size} bytes, got {len(payload)}"
            )
        return cls(*cls.LAYOUT.unpack(payload))

    def encode(self, seq: int, flags: int = 0) -> bytes:
        """This message as one frame on the wire (COBS and delimiter included)."""
        return encode_frame(self.TYPE, self.payload(), seq, flags)


@dataclass(slots=True)
class Hello(Message):
    TYPE = 0x01
    LAYOUT = struct.Struct("<BI")
    proto: int
    hub_nonce: int


@dataclass(slots=True)
class HelloAck(Message):
    TYPE = 0x02
    LAYOUT = struct.Struct("<BBBBIIBBH")
    proto: int
    fw_major: int
    fw_minor: int
    fw_patch: int
    rx_serial: int
    boot_id: int
    radio: int
    channel: int
    max_keypads: int

    @property
    def firmware(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"


@dataclass(slots=True)
class Ping(Message):
    TYPE = 0x03
    LAYOUT = struct.Struct("<")


@dataclass(slots=True)
class Status(Message):
    TYPE = 0x04
    LAYOUT = struct.Struct("<IIIHH")
    uptime_ms: int
    rx_ok: int
    rx_bad: int
    queue: int
    dropped: int


@dataclass(slots=True)
class Press(Message):
    TYPE = 0x10
    LAYOUT = struct.Struct("<IIHHBBbHI")
    keypad_id: int
    counter: int
    poll_id: int
    item: int
    key: int  # ASCII code of the key
    battery: int
    rssi: int
    age_ms: int
    mic: int

    @property
    def key_char(self) -> str:
        return chr(self.key)

    def mic_input(self) -> bytes:
        """The bytes the keypad's AES-CMAC covers (rssi and age are added by the receiver)."""
        return b"CLK1" + struct.pack(
            "<IIHHBB", self.keypad_id, self.counter, self.poll_id, self.item, self.key, self.battery
        )


@dataclass(slots=True)
class PressResult(Message):
    TYPE = 0x11
    LAYOUT = struct.Struct("<IIBH")
    keypad_id: int
    counter: int
    status: int
    poll_id: int


@dataclass(slots=True)
class PollState(Message):
    TYPE = 0x12
    HEAD: ClassVar[struct.Struct] = struct.Struct("<HBBHB")
    LAYOUT = HEAD
    poll_id: int
    state: int
    mode: int
    items: int
    keys: bytes  # the valid keys, ASCII

    def payload(self) -> bytes:
        return self.HEAD.pack(self.poll_id, self.state, self.mode, self.items, len(self.keys)) + self.keys

    @classmethod
    def from_payload(cls, payload: bytes) -> PollState:
        if len(payload) < cls.HEAD.size:
            raise FrameError(Reject.BAD_LENGTH, "POLL_STATE too short")
        poll_id, state, mode, items, nkeys = cls.HEAD.unpack_from(payload)
        if len(payload) != cls.HEAD.size + nkeys:
            raise FrameError(Reject.BAD_LENGTH, f"POLL_STATE announces {nkeys} keys, has {len(payload) - 7}")
        return cls(poll_id, state, mode, items, bytes(payload[cls.HEAD.size :]))


@dataclass(slots=True)
class KeypadSeen(Message):
    TYPE = 0x13
    LAYOUT = struct.Struct("<IBbB")
    keypad_id: int
    battery: int
    rssi: int
    fw: int


class _Text(Message):
    """Messages whose payload ends with UTF-8 text; invalid UTF-8 is replaced, never raised."""

    __slots__ = ()

    HEAD: ClassVar[struct.Struct]

    def payload(self) -> bytes:
        head = self.HEAD.pack(*(getattr(self, f.name) for f in fields(self)[:-1]))
        return head + self.text.encode("utf-8")[: 240 - self.HEAD.size]

    @classmethod
    def from_payload(cls, payload: bytes):
        if len(payload) < cls.HEAD.size:
            raise FrameError(Reject.BAD_LENGTH, f"{cls.__name__} too short")
        head = cls.HEAD.unpack_from(payload)
        return cls(*head, bytes(payload[cls.HEAD.size :]).decode("utf-8", "replace"))


@dataclass(slots=True)
class Log(_Text):
    TYPE = 0x20
    HEAD = LAYOUT = struct.Struct("<B")
    level: int
    text: str


@dataclass(slots=True)
class Error(_Text):
    TYPE = 0x7F
    HEAD = LAYOUT = struct.Struct("<H")
    code: int
    text: str


MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Hello, HelloAck, Ping, Status, Press, PressResult, PollState, KeypadSeen, Log, Error)
}


class Frame(NamedTuple):
    """A checked frame: its link header and its typed message."""

    seq: int
    flags: int
    message: Message

    @property
    def retransmit(self) -> bool:
        return bool(self.flags & 1)


def parse(raw: RawFrame) -> Frame:
    cls = MESSAGE_TYPES.get(raw.type)
    if cls is None:
        raise FrameError(Reject.UNKNOWN_TYPE, f"type {raw.type:#04x}")
    return Frame(raw.seq, raw.flags, cls.from_payload(raw.payload))
