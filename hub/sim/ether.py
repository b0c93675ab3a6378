"""The radio between virtual keypads and virtual receivers: loss, duplication, reordering
(random delay) and a seeded random source, so a lossy run is reproducible."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.aio import cancel_and_wait


@dataclass
class Impairments:
    loss: float = 0.05  # each transmission, each direction, each receiver
    duplicate: float = 0.02
    delay_ms: tuple[float, float] = (1.0, 30.0)  # uniform: reorders what is sent close together
    corrupt: float = 0.002  # serial link: a frame hit by a flipped bit
    garbage: float = 0.002  # serial link: noise bytes between frames


class Ether:
    """Delivers after a random delay; every delivery is an owned task, cancelled on close."""

    def __init__(self, impair: Impairments, rng: random.Random) -> None:
        self.impair = impair
        self.rng = rng
        self.sent = 0
        self.lost = 0
        self.duplicated = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def transmit(self, deliver: Callable[[Any], None], payload: Any) -> None:
        self.sent += 1
        if self.rng.random() < self.impair.loss:
            self.lost += 1
            return
        copies = 1
        if self.rng.random() < self.impair.duplicate:
            copies = 2
            self.duplicated += 1
        for _ in range(copies):
            delay = self.rng.uniform(*self.impair.delay_ms) / 1000
            task = asyncio.get_running_loop().create_task(self._later(delay, deliver, payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _later(delay: float, deliver: Callable[[Any], None], payload: Any) -> None:
        await asyncio.sleep(delay)
        deliver(payload)

    async def close(self) -> None:
        await cancel_and_wait(*self._tasks)
