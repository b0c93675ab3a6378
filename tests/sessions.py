"""Whole sessions driven straight into a real hub (actions through ``Hub.act``, presses through
``Hub.submit_press``, answered after their commit as from a receiver): fast enough to give the
report, the exports and the browser tests the journals and states of a real convention day."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.commands import ClosePoll, OpenPoll, ResetPoll, Reveal, Select
from hub.engine import Engine
from hub.model import DEFAULT_GRADE_KEYS, Keypad, PollMode, Press
from hub.proposals import Proposal, clermont_fiches
from hub.session import PollState, SessionConfig

ASSEMBLIES = ("écologique", "sociale", "démocratique")
CONSENT_KEYS = "ABCD"


def convention_roster(keypads: int, guests: int = 0) -> list[Keypad]:
    """``keypads`` members spread over the three assemblies, plus ``guests`` in a small one."""
    out = [Keypad(0x10000 + n, n, f"Membre {n}", ASSEMBLIES[(n - 1) % 3]) for n in range(1, keypads + 1)]
    out += [Keypad(0x20000 + n, keypads + n, f"Invité {n}", "invités") for n in range(1, guests + 1)]
    return out


def convention_config(
    keypads: int = 70,
    fiches: int = 40,
    guests: int = 0,
    proposals: Sequence[Proposal] | None = None,
    **kw: Any,
) -> SessionConfig:
    return SessionConfig(
        title="Convention citoyenne de Clermont-Ferrand — démonstration",
        proposals=list(proposals or clermont_fiches()[:fiches]),
        roster=convention_roster(keypads, guests),
        grace_s=kw.pop("grace_s", 0.05),
        **kw,
    )


@dataclass
class Room:
    """Members with opinions: fiche ``n`` has a quality, each member a bias by assembly."""

    hub: Engine
    seed: int = 7
    turnout: float = 0.95
    counters: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.quality: dict[int, float] = {}

    def grade(self, keypad: Keypad, number: int) -> int:
        q = self.quality.setdefault(number, self.rng.uniform(1.5, 5.5))
        bias = {"écologique": 0.6, "sociale": 0.0, "démocratique": -0.6}.get(keypad.assembly, 0.3)
        return max(0, min(6, round(self.rng.gauss(q + bias, 1.3))))

    async def press_all(self, keys: Callable[[Keypad], str | None], poll_id: int | None = None) -> int:
        """Every keypad presses the key ``keys`` gives it (None: it does not vote); returns how
        many presses were answered, once all are."""
        hub = self.hub
        assert hub.session is not None
        answers: list[Any] = []
        sent = 0
        for kp in sorted(hub.session.keypads.values(), key=lambda k: k.number):
            key = keys(kp)
            if key is None:
                continue
            self.counters[kp.keypad_id] = self.counters.get(kp.keypad_id, 0) + 1
            press = Press(
                kp.keypad_id,
                self.counters[kp.keypad_id],
                poll_id or 0xFFFF,
                0,
                key,
                at=hub.clock(),
                session_nonce=hub.session.config.nonce,  # pressed in this session
            )
            hub.submit_press(press, answers.append)
            sent += 1
        await hub.wait_until(lambda: len(answers) == sent, 30)
        return sent

    async def judge(self, number: int, poll_id: int) -> int:
        def key(kp: Keypad) -> str | None:
            if self.rng.random() > self.turnout:
                return None
            return DEFAULT_GRADE_KEYS[self.grade(kp, number)]

        return await self.press_all(key, poll_id)

    async def cards(self, poll_id: int) -> int:
        return await self.press_all(
            lambda kp: None if self.rng.random() > self.turnout else self.rng.choice(CONSENT_KEYS), poll_id
        )


async def close_and_wait(hub: Engine, poll_id: int) -> None:
    await hub.act(ClosePoll())
    assert hub.session is not None
    await hub.wait_until(lambda: hub.session.poll(poll_id).state is PollState.CLOSED, 30)  # type: ignore[union-attr]


async def grades_poll(room: Room, number: int, reveal: bool = True, **open_kw: Any) -> int:
    """Put fiche ``number`` up, open, vote, close, (reveal); returns the poll id."""
    hub = room.hub
    await hub.act(Select(number))
    poll = await hub.act(OpenPoll(PollMode.GRADES, **open_kw))
    await room.judge(number, poll.poll_id)
    await close_and_wait(hub, poll.poll_id)
    if reveal:
        await hub.act(Reveal(poll.poll_id))
    return poll.poll_id


async def consent_round(room: Room, reveal: bool = True) -> int:
    hub = room.hub
    poll = await hub.act(OpenPoll(PollMode.CONSENT))
    await room.cards(poll.poll_id)
    await close_and_wait(hub, poll.poll_id)
    if reveal:
        await hub.act(Reveal(poll.poll_id))
    return poll.poll_id


async def convention_day(room: Room, fiches: int) -> None:
    """Every fiche voted and revealed, with the incidents of a real day: a poll reset (its
    reason journaled) and held again, a second round on fiche 2, and a consent round."""
    hub = room.hub
    for number in range(1, fiches + 1):
        if number == 3:  # a false start: reset, then held again
            await hub.act(Select(number))
            poll = await hub.act(OpenPoll(PollMode.GRADES))
            await room.judge(number, poll.poll_id)
            await hub.act(ResetPoll(poll.poll_id, "fiche mal lue"))
        await grades_poll(room, number)
        if number == 2:
            await grades_poll(room, number)  # a second round on the same fiche
    await consent_round(room)
