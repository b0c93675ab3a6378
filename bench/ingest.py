"""Durable presses per second: decode -> decide -> journal commit (fsync) -> PRESS_RESULT.

The receiver is another process writing a burst of PRESS frames into the hub's real serial
transport (TCP); the clock stops when it has read the last PRESS_RESULT. The run is repeated
(this machine's speed varies from run to run) and the median is reported, with the spread.
Beside it: the frame rates of a 115200-baud link and of USB full speed, and the ceiling of the
journal alone (the same records, already encoded, in batches of the same size), which is what
the disk and SQLite allow whatever the hub does. A second series does the same with signed
presses (a session that requires every keypad's AES-CMAC), as a session with keys runs.
Prints one JSON object. Run: python bench/ingest.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _rig import machine, run_with_blaster

from hub.journal import Journal
from hub.model import Press

PRESS_WIRE_BYTES = 30
LINK_115200 = 115200 / 10 / PRESS_WIRE_BYTES  # 8N1
USB_FULL_SPEED = 12e6 / 8 / PRESS_WIRE_BYTES  # the bus's raw rate: an upper bound for a CDC dongle
KEYPADS = 5000


async def journal_ceiling(presses: int, batch: int) -> float:
    """Records per second the journal alone makes durable: hashing, INSERT, COMMIT, fsync."""
    with tempfile.TemporaryDirectory(prefix="clicker-bench-") as tmp:
        journal = Journal(Path(tmp) / "ceiling.db")
        await journal.open()
        press = Press(100000, 1, 1, 0, "1", 80, -50, 0, 0, "bench", time.time())
        raw = journal.codec.encode_press(press, 0, 1)
        try:
            t0 = time.perf_counter()
            for start in range(0, presses, batch):
                await journal.append([("press", raw)] * min(batch, presses - start))
            return presses / (time.perf_counter() - t0)
        finally:
            await journal.close()


def series(mode: str, presses: int, runs: int) -> tuple[list[float], list[int]]:
    """Durable presses per second of each run, and each run's number of commits."""
    rates, commits = [], []
    for _ in range(runs):
        stats, doc = asyncio.run(run_with_blaster(mode, presses, KEYPADS, 0))
        if stats["counted"] != presses:
            raise SystemExit(f"{mode}: only {stats['counted']} of {presses} presses counted")
        rates.append(doc["answered"] / doc["elapsed"])
        commits.append(stats["commits"])
    return rates, commits


def main() -> None:
    quick = "--quick" in sys.argv
    presses, runs = (10_000, 1) if quick else (60_000, 3)
    rates, commits = series("burst", presses, runs)
    signed, _ = series("burst-mic", presses, runs)
    rate = statistics.median(rates)
    batch = max(1, presses // statistics.median(commits))
    ceiling = asyncio.run(journal_ceiling(presses, int(batch)))
    print(
        json.dumps(
            {
                "bench": "ingest",
                "machine": machine(),
                "journal": "SQLite WAL, synchronous=FULL",
                "presses": presses,
                "keypads": KEYPADS,
                "runs": runs,
                "durable_presses_per_s": round(rate),
                "min_max": [round(min(rates)), round(max(rates))],
                "commits_per_run": commits,
                "signed_presses_per_s": round(statistics.median(signed)),
                "signed_min_max": [round(min(signed)), round(max(signed))],
                "journal_alone_records_per_s": round(ceiling),
                "of_journal_alone": round(rate / ceiling, 2),
                "link_115200_presses_per_s": round(LINK_115200),
                "over_115200_link": round(rate / LINK_115200, 1),
                "usb_full_speed_presses_per_s": round(USB_FULL_SPEED),
                "over_usb_full_speed": round(rate / USB_FULL_SPEED, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
