"""Recorded keypad traffic: a JSONL file of every byte between receivers and the hub, with
timestamps, plus the facilitator's actions, so a session can be replayed into a fresh hub.

One JSON object per line, ``t`` in seconds since the recording started:

- ``{"type": "meta", "version": 1, "t": 0, "session": {...}, "seed": S}``: the session
  description (SessionConfig JSON) the hub was started with;
- ``{"type": "bytes", "t": T, "receiver": "rx1", "dir": "rx->hub" | "hub->rx", "hex": "..."}``:
  bytes exactly as they crossed the serial link (COBS frames, noise included);
- ``{"type": "action", "t": T, "action": {...}}``: a facilitator action, as the journal holds it;
- ``{"type": "truth", "t": T, "polls": {...}, "tallies": {"POLL": [[counts...], ...]}}``: the
  simulator's ground truth summary and the hub's final tallies, for the replay to compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from hub.aio import within
from hub.commands import Command, CommandError, Reveal, command_from_json, command_to_json
from hub.engine import Engine
from hub.errors import ClickerError
from hub.journal import Journal
from hub.receivers.serial import SerialReceiver
from hub.records import poll_tallies
from hub.session import PollState, SessionConfig, SessionError
from hub.wire import StreamDecoder
from hub.wire.messages import Press


class TrafficError(ClickerError):
    """A traffic file that cannot be replayed; one line for the user."""


class TrafficRecorder:
    def __init__(self, path: str | Path) -> None:
        self._f: TextIO = open(path, "w", encoding="utf-8")
        self._t0 = time.monotonic()

    def _line(self, doc: dict[str, Any]) -> None:
        doc["t"] = round(time.monotonic() - self._t0, 6)
        self._f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")

    def meta(self, session: dict[str, Any], seed: int) -> None:
        self._line({"type": "meta", "version": 1, "session": session, "seed": seed})

    def bytes(self, receiver: str, direction: str, data: bytes) -> None:
        self._line({"type": "bytes", "receiver": receiver, "dir": direction, "hex": data.hex()})

    def action(self, command: Command) -> None:
        self._line({"type": "action", "action": command_to_json(command)})

    def truth(self, polls: dict[str, Any], tallies: dict[str, Any]) -> None:
        self._line({"type": "truth", "polls": polls, "tallies": tallies})

    def close(self) -> None:
        self._f.close()


def read_traffic(path: str | Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    numbers: list[int] = []  # each record's line in the file, for messages
    try:
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    doc = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise TrafficError(f"{path}:{n}: not JSON ({exc.msg})") from None
                if not isinstance(doc, dict) or doc.get("type") not in ("meta", "bytes", "action", "truth"):
                    raise TrafficError(f"{path}:{n}: not a traffic record")
                if doc["type"] == "bytes":
                    try:
                        bytes.fromhex(doc["hex"])
                    except (KeyError, TypeError, ValueError):
                        raise TrafficError(f"{path}:{n}: bad 'hex' field") from None
                lines.append(doc)
                numbers.append(n)
    except FileNotFoundError:
        raise TrafficError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TrafficError(f"{path}: not UTF-8 text") from None
    if not lines or lines[0]["type"] != "meta":
        raise TrafficError(f"{path}: the first record must be the session description (type meta)")
    for n, doc in zip(numbers, lines):
        if doc["type"] == "action":
            try:
                doc["command"] = command_from_json(doc.get("action"))
            except CommandError as exc:
                raise TrafficError(f"{path}:{n}: {exc}") from None
    return lines


class _ReplayPort:
    """A TCP endpoint the hub connects to, fed with one receiver's recorded bytes."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()
        self.decoder = StreamDecoder()
        self.presses = 0

    async def start(self) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writer = writer
            self.connected.set()
            try:
                while await reader.read(4096):
                    pass  # the hub's answers are not needed: the replay compares tallies
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"socket://{host}:{port}"

    async def write(self, data: bytes) -> None:
        await within(self.connected.wait(), 10)
        assert self.writer is not None
        self.presses += sum(isinstance(f.message, Press) for f in self.decoder.feed(data))
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.server.close()
        await self.server.wait_closed()


async def replay(
    path: str | Path,
    speed: float = 1.0,
    db: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay a traffic file into a fresh hub; returns a summary with ``tallies_match``."""
    lines = read_traffic(path)
    if speed <= 0:
        raise TrafficError("--speed must be positive")
    try:
        config = SessionConfig.from_json(lines[0]["session"])
    except SessionError as exc:
        raise TrafficError(f"{path}: {exc}") from None
    tmp = tempfile.TemporaryDirectory(prefix="clicker-replay-") if db is None else None
    # The hub's clock follows the recording, not the wall: a replay at any speed sees the
    # same press ages and grace periods as the recorded session did.
    base, timeline = time.time(), [0.0]

    def clock() -> float:
        return base + timeline[0]

    journal = Journal(db or Path(tmp.name) / "replay.db")  # type: ignore[union-attr]
    hub: Engine | None = None
    ports: dict[str, _ReplayPort] = {}
    try:
        hub = await Engine.open(journal, config, clock=clock)
        for name in sorted({ln["receiver"] for ln in lines if ln["type"] == "bytes"}):
            ports[name] = _ReplayPort()
            hub.add_receiver(SerialReceiver(await ports[name].start(), hub, name=name, clock=clock))
        t_prev = 0.0
        truth = None
        for i, ln in enumerate(lines[1:], 1):
            await asyncio.sleep(max(0.0, (ln["t"] - t_prev) / speed))
            t_prev = timeline[0] = ln["t"]
            if ln["type"] == "bytes" and ln["dir"] == "rx->hub":
                await ports[ln["receiver"]].write(bytes.fromhex(ln["hex"]))
            elif ln["type"] == "action":
                await _settle(hub, sum(p.presses for p in ports.values()))
                command = ln["command"]
                if isinstance(command, Reveal):
                    await _wait_closed(hub, command.poll_id)
                await hub.act(command)
            elif ln["type"] == "truth":
                truth = ln
            if progress:
                progress(i, len(lines) - 1)
        await _settle(hub, sum(p.presses for p in ports.values()))
        session = hub.session
        tallies = poll_tallies(session)
        statuses = {s.name.lower(): n for s, n in session.statuses.items()}
        return {
            "polls": len(session.polls),
            "presses_received": sum(statuses.values()),
            "presses_counted": statuses["counted"],
            "duplicates": statuses["duplicate"],
            "tallies_match": truth is not None and truth.get("tallies") == tallies,
            "recorded_tallies": truth is not None,
        }
    finally:
        if hub is not None:
            await hub.stop()
        for p in ports.values():
            await p.close()
        if tmp is not None:
            tmp.cleanup()


async def _settle(hub: Engine, presses: int) -> None:
    """Wait until the hub has decided every valid press written so far."""
    session = hub.session
    with contextlib.suppress(TimeoutError):
        await hub.wait_until(lambda: sum(session.statuses.values()) >= presses, 10)


async def _wait_closed(hub: Engine, poll_id: int | None) -> None:
    session = hub.session

    def closed() -> bool:
        polls = session.polls
        poll = next((p for p in polls if p.poll_id == poll_id), polls[-1] if polls else None)
        return poll is None or poll.state is not PollState.CLOSING

    with contextlib.suppress(TimeoutError):
        await hub.wait_until(closed, 10)
