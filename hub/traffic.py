"""Recorded receiver traffic: what a hub read from and wrote to each receiver's transport, and
the commands it applied, with their times, so that ``clicker replay`` can play a session back
into a fresh hub and check that it comes out the same.

A recording is a JSONL file, one event per line, ``t`` in seconds since the recording began:

- ``{"type": "meta", "version": 2, "t": 0, "session": {...}, "clock": C}``: the session as the
  hub holds it (``SessionConfig.to_json``: its nonce and keypads' keys included, so the file is
  written mode 0600 like the journal), and the hub's clock when the recording began;
- ``{"type": "open", "t": T, "receiver": "rx1", "kind": "serial", "framing": "stream"}``: a
  receiver's transport opened (again);
- ``{"type": "in" | "out", "t": T, "receiver": "rx1", "hex": "..."}``: a chunk the hub read, or
  bytes it wrote (hub/transports/base.py says what a chunk is for each framing);
- ``{"type": "end" | "close", "t": T, "receiver": "rx1"}``: the transport ended (the device
  went away), or the hub closed it;
- ``{"type": "action", "t": T, "action": {...}}``: a command the hub applied (its journaled
  form, hub/commands.py), the grace periods' and countdowns' ends included;
- ``{"type": "truth", "t": T, "tallies": {"POLL": [[counts...], ...]}, ...}``: the tallies the
  hub ended with (and, from the demo, its simulator's ground truth), for the replay to compare;
- ``{"type": "gap", "t": T, "lost": N}``: N events before this one are missing (the disk did
  not keep up with the hub: the recorder keeps a bounded backlog, never the hub waiting).

Recordings of the first version (``"version": 1``, written by the simulated receivers:
``{"type": "bytes", "dir": "rx->hub" | "hub->rx", ...}``) are read as one connection per
receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hub.aio import within
from hub.commands import Command, CommandError, command_from_json, command_to_json
from hub.errors import ClickerError
from hub.transports.base import Framing

if TYPE_CHECKING:
    from hub.engine import Engine

VERSION = 2
MAX_PENDING = 4 << 20  # bytes of lines waiting for the writer thread, at most
CLOSE_WAIT = 10.0  # for the writer to finish the file at the end


class TrafficError(ClickerError):
    """A traffic file that cannot be replayed; one line for the user."""


@dataclass(frozen=True, slots=True)
class Meta:
    session: dict[str, Any]
    clock: float | None  # the hub's clock at t = 0 (None in a first-version recording)


@dataclass(frozen=True, slots=True)
class Opened:
    t: float
    receiver: str
    kind: str
    framing: Framing


@dataclass(frozen=True, slots=True)
class Chunk:
    t: float
    receiver: str
    direction: str  # "in" (read by the hub) or "out" (written by it)
    data: bytes


@dataclass(frozen=True, slots=True)
class Ended:
    t: float
    receiver: str
    closed_by_hub: bool


@dataclass(frozen=True, slots=True)
class Applied:
    t: float
    command: Command


@dataclass(frozen=True, slots=True)
class Truth:
    t: float
    tallies: dict[str, Any]
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Gap:
    """Events the recorder could not keep (its writer was too far behind) before ``t``."""

    t: float
    lost: int


Event = Opened | Chunk | Ended | Applied | Truth | Gap


class TrafficRecorder:
    """Writes a recording as events happen, off the loop: each event becomes one line on the
    loop (no I/O there), and a writer thread of its own writes the lines waiting, in order.

    Bounded: at most ``max_pending`` bytes of lines wait for the writer (a slow or stuck disk
    never grows the hub's memory); beyond that an event is not kept but counted, and the
    recording says so in a ``gap`` line where it resumes (``lost``: how many events are
    missing), so a replay knows it is not the whole session."""

    def __init__(
        self,
        path: str | Path,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = MAX_PENDING,
        exclusive: bool = True,
    ) -> None:
        """``exclusive``: a file that exists is refused (FileExistsError), never overwritten."""
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
        fd = os.open(path, flags, 0o600)
        self._f: TextIO = os.fdopen(fd, "w", encoding="utf-8")
        self._clock = clock
        self._t0 = clock()
        self.path = Path(path)
        self.max_pending = max_pending
        self.finished = False
        self.lost = 0  # events not recorded (the writer was behind by max_pending bytes)
        self.pending_peak = 0  # the most bytes ever waiting for the writer
        self.error = ""  # why the file could not be written (then nothing more is)
        self._gap = 0  # events lost since the last line kept
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._closing = False
        self._wake = threading.Condition()
        self._on_done: Callable[[], object] | None = None  # the writer's last call (set by close)
        name = f"record {self.path.name}"
        self._writer = threading.Thread(target=self._write_lines, name=name, daemon=True)
        self._writer.start()

    def _line(self, doc: dict[str, Any]) -> None:
        t = round(self._clock() - self._t0, 6)
        doc["t"] = t
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._wake:
            if self._closing or self.error or self._pending_bytes + len(line) > self.max_pending:
                self.lost += 1
                self._gap += 1
                return
            if self._gap:
                gap = json.dumps({"type": "gap", "lost": self._gap, "t": t}, separators=(",", ":")) + "\n"
                self._pending.append(gap)
                self._pending_bytes += len(gap)
                self._gap = 0
            self._pending.append(line)
            self._pending_bytes += len(line)
            self.pending_peak = max(self.pending_peak, self._pending_bytes)
            self._wake.notify()

    @property
    def waiting(self) -> int:
        """Bytes of lines waiting for the writer thread."""
        with self._wake:
            return self._pending_bytes

    def _write_lines(self) -> None:
        """The writer thread: the lines waiting, in order, until closed and nothing waits."""
        try:
            while True:
                with self._wake:
                    while not self._pending and not self._closing:
                        self._wake.wait()
                    lines, closing = self._pending, self._closing
                    self._pending, self._pending_bytes = [], 0
                if lines and not self.error:
                    self._write(lines)
                elif closing and not lines:
                    break
            with contextlib.suppress(OSError):
                self._f.close()
        finally:
            with self._wake:
                done = self._on_done
            if done is not None:
                done()

    def _write(self, lines: list[str]) -> None:
        try:
            self._f.write("".join(lines))
            self._f.flush()
        except OSError as exc:  # nothing more is written; close says why
            with self._wake:
                self.error = f"{self.path}: {exc.strerror or exc}"
                self.lost += sum(1 for line in lines if not line.startswith('{"type":"gap"'))

    def start(self, engine: Engine) -> None:
        """Record from now on: the engine's session and clock, then every command it applies
        (taps on its receivers' transports record their bytes: hub/transports/tap.py)."""
        self._line(
            {
                "type": "meta",
                "version": VERSION,
                "session": engine.session.config.to_json(),
                "clock": engine.clock(),
            }
        )
        engine.observe(self.command)

    def opened(self, receiver: str, kind: str, framing: Framing) -> None:
        self._line({"type": "open", "receiver": receiver, "kind": kind, "framing": str(framing)})

    def chunk(self, receiver: str, direction: str, data: bytes) -> None:
        self._line({"type": direction, "receiver": receiver, "hex": data.hex()})

    def ended(self, receiver: str) -> None:
        self._line({"type": "end", "receiver": receiver})

    def closed(self, receiver: str) -> None:
        self._line({"type": "close", "receiver": receiver})

    def command(self, command: Command) -> None:
        self._line({"type": "action", "action": command_to_json(command)})

    def truth(self, tallies: dict[str, Any], **extra: Any) -> None:
        self._line({"type": "truth", "tallies": tallies, **extra})

    async def close(self) -> None:
        """Write what waits (a gap line last if events were lost at the end) and close the file;
        TrafficError if the file could not be written, or not within ``CLOSE_WAIT``."""
        if self.finished:
            return
        self.finished = True
        loop, written = asyncio.get_running_loop(), asyncio.Event()
        with self._wake:
            if self._gap and not self.error:
                gap = {"type": "gap", "lost": self._gap, "t": round(self._clock() - self._t0, 6)}
                self._pending.append(json.dumps(gap, separators=(",", ":")) + "\n")
                self._gap = 0
            self._closing = True
            self._on_done = partial(loop.call_soon_threadsafe, written.set)
            alive = self._writer.is_alive()
            self._wake.notify()
        if alive:
            try:
                await within(written.wait(), CLOSE_WAIT)
            except TimeoutError:
                raise TrafficError(
                    f"{self.path}: the recording's last lines were not written within {CLOSE_WAIT:g} s"
                ) from None
        if self.error:
            raise TrafficError(f"the recording stopped: {self.error}")


def read_traffic(path: str | Path) -> tuple[Meta, list[Event]]:
    """A recording's description and all its events, in memory (a short recording; a replay
    reads it as it goes: ``open_traffic``)."""
    meta, events = open_traffic(path)
    with contextlib.closing(events):
        return meta, list(events)


@dataclass(frozen=True, slots=True)
class Outline:
    """What a replay needs before it starts: the session, how many events, each receiver as
    it was first opened."""

    meta: Meta
    events: int
    receivers: dict[str, Opened]


def outline(path: str | Path) -> Outline:
    """Read a whole recording once, keeping only its outline: a bad line is reported (by
    TrafficError) before anything starts, and memory stays small however long the day."""
    meta, events = open_traffic(path)
    count, receivers = 0, dict[str, Opened]()
    with contextlib.closing(events):
        for e in events:
            count += 1
            if isinstance(e, Opened):
                receivers.setdefault(e.receiver, e)
    return Outline(meta, count, receivers)


def open_traffic(path: str | Path) -> tuple[Meta, Generator[Event, None, None]]:
    """A recording's description, and its events in order, read a line at a time as they are
    taken (close the generator when not taking them all); TrafficError names the line of
    anything that is not a recording's."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None or first[1]["type"] != "meta" or not isinstance(first[1].get("session"), dict):
        lines.close()
        raise TrafficError(f"{path}: the first record must be the session description (type meta)")
    head = first[1]
    version = head.get("version", 1)
    clock = head.get("clock")
    meta = Meta(head["session"], float(clock) if isinstance(clock, int | float) else None)
    return meta, _events(path, lines, version)


def _events(
    path: str | Path, lines: Generator[tuple[int, dict[str, Any]], None, None], version: int
) -> Generator[Event, None, None]:
    opened: set[str] = set()
    with contextlib.closing(lines):
        for n, doc in lines:
            try:
                events = _event(doc, version, opened)
            except (KeyError, TypeError, ValueError, CommandError) as exc:
                why = f"field {exc.args[0]!r} is missing" if isinstance(exc, KeyError) else str(exc)
                raise TrafficError(f"{path}:{n}: {why}") from None
            yield from events


def _lines(path: str | Path) -> Generator[tuple[int, dict[str, Any]], None, None]:
    """The recording's records with their line numbers, one at a time."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise TrafficError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TrafficError(f"{path}: a directory, not a recording") from None
    with f:
        try:
            for n, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    doc = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise TrafficError(f"{path}:{n}: not JSON ({exc.msg})") from None
                if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
                    raise TrafficError(f"{path}:{n}: not a traffic record")
                yield n, doc
        except UnicodeDecodeError:
            raise TrafficError(f"{path}: not UTF-8 text") from None


def _event(doc: dict[str, Any], version: int, opened: set[str]) -> list[Event]:
    kind, t = doc["type"], float(doc["t"])
    if kind == "gap":
        lost = doc["lost"]
        if not isinstance(lost, int) or lost < 1:
            raise TypeError("'lost' must be a positive whole number")
        return [Gap(t, lost)]
    if kind == "action":
        return [Applied(t, command_from_json(doc["action"]))]
    if kind == "truth":
        tallies = doc.get("tallies")
        if not isinstance(tallies, dict):
            raise TypeError("'tallies' must be an object")
        return [Truth(t, tallies, {k: v for k, v in doc.items() if k not in ("type", "t", "tallies")})]
    receiver = doc["receiver"]
    if not isinstance(receiver, str):
        raise TypeError("'receiver' must be text")
    if version == 1 and kind == "bytes":  # the first version: one connection per receiver
        if doc["dir"] != "rx->hub":
            return []
        out: list[Event] = []
        if receiver not in opened:
            opened.add(receiver)
            out.append(Opened(t, receiver, "serial", Framing.STREAM))
        return [*out, Chunk(t, receiver, "in", _hex(doc))]
    if kind == "open":
        return [Opened(t, receiver, str(doc["kind"]), Framing(doc["framing"]))]
    if kind in ("in", "out"):
        return [Chunk(t, receiver, kind, _hex(doc))]
    if kind in ("end", "close"):
        return [Ended(t, receiver, kind == "close")]
    raise ValueError(f"unknown record type {kind!r}")


def _hex(doc: dict[str, Any]) -> bytes:
    try:
        return bytes.fromhex(doc["hex"])
    except (TypeError, ValueError):
        raise ValueError("bad 'hex' field") from None
