"""The room's outbox reads its journal beside the hub's writer: that must never stop the hub."""

from __future__ import annotations

from hub.journal import Journal


async def test_a_reader_in_the_middle_of_a_read_does_not_stop_the_hub_at_a_reveal(tmp_path):
    """The outbox reads beside the writer; a checkpoint (the closing one empties the WAL) that
    meets a read in progress is left for later: it is not a failed write, the hub goes on."""
    import apsw

    from hub.journal import CHECKPOINT_TRUNCATE

    journal = Journal(tmp_path / "room.db")
    await journal.open()
    codec = journal.codec
    await journal.append([("note", codec.encode("note", {"text": "one"}))])
    reader = apsw.Connection(
        f"file:{tmp_path / 'room.db'}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
    )
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM journal").fetchall()  # a read snapshot, held
        seq, _ = await journal.append(
            [("note", codec.encode("note", {"text": "two"}))], checkpoint=CHECKPOINT_TRUNCATE
        )
        assert seq == 2 and journal.failure is None
        assert (await journal.append([("note", codec.encode("note", {"text": "three"}))]))[0] == 3
    finally:
        reader.execute("COMMIT")
        reader.close()
        await journal.close()
