"""Writes the shared byte vectors once; the JSON files are then the contract.

Run ``python tests/vectors/generate.py`` only when the protocol itself changes: both the C and
the Python codecs are tested against the JSON files, never against this script. PROTOCOL.md's
worked examples are copied here by hand, byte for byte, and checked while generating.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from cobs import cobs

from hub.wire import framing, messages
from hub.wire.advert import encode_advert
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Ping,
    PollState,
    Press,
    PressResult,
    Status,
)
from hub.wire.mic import compute_mic

HERE = Path(__file__).parent
KEY = bytes(range(16))


def fields_of(msg) -> dict:
    out = {}
    for f in dataclasses.fields(msg):
        v = getattr(msg, f.name)
        out[f.name] = v.hex() if isinstance(v, bytes) else v
    return out


def message_vector(name: str, msg, seq: int, flags: int = 0, wire: str | None = None) -> dict:
    encoded = msg.encode(seq, flags)
    if wire is not None:
        assert encoded == bytes.fromhex(wire), (name, encoded.hex(" "))
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


def main() -> None:
    worked = Press(0x00A1B2C3, 42, 3, 0, ord("5"), 87, -60, 120, 0)
    worked = dataclasses.replace(worked, mic=compute_mic(KEY, worked))
    assert worked.mic == 0xCCF38D68

    crc = [
        {"data": b"123456789".hex(), "crc": 0x29B1, "note": "check value"},
        {"data": "", "crc": 0xFFFF, "note": "init only"},
        {"data": "00", "crc": framing.crc16(b"\x00")},
        {"data": "ff" * 8, "crc": framing.crc16(b"\xff" * 8)},
        {"data": bytes(range(256)).hex(), "crc": framing.crc16(bytes(range(256)))},
    ]
    cobs_cases = [
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
    cobs_vectors = [{"decoded": d.hex(), "encoded": cobs.encode(d).hex()} for d in cobs_cases]
    assert cobs_vectors[3]["encoded"] == "0311220233"  # PROTOCOL.md

    msgs = [
        message_vector(
            "PROTOCOL.md worked PRESS",
            worked,
            7,
            wire="03 01 10 02 07 04 c3 b2 a1 02 2a 01 01 02 03 01 01 05 35 57 c4 78 07 68 8d f3 cc da a1 00",
        ),
        message_vector(
            "PROTOCOL.md worked PRESS_RESULT",
            PressResult(0x00A1B2C3, 42, 0, 3),
            1,
            wire="03 01 11 02 01 04 c3 b2 a1 02 2a 01 01 01 02 03 03 1d 7e 00",
        ),
        message_vector(
            "PROTOCOL.md worked POLL_STATE",
            PollState(3, 1, 1, 0, b"1234567"),
            2,
            wire="03 01 12 02 02 02 03 03 01 01 01 0b 07 31 32 33 34 35 36 37 fa 38 00",
        ),
        message_vector(
            "PROTOCOL.md worked HELLO",
            Hello(1, 0xDEADBEEF),
            0,
            wire="03 01 01 01 01 08 01 ef be ad de 65 3b 00",
        ),
        message_vector("PROTOCOL.md worked PING", Ping(), 3, wire="03 01 03 02 03 03 d2 75 00"),
        message_vector("HELLO_ACK", HelloAck(1, 1, 2, 3, 0x12345678, 0xCAFEF00D, 2, 6, 512), 0),
        message_vector("STATUS", Status(3_600_000, 12345, 7, 3, 1), 65535),
        message_vector(
            "PRESS retransmitted, negative rssi, saturated age",
            dataclasses.replace(worked, age_ms=65535),
            8,
            1,
        ),
        message_vector("PRESS without key", Press(1, 1, 0xFFFF, 12, ord("A"), 0xFF, 0, 0, 0), 0),
        message_vector("PRESS_RESULT superseded", PressResult(0xFFFFFFFF, 0xFFFFFFFE, 7, 0), 0x1234),
        message_vector("POLL_STATE consent", PollState(9, 1, 2, 0, b"ABCD"), 4),
        message_vector("POLL_STATE self-paced", PollState(10, 1, 3, 40, b"1234567"), 5),
        message_vector("POLL_STATE closing, no keys", PollState(10, 2, 1, 0, b""), 6),
        message_vector("POLL_STATE idle", PollState(0, 0, 1, 0, b""), 6),
        message_vector("KEYPAD_SEEN", KeypadSeen(0x00A1B2C3, 12, -91, 3), 9),
        message_vector("LOG", Log(2, "radio canal 6 prêt"), 10),
        message_vector("ERROR", Error(0x0102, "queue full"), 11),
        message_vector("LOG longest payload", Log(1, "x" * 239), 12),
    ]
    mic = [
        {
            "key": KEY.hex(),
            "fields": fields_of(worked),
            "input": worked.mic_input().hex(),
            "mic": worked.mic,
            "note": "PROTOCOL.md worked example",
        }
    ]
    for i, (kid, ctr, poll, item, key, bat) in enumerate(
        [
            (1, 1, 1, 0, "1", 100),
            (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFF, "#", 0xFF),
            (77, 1000, 42, 17, "7", 5),
        ]
    ):
        k = bytes((i * 37 + j * 11) & 0xFF for j in range(16))
        p = Press(kid, ctr, poll, item, ord(key), bat, 0, 0, 0)
        mic.append(
            {"key": k.hex(), "fields": fields_of(p), "input": p.mic_input().hex(), "mic": compute_mic(k, p)}
        )
    assert mic[0]["input"] == "434c4b31c3b2a1002a000000030000003557"

    good = bytes.fromhex(msgs[1]["wire"])
    decoded = bytes.fromhex(msgs[1]["decoded"])

    def wire_of(decoded_frame: bytes) -> str:
        return (cobs.encode(decoded_frame) + b"\x00").hex()

    flipped = bytearray(decoded)
    flipped[6] ^= 0x01
    body = framing.HEADER.pack(2, 0x11, 0, 1) + decoded[5:-2]
    bad_version = body + framing.crc16(body).to_bytes(2, "little")
    body = framing.HEADER.pack(1, 0x55, 0, 1) + b"\x01\x02"
    unknown = body + framing.crc16(body).to_bytes(2, "little")
    body = framing.HEADER.pack(1, 0x11, 0, 1) + decoded[5:-3]
    short = body + framing.crc16(body).to_bytes(2, "little")
    body = framing.HEADER.pack(1, 0x11, 0x80, 1) + decoded[5:-2]
    bad_flags = body + framing.crc16(body).to_bytes(2, "little")
    body = framing.HEADER.pack(1, 0x12, 0, 1) + bytes.fromhex("030001010000") + b"\x05123"
    bad_nkeys = body + framing.crc16(body).to_bytes(2, "little")
    bad = [
        {"name": "bit flip in payload", "wire": wire_of(bytes(flipped)), "reason": "bad_crc"},
        {
            "name": "CRC bytes swapped",
            "wire": wire_of(decoded[:-2] + decoded[-1:] + decoded[-2:-1]),
            "reason": "bad_crc",
        },
        {"name": "COBS code points past the end", "wire": "05112233" + "00", "reason": "bad_cobs"},
        {"name": "COBS block cut short", "wire": "031100", "reason": "bad_cobs"},
        {"name": "too short for a header and CRC", "wire": wire_of(b"\x01\x11\x00"), "reason": "bad_length"},
        {"name": "version 2", "wire": wire_of(bad_version), "reason": "bad_version"},
        {"name": "unknown type 0x55", "wire": wire_of(unknown), "reason": "unknown_type"},
        {"name": "PRESS_RESULT one byte short", "wire": wire_of(short), "reason": "bad_length"},
        {"name": "reserved flag bit set", "wire": wire_of(bad_flags), "reason": "bad_flags"},
        {
            "name": "POLL_STATE announcing 5 keys, carrying 3",
            "wire": wire_of(bad_nkeys),
            "reason": "bad_length",
        },
        {
            "name": "payload over 240 bytes",
            "wire": wire_of(framing.HEADER.pack(1, 0x20, 0, 0) + b"x" * 243),
            "reason": "oversize",
        },
        {"name": "no delimiter for 300 bytes", "wire": ("41" * 300) + "00", "reason": "oversize"},
    ]
    stream = {
        "name": "garbage, a frame split by noise, then good frames",
        "wire": ("ffee" + "00" + good.hex() + "0a0b0c" + good.hex() + "00" * 3 + msgs[0]["wire"]),
        "frames": [msgs[1]["name"], msgs[0]["name"]],
        "rejected": {"bad_cobs": 2},
    }
    advert = [
        {
            "fields": fields_of(dataclasses.replace(worked, rssi=0, age_ms=0)),
            "payload": encode_advert(worked).hex(),
        }
    ]
    assert advert[0]["payload"] == "01c3b2a1002a000000030000003557688df3cc"
    assert messages.MESSAGE_TYPES  # every type has at least one vector:
    assert {m["type"] for m in msgs} == set(messages.MESSAGE_TYPES)

    for name, doc in [
        ("crc", crc),
        ("cobs", cobs_vectors),
        ("messages", msgs),
        ("mic", mic),
        ("bad_frames", bad),
        ("stream", [stream]),
        ("advert", advert),
    ]:
        (HERE / f"{name}.json").write_text(
            json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
