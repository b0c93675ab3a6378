"""200 projector-like websocket clients on /ws/live while 70 keypads vote within 2 s: p50/p99
delivery latency of the state that contains a press (PRESS written into the socket -> the
client has parsed the state listing that keypad), and the hub process's CPU share.

The clients run in their own process, the receiver in another, the hub (with its web server)
in this one. Prints one JSON object. Run: python bench/projectors.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

from _rig import HERE, machine, percentile, run_with_blaster

from hub.engine import Engine
from hub.web.server import WebServer, start_web

FRAME_MS = 1000 / 60


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run(clients: int) -> dict[str, Any]:
    box: dict[str, Any] = {}

    async def before(hub: Engine) -> tuple[WebServer, asyncio.subprocess.Process]:
        web = await start_web(hub, "127.0.0.1", 0, "bench")
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "_ws_clients.py"),
            f"ws://127.0.0.1:{web.port}/ws/live",
            str(clients),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=1 << 26,
        )
        assert proc.stdout is not None and proc.stdin is not None
        await asyncio.wait_for(proc.stdout.readline(), 120)  # all connected
        box["cpu0"], box["t0"] = cpu(), time.monotonic()
        return web, proc

    async def after(hub: Engine, extra: tuple[WebServer, asyncio.subprocess.Process]) -> Any:
        web, proc = extra
        assert proc.stdin is not None and proc.stdout is not None
        await asyncio.sleep(0.5)  # the last states reach the clients
        box["cpu"], box["wall"] = cpu() - box["cpu0"], time.monotonic() - box["t0"]
        proc.stdin.close()
        doc = json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))
        await proc.wait()
        await web.stop()
        return doc

    stats, sent_doc = await run_with_blaster("spread", 70, 70, 2.0, before=before, after=after)
    sent = {int(k) - 100000 + 1: t for k, t in sent_doc["sent"].items()}
    latencies = [
        (seen[str(n)] - t) * 1000
        for per_client in [stats["after"]["seen"]]
        for seen in per_client
        for n, t in sent.items()
        if str(n) in seen
    ]
    return {
        "clients": clients,
        "keypads": 70,
        "deliveries": len(latencies),
        "expected_deliveries": clients * 70,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "p99_in_projector_frames": round(percentile(latencies, 99) / FRAME_MS, 1),
        "hub_cpu_share": round(box["cpu"] / box["wall"], 3),
        "wall_s": round(box["wall"], 2),
    }


def main() -> None:
    clients = 50 if "--quick" in sys.argv else 200
    print(json.dumps({"bench": "display", "machine": machine(), **asyncio.run(run(clients))}))


if __name__ == "__main__":
    main()
