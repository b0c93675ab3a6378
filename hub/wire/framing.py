"""Frames: ``COBS(ver type flags seq payload crc) 0x00`` (docs/protocol.md, "Framing").

COBS comes from the ``cobs`` package and the CRC-16/CCITT-FALSE from ``binascii.crc_hqx``;
this module only lays out the header and says which rejection reason applies. Reserved flag
bits are ignored, not refused (docs/protocol.md, "Decisions"): a flag can never change how a
frame is read, so a frame with an unknown flag is still answered.
"""

from __future__ import annotations

import binascii
import struct
from typing import NamedTuple

from cobs import cobs

from hub.errors import ClickerError
from hub.protocol import CRC_SIZE, FLAG_RETRANSMIT, FRAME_VERSION, HEADER_SIZE, MAX_PAYLOAD, Reject

__all__ = ["CRC_SIZE", "FLAG_RETRANSMIT", "HEADER_SIZE", "MAX_PAYLOAD", "VERSION", "Reject"]

VERSION = FRAME_VERSION
HEADER = struct.Struct("<BBBH")  # ver, type, flags, seq
assert HEADER.size == HEADER_SIZE
MAX_DECODED = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE  # 247
# COBS adds one byte per 254 bytes of data, plus one: the longest valid frame on the wire.
MAX_ENCODED = MAX_DECODED + MAX_DECODED // 254 + 1
CRC_CHECK = 0x29B1  # CRC of b"123456789"


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


class FrameError(ClickerError):
    def __init__(self, reason: Reject, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason


class RawFrame(NamedTuple):
    type: int
    flags: int
    seq: int
    payload: bytes


def pack_frame(type_: int, payload: bytes, seq: int, flags: int = 0) -> bytes:
    """The decoded frame (header, payload, CRC), before COBS."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = HEADER.pack(VERSION, type_, flags, seq & 0xFFFF) + payload
    return body + crc16(body).to_bytes(2, "little")


def encode_frame(type_: int, payload: bytes, seq: int, flags: int = 0) -> bytes:
    """The bytes on the wire, delimiter included."""
    encoded: bytes = cobs.encode(pack_frame(type_, payload, seq, flags))
    return encoded + b"\x00"


def unpack_frame(decoded: bytes) -> RawFrame:
    """Check a decoded frame's length, CRC and version; raise FrameError otherwise."""
    size = len(decoded)
    if size < HEADER_SIZE + CRC_SIZE or size > MAX_DECODED:
        raise FrameError(Reject.BAD_LENGTH, f"{size} bytes")
    if crc16(decoded[:-CRC_SIZE]) != decoded[-2] | decoded[-1] << 8:  # the CRC is little-endian
        raise FrameError(Reject.BAD_CRC)
    ver, type_, flags, seq = HEADER.unpack_from(decoded)
    if ver != VERSION:
        raise FrameError(Reject.BAD_VERSION, f"version {ver}")
    return RawFrame(type_, flags, seq, bytes(decoded[HEADER_SIZE:-CRC_SIZE]))


def decode_frame(encoded: bytes) -> RawFrame:
    """One COBS-encoded frame without its delimiter."""
    try:
        decoded = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise FrameError(Reject.BAD_COBS, str(exc)) from None
    return unpack_frame(decoded)
