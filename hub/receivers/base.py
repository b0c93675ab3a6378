"""What a receiver is to the engine, and what the engine is to a receiver.

A receiver (hub/receivers/link.py over a transport, or the advert listener) is started and
stopped by the engine, tells the keypads the poll when it changes (``send_poll_state``) and
publishes its health in the live state. It hands presses to the engine through the narrow
``EnginePort``: a bounded inbox of its own, the POLL_STATE to announce, the session nonce.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from hub.inbox import Inbox
from hub.model import Press
from hub.wire.messages import PollStateMessage, PressResult


@dataclass
class ReceiverHealth:
    """The receiver's part of the live state (console: connected, firmware, errors)."""

    name: str
    kind: str
    connected: bool = False
    firmware: str = ""
    rx_serial: int = 0
    boot_id: int = 0
    radio: int = 0
    channel: int = 0
    reboots: int = 0
    connects: int = 0
    last_status: dict[str, int] = field(default_factory=dict)
    last_status_at: float = 0.0
    rx_bad: int = 0  # frames our decoder dropped, all reasons
    rejected: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # presses the receiver dropped from a full queue (its STATUS)
    presses: int = 0
    seq_gaps: int = 0
    paused: int = 0  # times the hub stopped reading it because its presses were waiting
    shed: int = 0  # presses not taken, its inbox full (not answered: the receiver resends them)
    unread: int = 0  # times its link was dropped because it did not read its answers
    last_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class EnginePort(Protocol):
    """What a receiver needs from the engine: somewhere to send presses, the poll to announce,
    the clock that stamps a press's arrival."""

    def clock(self) -> float: ...

    def open_inbox(
        self, name: str, on_high: Callable[[], None] | None = None, on_low: Callable[[], None] | None = None
    ) -> Inbox[Any]: ...

    def close_inbox(self, inbox: Inbox[Any]) -> None: ...

    def submit_press(
        self, press: Press, reply: Callable[[PressResult], None] | None, inbox: Inbox[Any] | None = None
    ) -> bool: ...

    def poll_state_message(self) -> PollStateMessage: ...

    def session_nonce(self) -> int: ...

    def keypad_seen(self, keypad_id: int, battery: int, rssi: int) -> None: ...

    def receiver_changed(self) -> None: ...


class Receiver(Protocol):
    """What the engine needs from a receiver."""

    name: str
    health: ReceiverHealth
    connected_event: asyncio.Event

    def start(self) -> None:
        """Start its task (it reconnects by itself until ``stop``)."""

    async def stop(self) -> None: ...

    def send_poll_state(self) -> None:
        """Tell the keypads the poll as it is now (one-way receivers have no one to tell)."""
