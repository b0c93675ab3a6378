"""The portable C firmware code, built with -Werror, AddressSanitizer and UBSan, against the
same shared vectors as the Python codec, and against the Python codec itself."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.protocol import ErrorCode
from hub.wire import StreamDecoder
from hub.wire.advert import encode_advert
from hub.wire.framing import decode_frame
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Ping,
    PollStateMessage,
    PressMessage,
    PressResult,
    Status,
    parse,
)
from hub.wire.mic import compute_mic
from tests.wire_vectors import canonical, load, message_from_fields

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware" / "common"


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is required (installed by .ci/run)")
    out = tmp_path_factory.mktemp("fw")
    proc = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE), f"BUILD={out}", "all"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


class Harness:
    """The C harness as a long-lived process speaking one line per command."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, line: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def feed(self, data: bytes) -> list[str]:
        assert self.proc.stdout
        self.proc.stdin.write(f"feed {data.hex() or '-'}\n")
        self.proc.stdin.flush()
        lines = []
        while (line := self.proc.stdout.readline().strip()) != ".":
            lines.append(line)
        return lines

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def c(build):
    h = Harness(build / "clk_harness")
    yield h
    assert h.close() == 0, "the harness exited with an error (sanitizer report on stderr)"


def encode_args(msg) -> str:
    values = []
    for f in dataclasses.fields(msg):
        v = getattr(msg, f.name)
        if isinstance(v, bytes):
            v = v.hex() or "-"
        elif isinstance(v, str):
            v = v.encode("utf-8").hex() or "-"
        elif isinstance(v, tuple):
            v = ",".join(map(str, v)) or "-"
        values.append(str(v))
    return " ".join(values)


def c_encode(c, msg, seq: int, flags: int) -> str:
    return c.ask(f"encode {msg.TYPE} {seq} {flags} {encode_args(msg)}".strip())


def test_c_unit_tests_pass_under_sanitizers(build):
    proc = subprocess.run([str(build / "test_state")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("0 failed")


def test_crc_vectors(c):
    for v in load("crc"):
        assert int(c.ask(f"crc {v['data'] or '-'}")) == v["crc"]


def test_cobs_vectors(c):
    for v in load("cobs"):
        assert c.ask(f"cobs_enc {v['decoded'] or '-'}") == v["encoded"]
        assert c.ask(f"cobs_dec {v['encoded']}") == v["decoded"]


@pytest.mark.parametrize("v", load("messages"), ids=lambda v: v["name"])
def test_message_vectors(c, v):
    msg = message_from_fields(v["type"], v["fields"])
    assert c_encode(c, msg, v["seq"], v["flags"]) == v["wire"]
    c.ask("reset")
    assert c.feed(bytes.fromhex(v["wire"])) == [f"FRAME seq={v['seq']} flags={v['flags']} {canonical(msg)}"]


MIC_FIELDS = ("keypad_id", "counter", "session_nonce", "poll_id", "item", "key", "battery")


def test_mic_vectors(c):
    for v in load("mic"):
        f = v["fields"]
        press = " ".join(str(f[k]) for k in MIC_FIELDS)
        line = f"mic {v['key']} {press}"
        assert int(c.ask(line)) == v["mic"]


@pytest.mark.parametrize("v", load("bad_frames"), ids=lambda v: v["name"])
def test_bad_frames_are_counted_by_the_same_reason(c, v):
    c.ask("reset")
    assert c.feed(bytes.fromhex(v["wire"])) == []
    assert c.ask("stats") == f"STATS frames=0 buffered=0 {v['reason']}=1"


def test_stream_vector_split_at_every_byte(c):
    (v,) = load("stream")
    wire = bytes.fromhex(v["wire"])
    rejected = " ".join(f"{k}={n}" for k, n in v["rejected"].items())
    for cut in range(len(wire) + 1):
        c.ask("reset")
        frames = c.feed(wire[:cut]) + c.feed(wire[cut:])
        assert len(frames) == len(v["frames"])
        assert c.ask("stats") == f"STATS frames={len(v['frames'])} buffered=0 {rejected}"


def test_advert_vector(c):
    (v,) = load("advert")
    f = v["fields"]
    line = "advert_enc " + " ".join(str(f[k]) for k in (*MIC_FIELDS, "mic"))
    assert c.ask(line) == v["payload"]
    assert c.ask(f"advert_dec {v['payload']}") == canonical(message_from_fields(0x10, f))
    assert c.ask(f"advert_dec {v['payload'][:-2]}") == "ERR"


u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)
u8 = st.integers(0, 255)
i8 = st.integers(-128, 127)
text = st.text(max_size=60)
any_message = st.one_of(
    st.builds(Hello, u8, u32),
    st.builds(HelloAck, u8, u8, u8, u8, u32, u32, u8, u8, u16),
    st.just(Ping()),
    st.builds(Status, u32, u32, u32, u16, u16),
    st.builds(PressMessage, u32, u32, u32, u16, u16, u8, u8, i8, u16, u32),
    st.builds(PressResult, u32, u32, u8, u16, u32),
    st.builds(
        PollStateMessage,
        u16,
        st.integers(0, 2),
        st.integers(0, 3),
        u32,
        st.binary(max_size=16),
        st.lists(u16, max_size=100).map(tuple),
    ),
    st.builds(KeypadSeen, u32, u8, i8, u8),
    st.builds(Log, u8, text),
    st.builds(Error, u16, text),
)


@settings(max_examples=300, deadline=None)
@given(any_message, u16, st.integers(0, 1))
def test_random_messages_cross_between_c_and_python(c, msg, seq, flags):
    wire = c_encode(c, msg, seq, flags)
    # C encodes, Python decodes ...
    frame = parse(decode_frame(bytes.fromhex(wire)[:-1]))
    assert (frame.seq, frame.flags, frame.message) == (seq, flags, msg)
    assert msg.encode(seq, flags).hex() == wire
    # ... and Python encodes, C decodes.
    c.ask("reset")
    assert c.feed(msg.encode(seq, flags)) == [f"FRAME seq={seq} flags={flags} {canonical(msg)}"]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_c_and_python_stream_decoders_agree_on_garbage(c, data):
    c.ask("reset")
    c_frames = c.feed(data)
    py = StreamDecoder()
    py_frames = py.feed(data)
    assert len(c_frames) == len(py_frames)
    counts = " ".join(f"{k}={n}" for k, n in sorted(py.rejected.items(), key=lambda kv: _ORDER.index(kv[0])))
    assert c.ask("stats") == f"STATS frames={len(py_frames)} buffered={py.buffered} {counts}".strip()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_cobs_agrees_with_the_cobs_package(c, data):
    from cobs import cobs

    assert c.ask(f"cobs_enc {data.hex() or '-'}") == cobs.encode(data).hex()
    assert c.ask(f"cobs_dec {cobs.encode(data).hex()}") == data.hex()


_ORDER = ["bad_cobs", "bad_crc", "bad_length", "bad_version", "unknown_type", "oversize"]


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=16, max_size=16), u32, u32, u32, u16, u16, u8, u8)
def test_mic_agrees_with_cryptography(c, key, kid, counter, nonce, poll, item, k, battery):
    """The v1.1 MIC input (tag, then keypad_id counter session_nonce poll_id item key battery),
    computed by C (clk_cmac.c) and by Python (cryptography), on any press and any session."""
    press = PressMessage(kid, counter, nonce, poll, item, k, battery, 0, 0, 0)
    mic = compute_mic(key, press)
    assert int(c.ask(f"mic {key.hex()} {kid} {counter} {nonce} {poll} {item} {k} {battery}")) == mic
    # and the C advert carries exactly the fields the MIC covers, then the MIC
    payload = c.ask(f"advert_enc {kid} {counter} {nonce} {poll} {item} {k} {battery} {mic}")
    assert payload == encode_advert(dataclasses.replace(press, mic=mic)).hex()


@pytest.mark.parametrize("proto", [1, 2, 3])
def test_a_receiver_answers_hello_by_revision(c, proto):
    """A v1.1 receiver answers a v1.1 HELLO with HELLO_ACK, and any other revision (a v1 hub)
    with ERROR unsupported_revision: never a HELLO_ACK the hub could misread."""
    frame = parse(decode_frame(bytes.fromhex(c.ask(f"hello {proto} 3735928559"))[:-1]))
    if proto == 2:
        assert isinstance(frame.message, HelloAck) and frame.message.proto == 2
    else:
        assert frame.message == Error(
            ErrorCode.UNSUPPORTED_REVISION, f"hub speaks protocol revision {proto}, this receiver speaks 2"
        )


@pytest.mark.parametrize("v", load("air"), ids=lambda v: v["name"])
def test_air_frames(c, v):
    """Receiver to keypad on the air: the type byte, then the payload; C reads what Python built."""
    msg = message_from_fields(v["type"], v["fields"])
    assert v["air"] == (bytes([msg.TYPE]) + msg.payload()).hex()
    assert c.ask(f"air {v['air']}") == canonical(msg)
    assert c.ask(f"air 10{v['air'][2:]}") == "ERR"  # a PRESS is never sent to a keypad this way


def _decision_frames() -> list:
    return [
        pytest.param(step[k], id=f"{d['name']} {i} {k}")
        for d in load("decisions")
        for i, step in enumerate(d["steps"])
        for k in ("press", "result")
        if k in step
    ]


@pytest.mark.parametrize("wire", _decision_frames())
def test_decision_frames_read_the_same_in_c(c, wire):
    """Every PRESS and PRESS_RESULT of the decision vectors reads the same in C as in Python."""
    c.ask("reset")
    frame = parse(decode_frame(bytes.fromhex(wire)[:-1]))
    assert c.feed(bytes.fromhex(wire)) == [
        f"FRAME seq={frame.seq} flags={frame.flags} {canonical(frame.message)}"
    ]


def test_portable_cmac_matches_rfc4493_and_mbedtls(build):
    """The MIC's AES-128-CMAC (clk_cmac.c, the code every firmware image carries): FIPS-197 and
    RFC 4493 vectors, and 20000 random keys and messages against mbedTLS."""
    proc = subprocess.run([str(build / "test_cmac")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("6 passed, 0 failed")
