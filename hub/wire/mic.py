"""The keypads' message integrity code: AES-128-CMAC, first 4 bytes read as u32 LE."""

from __future__ import annotations

import hmac
import struct

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hub.wire.messages import Press


def compute_mic(key: bytes, press: Press) -> int:
    if len(key) != 16:
        raise ValueError("a keypad key is 16 bytes (AES-128)")
    c = CMAC(algorithms.AES(key))
    c.update(press.mic_input())
    return struct.unpack("<I", c.finalize()[:4])[0]


def verify_mic(key: bytes, press: Press) -> bool:
    """Constant-time comparison of the press's MIC with the one its key gives."""
    expected = compute_mic(key, press)
    return hmac.compare_digest(struct.pack("<I", expected), struct.pack("<I", press.mic))
