"""BLE advert mode: a keypad's press in the manufacturer data of a non-connectable advert.

After the company id 0xFFFF: ``ver u8 = 2``, then the PRESS fields the keypad knows and its
MIC (docs/protocol.md, "Adverts"); the same bytes are the keypad's frame on the air. No
acknowledgement is possible in advert mode.
"""

from __future__ import annotations

import struct

from hub.protocol import ADVERT_FORMAT, ADVERT_VERSION
from hub.wire.framing import FrameError, Reject
from hub.wire.messages import PressMessage

COMPANY_ID = 0xFFFF
ADVERT = struct.Struct(ADVERT_FORMAT)


def encode_advert(press: PressMessage) -> bytes:
    return ADVERT.pack(
        ADVERT_VERSION,
        press.keypad_id,
        press.counter,
        press.session_nonce,
        press.poll_id,
        press.item,
        press.key,
        press.battery,
        press.mic,
    )


def decode_advert(data: bytes, rssi: int = 0) -> PressMessage:
    """The press an advert carries; ``age_ms`` is 0 (the hub hears it directly)."""
    if len(data) != ADVERT.size:
        raise FrameError(Reject.BAD_LENGTH, f"advert of {len(data)} bytes, expected {ADVERT.size}")
    ver, keypad_id, counter, nonce, poll_id, item, key, battery, mic = ADVERT.unpack(data)
    if ver != ADVERT_VERSION:
        raise FrameError(Reject.BAD_VERSION, f"advert version {ver}")
    return PressMessage(
        keypad_id, counter, nonce, poll_id, item, key, battery, max(-128, min(127, rssi)), 0, mic
    )
