"""``clicker demo --rooms N``: a convention of N simulated rooms (the members split by assembly),
each with its own hub, journal and lossy radio, publishing to a nats-server started for the
demo; a plenary adding them up; a paper channel (sheets entered, corrected, confirmed by two
guarantors) and an online import; and an outage of the messaging server in the middle of the
session. At the end every room's own journal is recounted by ``clicker verify`` and added up
independently of the plenary: ``plenary_matches_rooms`` says whether the plenary's tallies,
electorates and rankings are exactly that sum.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hub.aio import within
from hub.demo import DEMO_ASSEMBLIES, DemoOptions, DemoResult, demo_config, vote_session
from hub.engine import Engine
from hub.federation.access import plenary_credential, room_credential
from hub.federation.audit import verify_plenary
from hub.federation.channels import parse_online
from hub.federation.convention import (
    ONLINE,
    PAPER,
    TOTAL,
    ConventionConfig,
    RoomSpec,
    add_results,
    rank_with_electorates,
    room_results,
)
from hub.federation.natsserver import NatsServer
from hub.federation.plenary import Plenary
from hub.federation.publisher import RoomPublisher
from hub.federation.room import federate
from hub.journal import GENESIS, Journal, read_records
from hub.model import PressStatus
from hub.proposals import Proposal, clermont_fiches
from hub.receivers.link import ReceiverLink
from hub.session import SessionConfig
from hub.sim.ether import Impairments
from hub.sim.room import SimRoom
from hub.sim.voters import Opinions
from hub.transports.serial import SerialTransport
from hub.verify import verify

ROOM_NAMES = {"écologique": "eco", "sociale": "soc", "démocratique": "dem"}
TITLE = "Convention citoyenne de Clermont-Ferrand — démonstration"
STANDS = ("Stand place de Jaude", "Stand Croix-de-Neyrat")


def last_head(db: Path) -> str:
    """The last hash of a room's journal, read from the file."""
    head = GENESIS
    for rec in read_records(db):
        head = rec.hash
    return head


def split(members: int, rooms: int) -> list[int]:
    """Members per room, as even as can be (70 in three assemblies: 24, 23, 23)."""
    return [members // rooms + (i < members % rooms) for i in range(rooms)]


def assemblies(rooms: int) -> list[tuple[str, str]]:
    """(room name, assembly) for each room: the convention's three, then numbered ones."""
    out = [(ROOM_NAMES[a], a) for a in DEMO_ASSEMBLIES[:rooms]]
    return out + [(f"room{i + 1}", f"assemblée {i + 1}") for i in range(len(out), rooms)]


class DemoRoom:
    def __init__(
        self, name: str, assembly: str, keypads: int, seed: int, opts: DemoOptions, folder: Path
    ) -> None:
        self.name, self.assembly = name, assembly
        self.fiches = clermont_fiches()[: opts.proposals]
        self.sim = SimRoom(
            self.fiches, keypads, seed, Impairments(loss=opts.loss), opts.receivers, opts.speed
        )
        self.db = folder / f"{name}.db"
        self._hub: Engine | None = None  # once started
        self.publisher: RoomPublisher | None = None
        self.opts = opts
        self.polls = 0
        self.mismatches: list[str] = []
        self.done = 0
        self.progressed = asyncio.Event()
        self.stopped = False

    @property
    def hub(self) -> Engine:
        assert self._hub is not None, "the room is started"
        return self._hub

    def config(self) -> SessionConfig:
        base = demo_config(self.fiches, self.sim, self.opts.speed)
        roster = [replace(k, assembly=self.assembly) for k in base.roster]
        return replace(base, title=f"{TITLE} — assemblée {self.assembly}", roster=roster)

    async def start(self, cred: Any, servers: list[str]) -> None:
        urls = await self.sim.start(self.opts.transport)
        self._hub = await Engine.open(Journal(self.db), self.config())
        for i, url in enumerate(urls):
            self.hub.add_receiver(ReceiverLink(SerialTransport(url, name=f"{self.name}-rx{i + 1}"), self.hub))
        await within(asyncio.gather(*(r.connected_event.wait() for r in self.hub.receivers)), 15)
        self.publisher = federate(self.hub, cred, servers)

    async def run(self) -> None:
        def progress(_: str) -> None:
            self.done += 1
            self.progressed.set()

        self.polls, self.mismatches = await vote_session(
            self.hub, self.sim, self.fiches, self.opts, self.hub.act, progress
        )

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._hub is not None:
            await self._hub.stop()
        if self.publisher is not None:  # after the hub: it delivers the closing record
            await self.publisher.stop()
        await self.sim.close()


def paper_sheets(fiches: list[Proposal], seed: int) -> list[dict[str, Any]]:
    """Two stands' tally sheets (counts from the voter model), the second one read wrongly first."""
    sheets = []
    for i, stand in enumerate(STANDS):
        opinions = Opinions(fiches, 90 + 30 * i, 7, seed + 101 + i)
        tallies = {str(f.number): opinions.tally(f) for f in fiches}
        sheets.append(
            {"batch": stand, "by": "Agent de saisie", "ballots": opinions.members, "tallies": tallies}
        )
    return sheets


def online_file(fiches: list[Proposal], seed: int, grades: tuple[str, ...]) -> bytes:
    opinions = Opinions(fiches, 400, len(grades), seed + 303)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["number", *grades])
    for f in fiches:
        w.writerow([f.number, *opinions.tally(f)])
    return out.getvalue().encode()


async def enter_channels(plenary: Plenary, fiches: list[Proposal], seed: int) -> dict[str, int]:
    """The votation's other channels, through the plenary's loop as the console would."""
    sheets = paper_sheets(fiches, seed)
    first = sheets[1]
    wrong = {k: [c + (1 if g == 0 else 0) for g, c in enumerate(v)] for k, v in first["tallies"].items()}
    await plenary.act("sheet", {"channel": PAPER, **first, "tallies": wrong})  # a misread sheet...
    await plenary.act("sheet", {"channel": PAPER, **sheets[0]})
    await plenary.act("sheet", {"channel": PAPER, **first, "reason": "colonne À rejeter lue deux fois"})
    for sheet, version in ((sheets[0], 1), (first, 2)):
        for guarantor in ("Garante Anne", "Garant Bruno"):
            await plenary.act(
                "confirm",
                {"channel": PAPER, "batch": sheet["batch"], "version": version, "guarantor": guarantor},
            )
    assert plenary.conv is not None
    grades = plenary.conv.config.session.scale.names
    parsed = parse_online(
        online_file(fiches, seed, grades), "csv", "votation-en-ligne.csv", plenary.conv.config.session.scale
    )
    await plenary.act("sheet", {"channel": ONLINE, "batch": "en ligne", "by": "Agent de saisie", **parsed})
    return {"paper_ballots": sum(s["ballots"] for s in sheets), "online_ballots": parsed["ballots"]}


def independent_total(
    rooms: list[DemoRoom], plenary: Plenary
) -> tuple[dict[int, tuple[list[int], int]], bool]:
    """Each room's own journal recounted by clicker verify, plus the channels, added up here."""
    assert plenary.conv is not None
    parts, ok = [], True
    for room in rooms:
        verdict = verify(room.db)
        ok &= verdict.ok
        parts.append(room_results(verdict.session, revealed_only=False))
        ranking = verdict.session.ranking() if verdict.session else None
        mine = plenary.conv.ranking(room.name, revealed_only=False)
        ok &= ranking is not None and [(e.proposal, e.rank, e.tally) for e in ranking.entries] == [
            (e.proposal, e.rank, e.tally) for e in mine.entries
        ]
    parts += [plenary.conv.paper.results(), plenary.conv.online.results()]
    return add_results(parts), ok


async def run_convention_demo(
    opts: DemoOptions, rooms: int = 3, outage: bool = True, progress: Callable[[str], None] | None = None
) -> DemoResult:
    started = time.monotonic()
    tmp = tempfile.TemporaryDirectory(prefix="clicker-convention-")
    folder = Path(opts.db) if opts.db is not None else Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    names = assemblies(rooms)
    creds = {name: room_credential(name) for name, _ in names}
    pcred = plenary_credential()
    server = NatsServer(Path(tmp.name) / "nats", [*creds.values(), pcred])
    demo_rooms = [
        DemoRoom(name, assembly, n, opts.seed + i, replace(opts, reboot=opts.reboot and i == 0), folder)
        for i, ((name, assembly), n) in enumerate(zip(names, split(opts.keypads, rooms)))
    ]
    fiches = demo_rooms[0].fiches
    config = ConventionConfig(
        SessionConfig(title=TITLE, proposals=fiches), [RoomSpec(n, f"Assemblée {a}") for n, a in names]
    )
    plenary = Plenary(Journal(folder / "plenary.db"), pcred, [])
    outage_s = 0.0
    try:
        await server.start()
        plenary.servers = [server.url]
        await plenary.start(config)
        await within(plenary.stream_ready.wait(), 20)
        for room in demo_rooms:
            await room.start(creds[room.name], [server.url])
        changed = asyncio.Event()
        for room in demo_rooms:
            room.progressed = changed
        voting = asyncio.gather(*(room.run() for room in demo_rooms))
        voting.add_done_callback(lambda _: changed.set())
        total = len(fiches) * rooms
        if outage:  # the messaging server stops for a third of the session; the rooms vote on
            await _until(lambda: sum(r.done for r in demo_rooms) >= total // 3 or voting.done(), changed)
            await server.stop(kill=True)
            down = time.monotonic()
            if progress:
                progress("NATS down")
            await _until(lambda: sum(r.done for r in demo_rooms) >= 2 * total // 3 or voting.done(), changed)
            await server.start()
            outage_s = time.monotonic() - down
            if progress:
                progress("NATS back")
        await voting
        channels = await enter_channels(plenary, fiches, opts.seed)
        for room in demo_rooms:  # each hub writes its closing record; its outbox delivers it
            await room.stop()
        heads = {r.name: last_head(r.db) for r in demo_rooms}
        await plenary.wait_until(lambda: all(plenary.conv.rooms[n].head == h for n, h in heads.items()), 120)  # type: ignore[union-attr]
        conv = plenary.conv
        assert conv is not None
        expected, rooms_rank_ok = independent_total(demo_rooms, plenary)
        got = conv.results(TOTAL, revealed_only=False)
        labels = {p.number: p.label for p in fiches}
        recomputed = rank_with_electorates(
            {labels[n]: c for n, (c, _) in expected.items()},
            {labels[n]: e for n, (_, e) in expected.items()},
            config.session,
        )
        combined = conv.ranking(TOTAL, revealed_only=False)
        matches = (
            got == expected
            and rooms_rank_ok
            and [(e.proposal, e.rank) for e in combined.entries]
            == [(e.proposal, e.rank) for e in recomputed.entries]
        )
        publishers = [r.publisher for r in demo_rooms if r.publisher is not None]
        statuses = [r.hub.session.statuses for r in demo_rooms]
        mismatches = [m for r in demo_rooms for m in r.mismatches]
        summary: dict[str, Any] = {
            "rooms": rooms,
            "keypads": opts.keypads,
            "keypads_per_room": {r.name: len(r.sim.keypads) for r in demo_rooms},
            "polls": sum(r.polls for r in demo_rooms),
            "presses_sent": sum(r.sim.presses_sent for r in demo_rooms),
            "presses_counted": sum(s[PressStatus.COUNTED] for s in statuses),
            "room_journal_records": {r.name: conv.rooms[r.name].seq for r in demo_rooms},
            "nats_outage_s": round(outage_s, 2),
            "outbox_failures": sum(p.stats.failures for p in publishers),
            "resent_dropped_by_stream": sum(p.stats.stored_twice for p in publishers),
            **channels,
            "alarms": conv.alarm_count,
            "winner": combined.entries[0].proposal if combined.entries else None,
            "electorate": max((e for _, e in got.values()), default=0),
            "mismatches": mismatches[:5],
            "tallies_match_ground_truth": not mismatches
            and all(r.polls == len(fiches) + (1 if opts.consent else 0) for r in demo_rooms),
            "plenary_matches_rooms": matches,
        }
    finally:
        for room in demo_rooms:
            await room.stop()
        await plenary.stop()
        await server.stop()
    audit = verify_plenary(folder / "plenary.db")
    summary["plenary_journal_verifies"] = audit.ok
    summary["plenary_records"] = audit.records
    summary["seconds"] = round(time.monotonic() - started, 2)
    tmp.cleanup()
    return DemoResult(summary)


async def _until(predicate: Callable[[], bool], changed: asyncio.Event) -> None:
    while not predicate():
        changed.clear()
        await changed.wait()
