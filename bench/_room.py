"""A receiver for the day-long benchmarks, in its own process (a real receiver is a separate
device): a TCP endpoint speaking the protocol that answers the handshake and the heartbeat,
and, on each command read from stdin (one JSON line), makes a room of keypads vote.

Commands (stdin), each answered by one JSON line on stdout:
- ``{"poll": N, "keypads": K, "spread_s": S, "changes": C, "seed": X}``: keypads 100000..100000+K-1
  each press once (grades, poll N) in random order spread over S seconds, in 10 ms ticks, and a
  share C of them press again (a vote change). Answer, once every press is answered:
  ``{"poll": N, "ticks": [[t, first_presses_sent_so_far], ...], "presses": P, "elapsed": E}``.
- ``{"flood": true, "first": K0, "keypads": K}``: press as fast as the link takes it (keypads
  K0.. K0+K-1), until ``{"flood": false}``; answers ``{"flood_sent": n, "answered": m}``.
- ``{"pace": N, "every_s": T, "first": K0}``: N presses, one every T seconds, each timed from its
  write to its PRESS_RESULT; answers ``{"latencies_ms": [...], "answered": n}``.
- ``{"deaf": true}``: stop reading the hub's answers (keep sending); answers ``{"deaf": true}``.

Prints ``{"url": ...}`` first. Usage: python bench/_room.py
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from hub.protocol import REVISION, Radio
from hub.wire import StreamDecoder
from hub.wire.codec import Message
from hub.wire.framing import MAX_ENCODED
from hub.wire.messages import Hello, HelloAck, Ping, PressMessage, PressResult, Status

KEYS = "1234567"


class Room:
    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.ready = asyncio.Event()
        self.nonce = 0
        self.seq = 0
        self.counter: dict[int, int] = {}
        self.answered = 0  # PRESS_RESULTs received
        self.answer = asyncio.Event()
        self.watch: dict[tuple[int, int], float] = {}  # (keypad, counter) -> when it was written
        self.timed: list[float] = []
        self.deaf = False
        self.connections = 0
        self.done = asyncio.Event()  # the run is over: handlers end

    def send(self, msg: Message) -> None:
        assert self.writer is not None
        self.writer.write(msg.encode(self.seq))
        self.seq = (self.seq + 1) & 0xFFFF

    def press(self, keypad_id: int, poll_id: int, key: str) -> tuple[int, int]:
        counter = self.counter.get(keypad_id, 0) + 1
        self.counter[keypad_id] = counter
        self.send(PressMessage(keypad_id, counter, self.nonce, poll_id, 0, ord(key), 80, -50, 0, 0))
        return keypad_id, counter

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connections += 1
        dec = StreamDecoder()
        tail = b""
        while True:
            if self.deaf:
                await self.done.wait()  # keeps the connection, reads nothing, to the end
                return
            data = await reader.read(1 << 16)
            if not data:
                return
            now = time.time()
            if self.ready.is_set() and not self.watch:
                # the common case: count results without decoding them (byte 2 is the type)
                parts = (tail + data).split(b"\x00")
                tail = parts.pop()[-MAX_ENCODED:]
                types = [p[2] for p in parts if len(p) > 2]
                n = types.count(PressResult.TYPE)
                if Ping.TYPE in types:  # the heartbeat, among the results
                    self.send(Status(0, 0, 0, 0, 0))
                if n:
                    self.answered += n
                    self.answer.set()
                continue
            for f in dec.feed(data):
                m = f.message
                if isinstance(m, Hello):
                    self.nonce = m.session_nonce
                    self.send(HelloAck(REVISION, 1, 0, 0, 1, 1, Radio.SIMULATED, 6, 0xFFFF))
                    self.ready.set()
                elif isinstance(m, Ping):
                    self.send(Status(0, 0, 0, 0, 0))
                elif isinstance(m, PressResult):
                    self.answered += 1
                    sent = self.watch.pop((m.keypad_id, m.counter), None)
                    if sent is not None:
                        self.timed.append((now - sent) * 1000)
                    self.answer.set()

    async def until_answered(self, n: int, within: float) -> None:
        async with asyncio.timeout(within):
            while self.answered < n:
                self.answer.clear()
                await self.answer.wait()

    async def vote(self, cmd: dict[str, Any]) -> dict[str, Any]:
        rnd = random.Random(cmd.get("seed", cmd["poll"]))
        poll, keypads = cmd["poll"], cmd["keypads"]
        order = list(range(100000, 100000 + keypads))
        rnd.shuffle(order)
        changers = set(rnd.sample(order, int(keypads * cmd.get("changes", 0.0))))
        ticks_n = max(1, round(cmd["spread_s"] / 0.01))
        per_tick = -(-keypads // ticks_n)
        start = self.answered
        presses = 0
        ticks: list[list[float]] = []
        t0 = time.time()
        later: list[int] = []
        for i in range(ticks_n):
            chunk = order[i * per_tick : (i + 1) * per_tick]
            for kid in chunk:
                self.press(kid, poll, KEYS[rnd.randrange(7)])
            for kid in later:  # the ones who change their mind, a tick after their first press
                self.press(kid, poll, KEYS[rnd.randrange(7)])
            presses += len(chunk) + len(later)
            later = [k for k in chunk if k in changers]
            ticks.append([time.time(), min(keypads, (i + 1) * per_tick)])
            delay = t0 + (i + 1) * 0.01 - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
        for kid in later:
            self.press(kid, poll, KEYS[rnd.randrange(7)])
        presses += len(later)
        await self.until_answered(start + presses, 120)
        return {"poll": poll, "ticks": ticks, "presses": presses, "elapsed": time.time() - t0}

    async def flood(self, first: int, keypads: int, stop: asyncio.Event) -> int:
        """As fast as the link takes it: a batch, wait until the socket drains, again."""
        sent = 0
        assert self.writer is not None
        while not stop.is_set():
            for i in range(256):
                self.press(first + (sent + i) % keypads, 0xFFFF, KEYS[i % 7])
            sent += 256
            await self.writer.drain()
            await asyncio.sleep(0)
        return sent

    async def pace(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.timed = []
        n, first = cmd["pace"], cmd["first"]
        start = self.answered
        for i in range(n):
            kid = first + i % 50
            self.watch[(kid, self.counter.get(kid, 0) + 1)] = time.time()
            self.press(kid, 0xFFFF, KEYS[i % 7])
            await asyncio.sleep(cmd["every_s"])
        try:
            await self.until_answered(start + n, 30)
        except TimeoutError:
            pass
        self.watch.clear()
        return {"latencies_ms": self.timed, "answered": len(self.timed), "connections": self.connections}


async def main() -> None:
    room = Room()
    server = await asyncio.start_server(room.handle, "127.0.0.1", 0)
    print(json.dumps({"url": f"socket://127.0.0.1:{server.sockets[0].getsockname()[1]}"}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await asyncio.wait_for(room.ready.wait(), 30)
    flooding: tuple[asyncio.Task[int], asyncio.Event] | None = None
    while line := await reader.readline():
        cmd = json.loads(line)
        if "poll" in cmd:
            out = await room.vote(cmd)
        elif cmd.get("flood") is True:
            stop = asyncio.Event()
            flooding = (asyncio.create_task(room.flood(cmd["first"], cmd["keypads"], stop)), stop)
            out = {"flooding": True}
        elif cmd.get("flood") is False and flooding is not None:
            flooding[1].set()
            out = {"flood_sent": await flooding[0], "answered": room.answered}
        elif "pace" in cmd:
            out = await room.pace(cmd)
        elif cmd.get("deaf"):
            room.deaf = True
            out = {"deaf": True}
        else:
            out = {"error": f"unknown command {cmd}"}
        print(json.dumps(out), flush=True)
    room.done.set()
    await asyncio.sleep(0)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
