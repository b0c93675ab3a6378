"""The receiver side of the hub benchmarks, in its own process (as a real receiver is a
separate device): a TCP endpoint speaking docs/protocol.md that answers the handshake, writes
presses on a schedule, and timestamps every PRESS_RESULT. Prints one JSON line when done.

Usage: python bench/_blaster.py MODE ARGS...   (driven by bench/ingest.py and bench/latency.py)
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

from _rig import bench_key

from hub.protocol import REVISION, Radio
from hub.wire import StreamDecoder
from hub.wire.messages import Hello, HelloAck, Message, Ping, PressMessage, PressResult, Status
from hub.wire.mic import compute_mic


async def main(mode: str, presses: int, keypads: int, spread_s: float) -> None:
    ready = asyncio.Event()
    sending = asyncio.Event()
    done = asyncio.Event()
    results: dict[tuple[int, int], float] = {}
    writer_box: list[asyncio.StreamWriter] = []
    seq = [0]
    nonce = [0]  # the session's, heard in HELLO: the keypads sign under it

    def send(w: asyncio.StreamWriter, msg: Message) -> None:
        w.write(msg.encode(seq[0]))
        seq[0] = (seq[0] + 1) & 0xFFFF

    fast = mode.startswith("burst")  # count results without decoding them: the generator stays light
    counted = [0]
    tail = [b""]

    def count_results(data: bytes, now: float) -> None:
        """A frame on the wire is COBS(01 type ...) 00: byte 2 of each encoded frame is its type."""
        parts = (tail[0] + data).split(b"\x00")
        tail[0] = parts.pop()
        counted[0] += sum(1 for p in parts if len(p) > 2 and p[2] == PressResult.TYPE)
        if counted[0] >= presses:
            results[(0, 0)] = now
            done.set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer_box.append(writer)
        dec = StreamDecoder()
        while data := await reader.read(1 << 16):
            now = time.time()
            if fast and ready.is_set() and sending.is_set():
                if b"\x03\x01\x03" in data:  # a PING among the results: keep the link alive
                    send(writer, Status(0, 0, 0, 0, 0))
                count_results(data, now)
                continue
            for f in dec.feed(data):
                m = f.message
                if isinstance(m, Hello):
                    nonce[0] = m.session_nonce
                    send(writer, HelloAck(REVISION, 1, 0, 0, 1, 1, Radio.SIMULATED, 6, 0xFFFF))
                    ready.set()
                elif isinstance(m, Ping):
                    send(writer, Status(0, 0, 0, 0, 0))
                elif isinstance(m, PressResult):
                    results.setdefault((m.keypad_id, m.counter), now)
                    if len(results) >= presses:
                        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(json.dumps({"url": f"socket://127.0.0.1:{server.sockets[0].getsockname()[1]}"}), flush=True)
    await asyncio.wait_for(ready.wait(), 30)
    await asyncio.sleep(0.3)  # the hub sends POLL_STATE after the handshake
    w = writer_box[-1]
    rnd = random.Random(1)
    sent: dict[tuple[int, int], float] = {}
    if fast:  # "burst" or "burst-mic": every press written at once
        frames = bytearray()
        for i in range(presses):
            p = PressMessage(
                100000 + i % keypads, 1 + i // keypads, nonce[0], 1, 0, ord("1234567"[i % 7]), 80, -50, 0, 0
            )
            if mode == "burst-mic":
                p.mic = compute_mic(bench_key(p.keypad_id), p)
            frames += p.encode(i & 0xFFFF)
        t0 = time.time()
        sending.set()
        w.write(bytes(frames))
        await w.drain()
    else:  # "spread": each keypad presses once at a random moment within spread_s
        t0 = time.time()
        schedule = sorted((rnd.uniform(0, spread_s), k) for k in range(keypads))
        for at, k in schedule:
            delay = t0 + at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            p = PressMessage(100000 + k, 1, nonce[0], 1, 0, ord("1234567"[k % 7]), 80, -50, 0, 0)
            sent[(p.keypad_id, p.counter)] = time.time()
            w.write(p.encode(k & 0xFFFF))
    await asyncio.wait_for(done.wait(), 600)
    elapsed = max(results.values()) - t0
    print(
        json.dumps(
            {
                "t0": t0,
                "elapsed": elapsed,
                "answered": counted[0] if fast else len(results),
                "sent": {f"{k[0]}": v for k, v in sent.items()},
            }
        ),
        flush=True,
    )
    server.close()
    for writer in writer_box:
        writer.close()  # the handlers read EOF and end by themselves
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
