"""Running the hub as a service (``clicker serve``): receivers, journal, web, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.engine import Engine
from hub.errors import ClickerError
from hub.federation.access import Credential
from hub.heap import freeze_startup_heap, thaw_heap
from hub.imports import InputError
from hub.journal import Journal
from hub.receivers.adverts import AdvertReceiver
from hub.receivers.link import ReceiverLink
from hub.records import poll_tallies
from hub.roster import signed_counters, store_counters
from hub.session import SessionConfig
from hub.traffic import TrafficError, TrafficRecorder
from hub.transports.serial import SerialTransport, find_usb_receivers
from hub.transports.tap import tap
from hub.verify import short_head


@dataclass
class ServeOptions:
    receivers: list[str] = field(default_factory=list)
    usb: bool = False
    ble: bool = False
    adverts: bool = False
    config: SessionConfig | None = None
    db: Path = Path("session.db")
    host: str = "127.0.0.1"
    port: int = 8000
    web: bool = True
    token: str | None = None  # default: the one kept beside the journal (hub/web/token.py)
    new_token: bool = False
    allow_hosts: list[str] = field(default_factory=list)
    federate: list[str] = field(default_factory=list)  # NATS servers: publish the journal there
    nats_credentials: Credential | None = None  # the room's own NATS user (hub.federation)
    nats_ca: str | None = None
    record: Path | None = None  # record every receiver's traffic there, for `clicker replay`
    roster_file: Path | None = None  # the keypad store: raised when the hub stops cleanly


class RecordRefused(ClickerError):
    """``--record`` cannot record this session (it was not recorded from its start, or the file
    cannot be written)."""


class ReceiverReporter:
    """Says in the terminal when a receiver's state changes: connected, lost, cannot be opened
    (with the reason), once per change rather than once per retry."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._last: dict[str, tuple[bool, str]] = {}

    def __call__(self, state: dict[str, Any]) -> None:
        for rx in state.get("receivers", []):
            now = (bool(rx.get("connected")), str(rx.get("last_error", "")))
            before = self._last.get(rx["name"])
            if now == before or (before is None and not now[0] and not now[1]):
                continue
            self._last[rx["name"]] = now
            if now[0] and (before is None or not before[0]):
                firmware = f" (firmware {rx['firmware']})" if rx.get("firmware") else ""
                self.say(f"receiver {rx['name']}: connected{firmware}")
            elif not now[0] and now[1]:
                verb = "lost" if before is not None and before[0] else "cannot be opened"
                self.say(f"receiver {rx['name']}: {verb}: {now[1]} (retrying)")


async def start_receivers(
    engine: Engine, opts: ServeOptions, recorder: TrafficRecorder | None = None
) -> list[str]:
    """A link on a transport for every receiver asked for (each with a recording tap when
    recording): serial devices and URLs, USB receivers found, BLE receivers in range, adverts."""
    urls = list(opts.receivers)
    if opts.usb:
        urls += [u for u in find_usb_receivers() if u not in urls]
    for url in urls:
        engine.add_receiver(ReceiverLink(tap(SerialTransport(url), recorder), engine))
    if opts.ble or opts.adverts:
        from hub.transports.ble import AdvertTransport, GattTransport, discover

        for device in await discover() if opts.ble else []:
            engine.add_receiver(ReceiverLink(tap(GattTransport(device), recorder), engine))
            urls.append(f"ble:{device.address}")
        if opts.adverts:
            engine.add_receiver(AdvertReceiver(tap(AdvertTransport(), recorder), engine))
            urls.append("ble-adverts")
    return urls


EXIT_JOURNAL_FAILED = 74  # sysexits' EX_IOERR: the journal could not be written


async def run_serve(opts: ServeOptions, say: Callable[[str], None]) -> int:
    """The hub, its receivers and (with ``web``) uvicorn in one event loop. With the web server,
    the app's lifespan starts the hub and stops it; without, this function does.

    Returns the exit status: 0 after a clean stop, ``EXIT_JOURNAL_FAILED`` when the journal
    could not be written (the hub then stopped deciding and answering; the cause is said in
    one line). A journal that does not verify raises JournalRefused before anything is served."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    sock = None
    if opts.web:  # the port first: if it is taken, one line and nothing started, nothing written
        from hub.web.server import listen, start_web

        sock = listen(opts.host, opts.port)
    recorder: TrafficRecorder | None = None
    try:
        if opts.record is not None:  # before the journal: a file it cannot write changes nothing
            try:
                recorder = TrafficRecorder(opts.record)
            except FileExistsError:
                raise RecordRefused(
                    f"--record: {opts.record} already exists (a recording is never overwritten)"
                ) from None
            except OSError as exc:
                raise RecordRefused(f"--record: {opts.record}: {exc.strerror or exc}") from None
        hub = await Engine.open(Journal(opts.db), opts.config)  # verifies the journal first
        if recorder is not None and hub.session.polls:
            await hub.stop()
            raise RecordRefused(
                f"--record: {opts.db} already holds {len(hub.session.polls)} polls; a recording starts "
                "with its session (give a new --db)"
            )
    except BaseException:
        if sock is not None:
            sock.close()
        if recorder is not None:
            await recorder.close()
            recorder.path.unlink(missing_ok=True)  # it made the file: nothing was recorded
        raise
    hub.subscribe(ReceiverReporter(say))
    if recorder is not None:
        recorder.start(hub)
    publisher = None

    async def start() -> None:
        nonlocal publisher
        urls = await start_receivers(hub, opts, recorder)
        say(f"receivers: {', '.join(urls) or 'none'}")
        if opts.federate and opts.nats_credentials is not None:
            from hub.federation.room import federate

            publisher = federate(hub, opts.nats_credentials, opts.federate, opts.nats_ca)
            say(f"publishing the journal to {', '.join(opts.federate)} as room {publisher.room}")

    async def stop_hub() -> None:
        await hub.stop()
        if publisher is not None:  # after the hub: it delivers the closing record
            await publisher.stop()
        if recorder is not None and not recorder.finished:
            recorder.truth(poll_tallies(hub.session))
            try:
                await recorder.close()
            except TrafficError as exc:  # the journal is whole: only the recording is not
                say(f"traffic recording incomplete: {exc}")
            else:
                lost = f" ({recorder.lost} events lost: the disk did not keep up)" if recorder.lost else ""
                say(f"traffic recorded: {opts.record}{lost} (clicker replay {opts.record})")

    server = None
    try:
        seq, head = hub.journal.durable
        say(f"journal {opts.db}: {seq} records verified, head {short_head(seq, head)}")
        if sock is not None:
            from hub.web.token import control_token, token_path

            token = opts.token or control_token(opts.db, opts.new_token)
            server = await start_web(
                hub, opts.host, opts.port, token, start, stop_hub, opts.allow_hosts, sock=sock
            )
            sock = None  # the server owns it now
            say(f"projector: http://{opts.host}:{server.port}/")
            say(f"console:   http://{opts.host}:{server.port}/console#token={token}")
            if not opts.token:
                say(f"token:     {token_path(opts.db)} (kept across restarts; --new-token replaces it)")
        else:
            await start()
        freeze_startup_heap()  # what is alive now is never walked by a collection again
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(hub.stopped.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    finally:
        if server is not None:
            await server.stop()  # it stops the hub
        await stop_hub()  # without the web server (or if it never started)
        if sock is not None:
            sock.close()
        thaw_heap()
        say(f"journal kept: {opts.db}")
    if hub.failure is not None:
        seq, head = hub.journal.durable
        held = f"the journal holds records 1 to {seq}, head {short_head(seq, head)}"
        say(f"hub stopped: {hub.failure}; {held}")
        return EXIT_JOURNAL_FAILED
    await keep_keypad_store(hub, opts, say)
    return 0


async def keep_keypad_store(hub: Engine, opts: ServeOptions, say: Callable[[str], None]) -> None:
    """After a clean stop, the roster file learns each signed keypad's highest counter, so that
    this session's recorded traffic is refused in every later one (docs/protocol.md, "Counters").
    A failure is one line: the journal is whole and ``clicker keypads sync`` can do it later."""
    highest = signed_counters(hub.session.highest, hub.session.keypads)
    later = f"clicker keypads sync {opts.roster_file or 'ROSTER'} {opts.db}"
    if opts.roster_file is None:
        if highest:
            say(f"keypad store: the roster did not come from a file named by --session; keep it: {later}")
        return
    try:
        moved = await asyncio.to_thread(store_counters, opts.roster_file, highest)
    except InputError as exc:
        say(f"keypad store NOT updated: {exc}; the journal is whole, once fixed: {later}")
        return
    say(f"keypad store: {opts.roster_file}: {moved} counters raised")
