"""A whole day: 5,000 keypads and 200 polls through one hub, then a restart on its journal.

The room is another process (bench/_room.py) speaking the protocol into the hub's real serial
transport (TCP). Each poll: open, every keypad presses once in random order within 0.4 s (5 %
change their mind), close, end of grace, reveal, next fiche. Once the engine is open the bench
freezes the start-up heap out of the garbage collector, as `clicker serve` does once its hub is
up (hub/heap.py: without it, full collections of 25-43 ms land in the day). Measured:

- press -> state latency: from the PRESS written into the socket to the first published state
  whose turnout includes it (presses are decided in order, so the k-th first press sent is the
  k-th voter counted), p50/p99 over the first 20 polls and over the last 20: the target is the
  last within 1.5 x the first (the cost of a press does not grow with the day);
- the hub process's CPU time per press (all its threads: loop, journal), over the same polls:
  what a press costs, whatever else the machine is doing meanwhile;
- the hub's RSS after the first poll, after 20 and at the end: growth <= 50 MB;
- the journal's bytes per press; ``GET /api/state`` at the end (size and time, through the app);
- a restart on the journal in a fresh process: time until the hub is ready to answer, and its
  peak RSS beside the live hub's (targets: <= 5 s, <= 2 x).

Prints one JSON object. Run: python bench/long_session.py [--quick]   (1,000 keypads, 40 polls)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from array import array
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from _rig import Room, machine, percentile

from hub.commands import ClosePoll, OpenPoll, Reveal, Step
from hub.engine import Engine
from hub.heap import freeze_startup_heap, thaw_heap
from hub.journal import Journal
from hub.model import Keypad, PollMode, PressStatus
from hub.proposals import Proposal
from hub.receivers.link import ReceiverLink
from hub.session import Poll, SessionConfig
from hub.transports.serial import SerialTransport
from hub.web.app import create_app

HERE = Path(__file__).parent
SPREAD_S = 0.4
CHANGES = 0.05
WINDOW = 20  # polls compared at the start and at the end
TOKEN = "bench-token"

RESTART = """
import asyncio, json, resource, sys, time
t0 = time.perf_counter()
from hub.engine import Engine
from hub.journal import Journal

async def main():
    hub = await Engine.open(Journal(sys.argv[1]))
    ready = time.perf_counter() - t0
    state = hub.snapshot()
    rss = int(open("/proc/self/statm").read().split()[1]) * 4096
    await hub.stop()
    print(json.dumps({"ready_s": ready, "polls": len(hub.session.polls), "rss_bytes": rss,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "version": state["version"]}))

asyncio.run(main())
"""


def rss() -> int:
    """This process's resident set, in bytes (the hub runs here; the room does not)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mb(n: float) -> float:
    return round(n / 1e6, 1)


class Watch:
    """Published states: (time, turnout) of the poll being voted, nothing else kept."""

    def __init__(self) -> None:
        self.poll_id = 0
        self.seen: list[tuple[float, int]] = []
        self.states = 0

    def __call__(self, state: dict[str, Any]) -> None:
        self.states += 1
        poll = state.get("poll")
        if poll is not None and poll["poll_id"] == self.poll_id:
            self.seen.append((time.time(), poll["turnout"]))


def latencies(ticks: list[list[float]], seen: list[tuple[float, int]]) -> list[float]:
    """For the k-th voter: the first state with turnout >= k, minus when its press was sent."""
    out = []
    j = 0
    sent_before = 0
    for sent_at, cumulative in ticks:
        for k in range(sent_before + 1, int(cumulative) + 1):
            while j < len(seen) and seen[j][1] < k:
                j += 1
            if j == len(seen):
                break
            out.append((seen[j][0] - sent_at) * 1000)
        sent_before = int(cumulative)
    return out


def _closed(poll: Poll) -> bool:
    return poll.state == "closed"


async def restart(db: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RESTART, str(db), stdout=asyncio.subprocess.PIPE, env=env
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    doc: dict[str, Any] = json.loads(out)
    return doc


async def day(keypads: int, polls: int) -> dict[str, Any]:
    room = Room()
    await room.start()
    tmp = tempfile.TemporaryDirectory(prefix="clicker-day-")
    db = Path(tmp.name) / "day.db"
    config = SessionConfig(
        title="A day of 5,000 keypads",
        proposals=[Proposal(i, f"Fiche {i}") for i in range(1, polls + 1)],
        roster=[Keypad(100000 + i, i + 1) for i in range(keypads)],
        grace_s=0.05,
    )
    hub = await Engine.open(Journal(db), config)
    freeze_startup_heap()  # as `clicker serve` does once its engine is open (hub/heap.py)
    watch = Watch()
    per_poll: list[dict[str, Any]] = []
    early = array("d")  # 8 bytes a latency: the bench's own memory stays out of the hub's growth
    late = array("d")
    memory: dict[str, int] = {}
    presses = 0
    cpu = {"early": 0.0, "late": 0.0}
    cpu_presses = {"early": 0, "late": 0}
    t0 = time.perf_counter()
    try:
        hub.subscribe(watch)
        memory["start"] = rss()
        receiver = ReceiverLink(SerialTransport(room.url, name="room"), hub)
        hub.add_receiver(receiver)
        await asyncio.wait_for(receiver.connected_event.wait(), 30)
        for n in range(1, polls + 1):
            cpu_at = time.process_time()
            poll = await hub.act(OpenPoll(PollMode.GRADES))
            watch.poll_id, watch.seen = poll.poll_id, []
            cmd = {"poll": poll.poll_id, "keypads": keypads, "spread_s": SPREAD_S, "changes": CHANGES}
            doc = await room.ask(cmd, within=300)
            presses += doc["presses"]
            await hub.wait_until(lambda: bool(watch.seen) and watch.seen[-1][1] >= keypads, 30)
            lat = latencies(doc["ticks"], watch.seen)
            per_poll.append(
                {
                    "poll": n,
                    "p50_ms": round(statistics.median(lat), 1),
                    "p99_ms": round(percentile(lat, 99), 1),
                }
            )
            if n <= WINDOW:
                early.extend(lat)
            if n > polls - WINDOW:
                late.extend(lat)
            await hub.act(ClosePoll())
            await hub.wait_until(partial(_closed, poll), 30)
            await hub.act(Reveal(poll.poll_id))
            if n < polls:
                await hub.act(Step(1))
            for window, inside in (("early", n <= WINDOW), ("late", n > polls - WINDOW)):
                if inside:
                    cpu[window] += time.process_time() - cpu_at
                    cpu_presses[window] += doc["presses"]
            if n in (1, WINDOW, polls):
                memory[f"after_poll_{n}"] = rss()
        elapsed = time.perf_counter() - t0
        app = create_app(hub, TOKEN)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as c:
            t = time.perf_counter()
            r = await c.get("/api/state")
            state_ms = (time.perf_counter() - t) * 1000
            state_bytes = len(r.content)
            history_bytes = len((await c.get("/api/state/history")).content)
        live_rss = rss()
        counted = hub.session.statuses[PressStatus.COUNTED]
    finally:
        await hub.stop()
        thaw_heap()
        await room.stop()
    journal_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    again = await restart(db)
    tmp.cleanup()
    first, last = percentile(list(early), 99), percentile(list(late), 99)
    growth = memory[f"after_poll_{polls}"] - memory["after_poll_1"]
    return {
        "keypads": keypads,
        "polls": polls,
        "presses": presses,
        "counted": counted,
        "elapsed_s": round(elapsed, 1),
        "presses_per_s": round(presses / elapsed),
        "states_published": watch.states,
        "latency_first_polls": {
            "p50_ms": round(statistics.median(early), 1),
            "p99_ms": round(first, 1),
        },
        "latency_last_polls": {"p50_ms": round(statistics.median(late), 1), "p99_ms": round(last, 1)},
        "last_over_first_p99": round(last / first, 2),
        "hub_cpu_us_per_press": {
            "first_polls": round(cpu["early"] / cpu_presses["early"] * 1e6, 1),
            "last_polls": round(cpu["late"] / cpu_presses["late"] * 1e6, 1),
        },
        "target_last_over_first_p99": 1.5,
        "rss_mb": {k: mb(v) for k, v in memory.items()},
        "rss_growth_mb": mb(growth),
        "rss_growth_after_poll_20_mb": mb(memory[f"after_poll_{polls}"] - memory[f"after_poll_{WINDOW}"]),
        "target_rss_growth_mb": 50,
        "api_state_bytes": state_bytes,
        "api_state_ms": round(state_ms, 1),
        "api_state_history_bytes": history_bytes,
        "journal_bytes": journal_bytes,
        "journal_bytes_per_press": round(journal_bytes / presses, 1),
        "restart": {
            "ready_s": round(again["ready_s"], 2),
            "target_s": 5,
            "peak_rss_mb": mb(again["peak_rss_bytes"]),
            "live_hub_rss_mb": mb(live_rss),
            "peak_over_live": round(again["peak_rss_bytes"] / live_rss, 2),
            "target_over_live": 2,
            "polls_replayed": again["polls"],
        },
        "per_poll_p99_ms": [p["p99_ms"] for p in per_poll],
    }


def main() -> None:
    quick = "--quick" in sys.argv
    keypads, polls = (1000, 40) if quick else (5000, 200)
    result = asyncio.run(day(keypads, polls))
    result["meets_targets"] = {
        "latency": result["last_over_first_p99"] <= 1.5,
        "rss_growth": result["rss_growth_mb"] <= 50,
        "restart_time": result["restart"]["ready_s"] <= 5,
        "restart_rss": result["restart"]["peak_over_live"] <= 2,
    }
    print(json.dumps({"bench": "long_session", "machine": machine(), **result}))


if __name__ == "__main__":
    main()
