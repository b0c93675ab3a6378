"""A virtual keypad: the firmware's state machine (firmware/common/clk_keypad.c) in Python:
counter, session nonce, MIC, retransmission until answered, one press in flight per item, LED,
and signing again once when the hub answers stale_session naming another nonce."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from hub.model import UNKNOWN_POLL, PressStatus
from hub.wire.messages import PollStateMessage, PressMessage, PressResult
from hub.wire.mic import compute_mic

RETRY_MS = (300, 600, 1200, 2400, 2400, 2400, 2400)  # as firmware/common/clk_keypad.c
SLEEP_AFTER_S = 3.0  # idle keypads deep-sleep and forget the poll they heard (not the session)


class Led(StrEnum):
    OFF = "off"
    PENDING = "pending"
    COUNTED = "counted"
    REFUSED = "refused"
    NO_ANSWER = "no-answer"


@dataclass
class _InFlight:
    press: PressMessage
    tries: int
    next_send: float
    resigned: bool = False  # already signed again under a nonce the hub named


class VirtualKeypad:
    def __init__(
        self,
        keypad_id: int,
        number: int,
        key: bytes | None = None,
        battery: int = 90,
        sleep_after: float = SLEEP_AFTER_S,
        counter: int = 0,
    ) -> None:
        self.keypad_id = keypad_id
        self.number = number
        self.key = key
        self.battery = battery
        self.counter = counter  # persisted: never reused, across sessions
        self.session_nonce = 0  # kept through deep sleep; 0 until a POLL_STATE or result names one
        self.known_poll = UNKNOWN_POLL
        self.awake_until = 0.0
        self.pending: dict[int, _InFlight] = {}  # item -> its press in flight
        self.answers: dict[int, PressStatus] = {}  # item -> the last answer
        self.led = Led.OFF
        self.last_status: PressStatus | None = None
        self.sleep_after = sleep_after

    def _make(self, key: int, item: int) -> PressMessage:
        self.counter += 1
        p = PressMessage(
            self.keypad_id,
            self.counter,
            self.session_nonce,
            self.known_poll,
            item,
            key,
            self.battery,
            0,
            0,
            0,
        )
        if self.key is not None:
            p = dataclasses.replace(p, mic=compute_mic(self.key, p))
        return p

    def press(self, key: str, now: float, item: int = 0) -> PressMessage:
        """A key press: the next counter, signed, pending until answered (a newer press for
        the same item replaces it)."""
        if now > self.awake_until:
            self.known_poll = UNKNOWN_POLL  # woke from deep sleep: RAM is gone
        p = self._make(ord(key), item)
        self.pending[item] = _InFlight(p, 1, now + RETRY_MS[0] / 1000)
        self.answers.pop(item, None)
        self.led = Led.PENDING
        self.awake_until = now + 30
        return p

    def in_flight(self, item: int = 0) -> bool:
        return item in self.pending

    def due(self, now: float) -> list[PressMessage]:
        """The presses to send now; gives up on one (NO_ANSWER) like the firmware."""
        out = []
        for item, f in list(self.pending.items()):
            if now < f.next_send:
                continue
            if f.tries > len(RETRY_MS):
                del self.pending[item]
                if not self.pending:
                    self.led = Led.NO_ANSWER
                    self.awake_until = now + self.sleep_after
                continue
            f.next_send = now + RETRY_MS[min(f.tries, len(RETRY_MS) - 1)] / 1000
            f.tries += 1
            out.append(f.press)
        return out

    def on_result(self, r: PressResult, now: float) -> bool:
        if r.keypad_id != self.keypad_id:
            return False
        found = next(((i, f) for i, f in self.pending.items() if f.press.counter == r.counter), None)
        if found is None:
            return False  # an answer to a press already answered or replaced
        item, f = found
        self.known_poll = r.poll_id
        status = PressStatus(r.status)
        self.last_status = status
        if (
            status is PressStatus.STALE_SESSION
            and r.session_nonce != f.press.session_nonce
            and not f.resigned
        ):
            self.session_nonce = r.session_nonce  # the hub names the session: sign under it, once
            f.press, f.resigned, f.tries, f.next_send = self._make(f.press.key, item), True, 0, now
            return True
        if r.session_nonce:
            self.session_nonce = r.session_nonce
        del self.pending[item]
        self.answers[item] = status
        if not self.pending:
            ok = status in (PressStatus.COUNTED, PressStatus.DUPLICATE)
            self.led = Led.COUNTED if ok else Led.REFUSED
            self.awake_until = now + self.sleep_after
        return True

    def on_poll_state(self, s: PollStateMessage, now: float) -> None:
        if now <= self.awake_until:  # only an awake keypad hears the broadcast
            self.known_poll = s.poll_id
            self.session_nonce = s.session_nonce
