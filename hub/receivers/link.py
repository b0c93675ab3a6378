"""The receiver link, apart from its byte transport: handshake, heartbeat, reconnect.

The state machine (aioesphomeapi's way): connect -> HELLO -> HELLO_ACK (3 s) -> POLL_STATE ->
PING every second, link lost when no STATUS for 3 s or the transport ends -> back off (capped)
-> connect again. A transport subclass provides ``_connect``, ``_send_frame`` and ``_disconnect``
and hands every checked frame it receives to ``_deliver``.

Flow control, per receiver: its presses wait in its own bounded inbox in the hub (hub/inbox.py);
when that inbox is full the link stops reading the transport (``_pause_reading``: the bytes wait
in the kernel and in the receiver, which keeps every press until answered) and reads again once
the hub has caught up. While it is not reading by its own choice, the link does not hold the
receiver's silence against it: liveness is judged apart from backlog. Answers are bounded too:
when the transport cannot write (the receiver does not read) the link stops reading presses it
could not answer, and if that lasts ``WRITE_STALL`` it drops the link (the keypads retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.errors import ClickerError
from hub.model import Press
from hub.protocol import NAME, REVISION, ErrorCode
from hub.receivers.base import EnginePort, ReceiverHealth
from hub.wire.codec import Frame
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Message,
    Ping,
    PressResult,
    Status,
)
from hub.wire.messages import Press as WirePress
from hub.wire.presses import from_wire

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 3.0
PING_INTERVAL = 1.0
SILENCE_LIMIT = 3.0
WRITE_STALL = 3.0  # the transport could not write for this long: the receiver does not read
BACKOFF_START = 0.25
BACKOFF_CAP = 5.0


class LinkLost(ClickerError):
    """The link must be reopened (silence, end of stream, handshake failure)."""


class ReceiverLink(ABC):
    """One receiver, reconnecting by itself until ``stop``."""

    kind = "link"

    def __init__(self, name: str, hub: EnginePort, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.hub = hub
        self.clock = clock
        self.health = ReceiverHealth(name, self.kind)
        # what the state machine waits for: a HELLO_ACK, or the news that the link is lost
        self._frames: asyncio.Queue[Frame | LinkLost] = asyncio.Queue()
        self.inbox: Any = None  # the hub's inbox for this receiver's presses (while started)
        self._not_reading: set[str] = set()  # why the link does not read the transport now
        self._write_blocked_at: float | None = None
        self._seq = 0
        self._rx_seq: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._up = False
        self._established = False  # after HELLO_ACK: frames are handled as they arrive
        self._last_rx = 0.0
        self.connected_event = asyncio.Event()
        self._reply_cb = self._reply  # one bound method, not a new one per press
        self._refused_revision: int | None = None  # the last revision refused (logged once)
        self._refused: str | None = None  # why the established link must be dropped

    # --- transport hooks -------------------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None:
        """Open the transport; frames it receives go to ``_deliver``."""

    @abstractmethod
    def _send_frame(self, message: Message, flags: int) -> None:
        """Write one frame (raise OSError when the transport is gone)."""

    @abstractmethod
    async def _disconnect(self) -> None:
        """Close the transport and everything it started."""

    def _pause_reading(self) -> None:  # noqa: B027 (a transport that cannot pause keeps this)
        """Stop reading the transport (where the transport can: else presses beyond the inbox's
        capacity are shed, and the receiver resends them)."""

    def _resume_reading(self) -> None:  # noqa: B027
        """Read the transport again."""

    # --- public ------------------------------------------------------------------------------

    def start(self) -> None:
        self.inbox = self.hub.open_inbox(self.name, self._backlog_high, self._backlog_low)
        self._task = asyncio.create_task(self._run(), name=f"receiver {self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.inbox is not None:
            self.hub.close_inbox(self.inbox)
            self.inbox = None

    def send(self, message: Message, flags: int = 0) -> bool:
        """Send if the link is up; a result lost here comes back as a retransmission."""
        if not self._up:
            return False
        try:
            self._send_frame(message, flags)
        except (OSError, RuntimeError) as exc:
            self.health.last_error = f"write failed: {exc}"
            return False
        self._seq = (self._seq + 1) & 0xFFFF
        return True

    def send_poll_state(self) -> None:
        self.send(self.hub.poll_state_message())

    # --- the state machine -------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = BACKOFF_START
        while True:
            try:
                self._frames = asyncio.Queue()
                await self._connect()
                await self._handshake()
                backoff = BACKOFF_START
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any transport failure (serial, socket, BLE): reopen
                error = f"{type(exc).__name__}: {exc}"[:200]
                if error != self.health.last_error:  # the console and the terminal say why
                    self.health.last_error = error
                    self.hub.receiver_changed()
                log.info("receiver %s: %s", self.name, self.health.last_error)
            finally:
                self._up = False
                self._established = False
                if self.inbox is not None:
                    self.inbox.clear()  # never answered: the receiver sends them again
                self._not_reading.clear()
                self._write_blocked_at = None
                if self.health.connected:
                    self.health.connected = False
                    self.connected_event.clear()
                    self.hub.receiver_changed()
                with contextlib.suppress(Exception):
                    await within(self._disconnect(), 5.0)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_CAP)

    async def _next_frame(self, limit: float) -> Frame | None:
        try:
            frame = await within(self._frames.get(), limit)
        except TimeoutError:
            return None
        if isinstance(frame, LinkLost):
            raise frame
        return frame

    def _lose(self, reason: str) -> None:
        """The link is gone or must go (called by the transport): stop sending, wake the state
        machine, which reopens it."""
        self._up = False
        self._frames.put_nowait(LinkLost(reason))

    # --- flow control --------------------------------------------------------------------------

    def _backlog_high(self) -> None:
        self.health.paused += 1
        self._set_reading("backlog", False)

    def _backlog_low(self) -> None:
        self._set_reading("backlog", True)

    def _writing_blocked(self, blocked: bool) -> None:
        """The transport's write buffer went above (or back below) its high-water mark."""
        self._write_blocked_at = time.monotonic() if blocked else None
        self._set_reading("writes", not blocked)

    def _set_reading(self, reason: str, reading: bool) -> None:
        was = not self._not_reading
        if reading:
            self._not_reading.discard(reason)
        else:
            self._not_reading.add(reason)
        if was and self._not_reading:
            self._pause_reading()
        elif not was and not self._not_reading:
            self._last_rx = time.monotonic()  # its silence counts again from now
            self._resume_reading()

    async def _handshake(self) -> None:
        self._rx_seq = None
        self._refused = None
        self._up = True
        self.send(Hello(REVISION, self.hub.session_nonce()))
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            frame = await self._next_frame(left)
            if frame is not None and isinstance(frame.message, HelloAck):
                if (why := self._refusal(frame.message)) is not None:
                    raise LinkLost(why)
                self._on_hello_ack(frame.message)
                self.health.connected = True
                self._established = True
                self.health.connects += 1
                self.health.last_status_at = time.monotonic()
                self.connected_event.set()
                self.send_poll_state()
                self.hub.receiver_changed()
                return
            if frame is not None:
                self._handle(frame)  # presses may already be queued in the receiver
        raise LinkLost("no HELLO_ACK within 3 s")

    def _refusal(self, ack: HelloAck) -> str | None:
        """Why a receiver of another protocol revision is refused (None: it is not). It is told
        (ERROR), the log says it once per revision, the console shows it, and the link is tried
        again later (the receiver may be flashed meanwhile)."""
        if ack.proto == REVISION:
            return None
        why = (
            f"receiver speaks protocol revision {ack.proto}, this hub speaks {REVISION} ({NAME}): "
            "update its firmware"
        )
        self.send(Error(ErrorCode.UNSUPPORTED_REVISION, why))
        if self._refused_revision != ack.proto:
            log.warning("receiver %s refused: %s", self.name, why)
            self._refused_revision = ack.proto
        return why

    def _on_hello_ack(self, ack: HelloAck) -> None:
        if self.health.boot_id and ack.boot_id != self.health.boot_id:
            self.health.reboots += 1  # its queue is gone; the keypads will retransmit
        self.health.firmware = f"{ack.fw_major}.{ack.fw_minor}.{ack.fw_patch}"
        self.health.rx_serial = ack.rx_serial
        self.health.boot_id = ack.boot_id
        self.health.radio = ack.radio
        self.health.channel = ack.channel

    def _deliver(self, frame: Frame) -> None:
        """A checked frame from the transport: handled at once (no queue hop per press), but for
        the HELLO_ACK that the handshake waits for."""
        if self._established or not isinstance(frame.message, HelloAck):
            self._handle(frame)
        else:
            self._frames.put_nowait(frame)

    def _alive(self) -> None:
        """Bytes arrived (called by the transport): a receiver streaming presses is not silent,
        even while a burst keeps its STATUS waiting behind them in our queue."""
        self._last_rx = time.monotonic()

    async def _serve(self) -> None:
        next_ping = time.monotonic()
        while True:
            now = time.monotonic()
            if self._refused is not None:
                raise LinkLost(self._refused)
            if self._write_blocked_at is not None and now - self._write_blocked_at > WRITE_STALL:
                self.health.unread += 1
                raise LinkLost(f"the receiver has not read its answers for {WRITE_STALL:g} s")
            if self._not_reading:
                self._last_rx = now  # not reading it is our doing: that is not its silence
            silent = now - max(self.health.last_status_at, self._last_rx)
            if silent > SILENCE_LIMIT:
                raise LinkLost("no STATUS for 3 s")
            if now >= next_ping:
                self.send(Ping())
                next_ping = now + PING_INTERVAL
            deadline = max(self.health.last_status_at, self._last_rx) + SILENCE_LIMIT
            frame = await self._next_frame(max(0.0, min(next_ping, deadline) - now))
            if frame is not None:
                self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        if self._refused is not None:
            return  # a refused receiver's frames are not read, whatever they say
        if self._rx_seq is not None and frame.seq != (self._rx_seq + 1) & 0xFFFF:
            self.health.seq_gaps += 1
        self._rx_seq = frame.seq
        msg = frame.message
        if isinstance(msg, WirePress):
            self.health.presses += 1
            if not self.hub.submit_press(self._press(msg), self._reply_cb, self.inbox):
                self.health.shed += 1
        elif isinstance(msg, Status):
            self.health.last_status = {
                "uptime_ms": msg.uptime_ms,
                "rx_ok": msg.rx_ok,
                "rx_bad": msg.rx_bad,
                "queue": msg.queue,
                "dropped": msg.dropped,
            }
            self.health.dropped = msg.dropped
            self.health.last_status_at = time.monotonic()
            self.hub.receiver_changed()
        elif isinstance(msg, KeypadSeen):
            self.hub.keypad_seen(msg.keypad_id, msg.battery, msg.rssi)
        elif isinstance(msg, HelloAck):  # a receiver that rebooted without the link noticing
            if (why := self._refusal(msg)) is not None:  # ... into firmware of another revision
                self._refused = why  # the state machine drops the link on its next turn
                return
            self._on_hello_ack(msg)
            self.send_poll_state()
            self.hub.receiver_changed()
        elif isinstance(msg, Log):
            log.info("receiver %s says: %s", self.name, msg.text)
        elif isinstance(msg, Error):
            self.health.last_error = f"receiver error {msg.code}: {msg.text}"[:200]

    def _press(self, msg: WirePress) -> Press:
        return from_wire(msg, self.name, self.clock())

    def _reply(self, result: PressResult) -> None:
        self.send(result)
