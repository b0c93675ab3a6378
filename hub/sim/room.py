"""A simulated room: keypads held by members with opinions, pressing with human delays,
changing their minds, sometimes pressing a wrong key, a few never voting, through a lossy
ether into one or more virtual receivers. It keeps the ground truth of every keypad's last
valid press, to check the hub's tallies against.

Its keypads sign: with the keys of a roster (``clicker sim --roster``), or with keys drawn
from the seed, so the hub's MIC check runs on every simulated press.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from hub.aio import cancel_and_wait, within
from hub.model import DEFAULT_GRADE_KEYS, Keypad, PollMode, PressStatus
from hub.proposals import Proposal
from hub.protocol import PollStateCode
from hub.sim.ether import Ether, Impairments
from hub.sim.firmware_receiver import FirmwareReceiver
from hub.sim.keypad import SLEEP_AFTER_S, Led, VirtualKeypad
from hub.sim.receiver import VirtualReceiver
from hub.sim.voters import Opinions
from hub.wire.messages import PollStateMessage, PressMessage, PressResult

CONSENT_BY_GRADE = "DDDCBAA"  # from a member's grade to a card: red, red, red, orange, yellow, green, green


def _hear_poll_state(keypad: VirtualKeypad, msg: PollStateMessage) -> None:
    keypad.on_poll_state(msg, time.monotonic())


@dataclass
class Truth:
    """The last valid press of each keypad in a poll: (counter, key)."""

    mode: int
    presses: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)  # (keypad, item) -> ...

    def tally(self, keys: str, item: int = 0) -> list[int]:
        counts = [0] * len(keys)
        for (_, it), (_, key) in self.presses.items():
            if it == item:
                counts[keys.index(key)] += 1
        return counts

    def colours(self, consent_keys: dict[str, str]) -> dict[str, int]:
        out = dict.fromkeys(("green", "yellow", "orange", "red"), 0)
        for _, key in self.presses.values():
            out[consent_keys[key]] += 1
        return out


@dataclass(frozen=True)
class FirmwareRoom:
    """Receivers that are the receiver firmware on emulated boards (hub/sim/qemu.py)."""

    elf: Path
    workdir: Path  # the boards' RAM files and sockets


class SimRoom:
    def __init__(
        self,
        proposals: list[Proposal],
        keypads: int = 70,
        seed: int = 2022,
        impair: Impairments | None = None,
        receivers: int = 2,
        speed: float = 20.0,
        roster: list[Keypad] | None = None,
        grade_keys: str = DEFAULT_GRADE_KEYS,
        wrong_key_rate: float = 0.02,
        change_rate: float = 0.08,
        firmware: FirmwareRoom | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.proposals = proposals
        self.ether = Ether(impair or Impairments(), self.rng)
        self.speed = speed
        self.grade_keys = grade_keys
        self.wrong_key_rate = wrong_key_rate
        self.change_rate = change_rate
        if roster is None:  # ids and keys drawn from the seed: the same room for the same seed
            ids = self.rng.sample(range(0x100000, 0xFFFFFF), keypads)
            roster = [Keypad(kid, i + 1, key=self.rng.randbytes(16)) for i, kid in enumerate(ids)]
        self.opinions = Opinions(proposals, len(roster), len(grade_keys), seed)
        # Each keypad's counter starts at what the keypad store knows: its flash holds at least that.
        self.keypads = [
            VirtualKeypad(k.keypad_id, k.number, k.key, sleep_after=SLEEP_AFTER_S / speed, counter=k.counter)
            for k in roster
        ]
        self.by_id = {k.keypad_id: k for k in self.keypads}
        self.receivers: list[VirtualReceiver | FirmwareReceiver] = [
            FirmwareReceiver(
                f"rx{j + 1}",
                self.ether,
                self.rng,
                self._result,
                self._poll_state,
                firmware.elf,
                firmware.workdir,
            )
            if firmware
            else VirtualReceiver(f"rx{j + 1}", self.ether, self.rng, self._result, self._poll_state)
            for j in range(receivers)
        ]
        self.truth: dict[int, Truth] = {}
        self.up: dict[int, int] = {}  # poll id -> the proposal put to the vote (told by the script)
        self.presses_sent = 0
        self.transmissions = 0
        self._voting: dict[int, list[asyncio.Task[None]]] = {}
        self._open_poll: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()

    def roster(self) -> list[Keypad]:
        """The keypads as a roster: ids, short numbers, keys, and the counters they start from."""
        return [Keypad(k.keypad_id, k.number, key=k.key, counter=k.counter) for k in self.keypads]

    async def start(self, transport: str = "tcp") -> list[str]:
        """Start the receivers; returns what the hub must open, one per receiver."""
        urls = [await (r.serve_tcp() if transport == "tcp" else r.serve_pty()) for r in self.receivers]
        self._tasks.append(asyncio.create_task(self._retransmit(), name="keypad retransmissions"))
        return urls

    async def close(self) -> None:
        await cancel_and_wait(*[t for ts in self._voting.values() for t in ts], *self._tasks)
        for r in self.receivers:
            await r.close()
        await self.ether.close()

    # --- radio -----------------------------------------------------------------------------------

    def _transmit(self, press: PressMessage) -> None:
        self.transmissions += 1
        for r in self.receivers:
            self.ether.transmit(r.hear, press)

    def _result(self, result: PressResult) -> None:
        kp = self.by_id.get(result.keypad_id)
        if kp is not None and kp.on_result(result, time.monotonic()):
            self._wake.set()

    def _poll_state(self, msg: PollStateMessage) -> None:
        now = time.monotonic()
        for kp in self.keypads:
            self.ether.transmit(partial(_hear_poll_state, kp), msg)
        if msg.state == PollStateCode.OPEN and msg.poll_id not in self._voting:
            self._open_poll = msg.poll_id
            self.truth[msg.poll_id] = Truth(msg.mode)
            items = list(msg.items) if msg.mode == PollMode.SELF_PACED else [0]
            self._voting[msg.poll_id] = [
                asyncio.get_running_loop().create_task(self._voter(m, msg.poll_id, msg.mode, items, now))
                for m in range(len(self.keypads))
            ]
        elif msg.state != PollStateCode.OPEN and msg.poll_id == self._open_poll:
            self._open_poll = None

    async def _retransmit(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            for kp in self.keypads:
                for p in kp.due(now):
                    self._transmit(p)
                if kp.led is Led.NO_ANSWER:
                    self._wake.set()

    # --- voters ------------------------------------------------------------------------------------

    def _proposal_for(self, poll_id: int, item: int) -> Proposal:
        # The room hears poll numbers, not proposals: members judge the proposal "up", which the
        # demo tells them through ``up``; otherwise they take the proposal of that rank.
        number = self.up.get(poll_id) if item == 0 else item
        for p in self.proposals:
            if p.number == number:
                return p
        return self.proposals[(poll_id - 1) % len(self.proposals)]

    async def _sleep_human(self, mean_s: float) -> None:
        await asyncio.sleep(self.rng.lognormvariate(0, 0.5) * mean_s / self.speed)

    async def _voter(self, member: int, poll_id: int, mode: int, items: list[int], opened: float) -> None:
        kp = self.keypads[member]
        for item in items:
            await self._sleep_human(4.0)  # reading the fiche, then deciding
            grade = self.opinions.opinion(member, self._proposal_for(poll_id, item)).grade
            if grade is None:
                continue
            consent = mode == PollMode.CONSENT
            key = CONSENT_BY_GRADE[grade * 7 // len(self.grade_keys)] if consent else self.grade_keys[grade]
            if self.rng.random() < self.wrong_key_rate:
                await self._press_until_answered(kp, poll_id, item, "5" if consent else "9", valid=False)
            if self.rng.random() < self.change_rate:
                other = "B" if consent else self.grade_keys[self.rng.randrange(len(self.grade_keys))]
                await self._press_until_answered(kp, poll_id, item, other)
                await self._sleep_human(3.0)
            await self._press_until_answered(kp, poll_id, item, key)

    async def _press_until_answered(
        self, kp: VirtualKeypad, poll_id: int, item: int, key: str, valid: bool = True
    ) -> None:
        """Press, and press again (as a person would) while the LED says refused or no answer."""
        for _attempt in range(20):
            if self._open_poll != poll_id:
                return
            p = kp.press(key, time.monotonic(), item)
            self.presses_sent += 1
            if valid:
                self.truth[poll_id].presses[(kp.keypad_id, item)] = (p.counter, key)
            self._transmit(p)
            while kp.in_flight(item):  # signed again under the session's nonce, if need be
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await within(self._wake.wait(), 0.5)
            if kp.answers.get(item) in (PressStatus.COUNTED, PressStatus.DUPLICATE) or not valid:
                return
            await self._sleep_human(1.0)

    async def wait_voted(self, poll_id: int, limit: float = 120.0) -> None:
        """Until every member who meant to vote in the poll has a counted last press."""
        tasks = self._voting.get(poll_id, [])
        if tasks:
            await within(asyncio.gather(*tasks), limit)

    def stats(self) -> dict[str, int]:
        by_kind: dict[str, int] = defaultdict(int)
        for r in self.receivers:
            by_kind["receiver_reboots"] += r.reboots
            by_kind["receiver_dropped"] += r.dropped
        return {
            "presses_sent": self.presses_sent,
            "keypad_transmissions": self.transmissions,
            "radio_frames": self.ether.sent,
            "radio_lost": self.ether.lost,
            "radio_duplicated": self.ether.duplicated,
            **by_kind,
        }
