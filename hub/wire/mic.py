"""The keypads' message integrity code: AES-128-CMAC, first 4 bytes read as u32 LE."""

from __future__ import annotations

import hmac
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hub.wire.messages import Press

KEYED_CACHE = 8192  # keyed contexts kept: more than the keypads of any session


@lru_cache(maxsize=KEYED_CACHE)
def _keyed(key: bytes) -> CMAC:
    """A CMAC context already keyed: copying it costs a fifth of setting up AES again."""
    return CMAC(algorithms.AES(key))


def _tag(key: bytes, press: Press) -> bytes:
    """The MIC as it is sent: the first 4 bytes of the CMAC."""
    if len(key) != 16:
        raise ValueError("a keypad key is 16 bytes (AES-128)")
    c = _keyed(bytes(key)).copy()
    c.update(press.mic_input())
    return c.finalize()[:4]


def compute_mic(key: bytes, press: Press) -> int:
    return int.from_bytes(_tag(key, press), "little")


def verify_mic(key: bytes, press: Press) -> bool:
    """Constant-time comparison of the press's MIC with the one its key gives."""
    if not 0 <= press.mic <= 0xFFFFFFFF:
        return False  # no u32: cannot be a MIC
    return hmac.compare_digest(_tag(key, press), press.mic.to_bytes(4, "little"))
