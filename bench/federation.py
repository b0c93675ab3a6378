"""A convention through one NATS server: 20 rooms x 500 keypads, the plenary in its own process.

Each room is a real hub (session, journal with fsync, outbox publishing to JetStream); its 500
keypads press once per poll, spread over a few seconds (presses go straight into the hub's
loop: the serial transport is measured by bench/ingest.py). The plenary runs as `clicker
plenary` does (durable consumers, chain checks, its own journal with fsync) in a child process.

Measured:
- lag from a record's commit in its room to the plenary's state holding it (the plenary has
  checked, applied and journaled it), p50/p99, for the records committed while NATS is up
  (up to 5 s before the outage; a slower one would still count, with the outage in its lag);
- the plenary's CPU (seconds, and share of one core) and peak memory (RSS);
- catch-up after an outage: NATS is stopped for --outage seconds (60 by default) while the rooms
  vote on, then started again; the backlog (records committed during the outage) and how fast
  the plenary absorbs it, beside the rate the rooms produce records and the rate JetStream
  alone acknowledges publishes of the same size on this machine (the transport's own limit).

Run: python bench/federation.py [--rooms 20] [--keypads 500] [--outage 60] [--quick]
(--quick: a 10 s outage and fewer polls). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _rig import machine, percentile

from hub.commands import ClosePoll, OpenPoll, Reveal, Select
from hub.engine import Engine
from hub.federation.access import Credential, plenary_credential, room_credential
from hub.federation.convention import ConventionConfig, RoomSpec
from hub.federation.natsserver import NatsServer
from hub.federation.publisher import RoomPublisher
from hub.journal import Journal
from hub.model import Keypad, PollMode, Press
from hub.proposals import clermont_fiches
from hub.session import SessionConfig

KEYS = "1234567"
LAG_MARGIN_S = 5.0  # lags are of records committed up to this long before the outage starts


class TimedJournal(Journal):
    """A room's journal that notes when each record became durable (the commit's end)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.committed_at: dict[int, float] = {}

    async def append(self, entries, checkpoint=None):  # type: ignore[no-untyped-def]
        seq, head = await super().append(entries, checkpoint)
        now = time.time()
        for s in range(seq - len(entries) + 1, seq + 1):
            self.committed_at[s] = now
        return seq, head


class Room:
    def __init__(self, name: str, index: int, keypads: int, folder: Path, seed: int) -> None:
        self.name = name
        self.ids = [1_000_000 * (index + 1) + k for k in range(keypads)]
        self.journal = TimedJournal(folder / f"{name}.db")
        self._hub: Engine | None = None
        self.rng = random.Random(seed)
        self.counter = 0
        self.publisher: RoomPublisher | None = None
        self.polls = 0

    @property
    def hub(self) -> Engine:
        assert self._hub is not None, "the room is started"
        return self._hub

    def config(self) -> SessionConfig:
        roster = [Keypad(kid, n + 1, assembly=self.name) for n, kid in enumerate(self.ids)]
        return SessionConfig(
            title=f"Salle {self.name}", proposals=clermont_fiches(), roster=roster, grace_s=0.2, nonce=0
        )

    async def start(self, cred: Credential, url: str) -> None:
        self._hub = await Engine.open(self.journal, self.config())
        self.publisher = RoomPublisher(self.journal, cred, [url])
        self.publisher.start()

    async def poll(self, fiche: int, vote_s: float) -> None:
        hub = self.hub
        await hub.act(Select(fiche))
        poll = await hub.act(OpenPoll(PollMode.GRADES))
        times = sorted(self.rng.uniform(0, vote_s) for _ in self.ids)
        start = time.monotonic()
        for kid, at in zip(self.rng.sample(self.ids, len(self.ids)), times):
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.counter += 1
            hub.submit_press(Press(kid, self.counter, 0xFFFF, 0, self.rng.choice(KEYS), at=hub.clock()), None)
        await hub.act(ClosePoll())
        await hub.wait_until(lambda: hub.session.poll(poll.poll_id).state == "closed", 30)
        await hub.act(Reveal(poll.poll_id))
        self.polls += 1

    @property
    def seq(self) -> int:
        return self.journal.durable[0]

    async def stop(self) -> None:
        if self._hub is not None:
            await self._hub.stop()
        if self.publisher is not None:
            await self.publisher.stop(flush_s=0)


# --- the plenary, in a child process ---------------------------------------------------------------


async def plenary_child(args: argparse.Namespace) -> None:
    """Runs the plenary; prints {room: seq} lines as it goes; at SIGTERM writes its figures."""
    from hub.federation.access import load_credential
    from hub.federation.plenary import Plenary

    cred, servers = load_credential(args.creds)
    config = ConventionConfig.from_json(read_json(args.convention))
    accepted: dict[str, list[float]] = {r.name: [] for r in config.rooms}
    plenary = Plenary(Journal(args.db), cred, servers)

    def on_accepted(room: str, seq: int) -> None:
        times = accepted[room]
        if seq == len(times) + 1:
            times.append(time.time())

    plenary.on_accepted = on_accepted
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    started, cpu0 = time.monotonic(), time.process_time()
    await plenary.start(config)

    async def report() -> None:
        while True:
            print(json.dumps({r: len(t) for r, t in accepted.items()}), flush=True)
            await asyncio.sleep(0.1)

    reporter = asyncio.create_task(report())
    await stop.wait()
    reporter.cancel()
    await asyncio.gather(reporter, return_exceptions=True)
    await plenary.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "accepted_at": accepted,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.monotonic() - started,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "alarms": plenary.conv.alarm_count if plenary.conv else None,
    }
    write_json(args.out, figures)


def read_json(path: str | Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return doc


def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(doc), encoding="utf-8")


class PlenaryProcess:
    def __init__(self, folder: Path, cred: Credential, url: str, config: ConventionConfig) -> None:
        self.creds = folder / "plenary.json"
        self.creds.write_text(json.dumps(cred.to_json([url])))
        self.convention = folder / "convention.json"
        self.convention.write_text(json.dumps(config.to_json()))
        self.db, self.out = folder / "plenary.db", folder / "plenary-figures.json"
        self.progress: dict[str, int] = {}
        self.changed = asyncio.Event()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--plenary-child",
            "--creds",
            str(self.creds),
            "--convention",
            str(self.convention),
            "--db",
            str(self.db),
            "--out",
            str(self.out),
            stdout=asyncio.subprocess.PIPE,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.progress = json.loads(line)
            self.changed.set()

    async def until(self, heads: dict[str, int], within: float) -> float:
        """Until the plenary holds every room up to ``heads``; returns when (time.time())."""
        async with asyncio.timeout(within):
            while any(self.progress.get(r, 0) < s for r, s in heads.items()):
                self.changed.clear()
                await self.changed.wait()
        return time.time()

    async def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), 60)
        await self.reader
        return read_json(self.out)


# --- JetStream alone: the transport's own rate on this machine -------------------------------------


async def jetstream_alone(url: str, cred: Credential, admin: Credential, n: int, size: int) -> float:
    """Publishes (with acknowledgement, 256 in flight) of ``size``-byte messages per second, to
    a stream configured as the plenary's, with nothing else running."""
    import nats

    from hub.federation.plenary import stream_config

    nc = await nats.connect(url, user=admin.user, password=admin.password, inbox_prefix=admin.inbox)
    await nc.jetstream().add_stream(stream_config(admin.stream))
    await nc.close()
    nc = await nats.connect(url, user=cred.user, password=cred.password, inbox_prefix=cred.inbox)
    js = nc.jetstream()
    payload = os.urandom(size)
    subject = f"clicker.room.{cred.room}"
    start = time.perf_counter()
    for base in range(0, n, 256):
        futures = [
            await js.publish_async(subject, payload, headers={"Nats-Msg-Id": f"probe:{base + i}"})
            for i in range(min(256, n - base))
        ]
        await asyncio.gather(*futures)
    rate = n / (time.perf_counter() - start)
    await nc.close()
    return rate


# --- the run ------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="clicker-bench-federation-"))
    names = [f"room{i + 1:02d}" for i in range(args.rooms)]
    creds = {n: room_credential(n) for n in names}
    probe = room_credential("probe")
    pcred = plenary_credential()
    server = NatsServer(folder / "nats", [*creds.values(), probe, pcred])
    await server.start()
    session = SessionConfig(title="Convention (bench)", proposals=clermont_fiches())
    config = ConventionConfig(session, [RoomSpec(n, n) for n in names])
    plenary = PlenaryProcess(folder, pcred, server.url, config)
    await plenary.start()
    rooms = [Room(n, i, args.keypads, folder, i) for i, n in enumerate(names)]
    for room in rooms:
        await room.start(creds[room.name], server.url)
    await plenary.until({n: 1 for n in names}, 60)  # every room's session record is through
    fiches = iter(p.number for p in clermont_fiches() * 10)
    phase = {"name": "steady"}
    marks: dict[str, float] = {}

    async def vote_on(stop: asyncio.Event) -> None:
        while not stop.is_set():
            fiche = next(fiches)
            await asyncio.gather(*(room.poll(fiche, args.vote_s) for room in rooms))

    stop_voting = asyncio.Event()
    cpu0 = time.process_time()
    t0 = time.time()
    voting = asyncio.create_task(vote_on(stop_voting))
    try:
        await asyncio.sleep(args.steady_s)
        steady_end = time.time()
        produced_steady = sum(r.seq for r in rooms)
        await server.stop(kill=True)  # the outage: rooms vote on
        marks["down"] = time.time()
        phase["name"] = "outage"
        await asyncio.sleep(args.outage)
        heads_at_restart = {r.name: r.seq for r in rooms}
        seen_at_restart = dict(plenary.progress)
        await server.start()
        marks["up"] = time.time()
        caught_up = await plenary.until(heads_at_restart, 600)
        stop_voting.set()
        await voting
        final = {r.name: r.seq for r in rooms}
        await plenary.until(final, 300)
    finally:
        stop_voting.set()
        if not voting.done():
            voting.cancel()
            await asyncio.gather(voting, return_exceptions=True)
        for room in rooms:
            await room.stop()
    figures = await plenary.stop()
    rooms_cpu = time.process_time() - cpu0
    alone_server = NatsServer(folder / "nats-alone", [probe, pcred])
    await alone_server.start()
    try:
        size = 160  # about a press record with its envelope
        alone = await jetstream_alone(alone_server.url, probe, pcred, 20_000, size)
    finally:
        await alone_server.stop()
        await server.stop()
        shutil.rmtree(folder, ignore_errors=True)  # journals and the stream: some hundred MB

    lags = []
    for room in rooms:
        accepted = figures["accepted_at"][room.name]
        for seq, at in enumerate(accepted, 1):
            committed = room.journal.committed_at.get(seq)
            if committed is not None and t0 < committed < steady_end - LAG_MARGIN_S:
                lags.append((at - committed) * 1000)
    backlog = sum(heads_at_restart[n] - seen_at_restart.get(n, 0) for n in names)
    catch_s = caught_up - marks["up"]
    production = produced_steady / (steady_end - t0)
    return {
        "rooms": args.rooms,
        "keypads_per_room": args.keypads,
        "polls_per_room": min(r.polls for r in rooms),
        "records": sum(final.values()),
        "rooms_produce_records_per_s": round(production),
        "lag_commit_to_plenary_ms": {
            "measured": len(lags),
            "p50": round(statistics.median(lags), 1) if lags else None,
            "p99": round(percentile(lags, 99), 1) if lags else None,
            "max": round(max(lags), 1) if lags else None,
        },
        "plenary": {
            "cpu_s": round(figures["cpu_s"], 1),
            "wall_s": round(figures["wall_s"], 1),
            "cpu_share_of_one_core": round(figures["cpu_s"] / figures["wall_s"], 3),
            "peak_rss_mb": round(figures["peak_rss_mb"], 1),
            "alarms": figures["alarms"],
        },
        "outage": {
            "seconds": args.outage,
            "backlog_records": backlog,
            "catch_up_s": round(catch_s, 2),
            "catch_up_records_per_s": round(backlog / catch_s) if catch_s > 0 else None,
        },
        "rooms_process_cpu_s": round(rooms_cpu, 1),
        "jetstream_alone_acked_publishes_per_s": round(alone),
        "machine": machine(),
        "note": "rooms, plenary and nats-server share this machine's cores; figures vary with its load",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--keypads", type=int, default=500)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds NATS stays down")
    parser.add_argument("--steady-s", type=float, default=30.0, help="voting before the outage")
    parser.add_argument("--vote-s", type=float, default=5.0, help="how long a poll's presses spread over")
    parser.add_argument("--quick", action="store_true", help="a 10 s outage, 15 s before it")
    parser.add_argument("--plenary-child", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--creds", "--convention", "--db", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plenary_child:
        asyncio.run(plenary_child(args))
        return
    if args.quick:
        args.outage, args.steady_s = min(args.outage, 10.0), min(args.steady_s, 15.0)
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
