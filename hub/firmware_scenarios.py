"""Firmware in the loop: the keypad and receiver images on emulated boards, against the real hub.

- ``keypad_scenario``: one keypad image, its keys pressed through its panel, its radio bridged
  (with loss the scenario controls) to one receiver image, which the hub opens as a serial
  port. It checks what a member relies on: green only after a ``counted`` answer, retries when
  the radio loses the press, a counter that survives a power cut, a poll forgotten in deep
  sleep, a signed press the hub verifies, "no answer" when answers never come.
- ``relay_queue_limit``: the receiver image flooded with more distinct presses than its relay
  queue holds while the hub does not answer: what it keeps, what it drops, what it reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.commands import OpenPoll, Select
from hub.engine import Engine
from hub.journal import Journal
from hub.model import UNKNOWN_POLL, Keypad, PollMode, PressStatus
from hub.proposals import Proposal
from hub.protocol import REVISION
from hub.receivers.link import ReceiverLink
from hub.session import SessionConfig
from hub.sim.qemu import (
    BROADCAST,
    Board,
    Images,
    RadioPort,
    parse_air,
    radio_address,
    read_nvs,
    stack_peak,
)
from hub.transports.serial import SerialTransport
from hub.verify import verify
from hub.wire import StreamDecoder
from hub.wire.advert import decode_advert, encode_advert
from hub.wire.framing import FrameError
from hub.wire.messages import Hello, HelloAck, Ping, PollStateMessage, PressMessage, PressResult, Status

KEYPAD_ID = 0x00A1B2C3
KEYPAD_KEY = bytes(range(16))
RECEIVER_MAC = b"\x02\xff\x00\x00\x00\x01"
FIRST_COUNTER = 41  # provisioned: the keypad has pressed 41 times in earlier sessions


@dataclass
class ScenarioResult:
    checks: dict[str, bool] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


class Panel:
    """The keypad board's UART0: keys in, LED and power events out (boards/.../panel.c)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lines: list[tuple[float, str]] = []
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._new = asyncio.Event()

    async def open(self, path: Path) -> None:
        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            while True:  # QEMU creates the socket's file a moment before it listens
                with contextlib.suppress(FileNotFoundError, ConnectionRefusedError):
                    return await asyncio.open_unix_connection(str(path))
                await asyncio.sleep(0.01)

        reader, self._writer = await within(connect(), 10)
        self._task = asyncio.create_task(self._read(reader), name="keypad panel")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            self.lines.append((self.clock(), line.decode("ascii", "replace").strip()))
            self._new.set()

    async def press(self, key: str, hold: float = 0.05) -> float:
        """Press and release a key; returns when it went down."""
        assert self._writer is not None
        at = self.clock()
        self._writer.write(key.encode())
        await asyncio.sleep(hold)
        self._writer.write(b".")
        return at

    async def wait_for(self, line: str, after: float, limit: float) -> float:
        """The time ``line`` appeared after ``after`` (waits at most ``limit`` seconds)."""

        async def seen() -> float:
            while True:
                for t, text in self.lines:
                    if t >= after and text == line:
                        return t
                self._new.clear()
                await self._new.wait()

        return await within(seen(), limit)

    def leds(self, since: float, until: float = float("inf")) -> list[tuple[float, str]]:
        return [(t, text) for t, text in self.lines if since <= t <= until and text.startswith("led ")]

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()


class Air:
    """The radio between the keypad board and the receiver board, with the losses a test sets:
    ``drop_uplink`` presses lost on their way to the receiver, ``block_downlink`` answers lost
    on their way back. Everything that crosses is logged with its time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.keypad: RadioPort | None = None
        self.receiver: RadioPort | None = None
        self.drop_uplink = 0
        self.block_downlink = False
        self.uplink: list[tuple[float, PressMessage, bool]] = []  # (time, press, delivered)
        self.results: list[tuple[float, PressResult, bool]] = []
        self.poll_states: list[tuple[float, PollStateMessage]] = []

    def from_keypad(self, dst: bytes, payload: bytes) -> None:
        press = decode_advert(payload)
        delivered = self.drop_uplink == 0 and dst == BROADCAST and self.receiver is not None
        if self.drop_uplink:
            self.drop_uplink -= 1
        self.uplink.append((self.clock(), press, delivered))
        if delivered and self.receiver is not None:
            self.receiver.deliver(radio_address(press.keypad_id), -55, payload)

    def from_receiver(self, dst: bytes, air: bytes) -> None:
        if dst not in (BROADCAST, radio_address(KEYPAD_ID)):
            return
        delivered = not self.block_downlink and self.keypad is not None
        with contextlib.suppress(FrameError):
            msg = parse_air(air)
            if isinstance(msg, PollStateMessage):
                self.poll_states.append((self.clock(), msg))
            else:
                self.results.append((self.clock(), msg, delivered))
        if delivered and self.keypad is not None:
            self.keypad.deliver(RECEIVER_MAC, -55, air)

    def sends_of(self, counter: int) -> list[float]:
        return [t for t, p, _ in self.uplink if p.counter == counter]

    def counters_since(self, since: float) -> list[int]:
        """The distinct presses the keypad sent since ``since``, in order."""
        return list(dict.fromkeys(p.counter for t, p, _ in self.uplink if t >= since))

    def press_of(self, counter: int) -> PressMessage:
        return next(p for _, p, _ in self.uplink if p.counter == counter)

    def last_press(self) -> PressMessage:
        return self.uplink[-1][1]


async def _until(predicate: Callable[[], bool], limit: float, step: float = 0.02) -> bool:
    """Polls a condition on state that other tasks change; False when time runs out."""
    end = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(step)
    return True


def _session() -> SessionConfig:
    proposals = [Proposal(n, f"Fiche {n}") for n in (1, 2, 3)]
    return SessionConfig(
        title="Keypad firmware in the loop",
        proposals=proposals,
        roster=[Keypad(KEYPAD_ID, 1, key=KEYPAD_KEY)],
        require_mic=True,  # every press the hub counts was signed by the firmware's own CMAC
    )


async def keypad_scenario(
    images: Images, workdir: Path, log: Callable[[str], None] | None = None
) -> ScenarioResult:
    """The keypad image through the receiver image into the hub; see the module's docstring."""
    say = log or (lambda _line: None)
    res = ScenarioResult()
    t0 = time.monotonic()

    def clock() -> float:
        return time.monotonic() - t0

    air = Air(clock)
    panel = Panel(clock)
    receiver = Board("receiver", images.receiver, workdir, "tcp")
    receiver.provision({"id": 0x5EC0001})
    keypad = Board("keypad", images.keypad, workdir, "unix")
    keypad.provision({"id": KEYPAD_ID, "counter": FIRST_COUNTER, "aes_key": KEYPAD_KEY})
    hub = await Engine.open(Journal(workdir / "keypad-scenario.db"), _session())
    rx_radio = RadioPort(receiver.radio_path, air.from_receiver)

    async def keypad_on() -> None:
        await keypad.start()
        await panel.open(keypad.uart0_path)  # the board runs from here on
        air.keypad = RadioPort(keypad.radio_path, air.from_keypad)
        await air.keypad.open()

    async def keypad_off() -> None:
        nonlocal panel
        await panel.close()
        panel = Panel(clock)
        if air.keypad is not None:
            await air.keypad.close()
            air.keypad = None
        await keypad.power_cut()

    def hub_status(counter: int) -> PressStatus | None:
        return hub.session.press_status(KEYPAD_ID, counter)

    def result_for(counter: int) -> tuple[float, PressResult] | None:
        for t, r, delivered in air.results:
            if (
                delivered
                and r.counter == counter
                and r.status in (PressStatus.COUNTED, PressStatus.DUPLICATE)
            ):
                return t, r
        return None

    async def green_after(since: float, limit: float) -> float | None:
        with contextlib.suppress(TimeoutError):
            return await panel.wait_for("led 1 0", since, limit)
        return None

    try:
        await receiver.start()
        air.receiver = rx_radio
        await rx_radio.open()
        hub.add_receiver(ReceiverLink(SerialTransport(receiver.url, name="rx-firmware"), hub))
        await within(hub.receivers[0].connected_event.wait(), 15)
        await keypad_on()
        await panel.wait_for("sleep", 0, 10)  # nothing to do after power-on: deep sleep
        await hub.act(Select(1))
        poll = await hub.act(OpenPoll(PollMode.GRADES))
        say(f"poll {poll.poll_id} open, keypad asleep")

        nonce = hub.session.config.nonce

        # 1. Power-on, then asleep: the keypad knows neither the poll nor the session. Its first
        # two transmissions are lost, it repeats after 300 then 600 ms; the hub answers the third
        # stale_session naming the session, the keypad signs again under it: counted, green.
        air.drop_uplink = 2
        pressed = await panel.press("5")
        green = await green_after(pressed, 10)
        first, signed = air.counters_since(pressed)[:2] or (0, 0)
        sends = air.sends_of(first)
        gaps = [round(b - a, 3) for a, b in itertools.pairwise(sends)]
        res.details["retry_gaps_s"] = gaps
        res.checks["retries_after_loss_until_counted"] = (
            green is not None
            and len(sends) >= 3
            and 0.2 <= gaps[0] < gaps[1]  # 300 ms, then 600 ms (later when the machine is busy)
            and gaps[1] >= 1.6 * gaps[0]
            and hub_status(signed) is PressStatus.COUNTED
        )
        woken = air.press_of(first)
        res.checks["first_press_learns_the_session"] = (
            woken.poll_id == UNKNOWN_POLL
            and woken.session_nonce == 0
            and any(  # the hub's answer, as the keypad heard it
                r.counter == first and r.status == PressStatus.STALE_SESSION and r.session_nonce == nonce
                for _, r, delivered in air.results
                if delivered
            )
            and signed == first + 1
            and air.press_of(signed).session_nonce == nonce
        )
        say(f"press {first}: {len(sends)} sends, gaps {gaps}; signed again as {signed}, green at {green}")

        # 2. Awake, it knows the poll from the answer: the next press names it.
        pressed = await panel.press("6")
        green = await green_after(pressed, 5)
        awake = air.last_press()
        res.checks["awake_keypad_names_the_poll"] = (
            green is not None
            and awake.counter == signed + 1
            and awake.poll_id == poll.poll_id
            and hub_status(awake.counter) is PressStatus.COUNTED
        )

        # 3. The hub counts it, but the answer is lost: no green until an answer arrives.
        air.block_downlink = True
        pressed = await panel.press("4")
        counter = awake.counter + 1
        counted = await _until(lambda: hub_status(counter) is PressStatus.COUNTED, 5)
        await asyncio.sleep(1.5)
        no_green_while_unanswered = not any(text == "led 1 0" for _, text in panel.leds(pressed))
        blinking = {text for _, text in panel.leds(pressed)} == {"led 1 1", "led 0 0"}
        air.block_downlink = False
        green = await green_after(pressed, 5)
        answer = result_for(counter)
        res.checks["green_only_after_counted_answer"] = (
            counted
            and no_green_while_unanswered
            and blinking
            and green is not None
            and answer is not None
            and answer[0] <= green
        )
        say(f"press {counter}: counted by the hub, keypad green only at {green} after the answer at {answer}")

        # 4. Deep sleep forgets the poll, keeps the session: the press that wakes it names no
        # poll, is signed under the session, and counted at once.
        slept = await panel.wait_for("sleep", pressed, 10)
        pressed = await panel.press("7")
        booted = await panel.wait_for("boot", slept, 5)
        green = await green_after(pressed, 5)
        wake = air.last_press()
        res.checks["sleep_forgets_poll_keeps_session"] = (
            green is not None
            and booted >= slept
            and wake.counter == counter + 1
            and wake.poll_id == UNKNOWN_POLL
            and wake.session_nonce == nonce
            and hub_status(wake.counter) is PressStatus.COUNTED
        )

        # 5. A key that is not a grade: the hub refuses it, the LED says so and never green.
        pressed = await panel.press("9")
        refused = await _until(lambda: any(text == "led 0 1" for _, text in panel.leds(pressed)), 5)
        wrong = air.last_press()
        res.checks["refused_press_lights_red"] = (
            refused
            and wrong.counter == wake.counter + 1
            and hub_status(wrong.counter) is PressStatus.INVALID_KEY
            and not any(text == "led 1 0" for _, text in panel.leds(pressed))
        )

        # 6. Power cut while a press is pending: its counter was stored before it left, and the
        # first press after power-on uses the next one.
        air.block_downlink = True
        pressed = await panel.press("3")
        cut = wrong.counter + 1
        sent = await _until(lambda: bool(air.sends_of(cut)), 5)
        await keypad_off()
        stored = read_nvs(keypad.ram).get("counter")
        air.block_downlink = False
        await keypad_on()
        await panel.wait_for("sleep", clock() - 0.5, 10)
        pressed = await panel.press("2")
        green = await green_after(pressed, 5)
        after = air.counters_since(pressed)
        last = hub.session.poll(poll.poll_id).last.get((KEYPAD_ID, 1))
        res.checks["counter_survives_power_cut"] = (
            sent
            and stored == cut
            and green is not None
            and bool(after)
            and after[0] == cut + 1
            and hub_status(after[-1]) is PressStatus.COUNTED
            and last is not None
            and last[0] == after[-1]
        )
        res.details["counter_after_power_cut"] = {"stored": stored, "next_presses": after}

        # 7. Answers never come: eight sends over 11.7 s (300, 600, 1200, then 2400 ms apart),
        # "no answer" (red blink) 2.4 s after the last, then sleep.
        air.block_downlink = True
        pressed = await panel.press("1")
        slept = await panel.wait_for("sleep", pressed, 25)
        lost = air.counters_since(pressed)
        sends = air.sends_of(lost[0]) if lost else []
        red = [t for t, text in panel.leds(pressed) if text == "led 0 1"]
        dark = {text for _, text in panel.leds(red[0], slept)} if red else set()
        res.checks["no_answer_after_eight_sends"] = (
            len(lost) == 1
            and len(sends) == 8
            and 11.6 <= sends[-1] - sends[0] <= 13.5  # 11.7 s, later when the machine is busy
            and all(text != "led 1 0" for _, text in panel.leds(pressed))
            and bool(red)
            and 2.2 <= red[0] - sends[-1] <= 3.5
            and dark == {"led 0 1", "led 0 0"}  # red blink, then dark
            and slept > red[0]
        )
        res.details["no_answer_span_s"] = round(sends[-1] - sends[0], 2) if sends else None
        air.block_downlink = False

        # Every press the hub decided was signed by the firmware and verified.
        statuses = {s.name.lower(): n for s, n in hub.session.statuses.items() if n}
        res.details["hub_statuses"] = statuses
        res.checks["signed_presses_verified"] = (
            statuses.get("bad_mic", 0) == 0 and statuses.get("counted", 0) >= 5
        )
        res.details["keypad_counter_in_nvs"] = read_nvs(keypad.ram).get("counter")
    finally:
        with contextlib.suppress(Exception):
            await hub.stop()
        await panel.close()
        if air.keypad is not None:
            await air.keypad.close()
        await rx_radio.close()
        await keypad.power_cut()
        await receiver.power_cut()
    v = verify(workdir / "keypad-scenario.db")
    res.checks["journal_verifies"] = v.ok
    res.details["stack_peak"] = {
        "keypad": stack_peak(images.keypad, keypad.ram),
        "receiver": stack_peak(images.receiver, receiver.ram),
    }
    return res


async def relay_queue_limit(images: Images, workdir: Path, offered: int = 100) -> dict[str, Any]:
    """More distinct presses than the relay queue holds, while the hub (a bare socket here)
    never answers: the queue's bound, what STATUS reports, which presses it still repeats."""
    board = Board("flooded", images.receiver, workdir, "tcp")
    board.provision({"id": 0xF100D})
    await board.start()
    radio = RadioPort(board.radio_path, lambda _dst, _payload: None)
    await radio.open()
    reader, writer = await board.open_link()
    decoder = StreamDecoder()
    presses: list[tuple[float, PressMessage]] = []
    statuses: list[Status] = []
    acks: list[HelloAck] = []

    async def read() -> None:
        while data := await reader.read(4096):
            for frame in decoder.feed(data):
                msg = frame.message
                if isinstance(msg, PressMessage):
                    presses.append((time.monotonic(), msg))
                elif isinstance(msg, Status):
                    statuses.append(msg)
                elif isinstance(msg, HelloAck):
                    acks.append(msg)

    task = asyncio.create_task(read(), name="flood reader")
    try:
        for _ in range(25):  # until it has booted (bytes sent before are lost, as on a real UART)
            writer.write(Hello(REVISION, 1).encode(0))
            if await _until(lambda: bool(acks), 0.2):
                break
        for i in range(offered):
            press = PressMessage(0x100000 + i, 1, 0, 1, 0, ord("5"), 90, 0, 0, 0)
            radio.deliver(radio_address(press.keypad_id), -50, encode_advert(press))
            await asyncio.sleep(0.002)  # as a room of keypads does, not one burst
        await asyncio.sleep(0.5)
        writer.write(Ping().encode(1))
        await _until(lambda: bool(statuses), 5)
        cut = time.monotonic()
        await asyncio.sleep(0.6)  # more than two repeat periods: every queued press comes again
        repeated = sorted({p.keypad_id - 0x100000 for t, p in presses if t > cut})
    finally:
        await cancel_and_wait(task)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
        await radio.close()
        await board.power_cut()
    status = statuses[0] if statuses else Status(0, 0, 0, 0, 0)
    return {
        "offered": offered,
        "queued": status.queue,
        "dropped": status.dropped,
        "heard": status.rx_ok,
        "repeated": len(repeated),
        "kept_newest": repeated == list(range(offered - len(repeated), offered)),
        "when_full": "the oldest press is dropped and counted in STATUS.dropped; "
        "its keypad, unanswered, sends it again",
    }


def run_in_tempdir(coro: Callable[[Path], Any]) -> Any:
    """Runs ``coro(workdir)`` in a fresh event loop with a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="clicker-fw-") as tmp:
        return asyncio.run(coro(Path(tmp)))
