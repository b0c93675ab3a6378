"""``clicker backup``: a complete, self-contained copy of a journal, even while the hub writes it.

Copying ``session.db`` with ``cp`` while the hub runs (or after a crash) leaves behind what is
still in ``session.db-wal``; SQLite's backup API reads the main file and the write-ahead log
together, in one read transaction, so the copy holds every record committed when it started.
The copy is written in rollback-journal mode (one file, nothing beside it to lose), made
durable, renamed into place, then verified.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import apsw

from hub.errors import ClickerError
from hub.journal import JournalError, layout_of, one_line
from hub.verify import Verdict, verify
from hub.wal import wal_damage


class BackupError(ClickerError):
    """A backup that could not be made, or whose copy does not verify; one line."""


def backup_journal(src: str | Path, out: str | Path) -> Verdict:
    """Copy ``src`` to ``out`` (a new file); return the copy's verdict."""
    src, out = Path(src), Path(out)
    if not src.is_file():
        raise BackupError(f"{src}: no such file")
    if out.exists():
        raise BackupError(f"{out}: already exists (a backup never overwrites)")
    damage = wal_damage(src)
    part = out.with_name(out.name + ".part")
    part.unlink(missing_ok=True)
    part.touch(mode=0o600)  # the session record may hold keypad keys: owner only
    try:
        source = apsw.Connection(
            f"file:{quote(str(src.resolve()))}?mode=ro",
            flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI,
        )
        try:
            layout_of(source, src)
            dest = apsw.Connection(str(part))
            try:
                with dest.backup("main", source, "main") as copy:
                    copy.step(-1)  # every page in one step: one consistent view of a live journal
                dest.execute("PRAGMA journal_mode=DELETE").fetchall()
            finally:
                dest.close()
        finally:
            source.close()
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, out)
        dir_fd = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except JournalError as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"{src}: {exc}") from None
    except (apsw.Error, OSError) as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"{src} -> {out}: {one_line(exc)}") from None
    if damage is not None:  # the copy holds what SQLite can read; say what it cannot
        raise BackupError(f"{src}: copied to {out} up to the damage, but {damage}")
    verdict = verify(out)
    if not verdict.ok:
        raise BackupError(f"{out}: copied, but the copy does not verify: {verdict.problem}")
    return verdict
