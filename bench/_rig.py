"""Shared rig for the hub benchmarks: a hub on a temporary journal, reached by a receiver
(bench/_blaster.py, another process) over TCP through the real serial transport."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.commands import OpenPoll
from hub.engine import Engine
from hub.journal import Journal
from hub.model import Keypad, PollMode, PressStatus
from hub.proposals import Proposal
from hub.receivers.link import ReceiverLink
from hub.session import SessionConfig
from hub.transports.serial import SerialTransport

HERE = Path(__file__).parent


def bench_key(keypad_id: int) -> bytes:
    """The AES key of a bench keypad, known to both processes (signed-press runs)."""
    return hashlib.sha256(b"clicker-bench-%d" % keypad_id).digest()[:16]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} " + (
        platform.python_version()
    )


async def run_with_blaster(
    mode: str,
    presses: int,
    keypads: int,
    spread_s: float,
    on_state: Callable[[dict[str, Any]], None] | None = None,
    before: Callable[[Engine], Awaitable[Any]] | None = None,
    after: Callable[[Engine, Any], Awaitable[Any]] | None = None,
) -> tuple[Any, ...]:
    """Start the blaster, a hub connected to it, wait for the run; returns (hub stats, blaster doc)."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "_blaster.py"),
        mode,
        str(presses),
        str(keypads),
        str(spread_s),
        stdout=asyncio.subprocess.PIPE,
        env=env,
        limit=1 << 24,
    )
    assert proc.stdout is not None
    tmp = tempfile.TemporaryDirectory(prefix="clicker-bench-")
    signed = mode.endswith("-mic")  # every press carries a MIC and the session requires it
    config = SessionConfig(
        title="bench",
        proposals=[Proposal(1, "Fiche 1")],
        roster=[
            Keypad(100000 + i, i + 1, key=bench_key(100000 + i) if signed else None) for i in range(keypads)
        ],
        require_mic=signed,
    )
    hub = await Engine.open(Journal(Path(tmp.name) / "bench.db"), config)
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        if on_state is not None:
            hub.subscribe(on_state)
        extra = await before(hub) if before is not None else None
        url = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))["url"]
        hub.add_receiver(ReceiverLink(SerialTransport(url, name="bench"), hub))
        doc = json.loads(await asyncio.wait_for(proc.stdout.readline(), 900))
        stats = {
            "commits": hub.journal.commits,
            "records": hub.journal.records,
            "batches": hub.batches,
            "counted": hub.session.statuses[PressStatus.COUNTED],
        }
        if after is not None:
            stats["after"] = await after(hub, extra)
        return stats, doc
    finally:
        await hub.stop()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        tmp.cleanup()


class Room:
    """One bench/_room.py process: a receiver the hub connects to, driven by JSON lines."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "_room.py"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=1 << 24,
        )
        assert self.proc.stdout is not None
        self.url = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 30))["url"]

    async def ask(self, cmd: dict[str, Any], within: float = 120) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        doc: dict[str, Any] = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), within))
        return doc

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
