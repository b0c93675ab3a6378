"""The keypads' message integrity code: AES-128-CMAC over ``"CLK2"`` and the first 18 bytes of
the PRESS payload (keypad_id, counter, session_nonce, poll_id, item, key, battery), its first
4 bytes read as u32 LE (docs/protocol.md, "The MIC")."""

from __future__ import annotations

import hmac
import struct
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hub.protocol import MIC_FORMAT, MIC_INPUT_SIZE, MIC_SIZE, MIC_TAG
from hub.wire.messages import PressMessage

KEYED_CACHE = 8192  # keyed contexts kept: more than the keypads of any session
_COVERED = struct.calcsize(MIC_FORMAT)  # the prefix of the PRESS payload the MIC covers
assert len(MIC_TAG) + _COVERED == MIC_INPUT_SIZE
# Protocol v1's input ("CLK1", no session nonce): only to recount journals written before v1.1.
_INPUT_V1 = struct.Struct("<4sIIHHBB")


@lru_cache(maxsize=KEYED_CACHE)
def _keyed(key: bytes) -> CMAC:
    """A CMAC context already keyed: copying it costs a fifth of setting up AES again."""
    return CMAC(algorithms.AES(key))


def mic_input_v1(keypad_id: int, counter: int, poll_id: int, item: int, key: int, battery: int) -> bytes:
    """What v1 keypads signed: journals of sessions held before v1.1 are recounted with it."""
    return _INPUT_V1.pack(b"CLK1", keypad_id, counter, poll_id, item, key, battery)


def press_mic_input(press: PressMessage) -> bytes:
    """The bytes the MIC covers: the tag, then the first 18 bytes of the PRESS payload (rssi,
    age_ms and the MIC itself come after: the receiver adds the first two)."""
    return MIC_TAG + press.payload()[:_COVERED]


def tag(key: bytes, data: bytes) -> bytes:
    """The MIC as it is sent: the first 4 bytes of the CMAC of ``data``."""
    if len(key) != 16:
        raise ValueError("a keypad key is 16 bytes (AES-128)")
    c = _keyed(bytes(key)).copy()
    c.update(data)
    return c.finalize()[:MIC_SIZE]


def check(key: bytes, data: bytes, mic: int) -> bool:
    """Constant-time comparison of a received MIC with the one the key gives for ``data``."""
    if not 0 <= mic <= 0xFFFFFFFF:
        return False  # no u32: cannot be a MIC
    return hmac.compare_digest(tag(key, data), mic.to_bytes(MIC_SIZE, "little"))


def compute_mic(key: bytes, press: PressMessage) -> int:
    return int.from_bytes(tag(key, press_mic_input(press)), "little")


def verify_mic(key: bytes, press: PressMessage) -> bool:
    return check(key, press_mic_input(press), press.mic)
