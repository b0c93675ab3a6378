"""Wire protocol v1.1 between receivers and the hub (pure: no I/O).

``hub.protocol`` (generated) holds the codes and constants, ``messages`` (generated) the typed
payloads built on ``codec``, ``framing`` COBS and the CRC, ``stream`` the streaming decoder that turns
arbitrary byte chunks into frames, ``mic`` the keypads' AES-CMAC, ``advert`` the BLE advert
codec and ``presses`` the one place where a wire PRESS becomes the hub's press and back.
docs/protocol.md is the specification; protocol/wire.toml declares it once.
"""

from hub.protocol import PressStatus
from hub.wire.codec import Frame
from hub.wire.framing import CRC_CHECK, FrameError, crc16, decode_frame, encode_frame
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Message,
    Ping,
    PollStateMessage,
    PressMessage,
    PressResult,
    Status,
    parse,
)
from hub.wire.stream import StreamDecoder

__all__ = [
    "CRC_CHECK",
    "Error",
    "Frame",
    "FrameError",
    "Hello",
    "HelloAck",
    "KeypadSeen",
    "Log",
    "Message",
    "Ping",
    "PollStateMessage",
    "PressMessage",
    "PressResult",
    "PressStatus",
    "Status",
    "StreamDecoder",
    "crc16",
    "decode_frame",
    "encode_frame",
    "parse",
]
