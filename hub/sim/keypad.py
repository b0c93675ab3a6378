"""A virtual keypad: the firmware's state machine in Python (counter, MIC, retransmission
until answered, LED), talking to receivers through a lossy ether."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from hub.model import UNKNOWN_POLL, PressStatus
from hub.wire.messages import PollState, Press, PressResult
from hub.wire.mic import compute_mic

RETRY_MS = (300, 600, 1200, 2400, 2400, 2400, 2400)  # as firmware/common/clk_keypad.c
SLEEP_AFTER_S = 3.0  # idle keypads deep-sleep and forget the poll they heard


class Led(StrEnum):
    OFF = "off"
    PENDING = "pending"
    COUNTED = "counted"
    REFUSED = "refused"
    NO_ANSWER = "no-answer"


class VirtualKeypad:
    def __init__(
        self,
        keypad_id: int,
        number: int,
        key: bytes | None = None,
        battery: int = 90,
        sleep_after: float = SLEEP_AFTER_S,
    ) -> None:
        self.keypad_id = keypad_id
        self.number = number
        self.key = key
        self.battery = battery
        self.counter = 0
        self.known_poll = UNKNOWN_POLL
        self.awake_until = 0.0
        self.pending: Press | None = None
        self.tries = 0
        self.next_send = 0.0
        self.led = Led.OFF
        self.last_status: PressStatus | None = None
        self.sleep_after = sleep_after

    def press(self, key: str, now: float, item: int = 0) -> Press:
        """A key press: the next counter, signed, pending until answered."""
        if now > self.awake_until:
            self.known_poll = UNKNOWN_POLL  # woke from deep sleep: RAM is gone
        self.counter += 1
        p = Press(self.keypad_id, self.counter, self.known_poll, item, ord(key), self.battery, 0, 0, 0)
        if self.key is not None:
            p = dataclasses.replace(p, mic=compute_mic(self.key, p))
        self.pending, self.tries = p, 1
        self.next_send = now + RETRY_MS[0] / 1000
        self.led = Led.PENDING
        self.awake_until = now + 30
        return p

    def due(self, now: float) -> Press | None:
        """The press to repeat now, if any; gives up (NO_ANSWER) like the firmware."""
        if self.pending is None or now < self.next_send:
            return None
        if self.tries > len(RETRY_MS):
            self.pending = None
            self.led = Led.NO_ANSWER
            self.awake_until = now + self.sleep_after
            return None
        self.next_send = now + RETRY_MS[min(self.tries, len(RETRY_MS) - 1)] / 1000
        self.tries += 1
        return self.pending

    def on_result(self, r: PressResult, now: float) -> bool:
        if r.keypad_id != self.keypad_id or self.pending is None or r.counter != self.pending.counter:
            return False
        self.pending = None
        self.known_poll = r.poll_id
        self.last_status = PressStatus(r.status)
        ok = self.last_status in (PressStatus.COUNTED, PressStatus.DUPLICATE)
        self.led = Led.COUNTED if ok else Led.REFUSED
        self.awake_until = now + self.sleep_after
        return True

    def on_poll_state(self, s: PollState, now: float) -> None:
        if now <= self.awake_until:  # only an awake keypad hears the broadcast
            self.known_poll = s.poll_id
