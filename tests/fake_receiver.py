"""A scripted receiver at the lowest layer (a TCP socket speaking docs/protocol.md), for tests
that push exact frames at the hub's real serial transport and watch exactly what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

from hub.protocol import REVISION, Radio
from hub.wire import StreamDecoder
from hub.wire.messages import (
    Error,
    Hello,
    HelloAck,
    Ping,
    PollStateMessage,
    PressMessage,
    PressResult,
    Status,
)


class FakeReceiver:
    def __init__(self, answer_pings: bool = True, boot_id: int = 1, revision: int = REVISION) -> None:
        self.answer_pings = answer_pings
        self.boot_id = boot_id
        self.revision = revision  # the protocol revision it answers HELLO with
        self.session_nonce = 0  # heard in HELLO: the presses it makes up are of this session
        self.errors: list[Error] = []
        self.results: list[PressResult] = []
        self.poll_states: list[PollStateMessage] = []
        self.hellos = 0
        self.connections = 0
        self.got_result = asyncio.Event()
        self.heard = asyncio.Event()  # set on every message from the hub
        self.connected = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._seq = 0
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._handlers.add(asyncio.current_task())
            self.connections += 1
            self._writer = writer
            self._writers.add(writer)
            dec = StreamDecoder()
            try:
                while data := await reader.read(65536):
                    for f in dec.feed(data):
                        self._on(f.message)
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()
                self._writers.discard(writer)
                self._handlers.discard(asyncio.current_task())

        self.server = await asyncio.start_server(handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"socket://127.0.0.1:{self.port}"

    async def start_pty(self, link: Path) -> str:
        """Serve on a new pty; ``link`` (a stable path, like /dev/serial/by-id) points at it."""
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._pty = (master, slave)
        dec = StreamDecoder()
        self.connections += 1

        def readable() -> None:
            try:
                data = os.read(master, 65536)
            except (BlockingIOError, OSError):
                return
            for f in dec.feed(data):
                self._on(f.message)

        pending = bytearray()  # what the pty could not take yet, written as it drains

        def flush() -> None:
            try:
                del pending[: os.write(master, pending)]
            except (BlockingIOError, OSError):
                pass
            if not pending:
                asyncio.get_running_loop().remove_writer(master)

        def write(data: bytes) -> None:
            if not pending:
                asyncio.get_running_loop().add_writer(master, flush)
            pending.extend(data)

        asyncio.get_running_loop().add_reader(master, readable)
        self._pty_write = write
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.ttyname(slave))
        return str(link)

    def stop_reading(self) -> None:
        """The receiver keeps sending but no longer reads what the hub answers."""
        if getattr(self, "_pty", None):
            asyncio.get_running_loop().remove_reader(self._pty[0])
        elif self._writer is not None:
            self._writer.transport.pause_reading()

    def flood(self, presses: int, keypads: range, first_counter: int = 1) -> None:
        """``presses`` valid presses written at once, as fast as the link takes them."""
        data = bytearray()
        for i in range(presses):
            kid = keypads[i % len(keypads)]
            counter = first_counter + i // len(keypads)
            press = PressMessage(
                kid, counter, self.session_nonce, 0xFFFF, 0, ord("1234567"[i % 7]), 80, -50, 0, 0
            )
            data += press.encode(self._seq)
            self._seq = (self._seq + 1) & 0xFFFF
        self.send_raw(bytes(data))

    def unplug_pty(self) -> None:
        """The device vanishes: its pty closes."""
        if getattr(self, "_pty", None):
            asyncio.get_running_loop().remove_reader(self._pty[0])
            asyncio.get_running_loop().remove_writer(self._pty[0])
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None
            self._pty_write = None

    async def wait_for(self, predicate, within: float = 10.0) -> None:
        """Until ``predicate()`` holds, checked on every message from the hub."""
        async with asyncio.timeout(within):
            while not predicate():
                self.heard.clear()
                await self.heard.wait()

    def _on(self, msg) -> None:
        self.heard.set()
        if isinstance(msg, Hello):
            self.hellos += 1
            self.session_nonce = msg.session_nonce
            self.send(HelloAck(self.revision, 1, 0, 0, 42, self.boot_id, Radio.SIMULATED, 6, 512))
            self.connected.set()
        elif isinstance(msg, Error):
            self.errors.append(msg)
        elif isinstance(msg, Ping) and self.answer_pings:
            self.send(Status(1000, 0, 0, 0, 0))
        elif isinstance(msg, PressResult):
            self.results.append(msg)
            self.got_result.set()
        elif isinstance(msg, PollStateMessage):
            self.poll_states.append(msg)

    def send_raw(self, data: bytes) -> None:
        if getattr(self, "_pty_write", None) is not None:
            with contextlib.suppress(OSError):
                self._pty_write(data)
        elif self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    def send(self, msg, flags: int = 0) -> None:
        self.send_raw(msg.encode(self._seq, flags))
        self._seq = (self._seq + 1) & 0xFFFF

    def press(
        self, keypad_id: int, counter: int, key: str = "5", poll_id: int = 0xFFFF, flags: int = 0
    ) -> None:
        """An unsigned press of the session it heard in HELLO."""
        self.send(
            PressMessage(keypad_id, counter, self.session_nonce, poll_id, 0, ord(key), 80, -50, 0, 0), flags
        )

    async def wait_results(self, n: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while len(self.results) < n:
                self.got_result.clear()
                await self.got_result.wait()

    def drop(self) -> None:
        if self._writer is not None:
            self._writer.close()

    async def close(self) -> None:
        self.unplug_pty()
        if not hasattr(self, "server"):
            return
        self.server.close()  # no new connections, then end every open one
        for w in self._writers:
            w.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2)
        await asyncio.wait_for(self.server.wait_closed(), 5)
