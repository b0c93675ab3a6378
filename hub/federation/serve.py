"""Running the plenary as a service (``clicker plenary``): journal, consumers, web, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hub.federation.access import Credential
from hub.federation.convention import ConventionConfig
from hub.federation.plenary import Plenary
from hub.journal import Journal


@dataclass
class PlenaryOptions:
    cred: Credential
    servers: list[str]
    db: Path
    config: ConventionConfig | None = None
    tls_ca: str | None = None
    host: str = "127.0.0.1"
    port: int = 8100
    web: bool = True
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    allow_hosts: list[str] = field(default_factory=list)


async def run_plenary(opts: PlenaryOptions, say: Callable[[str], None]) -> Plenary:
    """The plenary and (with ``web``) its projector, console and API, until a signal; returns
    the plenary (its ``failure`` says whether it had to stop)."""
    from hub.federation.web import create_plenary_app
    from hub.web.door import HostPolicy
    from hub.web.server import listen, serve_app

    plenary = Plenary(Journal(opts.db), opts.cred, opts.servers, tls_ca=opts.tls_ca)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    async def start() -> None:
        await plenary.start(opts.config)
        assert plenary.conv is not None
        say(f"plenary journal {opts.db}; rooms: {', '.join(plenary.conv.rooms) or 'none'}")
        say(f"NATS: {', '.join(opts.servers)} (stream {opts.cred.stream})")

    server = None
    sock = listen(opts.host, opts.port) if opts.web else None  # the port first: one line if taken
    try:
        if sock is not None:
            hosts = HostPolicy(opts.host, opts.allow_hosts)
            server = await serve_app(
                lambda: create_plenary_app(plenary, opts.token, hosts),
                opts.host,
                opts.port,
                start,
                plenary.stop,
                sock,
            )
            sock = None  # the server owns it now
            say(f"projector: http://{opts.host}:{server.port}/")
            say(f"console:   http://{opts.host}:{server.port}/console#token={opts.token}")
        else:
            await start()
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(plenary.stopped.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        if plenary.failure is not None:
            say(f"plenary stopped: {plenary.failure}")
    finally:
        if server is not None:
            await server.stop()
        await plenary.stop()
        if sock is not None:
            sock.close()
    return plenary
