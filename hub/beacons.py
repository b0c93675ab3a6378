"""Keypads heard idle (KEYPAD_SEEN beacons): which of them report a low battery.

Only the roster's keypads are kept, so memory stays bounded whatever ids a receiver reports.
(A keypad that votes reports its battery in its presses: the session keeps those.)
"""

from __future__ import annotations

from collections.abc import Container

from hub.session import LOW_BATTERY


class Beacons:
    def __init__(self, roster: Container[int]) -> None:
        self._roster = roster
        self.low: set[int] = set()

    def heard(self, keypad_id: int, battery: int) -> bool:
        """Note a beacon; False (and nothing kept) for a keypad that is not in the roster."""
        if keypad_id not in self._roster:
            return False
        if battery < LOW_BATTERY:
            self.low.add(keypad_id)
        else:
            self.low.discard(keypad_id)
        return True
