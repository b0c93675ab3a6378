"""The receiver link: the protocol on top of any transport (handshake, heartbeat, presses,
answers, reconnect), and its flow control.

The state machine (aioesphomeapi's way): open the transport -> HELLO -> HELLO_ACK (within
``timings.handshake``) -> POLL_STATE -> PING every ``timings.ping``, the link lost when nothing
is heard for ``timings.silence`` or the transport ends -> back off (capped) -> open again.

Flow control, per receiver: its presses wait in its own bounded inbox in the engine
(hub/inbox.py); when that inbox is full the link stops reading its transport (the bytes wait in
the transport's small buffer, then in the kernel and in the receiver, which keeps every press
until answered) and reads again once the engine has caught up. While it is not reading by its
own choice, the link does not hold the receiver's silence against it. Answers are bounded too:
while the transport cannot write (the receiver does not read) the link stops reading presses it
could not answer, and if that lasts ``timings.write_stall`` it drops the link (the keypads retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from hub.aio import cancel_and_wait, within
from hub.errors import ClickerError
from hub.inbox import Inbox
from hub.protocol import NAME, REVISION, ErrorCode
from hub.receivers.base import EnginePort, ReceiverHealth
from hub.transports.base import Framing, Transport, TransportClosed
from hub.wire import StreamDecoder
from hub.wire.codec import Frame, Message
from hub.wire.framing import FrameError, pack_frame, unpack_frame
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    KeypadSeen,
    Log,
    Ping,
    PressMessage,
    PressResult,
    Status,
    parse,
)
from hub.wire.presses import from_wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkTimings:
    """The link's clocks, in seconds (docs/protocol.md, "5. The link"); tests pass shorter ones."""

    handshake: float = 3.0  # a HELLO_ACK within this, or the link is tried again
    ping: float = 1.0  # a PING this often
    silence: float = 3.0  # nothing heard for this long: the link is lost
    write_stall: float = 3.0  # the receiver has not read its answers for this long: dropped
    backoff_start: float = 0.25  # the first wait before opening again, doubled up to the cap
    backoff_cap: float = 5.0
    close: float = 5.0  # the transport's close may take this long


class LinkLost(ClickerError):
    """The link must be reopened (silence, end of stream, handshake failure)."""


class ReceiverLink:
    """One receiver over one transport, reconnecting by itself until ``stop``."""

    def __init__(
        self, transport: Transport, engine: EnginePort, timings: LinkTimings = LinkTimings()
    ) -> None:
        self.transport = transport
        self.name = transport.name
        self.engine = engine
        self.timings = timings
        self.health = ReceiverHealth(self.name, transport.kind)
        self.inbox: Inbox[Any] | None = None  # the engine's inbox for this receiver's presses
        self.connected_event = asyncio.Event()
        # what the state machine waits for: a HELLO_ACK, or the news that the link is lost
        self._frames: asyncio.Queue[Frame | LinkLost] = asyncio.Queue()
        self._backlog = asyncio.Event()  # set while the engine has too many of its presses
        self._backlog_cleared = asyncio.Event()
        self._backlog_cleared.set()
        self._seq = 0
        self._rx_seq: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._up = False
        self._established = False  # after HELLO_ACK: frames are handled as they arrive
        self._last_rx = 0.0
        self._stalls = 0  # times it was dropped for not reading its answers (the link's count)
        self._shed = 0  # presses the engine's inbox refused (the transport's drops add to it)
        self._decoder = StreamDecoder()
        self._reply_cb = self._reply  # one bound method, not a new one per press
        self._refused_revision: int | None = None  # the last revision refused (logged once)
        self._refused: str | None = None  # why the established link must be dropped

    # --- the engine's side ------------------------------------------------------------------

    def start(self) -> None:
        self.inbox = self.engine.open_inbox(self.name, self._backlog_high, self._backlog_low)
        self._task = asyncio.create_task(self._run(), name=f"receiver {self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.inbox is not None:
            self.engine.close_inbox(self.inbox)
            self.inbox = None

    def send(self, message: Message, flags: int = 0) -> bool:
        """Send if the link is up; a result lost here comes back as a retransmission."""
        if not self._up:
            return False
        if self.transport.framing is Framing.STREAM:
            data = message.encode(self._seq, flags)
        else:
            data = pack_frame(message.TYPE, message.payload(), self._seq, flags)
        try:
            self.transport.write(data)
        except (TransportClosed, OSError, RuntimeError) as exc:
            self.health.last_error = f"write failed: {exc}"[:200]
            return False
        self._seq = (self._seq + 1) & 0xFFFF
        return True

    def send_poll_state(self) -> None:
        self.send(self.engine.poll_state_message())

    # --- the state machine -------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self.timings.backoff_start
        while True:
            try:
                self._frames = asyncio.Queue()
                await self.transport.open()
                self._decoder = StreamDecoder()
                self._reader = asyncio.create_task(self._read(), name=f"read {self.name}")
                await self._handshake()
                backoff = self.timings.backoff_start
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any transport failure (serial, socket, BLE): reopen
                error = f"{type(exc).__name__}: {exc}"[:200]
                if error != self.health.last_error:  # the console and the terminal say why
                    self.health.last_error = error
                    self.engine.receiver_changed()
                log.info("receiver %s: %s", self.name, self.health.last_error)
            finally:
                self._up = False
                self._established = False
                await cancel_and_wait(self._reader)
                self._reader = None
                if self.inbox is not None:
                    self.inbox.clear()  # never answered: the receiver sends them again
                self._refresh()
                if self.health.connected:
                    self.health.connected = False
                    self.connected_event.clear()
                    self.engine.receiver_changed()
                with contextlib.suppress(Exception):
                    await within(self.transport.close(), self.timings.close)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.timings.backoff_cap)

    def _refresh(self) -> None:
        """What the transport counted, in the receiver's health."""
        self.health.unread = self._stalls + self.transport.health.unread
        self.health.shed = self._shed + self.transport.health.dropped

    async def _read(self) -> None:
        """Read the transport while the engine takes its presses and the receiver takes its
        answers; end the link when the transport ends."""
        transport = self.transport
        while True:
            if self._backlog.is_set():
                await self._backlog_cleared.wait()
                continue
            if not transport.writable:
                await transport.wait_writable()
                continue
            chunk = await transport.read()
            if not chunk:
                why = transport.health.last_error or "the transport closed"
                self._lose(why)
                return
            self._last_rx = time.monotonic()
            self._received(chunk)

    def _received(self, chunk: bytes) -> None:
        if self.transport.framing is Framing.STREAM:
            for frame in self._decoder.feed(chunk):
                self._deliver(frame)
            if self._decoder.rejected_total != self.health.rx_bad:
                self.health.rejected = {str(k): v for k, v in self._decoder.rejected.items()}
                self.health.rx_bad = self._decoder.rejected_total
                self.engine.receiver_changed()
            return
        try:
            frame = parse(unpack_frame(chunk))
        except FrameError as exc:
            self.health.rx_bad += 1
            self.health.rejected[str(exc.reason)] = self.health.rejected.get(str(exc.reason), 0) + 1
            self.engine.receiver_changed()
            return
        self._deliver(frame)

    async def _next_frame(self, limit: float) -> Frame | None:
        try:
            frame = await within(self._frames.get(), limit)
        except TimeoutError:
            return None
        if isinstance(frame, LinkLost):
            raise frame
        return frame

    def _lose(self, reason: str) -> None:
        """The link is gone or must go: stop sending, wake the state machine, which reopens it."""
        self._up = False
        self._frames.put_nowait(LinkLost(reason))

    # --- flow control --------------------------------------------------------------------------

    def _backlog_high(self) -> None:
        self.health.paused += 1
        self._backlog.set()
        self._backlog_cleared.clear()

    def _backlog_low(self) -> None:
        self._backlog.clear()
        self._backlog_cleared.set()
        self._last_rx = time.monotonic()  # its silence counts again from now

    def _not_reading(self) -> bool:
        return self._backlog.is_set() or not self.transport.writable

    async def _handshake(self) -> None:
        self._rx_seq = None
        self._refused = None
        self._up = True
        self.send(Hello(REVISION, self.engine.session_nonce()))
        deadline = time.monotonic() + self.timings.handshake
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
                self.engine.receiver_changed()
                return
            if frame is not None:
                self._handle(frame)  # presses may already be queued in the receiver
        raise LinkLost(f"no HELLO_ACK within {self.timings.handshake:g} s")

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
        """A checked frame: handled at once (no queue hop per press), but for the HELLO_ACK
        that the handshake waits for."""
        if self._established or not isinstance(frame.message, HelloAck):
            self._handle(frame)
        else:
            self._frames.put_nowait(frame)

    async def _serve(self) -> None:
        t = self.timings
        next_ping = time.monotonic()
        while True:
            now = time.monotonic()
            if self._refused is not None:
                raise LinkLost(self._refused)
            if self.transport.blocked_for() > t.write_stall:
                self._stalls += 1
                raise LinkLost(f"the receiver has not read its answers for {t.write_stall:g} s")
            if self._not_reading():
                self._last_rx = now  # not reading it is our doing: that is not its silence
            heard = max(self.health.last_status_at, self._last_rx)
            if now - heard > t.silence:
                raise LinkLost(f"no STATUS for {t.silence:g} s")
            if now >= next_ping:
                self.send(Ping())
                next_ping = now + t.ping
            wait = min(next_ping, heard + t.silence)
            if self._not_reading():
                wait = min(wait, now + t.write_stall / 4)  # watch the stall
            frame = await self._next_frame(max(0.0, wait - now))
            if frame is not None:
                self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        if self._refused is not None:
            return  # a refused receiver's frames are not read, whatever they say
        if self._rx_seq is not None and frame.seq != (self._rx_seq + 1) & 0xFFFF:
            self.health.seq_gaps += 1
        self._rx_seq = frame.seq
        msg = frame.message
        if isinstance(msg, PressMessage):
            self.health.presses += 1
            press = from_wire(msg, self.name, self.engine.clock())
            if not self.engine.submit_press(press, self._reply_cb, self.inbox):
                self._shed += 1
                self._refresh()
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
            self.engine.receiver_changed()
        elif isinstance(msg, KeypadSeen):
            self.engine.keypad_seen(msg.keypad_id, msg.battery, msg.rssi)
        elif isinstance(msg, HelloAck):  # a receiver that rebooted without the link noticing
            if (why := self._refusal(msg)) is not None:  # ... into firmware of another revision
                self._refused = why  # the state machine drops the link on its next turn
                return
            self._on_hello_ack(msg)
            self.send_poll_state()
            self.engine.receiver_changed()
        elif isinstance(msg, Log):
            log.info("receiver %s says: %s", self.name, msg.text)
        elif isinstance(msg, Error):
            self.health.last_error = f"receiver error {msg.code}: {msg.text}"[:200]

    def _reply(self, result: PressResult) -> None:
        self.send(result)
