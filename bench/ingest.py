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
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _rig import machine, run_with_blaster

from hub.journal import CHECKPOINT_PASSIVE, CHECKPOINT_TRUNCATE, Journal
from hub.model import Press
from hub.wire.messages import PressMessage

# A PRESS on the wire (COBS and delimiter included; no zero in its fields costs nothing more)
PRESS_WIRE_BYTES = len(PressMessage(1, 1, 1, 1, 0, 0x35, 80, -50, 1, 1).encode(1))
LINK_115200 = 115200 / 10 / PRESS_WIRE_BYTES  # 8N1
USB_FULL_SPEED = 12e6 / 8 / PRESS_WIRE_BYTES  # the bus's raw rate: an upper bound for a CDC dongle
KEYPADS = 5000


async def journal_ceiling(presses: int, batch: int) -> dict[str, float]:
    """Records per second the journal alone makes durable (hashing, INSERT, COMMIT, fsync);
    then what a reveal's checkpoint (FULL) and the closing one (TRUNCATE) cost on that WAL, and
    the journal's bytes per press once checkpointed."""
    with tempfile.TemporaryDirectory(prefix="clicker-bench-") as tmp:
        db = Path(tmp) / "ceiling.db"
        journal = Journal(db)
        await journal.open()
        try:
            t0 = time.perf_counter()
            for start in range(0, presses, batch):
                entries = []
                for i in range(start, min(start + batch, presses)):
                    kid, counter, key = 100000 + i % KEYPADS, 1 + i // KEYPADS, "1234567"[i % 7]
                    press = Press(kid, counter, 1, 0, key, 80, -50, 0, 0, "/dev/ttyACM0", time.time())
                    entries.append(("press", journal.codec.encode_press(press, 0, 1)))
                await journal.append(entries)
            rate = presses / (time.perf_counter() - t0)
            wal = await asyncio.to_thread(os.path.getsize, f"{db}-wal")
            t0 = time.perf_counter()
            await journal.append([], checkpoint=CHECKPOINT_PASSIVE)
            full = time.perf_counter() - t0
            t0 = time.perf_counter()
            await journal.append([], checkpoint=CHECKPOINT_TRUNCATE)
            truncate = time.perf_counter() - t0
        finally:
            await journal.close()
        return {
            "rate": rate,
            "checkpoint_full_ms": 1000 * full,
            "checkpoint_truncate_ms": 1000 * truncate,
            "wal_bytes_at_checkpoint": wal,
            "bytes_per_press": await asyncio.to_thread(os.path.getsize, db) / presses,
        }


def series(mode: str, presses: int, runs: int) -> tuple[list[float], list[int], list[float]]:
    """Durable presses per second of each run, each run's number of commits, and the hub's CPU
    time per press (its process, journal thread included; the receiver is another process):
    a figure the other work on a shared machine disturbs far less than the rate."""
    rates, commits, cpu = [], [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_SELF)
        stats, doc = asyncio.run(run_with_blaster(mode, presses, KEYPADS, 0))
        after = resource.getrusage(resource.RUSAGE_SELF)
        if stats["counted"] != presses:
            raise SystemExit(f"{mode}: only {stats['counted']} of {presses} presses counted")
        rates.append(doc["answered"] / doc["elapsed"])
        commits.append(stats["commits"])
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpu.append(1e6 * used / presses)
    return rates, commits, cpu


def main() -> None:
    quick = "--quick" in sys.argv
    presses, runs = (10_000, 1) if quick else (60_000, 3)
    rates, commits, cpu = series("burst", presses, runs)
    signed, _, signed_cpu = series("burst-mic", presses, runs)
    rate = statistics.median(rates)
    batch = max(1, presses // statistics.median(commits))
    alone = asyncio.run(journal_ceiling(presses, int(batch)))
    ceiling = alone["rate"]
    print(
        json.dumps(
            {
                "bench": "ingest",
                "machine": machine(),
                "journal": "SQLite WAL, synchronous=FULL, format 2 (APSW, MessagePack)",
                "load_average_1min": round(os.getloadavg()[0], 2),
                "presses": presses,
                "keypads": KEYPADS,
                "runs": runs,
                "durable_presses_per_s": round(rate),
                "min_max": [round(min(rates)), round(max(rates))],
                "commits_per_run": commits,
                "hub_cpu_us_per_press": round(statistics.median(cpu), 1),
                "signed_presses_per_s": round(statistics.median(signed)),
                "signed_hub_cpu_us_per_press": round(statistics.median(signed_cpu), 1),
                "signed_min_max": [round(min(signed)), round(max(signed))],
                "journal_alone_records_per_s": round(ceiling),
                "of_journal_alone": round(rate / ceiling, 2),
                "journal_bytes_per_press": round(alone["bytes_per_press"], 1),
                "checkpoint_at_reveal_ms": round(alone["checkpoint_full_ms"], 1),
                "checkpoint_at_stop_ms": round(alone["checkpoint_truncate_ms"], 1),
                "wal_bytes_at_checkpoint": alone["wal_bytes_at_checkpoint"],
                "link_115200_presses_per_s": round(LINK_115200),
                "over_115200_link": round(rate / LINK_115200, 1),
                "usb_full_speed_presses_per_s": round(USB_FULL_SPEED),
                "over_usb_full_speed": round(rate / USB_FULL_SPEED, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
