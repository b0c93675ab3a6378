"""uvicorn in the hub's own process and event loop, started and stopped with the hub."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn

from hub.aio import cancel_and_wait, within
from hub.core import Hub
from hub.web.app import create_app


class WebServer:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.should_exit = True
        try:
            await within(asyncio.shield(self.task), 5)
        except TimeoutError:
            await cancel_and_wait(self.task)


async def start_web(
    hub: Hub,
    host: str,
    port: int,
    token: str,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> WebServer:
    """Serve the app; with ``on_start``/``on_stop`` its lifespan starts and stops the hub."""
    config = uvicorn.Config(
        create_app(hub, token, on_start, on_stop),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on" if on_start or on_stop else "off",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # the runner owns the signals
    task = asyncio.create_task(server.serve(), name="web server")
    while not server.started:
        if task.done():
            task.result()  # raises the bind error, say
            raise OSError(f"the hub or its web server could not start on {host}:{port} (see above)")
        await asyncio.sleep(0.01)
    return WebServer(server, task)
