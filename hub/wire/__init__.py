"""Wire protocol v1 between receivers and the hub (pure: no I/O).

``framing`` holds COBS and the CRC, ``messages`` the typed payloads, ``stream`` the streaming
decoder that turns arbitrary byte chunks into frames, ``mic`` the keypads' AES-CMAC and
``advert`` the BLE advertisement codec. See hardware.md for the specification.
"""

from hub.wire.framing import CRC_CHECK, FrameError, crc16, decode_frame, encode_frame
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Message,
    Ping,
    PollState,
    Press,
    PressResult,
    PressStatus,
    Status,
)
from hub.wire.stream import StreamDecoder

__all__ = [
    "CRC_CHECK",
    "Error",
    "FrameError",
    "Hello",
    "HelloAck",
    "KeypadSeen",
    "Log",
    "Message",
    "Ping",
    "PollState",
    "Press",
    "PressResult",
    "PressStatus",
    "Status",
    "StreamDecoder",
    "crc16",
    "decode_frame",
    "encode_frame",
]
