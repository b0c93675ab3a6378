"""The shared byte vectors (tests/vectors/*.json), built with the Python codec.

Both the C and the Python codecs are tested against the JSON files. The worked examples of
docs/protocol.md are pinned here by hand, byte for byte, and checked while building, so a
change of the codec that moves a byte of them stops the generator instead of slipping into the
vectors. ``decisions.json`` holds one short session per decision of docs/protocol.md: presses
as frames on the wire and the PRESS_RESULT frame each must get.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cobs import cobs

from hub import protocol
from hub.protocol import ErrorCode, PollMode, PollStateCode, PressStatus, Radio
from hub.wire import framing
from hub.wire.advert import encode_advert
from hub.wire.messages import (
    MESSAGE_TYPES,
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
)
from hub.wire.mic import compute_mic, press_mic_input

KEY = bytes(range(16))
NONCE = 0x5EC0A11B  # the worked example's session nonce
S = PressStatus

# The worked examples, pinned (docs/protocol.md, "Worked examples").
WORKED_MIC = 0x690F7517  # also what `openssl mac -cipher AES-128-CBC ... CMAC` gives for the input
WORKED = {
    "mic_input": "434c4b32c3b2a1002a0000001ba1c05e030000003557",
    "PRESS": "030110020704c3b2a1022a0101061ba1c05e030101053557c4780717750f69a4bc00",
    "PRESS_RESULT": "030111020104c3b2a1022a0101010203071ba1c05e66c300",
    "POLL_STATE": "030112020202031101011ba1c05e0731323334353637010e03d77600",
    "HELLO": "030101010108021ba1c05ea70300",
    "PING": "030103020303d27500",
    "advert": "02c3b2a1002a0000001ba1c05e03000000355717750f69",
}


def fields_of(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(msg):  # type: ignore[arg-type]
        v = getattr(msg, f.name)
        out[f.name] = v.hex() if isinstance(v, bytes) else list(v) if isinstance(v, tuple) else v
    return out


def message_vector(
    name: str, msg: Message, seq: int, flags: int = 0, wire: str | None = None
) -> dict[str, Any]:
    encoded = msg.encode(seq, flags)
    if wire is not None:
        assert encoded.hex() == wire, (name, encoded.hex())
    return {
        "name": name,
        "type": msg.TYPE,
        "message": type(msg).__name__,
        "seq": seq,
        "flags": flags,
        "fields": fields_of(msg),
        "decoded": framing.pack_frame(msg.TYPE, msg.payload(), seq, flags).hex(),
        "wire": encoded.hex(),
    }


def signed(key: bytes, press: PressMessage) -> PressMessage:
    return dataclasses.replace(press, mic=compute_mic(key, press))


def _worked_press() -> PressMessage:
    return signed(KEY, PressMessage(0x00A1B2C3, 42, NONCE, 3, 0, ord("5"), 87, -60, 120, 0))


def _crc() -> list[dict[str, Any]]:
    return [
        {"data": b"123456789".hex(), "crc": 0x29B1, "note": "check value"},
        {"data": "", "crc": 0xFFFF, "note": "init only"},
        {"data": "00", "crc": framing.crc16(b"\x00")},
        {"data": "ff" * 8, "crc": framing.crc16(b"\xff" * 8)},
        {"data": bytes(range(256)).hex(), "crc": framing.crc16(bytes(range(256)))},
    ]


def _cobs() -> list[dict[str, Any]]:
    cases = [
        b"",
        b"\x00",
        b"\x00\x00",
        b"\x11\x22\x00\x33",
        b"\x11\x22\x33\x44",
        b"\x11\x00\x00\x00",
        bytes(range(1, 255)),  # 254 non-zero bytes: one full block
        bytes(range(1, 256)),  # 255 non-zero bytes: a block boundary
        bytes(range(256)),
        b"\x01" * 300,
        b"\x11" * 254 + b"\x00",  # a full block, then a zero
        b"\x11" * 508,  # two full blocks
        b"\x00" + b"\x11" * 254,
    ]
    out = [{"decoded": d.hex(), "encoded": cobs.encode(d).hex()} for d in cases]
    assert out[3]["encoded"] == "0311220233"
    return out


def _messages(worked: PressMessage) -> list[dict[str, Any]]:
    grades = b"1234567"
    msgs = [
        message_vector("worked PRESS (seq 7)", worked, 7, wire=WORKED["PRESS"]),
        message_vector(
            "worked PRESS_RESULT counted, poll 3 (seq 1)",
            PressResult(0x00A1B2C3, 42, S.COUNTED, 3, NONCE),
            1,
            wire=WORKED["PRESS_RESULT"],
        ),
        message_vector(
            "worked POLL_STATE poll 3 open, grades on proposal 14, keys 1234567 (seq 2)",
            PollStateMessage(3, PollStateCode.OPEN, PollMode.GRADES, NONCE, grades, (14,)),
            2,
            wire=WORKED["POLL_STATE"],
        ),
        message_vector(
            "worked HELLO revision 2 (seq 0)", Hello(protocol.REVISION, NONCE), 0, wire=WORKED["HELLO"]
        ),
        message_vector("worked PING (seq 3)", Ping(), 3, wire=WORKED["PING"]),
        message_vector(
            "HELLO_ACK",
            HelloAck(protocol.REVISION, 1, 2, 3, 0x12345678, 0xCAFEF00D, Radio.ESP_NOW, 6, 512),
            0,
        ),
        message_vector("HELLO of a v1 hub", Hello(1, 0xDEADBEEF), 0),
        message_vector("STATUS", Status(3_600_000, 12345, 7, 3, 1), 65535),
        message_vector(
            "PRESS retransmitted, negative rssi, saturated age",
            dataclasses.replace(worked, age_ms=65535),
            8,
            1,
        ),
        message_vector("PRESS with reserved flag bits (read, not refused)", worked, 9, 0x81),
        message_vector(
            "PRESS of a keypad without key nor session",
            PressMessage(1, 1, 0, 0xFFFF, 12, ord("A"), 0xFF, 0, 0, 0),
            0,
        ),
        message_vector(
            "PRESS_RESULT superseded",
            PressResult(0xFFFFFFFF, 0xFFFFFFFE, S.SUPERSEDED, 0, 0xFFFFFFFF),
            0x1234,
        ),
        message_vector(
            "PRESS_RESULT stale_session names the current nonce",
            PressResult(0x5A7D4120, 7, S.STALE_SESSION, 2, NONCE),
            5,
        ),
        message_vector(
            "POLL_STATE consent on no proposal",
            PollStateMessage(9, PollStateCode.OPEN, PollMode.CONSENT, NONCE, b"ABCD", ()),
            4,
        ),
        message_vector(
            "POLL_STATE self-paced over proposals 1 3 5 40",
            PollStateMessage(10, PollStateCode.OPEN, PollMode.SELF_PACED, NONCE, grades, (1, 3, 5, 40)),
            5,
        ),
        message_vector(
            "POLL_STATE self-paced, 16 keys and 100 items (the most)",
            PollStateMessage(
                11,
                PollStateCode.OPEN,
                PollMode.SELF_PACED,
                NONCE,
                b"0123456789ABCD*#",
                tuple(range(1, protocol.MAX_ITEMS + 1)),
            ),
            6,
        ),
        message_vector(
            "POLL_STATE closing",
            PollStateMessage(10, PollStateCode.CLOSING, PollMode.GRADES, NONCE, grades, (2,)),
            6,
        ),
        message_vector(
            "POLL_STATE idle before the first poll",
            PollStateMessage(protocol.NO_POLL, PollStateCode.IDLE, PollMode.NONE, NONCE, b"", ()),
            6,
        ),
        message_vector(
            "POLL_STATE idle after poll 12",
            PollStateMessage(12, PollStateCode.IDLE, PollMode.NONE, NONCE, b"", ()),
            7,
        ),
        message_vector("KEYPAD_SEEN", KeypadSeen(0x00A1B2C3, 12, -91, 3), 9),
        message_vector("LOG", Log(2, "radio canal 6 prêt"), 10),
        message_vector(
            "ERROR unsupported revision",
            Error(ErrorCode.UNSUPPORTED_REVISION, "hub speaks protocol revision 1, this receiver speaks 2"),
            11,
        ),
        message_vector("LOG longest payload", Log(1, "x" * 239), 12),
    ]
    assert {m["type"] for m in msgs} == set(MESSAGE_TYPES)  # every type has at least one vector
    return msgs


def _mic(worked: PressMessage) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "key": KEY.hex(),
            "fields": fields_of(worked),
            "input": press_mic_input(worked).hex(),
            "mic": worked.mic,
            "note": "docs/protocol.md worked example",
        }
    ]
    for i, (kid, ctr, nonce, poll, item, key, bat) in enumerate(
        [
            (1, 1, 1, 1, 0, "1", 100),
            (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFF, "#", 0xFF),
            (77, 1000, 0, 42, 17, "7", 5),
            (0x5A7D4120, 7, 0x00000002, 2, 0, "6", 90),
        ]
    ):
        k = bytes((i * 37 + j * 11) & 0xFF for j in range(16))
        p = signed(k, PressMessage(kid, ctr, nonce, poll, item, ord(key), bat, 0, 0, 0))
        out.append({"key": k.hex(), "fields": fields_of(p), "input": press_mic_input(p).hex(), "mic": p.mic})
    assert out[0]["input"] == WORKED["mic_input"] and out[0]["mic"] == WORKED_MIC
    # the same press under another session nonce has another MIC: the nonce is covered
    assert p.mic != compute_mic(k, dataclasses.replace(p, session_nonce=p.session_nonce + 1))
    return out


def _frame(type_: int, payload: bytes, flags: int = 0) -> bytes:
    body = framing.HEADER.pack(framing.VERSION, type_, flags, 1) + payload
    return body + framing.crc16(body).to_bytes(2, "little")


def _wire(decoded: bytes) -> str:
    encoded: bytes = cobs.encode(decoded)
    return (encoded + b"\x00").hex()


def _bad_frames(result: dict[str, Any]) -> list[dict[str, Any]]:
    decoded = bytes.fromhex(result["decoded"])
    payload = decoded[5:-2]
    flipped = bytearray(decoded)
    flipped[6] ^= 0x01
    state = PollStateMessage(3, PollStateCode.OPEN, PollMode.GRADES, NONCE, b"", ()).payload()[:8]
    v1_press = bytes.fromhex("c3b2a1002a000000030000003557c47800688df3cc")  # 21 bytes: v1's PRESS
    return [
        {"name": "bit flip in payload", "wire": _wire(bytes(flipped)), "reason": "bad_crc"},
        {
            "name": "CRC bytes swapped",
            "wire": _wire(decoded[:-2] + decoded[-1:] + decoded[-2:-1]),
            "reason": "bad_crc",
        },
        {"name": "COBS code points past the end", "wire": "05112233" + "00", "reason": "bad_cobs"},
        {"name": "COBS block cut short", "wire": "031100", "reason": "bad_cobs"},
        {"name": "too short for a header and CRC", "wire": _wire(b"\x01\x11\x00"), "reason": "bad_length"},
        {
            "name": "frame version 2, CRC right",
            "wire": _wire(_versioned(2, 0x11, payload)),
            "reason": "bad_version",
        },
        {"name": "unknown type 0x55", "wire": _wire(_frame(0x55, b"\x01\x02")), "reason": "unknown_type"},
        {
            "name": "PRESS_RESULT one byte short",
            "wire": _wire(_frame(0x11, payload[:-1])),
            "reason": "bad_length",
        },
        {"name": "PRESS of v1 (21 bytes)", "wire": _wire(_frame(0x10, v1_press)), "reason": "bad_length"},
        {
            "name": "POLL_STATE announcing 5 keys, carrying 3",
            "wire": _wire(_frame(0x12, state + b"\x05123")),
            "reason": "bad_length",
        },
        {
            "name": "POLL_STATE with 17 keys",
            "wire": _wire(_frame(0x12, state + b"\x11" + b"1" * 17 + b"\x00")),
            "reason": "bad_length",
        },
        {
            "name": "POLL_STATE with 101 items",
            "wire": _wire(_frame(0x12, state + b"\x00\x65" + b"\x01\x00" * 101)),
            "reason": "bad_length",
        },
        {
            "name": "POLL_STATE without its item count",
            "wire": _wire(_frame(0x12, state + b"\x01" + b"1")),
            "reason": "bad_length",
        },
        {
            "name": "POLL_STATE with a byte after its items",
            "wire": _wire(_frame(0x12, state + b"\x00\x01\x0e\x00\x00")),
            "reason": "bad_length",
        },
        {
            "name": "payload over 240 bytes",
            "wire": _wire(framing.HEADER.pack(1, 0x20, 0, 0) + b"x" * 243),
            "reason": "oversize",
        },
        {"name": "no delimiter for 300 bytes", "wire": ("41" * 300) + "00", "reason": "oversize"},
    ]


def _versioned(ver: int, type_: int, payload: bytes) -> bytes:
    body = framing.HEADER.pack(ver, type_, 0, 1) + payload
    return body + framing.crc16(body).to_bytes(2, "little")


# --- decisions -----------------------------------------------------------------------------------

A, B = 0x5A7D4120, 0x00A1B2C3  # two keypads of the decision sessions
KEYS = {A: bytes(range(16, 32)), B: KEY}


class _Session:
    """Builds one decision vector: the session's setup, then steps."""

    def __init__(self, name: str, decision: str, nonce: int = NONCE, floors: dict[int, int] | None = None):
        self.doc: dict[str, Any] = {
            "name": name,
            "decision": decision,
            "session_nonce": nonce,
            "require_mic": True,
            "roster": [
                {"keypad_id": kid, "number": n + 1, "key": key.hex(), "counter": (floors or {}).get(kid, 0)}
                for n, (kid, key) in enumerate(KEYS.items())
            ],
            "steps": [],
        }
        self.nonce = nonce
        self.seq = 0

    def act(self, at: float, **action: Any) -> _Session:
        self.doc["steps"].append({"at": at, "action": action})
        return self

    def press(
        self,
        at: float,
        kid: int,
        counter: int,
        key: str,
        status: PressStatus,
        poll_id: int,
        answer_poll: int,
        *,
        item: int = 0,
        age_ms: int = 0,
        flags: int = 0,
        nonce: int | None = None,
        sign_with: bytes | None = None,
    ) -> _Session:
        nonce = self.nonce if nonce is None else nonce
        p = signed(
            sign_with or KEYS[kid],
            PressMessage(kid, counter, nonce, poll_id, item, ord(key), 80, -50, age_ms, 0),
        )
        self.seq += 1
        self.doc["steps"].append(
            {
                "at": at,
                "press": p.encode(self.seq, flags).hex(),
                "status": status.name.lower(),
                "result": PressResult(kid, counter, status, answer_poll, self.nonce).encode(self.seq).hex(),
            }
        )
        return self

    def tally(self, poll_id: int, item: int, counts: list[int]) -> _Session:
        self.doc["steps"].append({"tally": {"poll_id": poll_id, "item": item, "counts": counts}})
        return self


def _decisions() -> list[dict[str, Any]]:
    U = protocol.UNKNOWN_POLL
    return [
        _Session("reserved flag bits", "a frame with reserved flag bits set is read as if they were 0")
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 1, "5", S.COUNTED, 1, 1, flags=0x80)
        .press(1.1, A, 1, "5", S.DUPLICATE, 1, 1, flags=0xFF)
        .doc,
        _Session(
            "a replaced press retransmitted",
            "a counted press replaced by a newer one and seen again is answered duplicate, not superseded",
        )
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 1, "2", S.COUNTED, 1, 1)
        .press(2.0, A, 2, "6", S.COUNTED, 1, 1)
        .press(2.1, A, 1, "2", S.DUPLICATE, 1, 1, flags=1)
        .tally(1, 1, [0, 0, 0, 0, 0, 1, 0])
        .doc,
        _Session(
            "self-paced ordering per item",
            "in a self-paced poll the last press wins per item: an older press for another item still counts",
        )
        .act(0.0, action="open", mode=3, items=[1, 3])
        .press(1.0, A, 5, "4", S.COUNTED, 1, 1, item=3)
        .press(1.1, A, 4, "7", S.COUNTED, 1, 1, item=1)
        .press(1.2, A, 3, "1", S.SUPERSEDED, 1, 1, item=3)
        .press(1.3, A, 6, "2", S.INVALID_KEY, 1, 1, item=2)
        .tally(1, 1, [0, 0, 0, 0, 0, 0, 1])
        .tally(1, 3, [0, 0, 0, 1, 0, 0, 0])
        .doc,
        _Session(
            "the idle poll id",
            "poll ids start at 1; before the first poll the hub names poll 0, afterwards the last poll;"
            " a press while no poll is open is poll_closed whatever poll it names",
        )
        .press(0.5, A, 1, "3", S.POLL_CLOSED, 0, 0)
        .press(0.6, A, 2, "3", S.POLL_CLOSED, 7, 0)
        .press(0.7, B, 1, "3", S.POLL_CLOSED, U, 0)
        .act(1.0, action="open", mode=1)
        .press(1.5, A, 3, "3", S.COUNTED, 1, 1)
        .act(2.0, action="close")
        .act(5.0, action="grace_end")
        .press(6.0, A, 4, "3", S.POLL_CLOSED, 1, 1)
        .press(6.1, B, 2, "3", S.POLL_CLOSED, 9, 1)
        .doc,
        _Session(
            "a press from another session",
            "a press signed under another session nonce is stale_session; the answer names the current one",
        )
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 7, "6", S.STALE_SESSION, 1, 1, nonce=0x00000002)
        .press(1.1, A, 8, "6", S.STALE_SESSION, 1, 1, nonce=0)
        .press(1.2, A, 9, "6", S.COUNTED, 1, 1)
        .doc,
        _Session(
            "a counter at or below the keypad store",
            "a press whose counter is not above the keypad's highest of earlier sessions is stale_session,"
            " even under the current nonce",
            floors={A: 500},
        )
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 499, "6", S.STALE_SESSION, 1, 1)
        .press(1.1, A, 500, "6", S.STALE_SESSION, 1, 1)
        .press(1.2, A, 501, "6", S.COUNTED, 1, 1)
        .doc,
        _Session("a MIC that does not verify", "a MIC wrong under the current nonce is bad_mic")
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 1, "6", S.BAD_MIC, 1, 1, sign_with=KEY)
        .press(1.1, A, 1, "6", S.COUNTED, 1, 1)
        .doc,
        _Session(
            "a press naming no poll, older than the poll",
            "a press with poll 0xFFFF counts in the open poll only if made after it opened: by its age,"
            " and by its counter (above every counter the keypad had used when the poll opened)",
        )
        .act(0.0, action="open", mode=1)
        .press(1.0, A, 10, "2", S.COUNTED, 1, 1)
        .act(2.0, action="close")
        .act(4.0, action="grace_end")
        .act(5.0, action="open", mode=1)
        .press(6.0, A, 9, "5", S.STALE_POLL, U, 2)
        .press(6.1, A, 11, "5", S.STALE_POLL, U, 2, age_ms=1500)
        .press(6.2, A, 12, "5", S.COUNTED, U, 2)
        .doc,
    ]


def build() -> dict[str, list[dict[str, Any]]]:
    worked = _worked_press()
    msgs = _messages(worked)
    result = msgs[1]
    good = bytes.fromhex(result["wire"])
    stream = {
        "name": "garbage, a frame split by noise, then good frames",
        "wire": "ffee" + "00" + good.hex() + "0a0b0c" + good.hex() + "00" * 3 + msgs[0]["wire"],
        "frames": [msgs[1]["name"], msgs[0]["name"]],
        "rejected": {"bad_cobs": 2},
    }
    advert = [
        {
            "fields": fields_of(dataclasses.replace(worked, rssi=0, age_ms=0)),
            "payload": encode_advert(worked).hex(),
        }
    ]
    assert advert[0]["payload"] == WORKED["advert"]
    air = [
        {
            "name": v["name"],
            "type": v["type"],
            "fields": v["fields"],
            "air": f"{v['type']:02x}" + v["decoded"][10:-4],
        }
        for v in msgs
        if v["type"] in protocol.AIR_TO_KEYPAD and v["name"].startswith("worked ")
    ]
    assert len(air) == len(protocol.AIR_TO_KEYPAD)
    return {
        "crc": _crc(),
        "air": air,
        "cobs": _cobs(),
        "messages": msgs,
        "mic": _mic(worked),
        "bad_frames": _bad_frames(result),
        "stream": [stream],
        "advert": advert,
        "decisions": _decisions(),
    }
