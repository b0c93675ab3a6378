"""One receiver floods the hub; another presses every 10 ms; the console acts meanwhile.

Three receivers in processes of their own (bench/_room.py), each reaching the hub's real serial
transport over TCP, and the control API served by uvicorn:

- ``flood``: valid presses as fast as the link takes them, for the whole run;
- ``paced``: one press every 10 ms, each timed from its write to its PRESS_RESULT: p50/p99
  beside the target (p99 <= 100 ms, a keypad's light that still feels immediate);
- the console: an action every 0.5 s over HTTP (select the fiche up), each answered and timed;
- then ``deaf``: a receiver that keeps sending and stops reading: its link must be dropped and
  the hub's memory stay bounded.

The hub's RSS is sampled every 0.25 s. Beside the flood's rate: USB full speed (the most a
receiver's link can carry). Prints one JSON object. Run: python bench/flood.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _rig import Room, machine, percentile

from hub.commands import OpenPoll
from hub.engine import Engine
from hub.journal import Journal
from hub.model import Keypad, PollMode
from hub.proposals import Proposal
from hub.receivers.link import ReceiverLink
from hub.session import SessionConfig
from hub.transports.serial import SerialTransport
from hub.web.server import start_web

HERE = Path(__file__).parent
PRESS_WIRE_BYTES = 34  # a PRESS frame on the wire, COBS and delimiter included
USB_FULL_SPEED = 12e6 / 8 / PRESS_WIRE_BYTES
TOKEN = "bench-token"


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak(link: ReceiverLink) -> int:
    """The most presses ever waiting in the link's inbox (0 once it is closed)."""
    return link.inbox.peak if link.inbox is not None else 0


async def sample(rss_mb: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        rss_mb.append(rss() / 1e6)
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            pass


async def console(base: str, stop: asyncio.Event) -> dict[str, Any]:
    """An action every 0.5 s (put the fiche being voted up again: journaled like any other, and
    allowed while a poll is open); status codes and times."""
    codes: dict[str, int] = {}
    times = []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            t = time.perf_counter()
            r = await client.post("/api/proposals/1/select", headers=auth)
            times.append((time.perf_counter() - t) * 1000)
            codes[str(r.status_code)] = codes.get(str(r.status_code), 0) + 1
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
    return {
        "actions": sum(codes.values()),
        "status_codes": codes,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }


async def run(seconds: float) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory(prefix="clicker-flood-")
    config = SessionConfig(
        title="flood",
        proposals=[Proposal(1, "Fiche 1"), Proposal(2, "Fiche 2")],
        roster=[Keypad(100000 + i, i + 1) for i in range(2000)],
    )
    hub = await Engine.open(Journal(Path(tmp.name) / "flood.db"), config)
    rooms = {name: Room() for name in ("flood", "paced", "deaf")}
    rss_mb: list[float] = []
    stop_sampling = asyncio.Event()
    web = None
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        web = await start_web(hub, "127.0.0.1", 0, TOKEN)
        receivers = {}
        for name in ("flood", "paced"):
            await rooms[name].start()
            receivers[name] = ReceiverLink(SerialTransport(rooms[name].url, name=name), hub)
            hub.add_receiver(receivers[name])
            await asyncio.wait_for(receivers[name].connected_event.wait(), 30)
        sampler = asyncio.create_task(sample(rss_mb, stop_sampling))
        rss_before = rss()
        decided_before = sum(hub.session.statuses.values())
        await rooms["flood"].ask({"flood": True, "first": 100000, "keypads": 1000})
        t0 = time.perf_counter()
        stop_console = asyncio.Event()
        actions = asyncio.create_task(console(f"http://127.0.0.1:{web.port}", stop_console))
        paced = await rooms["paced"].ask(
            {"pace": int(seconds / 0.01), "every_s": 0.01, "first": 101000}, within=seconds + 60
        )
        stop_console.set()
        flood = await rooms["flood"].ask({"flood": False})
        flood_s = time.perf_counter() - t0
        decided = sum(hub.session.statuses.values()) - decided_before
        console_doc = await actions
        rss_flood_end = rss()
        # a receiver that does not read its answers
        await rooms["deaf"].start()
        receivers["deaf"] = ReceiverLink(SerialTransport(rooms["deaf"].url, name="deaf"), hub)
        hub.add_receiver(receivers["deaf"])
        await asyncio.wait_for(receivers["deaf"].connected_event.wait(), 30)
        await rooms["deaf"].ask({"deaf": True})
        await rooms["deaf"].ask({"flood": True, "first": 101500, "keypads": 500})
        deaf_t0 = time.perf_counter()
        try:
            await hub.wait_until(lambda: receivers["deaf"].health.unread >= 1, 60)
        except TimeoutError:
            pass
        dropped_after = time.perf_counter() - deaf_t0
        await asyncio.sleep(2)  # it reconnects, fills up, and is dropped again
        stop_sampling.set()
        await sampler
        lat = paced["latencies_ms"]
        deaf = receivers["deaf"]
        return {
            "seconds": round(flood_s, 1),
            "flood_presses_sent": flood["flood_sent"],
            "presses_decided_per_s": round(decided / flood_s),
            "usb_full_speed_presses_per_s": round(USB_FULL_SPEED),
            "flood_receiver": {
                "paused": receivers["flood"].health.paused,
                "shed": receivers["flood"].health.shed,
                "inbox_peak": peak(receivers["flood"]),
                "link_drops": receivers["flood"].health.connects - 1,
            },
            "paced_receiver": {
                "presses": int(seconds / 0.01),
                "answered": paced["answered"],
                "p50_ms": round(statistics.median(lat), 1) if lat else None,
                "p99_ms": round(percentile(lat, 99), 1) if lat else None,
                "max_ms": round(max(lat), 1) if lat else None,
                "target_p99_ms": 100,
                "link_drops": receivers["paced"].health.connects - 1,
                "paused": receivers["paced"].health.paused,
            },
            "console": console_doc,
            "deaf_receiver": {
                "dropped": deaf.health.unread,
                "dropped_after_s": round(dropped_after, 1),
                "write_buffer_peak_bytes": deaf.transport.health.write_peak,
                "inbox_peak": peak(deaf),
                "last_error": deaf.health.last_error,
            },
            "rss_mb": {
                "before_flood": round(rss_before / 1e6, 1),
                "end_of_flood": round(rss_flood_end / 1e6, 1),
                "peak": round(max(rss_mb), 1),
                "end": round(rss() / 1e6, 1),
            },
        }
    finally:
        stop_sampling.set()
        if web is not None:
            await web.stop()
        await hub.stop()
        for room in rooms.values():
            await room.stop()
        tmp.cleanup()


def main() -> None:
    seconds = 5.0 if "--quick" in sys.argv else 20.0
    result = asyncio.run(run(seconds))
    paced = result["paced_receiver"]
    result["meets_targets"] = {
        "paced_p99": paced["p99_ms"] is not None and paced["p99_ms"] <= 100,
        "paced_all_answered": paced["answered"] == paced["presses"] and paced["link_drops"] == 0,
        "console_answered": set(result["console"]["status_codes"]) == {"200"},
        "deaf_dropped": result["deaf_receiver"]["dropped"] >= 1,
    }
    print(json.dumps({"bench": "flood", "machine": machine(), **result}))


if __name__ == "__main__":
    main()
