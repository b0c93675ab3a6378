"""The keypad store kept by `clicker serve` itself: a session file naming a roster file, signed
presses through a receiver, a clean stop, and the roster file's counters are raised (the rest of
the file as it was); the next session, with the same file, refuses the recorded press and a
press at or below the stored counter as from another session. A roster that cannot be written
costs one line, never the session."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal

import httpx

from hub.model import PressStatus
from hub.roster import load_roster, store_counters
from hub.verify import verify
from hub.wire.messages import PressMessage
from hub.wire.mic import compute_mic
from tests.fake_receiver import FakeReceiver
from tests.test_serve import start_serve

KEYPAD = 0x5A7D4120
KEY = bytes(range(32, 48))
ROSTER = {
    "keypads": [
        {"keypad_id": "0x5A7D4120", "number": 1, "holder": "Élise", "key": KEY.hex(), "counter": 10},
        {"keypad_id": 161, "number": 2, "assembly": "A", "key": bytes(16).hex()},
    ]
}


def signed(rx: FakeReceiver, counter: int, key: str, poll_id: int = 1) -> bytes:
    """A press as the keypad sends it: signed under the nonce the receiver heard."""
    p = PressMessage(KEYPAD, counter, rx.session_nonce, poll_id, 0, ord(key), 80, -50, 0, 0)
    return dataclasses.replace(p, mic=compute_mic(KEY, p)).encode(counter)


async def session(tmp_path, db: str, frames: list[bytes]) -> tuple[list, list[str]]:
    """`clicker serve` on a new journal with session.json; a poll opened through the API; the
    frames written by a receiver; a clean stop (SIGTERM). Returns the answers and stderr."""
    rx = FakeReceiver()
    url = await rx.start()
    proc, base, token = await start_serve(
        "--session",
        str(tmp_path / "session.json"),
        "--db",
        str(tmp_path / db),
        "--receiver",
        url,
        "--port",
        "0",
    )
    try:
        await asyncio.wait_for(rx.connected.wait(), 20)
        async with httpx.AsyncClient(base_url=base) as web:
            r = await web.post(
                "/api/polls/open", json={"mode": "grades"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200, r.text
        for i, frame in enumerate(frames(rx) if callable(frames) else frames, 1):
            rx.send_raw(frame)
            await rx.wait_results(i)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await rx.close()
    rest = (await proc.stderr.read()).decode().splitlines()
    return list(rx.results), rest


async def test_serve_keeps_the_keypad_store_and_the_next_session_refuses_the_recording(tmp_path):
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER), encoding="utf-8")
    roster.chmod(0o600)
    (tmp_path / "session.json").write_text(
        json.dumps(
            {"title": "Essai", "proposals": [{"number": 1, "title": "Vélo"}], "roster": "roster.json"}
        ),
        encoding="utf-8",
    )
    recorded: list[bytes] = []

    def first(rx: FakeReceiver) -> list[bytes]:
        recorded[:] = [signed(rx, 41, "6"), signed(rx, 42, "5")]  # an eavesdropper records both
        return recorded

    results, said = await session(tmp_path, "a.db", first)
    assert [r.status for r in results] == [PressStatus.COUNTED] * 2
    assert f"keypad store: {roster}: 1 counters raised" in said, said
    doc = json.loads(roster.read_text(encoding="utf-8"))
    expected = json.loads(json.dumps(ROSTER))
    expected["keypads"][0]["counter"] = 42  # only the counter moved: ids, holder, form kept
    assert doc == expected and roster.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    assert verify(tmp_path / "a.db").ok

    # The next session, same roster file: the recording is refused, and so is a press signed
    # under the new nonce with a counter the store holds (a keypad re-flashed from an old image).
    def second(rx: FakeReceiver) -> list[bytes]:
        return [*recorded, signed(rx, 42, "2"), signed(rx, 43, "2")]

    results, said = await session(tmp_path, "b.db", second)
    assert [(r.counter, r.status) for r in results] == [
        (41, PressStatus.STALE_SESSION),
        (42, PressStatus.STALE_SESSION),
        (42, PressStatus.STALE_SESSION),
        (43, PressStatus.COUNTED),
    ]
    assert f"keypad store: {roster}: 1 counters raised" in said
    assert load_roster(roster)[0].counter == 43


async def test_a_roster_that_cannot_be_written_costs_one_line_not_the_session(tmp_path):
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER), encoding="utf-8")
    (tmp_path / "session.json").write_text(
        json.dumps(
            {"title": "Essai", "proposals": [{"number": 1, "title": "Vélo"}], "roster": "roster.json"}
        ),
        encoding="utf-8",
    )

    def presses(rx: FakeReceiver) -> list[bytes]:
        roster.write_text("{ broken", encoding="utf-8")  # edited by hand during the session
        return [signed(rx, 41, "6")]

    results, said = await session(tmp_path, "a.db", presses)
    assert [r.status for r in results] == [PressStatus.COUNTED]
    line = next(s for s in said if s.startswith("keypad store NOT updated"))
    assert "roster.json: not JSON" in line and f"clicker keypads sync {roster} {tmp_path / 'a.db'}" in line
    assert roster.read_text(encoding="utf-8") == "{ broken"  # left as it was
    assert verify(tmp_path / "a.db").ok  # the session is whole


def test_store_counters_never_lowers_and_writes_only_when_a_counter_moves(tmp_path):
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps(ROSTER["keypads"]), encoding="utf-8")  # the bare-list form
    before = roster.stat().st_mtime_ns
    assert store_counters(roster, {KEYPAD: 9, 161: 0, 0xDEAD: 99}) == 0
    assert roster.stat().st_mtime_ns == before  # nothing moved: not rewritten
    assert store_counters(roster, {161: 7}) == 1
    doc = json.loads(roster.read_text(encoding="utf-8"))
    assert isinstance(doc, list) and [k.get("counter") for k in doc] == [10, 7]
