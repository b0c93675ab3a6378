"""The keypads' message integrity code: AES-128-CMAC, first 4 bytes read as u32 LE."""

from __future__ import annotations

import hmac
import struct
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hub.wire.messages import Press

KEYED_CACHE = 8192  # keyed contexts kept: more than the keypads of any session


@lru_cache(maxsize=KEYED_CACHE)
def _keyed(key: bytes) -> CMAC:
    """A CMAC context already keyed: copying it costs a fifth of setting up AES again."""
    return CMAC(algorithms.AES(key))


def compute_mic(key: bytes, press: Press) -> int:
    if len(key) != 16:
        raise ValueError("a keypad key is 16 bytes (AES-128)")
    c = _keyed(bytes(key)).copy()
    c.update(press.mic_input())
    return struct.unpack("<I", c.finalize()[:4])[0]


def verify_mic(key: bytes, press: Press) -> bool:
    """Constant-time comparison of the press's MIC with the one its key gives."""
    expected = compute_mic(key, press)
    return hmac.compare_digest(struct.pack("<I", expected), struct.pack("<I", press.mic))
