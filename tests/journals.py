"""Helpers for the journal's tests: what a journal counted, and a forger who knows the format."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub import journal as journal_module
from hub.codec import CODECS
from hub.journal import KIND_IDS, read_records
from hub.model import PressStatus
from hub.records import PressRecord


def counted_in(db: Path) -> set[tuple[int, int]]:
    """(keypad, counter) of every press the journal at ``db`` holds as counted."""
    return {
        (r.body.press.keypad_id, r.body.press.counter)
        for r in read_records(db)
        if isinstance(r.body, PressRecord) and r.body.status == PressStatus.COUNTED
    }


def forge_vote(db) -> int:
    """Change a counted vote and recompute every hash after it (a forger who knows the format)."""
    layout = journal_module.LAYOUTS[2]
    codec = CODECS[2]
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT seq, kind, body FROM journal ORDER BY seq").fetchall()
    target = next(seq for seq, kind, _ in reversed(rows) if kind == KIND_IDS["press"])
    prev = layout.genesis
    for seq, kind, body in rows:
        name = journal_module.KIND_NAMES[kind]
        if seq == target:
            rec = codec.decode("press", body)
            body = codec.encode_press(rec.press._replace(key="7" if rec.press.key != "7" else "1"), 0, 1)
            conn.execute("UPDATE journal SET body = ? WHERE seq = ?", (body, seq))
        prev = layout.link(prev, seq, name, body)
        conn.execute("UPDATE journal SET hash = ? WHERE seq = ?", (prev, seq))
    conn.commit()
    conn.close()
    return target
