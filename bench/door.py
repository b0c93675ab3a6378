"""The API's door under abuse: how fast an oversized upload is refused, what it costs the hub
(memory, loop stalls) and whether presses keep being answered meanwhile; the same while 1 MiB
fiches files are imported with the token; and how long Ctrl-C takes to stop `clicker demo` and
`clicker serve` in a terminal.

Presses go through the hub's loop, decision and journal commit (fsync) and their answer is timed;
a 1 ms ticker measures the loop's longest stall. The uploads come from another process. Prints
one JSON object, beside the baseline without uploads, the 2 s budget for Ctrl-C and the 16.7 ms
frame time of a projector.
Run: python bench/door.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from _rig import machine, percentile

from hub.engine import Engine
from hub.journal import Journal
from hub.model import Keypad, Press, Proposal
from hub.session import SessionConfig
from hub.web.server import start_web

TOKEN = "bench-door"
FRAME_MS = 1000 / 60
CTRL_C_BUDGET_S = 2.0

UPLOADER = r"""
import json, socket, sys, time
port, size, token, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = open(path, "rb").read() if path != "-" else None
length = len(body) if body is not None else size
auth = f"Authorization: Bearer {token}\r\n" if token != "-" else ""
out = []
for _ in range(int(sys.argv[5])):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.perf_counter()
    s.sendall(f"POST /api/session/proposals?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
              f"Content-Type: text/csv\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n".encode())
    sent = 0
    s.settimeout(5)
    try:
        if body is not None:
            s.sendall(body); sent = len(body)
        else:
            chunk = b"x" * 65536
            while sent < size:
                s.sendall(chunk); sent += len(chunk)
    except OSError:
        pass
    status = b""
    try:
        status = s.recv(64).split(b"\r\n")[0]
    except OSError:
        pass
    ms = (time.perf_counter() - t0) * 1000
    out.append({"ms": ms, "status": status.decode(errors="replace"), "sent": sent})
    s.close()
print(json.dumps(out))
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def big_csv(path: Path) -> int:
    """A fiches file just under 1 MiB: 45 fiches with long texts."""
    rows = ["number,title,transition,text"]
    rows += [f'{i},Fiche {i},sociale,"{"Lorem ipsum dolor sit amet. " * 700}"' for i in range(1, 46)]
    data = ("\n".join(rows) + "\n").encode()
    path.write_bytes(data)
    return len(data)


async def presses_during(
    hub: Engine, n: int, during: Callable[[], Coroutine[Any, Any, Any]] | None
) -> dict[str, Any]:
    """Press n times (5 ms apart) while ``during`` runs; answer latencies and the loop's worst stall."""
    latencies: list[float] = []
    stalls: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stalls.append((now - last) * 1000)
            last = now

    async def press(i: int) -> None:
        done = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        nonce = hub.session.config.nonce or 0  # a press of this session
        p = Press(1000 + i % 70, 10_000 + i, 0xFFFF, 0, "5", at=time.time(), session_nonce=nonce)
        hub.submit_press(p, done.set_result)
        await asyncio.wait_for(done, 10)
        latencies.append((time.perf_counter() - t0) * 1000)

    tick = asyncio.create_task(ticker())
    other = asyncio.create_task(during()) if during is not None else None
    presses = []
    for i in range(n):
        presses.append(asyncio.create_task(press(i)))
        await asyncio.sleep(0.005)
    await asyncio.gather(*presses)
    result = await other if other is not None else None
    stop.set()
    await tick
    return {
        "answered": len(latencies),
        "of": n,
        "press_p50_ms": round(percentile(latencies, 50), 2),
        "press_p99_ms": round(percentile(latencies, 99), 2),
        "loop_max_stall_ms": round(max(stalls), 2),
        "uploads": result,
    }


async def upload(port: int, size: int, token: str, path: str, times: int) -> list[dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPLOADER, str(port), str(size), token, path, str(times),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    runs: list[dict[str, Any]] = json.loads(out)
    return runs


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "requests": len(runs),
        "status": sorted({r["status"] for r in runs}),
        "answer_p50_ms": round(statistics.median(r["ms"] for r in runs), 2),
        "bytes_sent_max": max(r["sent"] for r in runs),
    }


async def door(quick: bool) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory(prefix="clicker-bench-door-")
    config = SessionConfig(
        title="bench", proposals=[Proposal(1, "Fiche 1")], roster=[Keypad(1000 + i, i + 1) for i in range(70)]
    )
    hub = await Engine.open(Journal(Path(tmp.name) / "door.db"), config)
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    n = 100 if quick else 300
    csv_path = Path(tmp.name) / "fiches.csv"
    csv_bytes = big_csv(csv_path)
    try:
        baseline = await presses_during(hub, n, None)
        rss0 = rss_mb()
        oversized = await presses_during(
            hub, n, lambda: upload(web.port, 50_000_000, "-", "-", 3 if quick else 10)
        )
        rss1 = rss_mb()
        with_token = await presses_during(hub, n, lambda: upload(web.port, 50_000_000, TOKEN, "-", 3))
        imports = await presses_during(
            hub, n, lambda: upload(web.port, 0, TOKEN, str(csv_path), 5 if quick else 20)
        )
    finally:
        await web.stop()
        await hub.stop()
        tmp.cleanup()
    for run in (oversized, with_token, imports):
        run["uploads"] = summary(run["uploads"])
    return {
        "baseline": baseline,
        "oversized_50MB_without_token": oversized | {"hub_rss_growth_mb": round(rss1 - rss0, 1)},
        "oversized_50MB_with_token": with_token,
        "imports_1MiB_with_token": imports | {"file_bytes": csv_bytes},
        "projector_frame_ms": round(FRAME_MS, 1),
    }


CTTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def ctrl_c_seconds(args: list[str], cwd: str) -> float:
    """Start a command in a pseudo-terminal, wait until it serves, type Ctrl-C, time its exit."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", CTTY, sys.executable, "-m", "hub", *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=cwd, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    while not re.search(rb"console: ", out) and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            out += os.read(master, 65536)
    time.sleep(1.0)
    t0 = time.perf_counter()
    os.write(master, b"\x03")
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return time.perf_counter() - t0


def ctrl_c(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="clicker-bench-ctrlc-") as tmp:
        Path(tmp, "s.json").write_text(
            json.dumps({"title": "b", "proposals": "clermont-2022", "open_roster": True}), encoding="utf-8"
        )
        runs = 1 if quick else 3
        demo = [ctrl_c_seconds(["demo", "--port", "0", "--db", f"d{i}.db"], tmp) for i in range(runs)]
        serve = [
            ctrl_c_seconds(["serve", "--session", "s.json", "--db", f"s{i}.db", "--port", "0"], tmp)
            for i in range(runs)
        ]
    return {
        "demo_stop_s": round(statistics.median(demo), 3),
        "serve_stop_s": round(statistics.median(serve), 3),
        "budget_s": CTRL_C_BUDGET_S,
    }


def main() -> None:
    quick = "--quick" in sys.argv
    doc = {
        "benchmark": "door",
        "machine": machine(),
        "caveat": "measured on a machine shared with other work: figures are indicative",
        **asyncio.run(door(quick)),
        "ctrl_c": ctrl_c(quick),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
