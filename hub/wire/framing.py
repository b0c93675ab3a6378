"""Frames: ``COBS(ver type flags seq payload crc) 0x00`` (PROTOCOL.md, "Framing").

COBS comes from the ``cobs`` package and the CRC-16/CCITT-FALSE from ``binascii.crc_hqx``;
this module only lays out the header and says which rejection reason applies.
"""

from __future__ import annotations

import binascii
import struct
from enum import StrEnum
from typing import NamedTuple

from cobs import cobs

VERSION = 1
HEADER = struct.Struct("<BBBH")  # ver, type, flags, seq
HEADER_SIZE = HEADER.size  # 5
CRC_SIZE = 2
MAX_PAYLOAD = 240
MAX_DECODED = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE  # 247
# COBS adds one byte per 254 bytes of data, plus one: the longest valid frame on the wire.
MAX_ENCODED = MAX_DECODED + MAX_DECODED // 254 + 1
FLAG_RETRANSMIT = 0x01
CRC_CHECK = 0x29B1  # CRC of b"123456789"


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


class Reject(StrEnum):
    """Why a frame was dropped; the stream decoder counts each one."""

    BAD_COBS = "bad_cobs"
    BAD_CRC = "bad_crc"
    BAD_LENGTH = "bad_length"
    BAD_VERSION = "bad_version"
    UNKNOWN_TYPE = "unknown_type"
    BAD_FLAGS = "bad_flags"
    OVERSIZE = "oversize"


class FrameError(ValueError):
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
    return cobs.encode(pack_frame(type_, payload, seq, flags)) + b"\x00"


def unpack_frame(decoded: bytes) -> RawFrame:
    """Check a decoded frame's length, CRC, version and flags; raise FrameError otherwise."""
    size = len(decoded)
    if size < HEADER_SIZE + CRC_SIZE or size > MAX_DECODED:
        raise FrameError(Reject.BAD_LENGTH, f"{size} bytes")
    if crc16(decoded[:-CRC_SIZE]) != decoded[-2] | decoded[-1] << 8:  # the CRC is little-endian
        raise FrameError(Reject.BAD_CRC)
    ver, type_, flags, seq = HEADER.unpack_from(decoded)
    if ver != VERSION:
        raise FrameError(Reject.BAD_VERSION, f"version {ver}")
    if flags & ~FLAG_RETRANSMIT:
        raise FrameError(Reject.BAD_FLAGS, f"flags {flags:#04x}")
    return RawFrame(type_, flags, seq, bytes(decoded[HEADER_SIZE:-CRC_SIZE]))


def decode_frame(encoded: bytes) -> RawFrame:
    """One COBS-encoded frame without its delimiter."""
    try:
        decoded = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise FrameError(Reject.BAD_COBS, str(exc)) from None
    return unpack_frame(decoded)
