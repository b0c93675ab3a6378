"""A storage layer that forgets what was not synced, for power-loss tests (an APSW VFS).

The journal runs its real code over real files through this VFS, which watches every write,
truncation and sync of the database and its WAL. For each file it keeps the *durable* image
(its content as of the last sync) and the operations since. At any moment ``crash_image`` gives
what a power cut at that instant could leave on the disk, as SQLite's own crash tests model it:
each sector written since the last sync holds either its old or its new content, or (rarely)
garbage, chosen at random, and the file's length is either the old or the new one. The -shm
index is memory the next opener rebuilds from the WAL, so it is not part of the image.

It can also fail every operation from a given one on (an I/O error), to test fail-stop.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path

import apsw

SECTOR = 512


class _File:
    def __init__(self, durable: bytes) -> None:
        self.durable = bytearray(durable)
        self.pending: list[tuple[int, bytes | None]] = []  # (offset, data) or (size, None): truncate

    def sync(self) -> None:
        self.durable = self.apply(self.durable, self.pending)
        self.pending = []

    @staticmethod
    def apply(image: bytearray, ops: list[tuple[int, bytes | None]]) -> bytearray:
        out = bytearray(image)
        for offset, data in ops:
            if data is None:
                del out[offset:]
            else:
                if len(out) < offset:
                    out.extend(bytes(offset - len(out)))
                out[offset : offset + len(data)] = data
        return out

    def crashed(self, rng: random.Random) -> bytes:
        """What a power cut now could leave of this file.

        Each sector-sized piece of each write since the last sync independently reached the
        disk, did not, or was torn (garbage); bytes that were not written keep their content:
        the device is "powersafe overwrite", as SQLite's unix VFS declares (a write never
        damages the bytes around it), so that SQLite does not pad its WAL frames to sectors."""
        if not self.pending:
            return bytes(self.durable)
        out = bytearray(self.durable)
        for offset, data in self.pending:
            if data is None:
                if rng.random() < 0.5:
                    del out[offset:]
                continue
            if len(out) < offset + len(data) and rng.random() < 0.5:
                continue  # the file never grew: the whole append is lost
            if len(out) < offset:
                out.extend(bytes(offset - len(out)))
            pos = offset
            while pos < offset + len(data):
                end = min((pos // SECTOR + 1) * SECTOR, offset + len(data))
                piece = data[pos - offset : end - offset]
                luck = rng.random()
                if luck < 0.45:  # reached the platter
                    out[pos:end] = piece
                elif luck < 0.50:  # torn
                    out[pos:end] = rng.randbytes(end - pos)
                elif len(out) < end:  # lost, in a part of the file that had not existed
                    out[pos:end] = bytes(end - pos)
                pos = end
        return bytes(out)


class CrashDisk(apsw.VFS):
    """Register with a name, give that name to ``Journal(path, vfs=name)``, ``unregister`` after."""

    def __init__(self, name: str, seed: int = 0) -> None:
        self.name = name
        self.rng = random.Random(seed)
        self.files: dict[str, _File] = {}
        self.lock = threading.Lock()
        self.ops = 0
        self.fail_from: int | None = None  # every operation from this one on fails (EIO)
        self.writes_after_failure = 0
        self.on_op: Callable[[CrashDisk], None] | None = None  # called before each operation
        super().__init__(name, "")

    def xOpen(self, name: apsw.URIFilename | str | None, flags: list[int]) -> apsw.VFSFile:
        return _CrashFile(self, name, flags)

    def xDelete(self, filename: str, syncdir: bool) -> None:
        self.before("delete")
        super().xDelete(filename, syncdir)
        with self.lock:
            self.files.pop(filename, None)

    def file(self, path: str) -> _File:
        if path not in self.files:
            p = Path(path)
            self.files[path] = _File(p.read_bytes() if p.exists() else b"")
        return self.files[path]

    def before(self, kind: str) -> None:
        with self.lock:
            self.ops += 1
            failing = self.fail_from is not None and self.ops >= self.fail_from
            if failing and kind == "write":
                self.writes_after_failure += 1
        if self.on_op is not None:
            self.on_op(self)
        if failing:
            raise apsw.IOError("simulated I/O error")

    def crash_image(self, rng: random.Random | None = None) -> dict[str, bytes]:
        """Every file as a power cut now could leave it (call from the writer's thread, or
        while it is idle)."""
        rng = rng or self.rng
        with self.lock:
            return {path: f.crashed(rng) for path, f in self.files.items()}

    def durable_image(self) -> dict[str, bytes]:
        with self.lock:
            return {path: bytes(f.durable) for path, f in self.files.items()}


class _CrashFile(apsw.VFSFile):
    def __init__(self, disk: CrashDisk, name: apsw.URIFilename | str | None, flags: list[int]) -> None:
        super().__init__("", name, flags)
        self.disk = disk
        self.path = name.filename() if isinstance(name, apsw.URIFilename) else str(name)
        with disk.lock:
            disk.file(self.path)

    def xWrite(self, data: bytes, offset: int) -> None:
        self.disk.before("write")
        super().xWrite(data, offset)
        with self.disk.lock:
            self.disk.files[self.path].pending.append((offset, bytes(data)))

    def xTruncate(self, newsize: int) -> None:
        self.disk.before("truncate")
        super().xTruncate(newsize)
        with self.disk.lock:
            self.disk.files[self.path].pending.append((newsize, None))

    def xSync(self, flags: int) -> None:
        self.disk.before("sync")
        super().xSync(flags)
        with self.disk.lock:
            self.disk.files[self.path].sync()


def write_image(image: dict[str, bytes], db: Path, into: Path) -> Path:
    """Lay a crash image's files out under ``into``, named after ``db``; returns the new db."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / db.name
    for path, content in image.items():
        suffix = path[len(str(db)) :]
        if suffix in ("", "-wal", "-journal"):
            (into / (db.name + suffix)).write_bytes(content)
    return target
