"""The Python codec against every shared vector, byte for byte."""

import binascii
import dataclasses

import pytest
from cobs import cobs

from hub.wire import StreamDecoder, crc16
from hub.wire.advert import decode_advert, encode_advert
from hub.wire.framing import FrameError, decode_frame
from hub.wire.messages import parse
from hub.wire.mic import compute_mic, press_mic_input, verify_mic
from tests.wire_vectors import load, message_from_fields


@pytest.mark.parametrize("v", load("crc"), ids=lambda v: v["data"][:16] or "empty")
def test_crc(v):
    assert crc16(bytes.fromhex(v["data"])) == v["crc"]
    assert binascii.crc_hqx(bytes.fromhex(v["data"]), 0xFFFF) == v["crc"]


@pytest.mark.parametrize("v", load("cobs"), ids=lambda v: v["decoded"][:16] or "empty")
def test_cobs(v):
    assert cobs.encode(bytes.fromhex(v["decoded"])).hex() == v["encoded"]
    assert cobs.decode(bytes.fromhex(v["encoded"])).hex() == v["decoded"]


@pytest.mark.parametrize("v", load("messages"), ids=lambda v: v["name"])
def test_message_encodes_and_decodes(v):
    msg = message_from_fields(v["type"], v["fields"])
    assert msg.encode(v["seq"], v["flags"]).hex() == v["wire"]
    frame = parse(decode_frame(bytes.fromhex(v["wire"])[:-1]))
    assert (frame.seq, frame.flags, frame.message) == (v["seq"], v["flags"], msg)


@pytest.mark.parametrize("v", load("mic"), ids=lambda v: str(v["mic"]))
def test_mic(v):
    press = message_from_fields(0x10, {**v["fields"], "rssi": 0, "age_ms": 0, "mic": v["mic"]})
    assert press_mic_input(press).hex() == v["input"]
    assert len(press_mic_input(press)) == 22 and press_mic_input(press)[:4] == b"CLK2"
    key = bytes.fromhex(v["key"])
    assert compute_mic(key, press) == v["mic"]
    assert verify_mic(key, press)
    assert not verify_mic(key, dataclasses.replace(press, key=press.key ^ 1))
    # the session nonce is covered: the same press signed for another session does not verify
    assert not verify_mic(key, dataclasses.replace(press, session_nonce=press.session_nonce ^ 1))
    # rssi and age are added by the receiver and are not covered
    assert verify_mic(key, dataclasses.replace(press, rssi=-99, age_ms=999))


@pytest.mark.parametrize("v", load("bad_frames"), ids=lambda v: v["name"])
def test_bad_frame_is_counted_by_reason_and_never_raised(v):
    dec = StreamDecoder()
    assert dec.feed(bytes.fromhex(v["wire"])) == []
    assert dict(dec.rejected) == {v["reason"]: 1}


def test_stream_vector():
    (v,) = load("stream")
    names = {m["name"]: m for m in load("messages")}
    dec = StreamDecoder()
    frames = dec.feed(bytes.fromhex(v["wire"]))
    expected = [message_from_fields(names[n]["type"], names[n]["fields"]) for n in v["frames"]]
    assert [f.message for f in frames] == expected
    assert dict(dec.rejected) == v["rejected"]


def test_advert():
    (v,) = load("advert")
    press = message_from_fields(0x10, v["fields"])
    assert encode_advert(press).hex() == v["payload"]
    assert decode_advert(bytes.fromhex(v["payload"])) == press
    with pytest.raises(FrameError):
        decode_advert(bytes.fromhex(v["payload"])[:-1])


def test_every_message_splits_at_every_byte():
    wire = b"".join(bytes.fromhex(m["wire"]) for m in load("messages"))
    whole = [f.message for f in StreamDecoder().feed(wire)]
    assert len(whole) == len(load("messages"))
    for cut in range(1, len(wire)):
        dec = StreamDecoder()
        frames = dec.feed(wire[:cut]) + dec.feed(wire[cut:])
        assert [f.message for f in frames] == whole
        assert not dec.rejected


def test_byte_by_byte():
    wire = b"".join(bytes.fromhex(m["wire"]) for m in load("messages"))
    dec = StreamDecoder()
    frames = [f for b in wire for f in dec.feed(bytes([b]))]
    assert len(frames) == len(load("messages")) and not dec.rejected
