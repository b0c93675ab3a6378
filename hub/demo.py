"""``clicker demo``: the hub, a simulated room (hub/sim/) reached through the real serial
transport and receiver links, a scripted session over the fiches, and a check of every poll
against the simulator's ground truth. With ``record``, a recording tap on each receiver's
transport writes the traffic that ``clicker replay`` plays back (hub/traffic.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hub.aio import within
from hub.commands import ClosePoll, Command, OpenPoll, Reveal, Select
from hub.engine import Engine
from hub.heap import freeze_startup_heap, thaw_heap
from hub.journal import Journal
from hub.model import PollMode
from hub.proposals import Proposal, clermont_fiches
from hub.receivers.link import ReceiverLink
from hub.records import poll_tallies
from hub.session import PollState, SessionConfig
from hub.sim.ether import Impairments
from hub.sim.room import FirmwareRoom, SimRoom
from hub.traffic import TrafficRecorder
from hub.transports.serial import SerialTransport
from hub.transports.tap import tap


@dataclass
class DemoOptions:
    seed: int = 2022
    keypads: int = 70
    proposals: int = 40
    loss: float = 0.05
    receivers: int = 2
    speed: float = 25.0
    db: Path | None = None
    transport: str = "tcp"  # or "pty"
    consent: bool = True
    reboot: bool = True  # one receiver reboots mid-session
    record: Path | None = None
    firmware: Path | None = None  # the receiver firmware image: receivers run it in QEMU


@dataclass
class DemoResult:
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        checks = ("tallies_match_ground_truth", "plenary_matches_rooms", "plenary_journal_verifies")
        return bool(self.summary.get(checks[0])) and all(self.summary.get(c, True) for c in checks[1:])


# The convention's three assemblies; the demo's members sit in them in turn.
DEMO_ASSEMBLIES = ("écologique", "sociale", "démocratique")


def demo_config(fiches: list[Proposal], room: SimRoom, speed: float) -> SessionConfig:
    """The demo's session: the room's keypads with their keys, and every press must be signed."""
    roster = [replace(k, assembly=DEMO_ASSEMBLIES[i % 3]) for i, k in enumerate(room.roster())]
    return SessionConfig(
        title="Convention citoyenne de Clermont-Ferrand — démonstration",
        proposals=fiches,
        roster=roster,
        grace_s=max(0.2, 1.5 / max(speed / 5, 1.0)),  # human time runs faster in the demo
        require_mic=True,
    )


async def vote_session(
    hub: Engine,
    room: SimRoom,
    fiches: list[Proposal],
    opts: DemoOptions,
    act: Callable[[Command], Awaitable[Any]],
    progress: Callable[[str], None] | None = None,
) -> tuple[int, list[str]]:
    """Every fiche in turn (select, open, the room votes, close, reveal), then a consent round;
    each poll checked against the room's ground truth. Returns the polls run and the mismatches."""
    mismatches: list[str] = []
    polls = 0
    session = hub.session

    async def run_poll(command: OpenPoll, check: Callable[[int], list[str]]) -> None:
        nonlocal polls
        poll = await act(command)
        room.up[poll.poll_id] = poll.items[0]
        await asyncio.sleep(0)
        # the room votes when its receivers hear POLL_STATE; wait for it to start and finish
        for _ in range(200):
            if poll.poll_id in room.truth:
                break
            await asyncio.sleep(0.01)
        await room.wait_voted(poll.poll_id)
        await act(ClosePoll())
        await hub.wait_until(lambda: session.poll(poll.poll_id).state is PollState.CLOSED, 30)
        await act(Reveal(poll.poll_id))
        polls += 1
        mismatches.extend(check(poll.poll_id))

    def check_grades(number: int) -> Callable[[int], list[str]]:
        def check(poll_id: int) -> list[str]:
            got = session.poll(poll_id).tally(number)
            want = room.truth[poll_id].tally(session.config.grade_keys)
            return [] if got == want else [f"poll {poll_id} (fiche {number}): hub {got}, truth {want}"]

        return check

    for n, fiche in enumerate(fiches):
        if opts.reboot and n == len(fiches) // 2 and room.receivers:
            room.receivers[0].reboot()
            room.receivers[0].drop_connection()
        await act(Select(fiche.number))
        await run_poll(OpenPoll(PollMode.GRADES), check_grades(fiche.number))
        if progress:
            progress(f"fiche {fiche.number}")

    if opts.consent:

        def check_consent(poll_id: int) -> list[str]:
            got = session.poll(poll_id).colours
            want = room.truth[poll_id].colours(session.config.consent_keys)
            return [] if got == want else [f"consent poll {poll_id}: hub {got}, truth {want}"]

        await run_poll(OpenPoll(PollMode.CONSENT), check_consent)
        if progress:
            progress("consent")
    return polls, mismatches


async def run_demo(opts: DemoOptions, progress: Callable[[str], None] | None = None) -> DemoResult:
    fiches = clermont_fiches()[: opts.proposals]
    recorder = TrafficRecorder(opts.record) if opts.record else None
    tmp = tempfile.TemporaryDirectory(prefix="clicker-demo-")
    room = SimRoom(
        fiches,
        opts.keypads,
        opts.seed,
        Impairments(loss=opts.loss),
        opts.receivers,
        opts.speed,
        firmware=FirmwareRoom(opts.firmware, Path(tmp.name)) if opts.firmware else None,
    )
    db = opts.db or Path(tmp.name) / "demo.db"
    hub: Engine | None = None
    started = time.monotonic()
    try:
        urls = await room.start(opts.transport)
        config = demo_config(fiches, room, opts.speed)
        hub = await Engine.open(Journal(db), config)
        if recorder:
            recorder.start(hub)
        for i, url in enumerate(urls):
            hub.add_receiver(ReceiverLink(tap(SerialTransport(url, name=f"rx{i + 1}"), recorder), hub))
        await within(asyncio.gather(*(r.connected_event.wait() for r in hub.receivers)), 15)
        freeze_startup_heap()  # as `clicker serve` does (hub/heap.py)

        polls, mismatches = await vote_session(hub, room, fiches, opts, hub.act, progress)
        # a receiver rebooted late in a short session may still be on its way back
        with contextlib.suppress(TimeoutError):
            await hub.wait_until(lambda: all(r.health.connected for r in hub.receivers), 15)
        session = hub.session
        ranking = session.ranking(revealed_only=True)
        rx = [r.health for r in hub.receivers]
        statuses = {s.name.lower(): n for s, n in session.statuses.items()}
        summary = {
            **room.stats(),
            "presses_received": sum(statuses.values()),
            "presses_counted": statuses["counted"],
            "duplicates": statuses["duplicate"],
            "refused": {k: v for k, v in statuses.items() if k not in ("counted", "duplicate")},
            "polls": polls,
            "keypads": opts.keypads,
            "receivers": len(rx),
            "receiver_reconnects": sum(max(0, h.connects - 1) for h in rx),
            "receiver_firmware": sorted({h.firmware for h in rx}) if opts.firmware else None,
            "receiver_queue_dropped": sum(h.dropped for h in rx),
            "frames_rejected_by_hub": sum(h.rx_bad for h in rx),
            "journal_records": hub.journal.records,
            "journal_commits": hub.journal.commits,
            "journal_head": hub.journal.head,
            "winner": ranking.entries[0].proposal if ranking.entries else None,
            "seconds": round(time.monotonic() - started, 2),
            "mismatches": mismatches[:5],
            "tallies_match_ground_truth": not mismatches
            and polls == len(fiches) + (1 if opts.consent else 0),
        }
        if recorder:
            recorder.truth(
                poll_tallies(session),
                polls={str(k): {"mode": t.mode, "presses": len(t.presses)} for k, t in room.truth.items()},
            )
        return DemoResult(summary)
    finally:
        if hub is not None:
            await hub.stop()
        thaw_heap()
        await room.close()
        if recorder:
            await recorder.close()
        tmp.cleanup()


async def run_interactive(opts: DemoOptions, host: str, port: int, say: Callable[[str], None]) -> None:
    """The demo with the projector and the console: the room votes whenever the facilitator
    opens a poll from the console. Runs until interrupted."""
    import secrets

    from hub.web.server import listen, start_web
    from hub.web.token import control_token

    if opts.db is None:
        raise ValueError("the interactive demo keeps its journal: give it a path")
    db = opts.db
    sock: socket.socket | None = listen(host, port)  # a port in use: one line, no journal left
    fiches = clermont_fiches()[: opts.proposals]
    tmp = tempfile.TemporaryDirectory(prefix="clicker-demo-")
    room = SimRoom(
        fiches,
        opts.keypads,
        opts.seed,
        Impairments(loss=opts.loss),
        opts.receivers,
        opts.speed / 5,
        firmware=FirmwareRoom(opts.firmware, Path(tmp.name)) if opts.firmware else None,
    )
    hub: Engine | None = None
    web = None
    stop = asyncio.Event()
    try:
        urls = await room.start(opts.transport)
        hub = await Engine.open(Journal(db), demo_config(fiches, room, opts.speed / 5))

        def follow(state: dict[str, Any]) -> None:  # members judge the fiche that is up
            poll = state.get("poll")
            if poll and poll["state"] == "open" and poll["items"]:
                room.up[poll["poll_id"]] = poll["items"][0]

        hub.subscribe(follow)
        for i, url in enumerate(urls):
            hub.add_receiver(ReceiverLink(SerialTransport(url, name=f"rx{i + 1}"), hub))
        # a kept journal keeps its console token too (beside it, 0600), like `clicker serve`
        token = control_token(db) if opts.db is not None else secrets.token_urlsafe(24)
        web, sock = await start_web(hub, host, port, token, sock=sock), None
        say(f"projector: http://{host}:{web.port}/   (ranking: http://{host}:{web.port}/#ranking)")
        say(f"console:   http://{host}:{web.port}/console#token={token}")
        say(f"journal:   {db}   — Ctrl-C to stop")
        freeze_startup_heap()  # as `clicker serve` does (hub/heap.py)
        await stop.wait()
    finally:
        if sock is not None:
            sock.close()
        if web is not None:
            await web.stop()
        if hub is not None:
            await hub.stop()
        thaw_heap()
        await room.close()
        tmp.cleanup()
