"""One NATS connection for a room's publisher or for the plenary, and its health.

nats-py reconnects by itself once connected; the first connection is retried here with a
capped backoff, so a room or a plenary started while NATS is down keeps working and connects
when NATS comes back. Errors the server sends (a permissions violation, say) are kept for the
console instead of being logged and lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client as NATS

from hub.federation.access import Credential

log = logging.getLogger(__name__)
BACKOFF_START, BACKOFF_CAP = 0.2, 5.0


@dataclass
class LinkHealth:
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    errors: int = 0
    last_error: str = ""
    servers: list[str] = field(default_factory=list)
    reconnected: asyncio.Event = field(default_factory=asyncio.Event)  # set each time the link is back

    async def backoff(self, seconds: float) -> None:
        """Wait ``seconds`` before trying again, or less if the link comes back meanwhile."""
        self.reconnected.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.reconnected.wait()

    def to_json(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "connects": self.connects,
            "disconnects": self.disconnects,
            "errors": self.errors,
            "last_error": self.last_error,
        }


def tls_context(ca: str | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=ca) if ca else None


async def connect_forever(
    cred: Credential, servers: list[str], health: LinkHealth, name: str, tls_ca: str | None = None
) -> NATS:
    """Connect, retrying with a capped backoff until it works (cancel to give up)."""
    health.servers = list(servers)

    async def on_error(exc: Exception) -> None:
        health.errors += 1
        health.last_error = str(exc)

    async def on_disconnected() -> None:
        if health.connected:
            health.disconnects += 1
        health.connected = False

    async def on_reconnected() -> None:
        health.connected = True
        health.connects += 1
        health.reconnected.set()

    backoff = BACKOFF_START
    while True:
        try:
            nc = await nats.connect(
                servers,
                user=cred.user,
                password=cred.password,
                inbox_prefix=cred.inbox,
                name=name,
                tls=tls_context(tls_ca),
                allow_reconnect=True,
                # one attempt here: nats-py's own retry loop of a first connection can swallow a
                # cancellation (a stop would then wait forever); this loop retries instead
                max_reconnect_attempts=1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                ping_interval=5,
                max_outstanding_pings=2,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            )
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            health.last_error = f"cannot reach NATS ({', '.join(servers)}): {exc or type(exc).__name__}"
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_CAP)
            continue
        nc.options["max_reconnect_attempts"] = -1  # once connected, nats-py reconnects for ever
        health.connected = True
        health.connects += 1
        return nc


async def stop_task(task: asyncio.Task[Any] | None, within_s: float = 5.0) -> None:
    """Cancel a task that runs nats-py code, again if needed: the library sometimes swallows a
    cancellation (in its close), so one ``cancel()`` is not always the end of it."""
    if task is None:
        return
    deadline = asyncio.get_running_loop().time() + within_s
    while not task.done() and asyncio.get_running_loop().time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.done():
        log.error("task %s did not stop", task.get_name())
        return
    if not task.cancelled():
        task.exception()  # retrieved: a failure while stopping is not worth a warning


async def close_quietly(nc: NATS | None) -> None:
    if nc is None or nc.is_closed:
        return
    try:
        async with asyncio.timeout(3.0):
            await nc.close()
    except (TimeoutError, nats.errors.Error, OSError) as exc:
        log.debug("NATS close: %s", exc)
