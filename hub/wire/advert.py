"""BLE advert mode: a keypad's press in the manufacturer data of a non-connectable advert.

After the company id 0xFFFF: ``ver u8 = 1, keypad_id u32, counter u32, poll_id u16, item u16,
key u8, battery u8, mic u32`` (19 bytes). No acknowledgement is possible in this mode.
"""

from __future__ import annotations

import struct

from hub.wire.framing import FrameError, Reject
from hub.wire.messages import Press

COMPANY_ID = 0xFFFF
ADVERT = struct.Struct("<BIIHHBBI")


def encode_advert(press: Press) -> bytes:
    return ADVERT.pack(
        1, press.keypad_id, press.counter, press.poll_id, press.item, press.key, press.battery, press.mic
    )


def decode_advert(data: bytes, rssi: int = 0) -> Press:
    """The press an advert carries; ``age_ms`` is 0 (the hub hears it directly)."""
    if len(data) != ADVERT.size:
        raise FrameError(Reject.BAD_LENGTH, f"advert of {len(data)} bytes, expected {ADVERT.size}")
    ver, keypad_id, counter, poll_id, item, key, battery, mic = ADVERT.unpack(data)
    if ver != 1:
        raise FrameError(Reject.BAD_VERSION, f"advert version {ver}")
    return Press(keypad_id, counter, poll_id, item, key, battery, max(-128, min(127, rssi)), 0, mic)
