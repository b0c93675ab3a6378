"""uvicorn in the hub's own process and event loop, started and stopped with the hub.

The listening socket is bound here, before uvicorn starts, so that a port in use is one line
(``PortInUse``) rather than uvicorn's log and a traceback; and uvicorn does not take the
signals: the command that runs the hub owns Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Awaitable, Callable, Generator, Iterable
from typing import Any

import uvicorn

from hub.aio import cancel_and_wait, within
from hub.engine import Engine
from hub.errors import ClickerError
from hub.web.app import create_app
from hub.web.door import HostPolicy


class PortInUse(ClickerError):
    """The web server cannot listen where it was asked to; the message is one line."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the runner's handlers stay in place


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or ``PortInUse`` saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        why = "the port is in use (another clicker?)" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise PortInUse(f"cannot listen on {host}:{port}: {why}; choose another --port") from None
    except OverflowError:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: a port is between 0 and 65535") from None
    return sock


class WebServer:
    def __init__(
        self,
        server: uvicorn.Server,
        task: asyncio.Task[None],
        sock: socket.socket,
        on_stop: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.server = server
        self.task = task
        self.port: int = sock.getsockname()[1]
        self._on_stop = on_stop

    async def stop(self) -> None:
        """Stop serving (open connections get 1 s to finish), then ``on_stop``."""
        self.server.should_exit = True
        try:
            await within(asyncio.shield(self.task), 3)
        except TimeoutError:
            await cancel_and_wait(self.task)
        if self._on_stop is not None:
            on_stop, self._on_stop = self._on_stop, None
            await on_stop()


async def start_web(
    hub: Engine,
    host: str,
    port: int,
    token: str,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    allow_hosts: Iterable[str] = (),
    sock: socket.socket | None = None,
) -> WebServer:
    """Serve the app: the port is taken first, then ``on_start`` runs (the hub starts: its errors
    are raised here as they are), then uvicorn serves; ``WebServer.stop`` ends with ``on_stop``.
    ``sock``: a socket already bound by ``listen`` (the caller took the port before anything else)."""
    hosts = HostPolicy(host, allow_hosts)
    return await serve_app(lambda: create_app(hub, token, hosts=hosts), host, port, on_start, on_stop, sock)


async def serve_app(
    make_app: Callable[[], Any],
    host: str,
    port: int,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    sock: socket.socket | None = None,
) -> WebServer:
    """``start_web`` for any app (the hub's, or the plenary's): ``make_app`` is called once
    ``on_start`` has run."""
    sock = sock if sock is not None else listen(host, port)
    try:
        if on_start is not None:
            await on_start()
        config = uvicorn.Config(
            make_app(),
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="web server")
    except BaseException:
        sock.close()
        raise
    try:
        while not server.started:
            if task.done():
                task.result()
                raise OSError(f"the web server could not start on {host}:{port}")
            await asyncio.sleep(0.01)
    except BaseException:
        await cancel_and_wait(task)
        sock.close()
        if on_stop is not None:
            await on_stop()
        raise
    return WebServer(server, task, sock, on_stop)
