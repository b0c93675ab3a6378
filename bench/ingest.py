"""Durable presses per second: decode -> decide -> journal commit (fsync) -> PRESS_RESULT.

The receiver is another process writing a burst of PRESS frames into the hub's real serial
transport (TCP); the clock stops when it has read the last PRESS_RESULT. Prints one JSON object
beside the frame rates of a 115200-baud link and of USB full speed.
Run: python bench/ingest.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _rig import machine, run_with_blaster

PRESS_WIRE_BYTES = 30
LINK_115200 = 115200 / 10 / PRESS_WIRE_BYTES  # 8N1
USB_FULL_SPEED = 12e6 / 8 / PRESS_WIRE_BYTES  # the bus's raw rate: an upper bound for a CDC dongle


def main() -> None:
    presses = 10_000 if "--quick" in sys.argv else 60_000
    stats, doc = asyncio.run(run_with_blaster("burst", presses, 5000, 0))
    rate = doc["answered"] / doc["elapsed"]
    print(
        json.dumps(
            {
                "bench": "ingest",
                "machine": machine(),
                "journal": "SQLite WAL, synchronous=FULL",
                "presses": presses,
                "keypads": 5000,
                "seconds": round(doc["elapsed"], 3),
                "durable_presses_per_s": round(rate),
                "commits": stats["commits"],
                "counted": stats["counted"],
                "link_115200_presses_per_s": round(LINK_115200),
                "over_115200_link": round(rate / LINK_115200, 1),
                "usb_full_speed_presses_per_s": round(USB_FULL_SPEED),
                "over_usb_full_speed": round(rate / USB_FULL_SPEED, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
