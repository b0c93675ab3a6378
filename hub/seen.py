"""The status of every press decided so far, by (keypad_id, counter), in about a byte each.

A press seen again must get the same answer however late it comes back (a receiver keeps a press
until it is answered, across a hub restart), so nothing can be forgotten. A dict of tuples costs
some 150 bytes a press, 150 MB over a day of a million presses; a keypad's counter only grows,
so its statuses fit in pages of consecutive counters, one byte each (0 = never seen).
"""

from __future__ import annotations

from collections.abc import Iterator

from hub.model import PressStatus

PAGE_BITS = 8
PAGE = 1 << PAGE_BITS  # counters per page: a keypad pressing 1,000 times a day fills 4
_STATUS = tuple(PressStatus)


class SeenPresses:
    """A mapping (keypad_id, counter) -> PressStatus with ``get``, ``[]=`` and ``len``."""

    __slots__ = ("_count", "_pages")

    def __init__(self) -> None:
        self._pages: dict[int, bytearray] = {}
        self._count = 0

    def get(self, ident: tuple[int, int]) -> PressStatus | None:
        keypad_id, counter = ident
        page = self._pages.get((keypad_id << 32 | counter) >> PAGE_BITS)
        if page is None:
            return None
        code = page[counter & (PAGE - 1)]
        return _STATUS[code - 1] if code else None

    def __setitem__(self, ident: tuple[int, int], status: PressStatus) -> None:
        keypad_id, counter = ident
        key = (keypad_id << 32 | counter) >> PAGE_BITS
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = bytearray(PAGE)
        slot = counter & (PAGE - 1)
        if not page[slot]:
            self._count += 1
        page[slot] = int(status) + 1

    def slot(self, keypad_id: int, counter: int) -> tuple[bytearray, int]:
        """Where a press's status is kept: ``page[index]`` is 0 while it was never decided, else
        its status + 1; ``settle`` writes it. One lookup for the press path's read and write."""
        key = (keypad_id << 32 | counter) >> PAGE_BITS
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = bytearray(PAGE)
        return page, counter & (PAGE - 1)

    def settle(self, page: bytearray, index: int, status: PressStatus) -> None:
        """Record the status of a press never decided before, at the place ``slot`` gave."""
        page[index] = status + 1
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, tuple) and len(ident) == 2 and self.get(ident) is not None

    def items(self) -> Iterator[tuple[tuple[int, int], PressStatus]]:
        for key, page in self._pages.items():
            base = key << PAGE_BITS
            for slot, code in enumerate(page):
                if code:
                    ident = base | slot
                    yield (ident >> 32, ident & 0xFFFFFFFF), _STATUS[code - 1]

    @property
    def pages(self) -> int:
        """How many pages are held (about 400 bytes each, with the dict entry)."""
        return len(self._pages)
