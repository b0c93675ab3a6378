"""Press-to-screen latency: from a PRESS written into the socket to the published state that
contains it (the keypad's number among those who voted), with the hub's real serial transport,
session, journal (fsync) and coalesced publisher in the path.

Two rooms: 70 keypads pressing within 2 s, and 5,000 keypads within 5 s. Prints one JSON object;
the targets (p99 <= 50 ms and <= 150 ms) are compared with a projector's frame time (16.7 ms).
Run: python bench/latency.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _rig import machine, percentile, run_with_blaster

FRAME_MS = 1000 / 60


async def room(keypads: int, spread_s: float) -> dict[str, Any]:
    first_seen: dict[int, float] = {}
    publishes = [0]

    def on_state(state: dict[str, Any]) -> None:
        now = time.time()
        publishes[0] += 1
        poll = state.get("poll") or {}
        for number in poll.get("voted", ()):
            first_seen.setdefault(number, now)

    _stats, doc = await run_with_blaster("spread", keypads, keypads, spread_s, on_state)
    await asyncio.sleep(0)
    latencies = []
    for kid, sent in doc["sent"].items():
        number = int(kid) - 100000 + 1  # the rig's roster: keypad 100000 + i carries number i + 1
        if number in first_seen:
            latencies.append((first_seen[number] - sent) * 1000)
    return {
        "keypads": keypads,
        "within_s": spread_s,
        "measured": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "states_published": publishes[0],
        "p99_in_projector_frames": round(percentile(latencies, 99) / FRAME_MS, 1),
    }


def main() -> None:
    big = 1000 if "--quick" in sys.argv else 5000
    small = asyncio.run(room(70, 2.0))
    large = asyncio.run(room(big, 5.0))
    print(
        json.dumps(
            {
                "bench": "latency",
                "machine": machine(),
                "rooms": [
                    {**small, "target_p99_ms": 50, "meets_target": small["p99_ms"] <= 50},
                    {**large, "target_p99_ms": 150, "meets_target": large["p99_ms"] <= 150},
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
