"""A virtual receiver: the receiver firmware in Python, speaking docs/protocol.md to the hub
over TCP (the hub connects with ``socket://host:port``) or a pty (the hub opens it as a serial
device), so a simulated session goes through the hub's real serial transport.

It relays keypad presses with the firmware's obligations: keep each one until its
PRESS_RESULT, repeat it every 250 ms with RETRANSMIT, hand results back over the radio. Like
firmware/common/clk_link.c it answers a HELLO of another protocol revision with ERROR, and
relays nothing to that hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, replace

from hub.aio import cancel_and_wait
from hub.protocol import REVISION, ErrorCode, Radio
from hub.sim.ether import Ether
from hub.wire import StreamDecoder
from hub.wire.framing import FLAG_RETRANSMIT
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    Message,
    Ping,
    PollStateMessage,
    PressMessage,
    PressResult,
    Status,
)

REPEAT_S = 0.25
QUEUE_CAP = 256


@dataclass
class _Queued:
    press: PressMessage
    heard: float
    sent: float | None = None


class VirtualReceiver:
    def __init__(
        self,
        name: str,
        ether: Ether,
        rng: random.Random,
        on_result: Callable[[PressResult], None],
        on_poll_state: Callable[[PollStateMessage], None],
    ) -> None:
        self.name = name
        self.ether = ether
        self.rng = rng
        self.on_result = on_result
        self.on_poll_state = on_poll_state
        self.serial = rng.getrandbits(32)
        self.boot_id = rng.getrandbits(32)
        self.booted = time.monotonic()
        self.queue: dict[tuple[int, int], _Queued] = {}
        self.rx_ok = self.rx_bad = self.dropped = 0
        self.reboots = 0
        self.hub_ok = False  # answered a HELLO of our revision: presses may be relayed
        self.decoder = StreamDecoder()
        self._seq = 0
        self._write: Callable[[bytes], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._conn_writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._pty: tuple[int, int] | None = None

    # --- radio side --------------------------------------------------------------------------

    def hear(self, press: PressMessage) -> None:
        """A keypad's transmission reached this receiver (the ether already decided loss)."""
        self.rx_ok += 1
        key = (press.keypad_id, press.counter)
        if key in self.queue:
            return
        if len(self.queue) >= QUEUE_CAP:
            oldest = min(self.queue, key=lambda k: self.queue[k].heard)
            del self.queue[oldest]
            self.dropped += 1
        self.queue[key] = _Queued(press, time.monotonic())
        self._flush()

    # --- hub side ----------------------------------------------------------------------------

    def _send(self, msg: Message, flags: int = 0) -> None:
        if self._write is None:
            return
        wire = bytearray(msg.encode(self._seq, flags))
        self._seq = (self._seq + 1) & 0xFFFF
        impair = self.ether.impair
        if self.rng.random() < impair.garbage:
            wire[0:0] = bytes(self.rng.randrange(1, 256) for _ in range(self.rng.randrange(1, 8))) + b"\x00"
        if self.rng.random() < impair.corrupt:
            i = self.rng.randrange(len(wire) - 1)
            wire[i] ^= 1 << self.rng.randrange(8)
            wire[i] = wire[i] or 1  # keep the frame in one piece: the CRC must catch it
        data = bytes(wire)
        self._write(data)

    def feed(self, data: bytes) -> None:
        """Bytes from the hub."""
        for frame in self.decoder.feed(data):
            msg = frame.message
            if isinstance(msg, Hello):
                self.hub_ok = msg.proto == REVISION
                if self.hub_ok:
                    self._send(
                        HelloAck(REVISION, 1, 1, 0, self.serial, self.boot_id, Radio.SIMULATED, 6, 512)
                    )
                else:
                    why = f"hub speaks protocol revision {msg.proto}, this receiver speaks {REVISION}"
                    self._send(Error(ErrorCode.UNSUPPORTED_REVISION, why))
            elif isinstance(msg, Ping):
                uptime = int((time.monotonic() - self.booted) * 1000) & 0xFFFFFFFF
                self._send(
                    Status(uptime, self.rx_ok, self.rx_bad, min(len(self.queue), 0xFFFF), self.dropped)
                )
            elif isinstance(msg, PressResult):
                self.queue.pop((msg.keypad_id, msg.counter), None)
                self.ether.transmit(self.on_result, msg)
            elif isinstance(msg, PollStateMessage):
                self.on_poll_state(msg)  # broadcast to the keypads (each hears it or not)

    def _flush(self) -> None:
        if not self.hub_ok:
            return  # the presses wait in the queue for a hub we speak with
        now = time.monotonic()
        for q in list(self.queue.values()):
            if q.sent is None or now - q.sent >= REPEAT_S:
                age = min(int((now - q.heard) * 1000), 0xFFFF)
                self._send(replace(q.press, age_ms=age), FLAG_RETRANSMIT if q.sent is not None else 0)
                q.sent = now

    async def _repeat(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            self._flush()

    def reboot(self) -> None:
        """Power-cycle: the queue is lost and a new boot_id is announced."""
        self.queue.clear()
        self.boot_id = self.rng.getrandbits(32)
        self.booted = time.monotonic()
        self.decoder = StreamDecoder()
        self.hub_ok = False
        self.reboots += 1

    # --- transports ----------------------------------------------------------------------------

    async def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen for the hub; returns the pyserial URL it should open."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self._conn_writer is not None:
                self._conn_writer.close()
            self._conn_writer = writer
            self._write = writer.write
            try:
                while data := await reader.read(4096):
                    self.feed(data)
            except (ConnectionError, OSError):
                pass
            finally:
                if self._conn_writer is writer:
                    self._write = None
                    self._conn_writer = None
                writer.close()

        self._server = await asyncio.start_server(handle, host, port)
        self._tasks.append(asyncio.create_task(self._repeat(), name=f"{self.name} repeat"))
        sock = self._server.sockets[0].getsockname()
        return f"socket://{sock[0]}:{sock[1]}"

    def drop_connection(self) -> None:
        """Close the hub's connection (a cable pulled, a reboot): the hub must reconnect."""
        if self._conn_writer is not None:
            self._conn_writer.close()

    async def serve_pty(self) -> str:
        """Open a pty; returns the device path the hub opens as a serial port."""
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._pty = (master, slave)
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(master, 4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # the hub's side is closed for now (EIO); it will reopen
            if data:
                self.feed(data)

        def write(data: bytes) -> None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(master, data)

        loop.add_reader(master, readable)
        self._write = write
        self._tasks.append(asyncio.create_task(self._repeat(), name=f"{self.name} repeat"))
        return os.ttyname(slave)

    async def close(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        self._write = None
        if self._server is not None:
            self._server.close()
            if self._conn_writer is not None:
                self._conn_writer.close()
            await self._server.wait_closed()
            self._server = None
        if self._pty is not None:
            asyncio.get_running_loop().remove_reader(self._pty[0])
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None
