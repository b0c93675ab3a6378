"""Hypothesis against the streaming decoder: random and mutated streams never raise, never
let a corrupted frame through, keep memory bounded, and recover every valid frame after garbage."""

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.wire import StreamDecoder
from hub.wire.framing import MAX_ENCODED
from hub.wire.messages import PressMessage, PressResult, Status
from tests.wire_vectors import load

u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)
u8 = st.integers(0, 255)
i8 = st.integers(-128, 127)

presses = st.builds(PressMessage, u32, u32, u32, u16, u16, u8, u8, i8, u16, u32)
results = st.builds(PressResult, u32, u32, st.integers(0, 8), u16, u32)
statuses = st.builds(Status, u32, u32, u32, u16, u16)
messages = st.one_of(presses, results, statuses)


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_and_stay_bounded(data):
    dec = StreamDecoder()
    for i in range(0, len(data), 37):
        dec.feed(data[i : i + 37])
        assert dec.buffered <= MAX_ENCODED


@settings(max_examples=300)
@given(st.lists(messages, min_size=1, max_size=8), st.binary(max_size=300), st.data())
def test_valid_frames_after_garbage_are_recovered(msgs, garbage, data):
    wire = b"".join(m.encode(i) for i, m in enumerate(msgs))
    stream = garbage + b"\x00" + wire  # a delimiter ends whatever the garbage started
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    dec = StreamDecoder()
    got = []
    prev = 0
    for c in [*cuts, len(stream)]:
        got += dec.feed(stream[prev:c])
        prev = c
    tail = [f.message for f in got][-len(msgs) :]
    assert tail == msgs


@settings(max_examples=500)
@given(messages, st.data())
def test_a_mutated_frame_is_never_accepted_as_something_else(msg, data):
    wire = bytearray(msg.encode(5))
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    if kind == "flip":
        i = data.draw(st.integers(0, len(wire) - 2))
        wire[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        wire = wire[: data.draw(st.integers(0, len(wire) - 2))] + b"\x00"
    elif kind == "insert":
        i = data.draw(st.integers(0, len(wire) - 1))
        wire[i:i] = bytes([data.draw(st.integers(1, 255))])
    else:
        del wire[data.draw(st.integers(0, len(wire) - 2))]
    frames = StreamDecoder().feed(bytes(wire))
    # CRC-16 detects every burst of up to 16 bits; what comes out is the original or nothing.
    assert all(f.message == msg for f in frames)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(load("messages")), min_size=1, max_size=10))
def test_concatenations_decode_in_order(vectors):
    wire = b"".join(bytes.fromhex(v["wire"]) for v in vectors)
    frames = StreamDecoder().feed(wire)
    assert [f.seq for f in frames] == [v["seq"] for v in vectors]


def test_endless_garbage_without_delimiter_is_bounded():
    dec = StreamDecoder()
    for _ in range(1000):
        dec.feed(b"\x55" * 1000)
        assert dec.buffered <= MAX_ENCODED
    assert dec.rejected["oversize"] == 1
    press = PressMessage(1, 2, 7, 3, 0, ord("1"), 50, -40, 0, 0)
    assert [f.message for f in dec.feed(b"\x00" + press.encode(1))] == [press]
    assert dataclasses.asdict(press)["counter"] == 2


def _reference(stream: bytes) -> tuple[list, dict]:
    """The decoder's contract, written the slow way: every run of bytes between delimiters is
    one frame candidate, dropped as oversize when it is longer than the longest valid frame;
    a run still waiting for its delimiter is dropped as soon as it is too long."""
    from hub.wire.framing import FrameError, decode_frame
    from hub.wire.messages import parse

    frames, rejected = [], {}
    *parts, waiting = stream.split(b"\x00")
    if len(waiting) > MAX_ENCODED:
        rejected["oversize"] = 1
    for part in parts:
        if not part:
            continue
        if len(part) > MAX_ENCODED:
            rejected["oversize"] = rejected.get("oversize", 0) + 1
            continue
        try:
            frames.append(parse(decode_frame(part)))
        except FrameError as exc:
            rejected[str(exc.reason)] = rejected.get(str(exc.reason), 0) + 1
    return frames, rejected


pieces = st.one_of(
    messages.map(lambda m: m.encode(3)),
    st.binary(max_size=40),
    st.integers(MAX_ENCODED - 2, MAX_ENCODED + 300).map(lambda n: b"\x07" * n),
    st.just(b"\x00"),
)


@settings(max_examples=300)
@given(st.lists(pieces, max_size=12), st.data())
def test_any_chunking_gives_the_reference_frames_and_rejections(parts, data):
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    dec = StreamDecoder()
    got, prev = [], 0
    for c in [*cuts, len(stream)]:
        got += dec.feed(stream[prev:c])
        prev = c
    frames, rejected = _reference(stream)
    assert got == frames
    assert {str(k): v for k, v in dec.rejected.items() if v} == rejected
