"""Nothing about a poll before its reveal: an unauthenticated client watching ``/ws/live``,
``/api/state`` and the chart endpoints through a whole grades poll and a consent round sees
exactly the same thing whatever keys the room pressed, until the facilitator reveals (then it
does see the result: the observation is sharp enough to notice one). The console, with its
token, can preview a closed poll before revealing it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from hub.engine import Engine
from hub.journal import Journal
from hub.model import Press
from hub.session import PollState
from hub.web.server import start_web
from tests.sessions import convention_config

TOKEN = "secrecy-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEYPADS = 15
PUBLIC_GETS = [
    "/api/state",
    "/api/state/session",
    "/api/state/history",
    *(f"/api/polls/{n}/chart.{fmt}" for n in (1, 2, 3) for fmt in ("svg", "png")),
]
# A hang guard, generous for a loaded 2-core machine (a chart drawn there can take seconds), never
# a timing claim.
GUARD_S = 60


class Watcher:
    """What an unauthenticated client sees: every live message, and the public GETs."""

    def __init__(self, hub: Engine, http: httpx.AsyncClient, ws: Any) -> None:
        self.hub, self.http, self.ws = hub, http, ws
        self.last = -1  # the version of the newest live message received
        self.message = ""  # the newest live message, as relative() writes it
        self.live: list[tuple[str, str]] = []  # (step, the newest live message then)
        self.seen: list[tuple[str, str]] = []

    def relative(self, doc: Any) -> str:
        """The document without its version and revisions: they count the hub's publishes, which
        a loaded machine may coalesce differently in two rooms; what must not differ is what the
        state says."""
        if isinstance(doc, dict):
            doc = {k: v for k, v in doc.items() if k not in ("version", "revision", "revisions")}
            doc = {k: self.relative_part(v) for k, v in doc.items()}
        return json.dumps(doc, sort_keys=True)

    @staticmethod
    def relative_part(part: Any) -> Any:
        if isinstance(part, dict) and isinstance(part.get("revision"), int):
            return {k: v for k, v in part.items() if k != "revision"}
        return part

    async def catch_up(self) -> None:
        """Read live messages until the hub's newest state has arrived."""
        while self.last < self.hub.version:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), GUARD_S))
            self.last, self.message = msg["version"], self.relative(msg)

    async def look(self, step: str) -> None:
        await self.catch_up()
        self.live.append((step, self.message))
        for path in PUBLIC_GETS:
            r = await self.http.get(path)
            body = (
                self.relative(r.json())
                if "json" in r.headers.get("content-type", "")
                else f"{len(r.content)} bytes"
            )
            self.seen.append((f"{step} GET {path}", f"{r.status_code} {body}"))


async def _session(tmp_path, name: str, grade_keys: str, consent_keys: str) -> tuple[list, dict, dict]:
    now = [1_800_000_000.0]
    # the same session in every room (its nonce too): only the keys pressed differ
    config = convention_config(keypads=KEYPADS, fiches=3, nonce=0)
    hub = await Engine.open(Journal(tmp_path / f"{name}.db"), config, clock=lambda: now[0])
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    base = f"http://127.0.0.1:{web.port}"
    try:
        async with (
            httpx.AsyncClient(base_url=base, timeout=GUARD_S) as http,
            websockets.connect(f"ws://127.0.0.1:{web.port}/ws/live") as ws,
        ):
            w = Watcher(hub, http, ws)
            previews: dict[str, Any] = {}

            async def poll(mode: str, keys: str, step: str) -> None:
                r = await http.post("/api/polls/open", json={"mode": mode}, headers=AUTH)
                assert r.status_code == 200, r.text
                poll_id = r.json()["poll_id"]
                await w.look(f"{step} open")
                for n, key in enumerate(keys, 1):  # one press at a time, each seen by the watcher
                    now[0] += 1
                    answers: list[Any] = []
                    hub.submit_press(Press(0x10000 + n, poll_id, poll_id, 0, key, at=now[0]), answers.append)
                    await hub.wait_until(lambda a=answers: bool(a), GUARD_S)
                    await w.look(f"{step} press {n}")
                await http.post("/api/polls/close", headers=AUTH)
                await hub.wait_until(lambda: hub.session.poll(poll_id).state is PollState.CLOSED, GUARD_S)
                await w.look(f"{step} closed")
                # the console previews the result with its token; without, nothing
                r = await http.get(f"/api/polls/{poll_id}/result", headers=AUTH)
                assert r.status_code == 200, r.text
                previews[step] = r.json()
                assert (await http.get(f"/api/polls/{poll_id}/result")).status_code == 401
                await http.post(f"/api/polls/{poll_id}/reveal", headers=AUTH)
                await w.look(f"{step} revealed")

            await poll("grades", grade_keys, "grades")
            await http.post("/api/proposals/next", headers=AUTH)
            await poll("consent", consent_keys, "consent")
            return w.seen, w.live, previews
    finally:
        await web.stop()
        await hub.stop()


def _same_until(first: str, a: tuple, b: tuple) -> None:
    """Rooms a and b differ only in the keys pressed in one poll: every public answer and every
    live message is the same in both until that poll's step ``first`` (its reveal)."""
    seen_a, live_a, _ = a
    seen_b, live_b, _ = b
    assert [s for s, _ in seen_a] == [s for s, _ in seen_b]
    cut = next(i for i, (s, _) in enumerate(seen_a) if s.startswith(first))
    for (step, x), (_, y) in zip(seen_a[:cut], seen_b[:cut]):
        assert x == y, f"{step}: the public answer depends on the keys pressed"
    assert any(x != y for (_, x), (_, y) in zip(seen_a[cut:], seen_b[cut:])), "the reveal went unseen"
    differ = [i for i, ((_, x), (_, y)) in enumerate(zip(live_a, live_b)) if x != y]
    assert differ, "the live channel never showed the result"
    step, message = live_a[differ[0]]
    assert step.startswith(first) and json.loads(message)["poll"]["state"] == "revealed", step
    assert differ[0] >= KEYPADS  # every press's state compared


async def test_an_unauthenticated_watcher_learns_nothing_before_the_reveal(tmp_path):
    grades_a, grades_b = "123456712345671", "765432176543217"
    consent_a, consent_b = "ABCDABCDABCDABC", "DDDDCCCCBBBBAAA"
    room = await _session(tmp_path, "a", grades_a, consent_a)
    other_grades = await _session(tmp_path, "b", grades_b, consent_a)
    other_cards = await _session(tmp_path, "c", grades_a, consent_b)
    _same_until("grades revealed", room, other_grades)
    _same_until("consent revealed", room, other_cards)
    # the facilitator's preview did hold each room's own result before the reveal
    assert room[2]["grades"]["items"][0]["tally"] == [3, 2, 2, 2, 2, 2, 2]
    assert other_grades[2]["grades"]["items"][0]["tally"] == [2, 2, 2, 2, 2, 2, 3]
    assert room[2]["consent"]["colours"] == {"green": 4, "yellow": 4, "orange": 4, "red": 3}
    assert other_cards[2]["consent"]["colours"] == {"green": 3, "yellow": 4, "orange": 4, "red": 4}
