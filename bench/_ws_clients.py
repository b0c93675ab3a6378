"""N websocket clients on /ws/live in one process (apart from the hub's): each records when it
first sees every keypad number among those who voted. Prints one JSON line when stdin closes."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import websockets


async def client(url: str, seen: dict[int, float], ready: asyncio.Event, counter: list[int], n: int) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.recv()  # the snapshot
        counter[0] += 1
        if counter[0] == n:
            ready.set()
        async for raw in ws:
            now = time.time()
            state = json.loads(raw)
            for number in (state.get("poll") or {}).get("voted", ()):
                seen.setdefault(number, now)


async def main(url: str, n: int) -> None:
    ready = asyncio.Event()
    counter = [0]
    seen: list[dict[int, float]] = [{} for _ in range(n)]
    tasks = [asyncio.create_task(client(url, seen[i], ready, counter, n)) for i in range(n)]
    await asyncio.wait_for(ready.wait(), 60)
    print(json.dumps({"ready": n}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until told to stop
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"seen": [{str(k): v for k, v in s.items()} for s in seen]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
