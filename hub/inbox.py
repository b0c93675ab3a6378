"""A press source's waiting room in front of the hub's loop: bounded, with water marks.

Each receiver has its own inbox; the loop takes at most ``share`` presses from each inbox per
turn, so a receiver that floods the hub gets its share of every turn and no more, and never
delays the presses of the others. When an inbox holds ``high`` presses, its source is told to
stop reading its transport (``on_high``: backpressure, the bytes wait in the kernel and in the
receiver, which keeps every press until it is answered); when the loop has brought it down to
``low``, to read again (``on_low``). Beyond ``capacity`` a press is not taken at all (``shed``):
it is never answered, so the receiver sends it again. Memory is bounded whatever a peer does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class FlowLimits:
    """How many presses an inbox holds and gives (tests pass smaller ones)."""

    share: int = 256  # presses taken from one inbox per loop turn
    high: int = 2048  # stop reading the source
    low: int = 512  # read it again
    capacity: int = 16384  # a read already under way may bring a chunk beyond high; after this, shed


class Inbox(Generic[T]):
    __slots__ = (
        "_items",
        "_on_high",
        "_on_low",
        "_wake",
        "capacity",
        "high",
        "low",
        "name",
        "paused",
        "peak",
        "shed",
    )

    def __init__(
        self,
        name: str,
        wake: Callable[[], None],
        on_high: Callable[[], None] | None = None,
        on_low: Callable[[], None] | None = None,
        limits: FlowLimits = FlowLimits(),
    ) -> None:
        self.name = name
        self._items: deque[T] = deque()
        self._wake = wake
        self._on_high = on_high
        self._on_low = on_low
        self.high, self.low, self.capacity = limits.high, limits.low, limits.capacity
        self.paused = False  # the source was asked to stop reading
        self.peak = 0  # the most presses ever waiting at once
        self.shed = 0  # presses refused because the inbox was full

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> bool:
        """Queue a press for the loop; False (and nothing queued) when the inbox is full."""
        items = self._items
        if len(items) >= self.capacity:
            self.shed += 1
            return False
        items.append(item)
        n = len(items)
        if n > self.peak:
            self.peak = n
        self._wake()
        if n >= self.high and not self.paused:
            self.paused = True
            if self._on_high is not None:
                self._on_high()
        return True

    def oldest(self) -> T | None:
        return self._items[0] if self._items else None

    def take(self, n: int) -> list[T]:
        """Up to ``n`` presses, oldest first; tells the source to read again once low enough."""
        items = self._items
        if len(items) <= n:
            out = list(items)
            items.clear()
        else:
            out = [items.popleft() for _ in range(n)]
        if self.paused and len(items) <= self.low:
            self.paused = False
            if self._on_low is not None:
                self._on_low()
        return out

    def clear(self) -> int:
        """Drop every waiting press (its source is gone: it will send them again); how many."""
        dropped = len(self._items)
        self._items.clear()
        self.paused = False
        return dropped
