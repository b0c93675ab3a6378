"""The one place where a PRESS on the wire becomes the hub's press and back, and where the
hub's press meets the crypto: the session asks ``check_mic`` and knows neither the codec nor
AES (docs/protocol.md, "The MIC")."""

from __future__ import annotations

import struct

from hub.model import Press
from hub.protocol import REVISION
from hub.wire import mic
from hub.wire.messages import PressMessage


def from_wire(msg: PressMessage, receiver: str, at: float) -> Press:
    """A PRESS as the hub keeps it: the wire fields, where it came from and when."""
    return Press(
        keypad_id=msg.keypad_id,
        counter=msg.counter,
        poll_id=msg.poll_id,
        item=msg.item,
        key=chr(msg.key),
        battery=msg.battery,
        rssi=msg.rssi,
        age_ms=msg.age_ms,
        mic=msg.mic,
        receiver=receiver,
        at=at,
        session_nonce=msg.session_nonce,
    )


def to_wire(press: Press) -> PressMessage:
    """The PRESS frame's fields of a hub press (its key is one character of code 0-255)."""
    return PressMessage(
        press.keypad_id,
        press.counter,
        press.session_nonce,
        press.poll_id,
        press.item,
        ord(press.key),
        press.battery,
        press.rssi,
        press.age_ms,
        press.mic,
    )


def _input(press: Press, revision: int = REVISION) -> bytes | None:
    if len(press.key) != 1 or ord(press.key) > 0xFF:
        return None  # no wire press carries such a key
    if revision == 1:
        k = ord(press.key)
        return mic.mic_input_v1(press.keypad_id, press.counter, press.poll_id, press.item, k, press.battery)
    try:
        return mic.press_mic_input(to_wire(press))
    except struct.error:
        return None  # a field out of its wire range: no keypad signed this


def check_mic(key: bytes, press: Press, revision: int = REVISION) -> bool:
    """Whether the press's MIC is the one this keypad key gives (constant-time), as the given
    protocol revision signs (1 only to recount a session journaled before v1.1)."""
    data = _input(press, revision)
    return data is not None and mic.check(key, data, press.mic)


def sign(key: bytes, press: Press) -> Press:
    """The press with the MIC this keypad key gives (what a keypad does before sending)."""
    data = _input(press)
    if data is None:
        raise ValueError(f"key {press.key!r} cannot be sent on the wire")
    return press._replace(mic=int.from_bytes(mic.tag(key, data), "little"))
