"""Reading a room's committed records after a sequence number, beside the hub's writer.

The journal's own read-only reader (chain-checked, in the journal's format) on a thread of its
own: in WAL mode a reader sees every committed transaction and never blocks the writer, so
publishing never delays a commit (nor, therefore, a keypad's answer). Being the file's reader,
not the hub's, it still reads after the hub has closed its journal: the closing record is
published too.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from hub.federation.wire import RoomRecord
from hub.journal import JournalReader


class RecordsReader:
    def __init__(self, path: str | Path, room: str) -> None:
        self.path = Path(path)
        self.room = room
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox reader")
        self._reader: JournalReader | None = None

    async def read_after(self, seq: int, limit: int) -> list[RoomRecord]:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._read, seq, limit)

    def _read(self, seq: int, limit: int) -> list[RoomRecord]:
        if self._reader is None:
            self._reader = JournalReader(self.path)
        fmt = self._reader.format
        return [
            RoomRecord(self.room, r.seq, r.kind, fmt, r.raw, r.hash)
            for r in islice(self._reader.records(seq), limit)
        ]

    async def close(self) -> None:
        def _close() -> None:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, _close)
        finally:
            self._pool.shutdown(wait=True)
