"""A facilitator runs the 40-fiche day from the console alone, at 1280×720, by clicks: every
fiche put up by a click, opened, closed, previewed and revealed; a false start reset with its
reason; a second round; a countdown that closes the poll and is heard; a refused move away from
an open poll turned into close-and-move; the projector switched to the assemblies' results and
the ranking; a consent round. The room votes by itself whenever a poll opens (presses straight
into the hub); the projector, at 1280×720 too, follows. Screenshots in artifacts/console-day/."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from playwright.async_api import Page

from hub.engine import Engine
from hub.journal import Journal
from hub.session import PollState
from hub.verify import verify
from hub.web.server import start_web
from tests.sessions import Room, convention_config
from tests.test_browser import ARTIFACTS, GUARD_MS, browser  # noqa: F401  (fixture)

TOKEN = "console-day"
FICHES = 40
VIEW = {"width": 1280, "height": 720}
HUB_S = 30  # a hang guard on the hub's side, generous for a loaded machine: never a timing claim


class VotingRoom:
    """Members who vote whenever a poll opens: grades on a grades poll, cards on a consent round."""

    def __init__(self, hub: Engine) -> None:
        self.hub = hub
        self.room = Room(hub, seed=13, turnout=0.93)
        self.voted: set[int] = set()
        self.done: dict[int, asyncio.Event] = {}
        self.failed: list[str] = []  # a vote whose presses were not all answered
        self.tasks: set[asyncio.Task[None]] = set()
        hub.subscribe(self.follow)

    def follow(self, state: dict[str, Any]) -> None:
        poll = state.get("poll")
        if poll and poll["state"] == "open" and poll["poll_id"] not in self.voted:
            self.voted.add(poll["poll_id"])
            task = asyncio.get_running_loop().create_task(
                self.vote(poll["poll_id"], poll["mode"], poll["items"][0])
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _done(self, poll_id: int) -> asyncio.Event:
        return self.done.setdefault(poll_id, asyncio.Event())

    async def vote(self, poll_id: int, mode: str, item: int) -> None:
        try:
            if mode == "consent":
                await self.room.cards(poll_id)
            else:
                await self.room.judge(item, poll_id)
        except TimeoutError:
            self.failed.append(f"poll {poll_id}: presses not all answered")
        self._done(poll_id).set()

    async def voted_in(self, poll_id: int) -> None:
        """Every member's press in this poll answered (the vote starts when the hub publishes
        the poll open, which may come after the console heard its answer)."""
        await asyncio.wait_for(self._done(poll_id).wait(), HUB_S)
        assert not self.failed, self.failed

    async def stop(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def click(page: Page, selector: str) -> None:
    await page.click(selector, timeout=GUARD_MS)


async def said(page: Page, text: str, kind: str = "ok") -> None:
    await page.wait_for_selector(f"#bar.{kind} >> text={text}", timeout=GUARD_MS)


async def project(console: Page, hub: Engine, view: str, assembly: str) -> None:
    """Choose what the projector shows, as the facilitator does (the view's radio button, then
    the assembly's list). Each choice sends both to the hub; the next is made only once the
    console has worded the last one's answer, so none lands late or out of order."""

    async def choose(act: Awaitable[Any]) -> None:
        seq = await console.evaluate("Number(document.getElementById('bar').dataset.seq || 0)")
        async with console.expect_response(
            lambda r: r.url.endswith("/api/display"), timeout=GUARD_MS
        ) as answer:
            await act
        assert (await answer.value).ok
        await console.wait_for_function(
            f"Number(document.getElementById('bar').dataset.seq || 0) > {seq}", timeout=GUARD_MS
        )
        await said(console, "Projecteur mis à jour.")

    radio = f'input[name="view"][value="{view}"]'
    if not await console.is_checked(radio):
        await choose(click(console, radio))
    if await console.input_value("#assembly") != assembly:
        await choose(console.select_option("#assembly", assembly, timeout=GUARD_MS))
    assert dict(hub.session.display) == {"view": view, "assembly": assembly}


async def test_a_facilitator_runs_the_day_from_the_console(tmp_path, browser):  # noqa: F811
    hub = await Engine.open(
        Journal(tmp_path / "day.db"), convention_config(keypads=70, fiches=FICHES, guests=3, grace_s=0.3)
    )
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    voters = VotingRoom(hub)
    base = f"http://127.0.0.1:{web.port}"
    shots = ARTIFACTS / "console-day"
    shots.mkdir(parents=True, exist_ok=True)
    session = hub.session
    assert session is not None
    try:
        console = await browser.new_page(viewport=VIEW)
        errors: list[str] = []
        console.on("pageerror", lambda exc: errors.append(str(exc)))
        await console.goto(f"{base}/console#token={TOKEN}")
        projector = await browser.new_page(viewport=VIEW)
        projector.on("pageerror", lambda exc: errors.append(str(exc)))
        await projector.goto(f"{base}/?sound=1")
        await console.wait_for_selector("#fiches li.current", timeout=GUARD_MS)

        async def run_poll(number: int, shoot: bool = False) -> int:
            """Open (the room votes), close, check the preview, reveal; returns the poll id."""
            await click(console, "#open")
            await said(console, "ouvert")
            poll_id = session.polls[-1].poll_id
            await voters.voted_in(poll_id)
            turnout = session.poll(poll_id).turnout
            await console.wait_for_selector(
                f"#pollstate >> text=/— {turnout} \\/ 73 ont voté/", timeout=GUARD_MS
            )
            await click(console, "#close")
            await hub.wait_until(lambda: session.poll(poll_id).state is PollState.CLOSED, HUB_S)
            await console.wait_for_selector("#preview-box", timeout=GUARD_MS)  # only the console sees it
            await projector.wait_for_selector("text=Le résultat va être annoncé.", timeout=GUARD_MS)
            assert await projector.locator(".verdict").count() == 0
            if shoot:
                await console.screenshot(path=shots / f"console-preview-{number}.png")
            await click(console, "#reveal")
            await projector.wait_for_selector(".verdict .grade", timeout=GUARD_MS)
            assert session.poll(poll_id).state is PollState.REVEALED
            return poll_id

        for number in range(1, FICHES + 1):
            if number > 1 and number != 7:
                await click(console, f'#fiches li[data-n="{number}"]')  # a click puts it up
                await said(console, f"Fiche {number} à l'écran.")
            if number == 3:  # a false start: reset, with its reason, then held again
                await click(console, "#open")
                await said(console, "ouvert")
                await console.wait_for_selector("#pollstate >> text=ouvert", timeout=GUARD_MS)
                await click(console, "#reset")
                await click(console, "#ask-yes")  # no reason yet: refused in the dialog
                await console.wait_for_selector(
                    "#ask-error >> text=Une raison est nécessaire.", timeout=GUARD_MS
                )
                await console.fill("#ask-reason", "fiche mal lue")
                await click(console, "#ask-yes")
                await said(console, "annulé")
                assert session.polls[-1].state is PollState.RESET
                assert session.polls[-1].reset_reason == "fiche mal lue"
                await console.wait_for_selector("#history tr.reset >> text=fiche mal lue", timeout=GUARD_MS)
            if number == 5:  # a countdown that closes the poll at zero, seen and heard
                await console.fill("#countdown", "2")
                await console.check("#countdown-close")
                before = len(session.polls)
                await click(console, "#open")
                await hub.wait_until(lambda n=before: len(session.polls) > n, HUB_S)
                poll_id = session.polls[-1].poll_id
                await hub.wait_until(lambda p=poll_id: session.poll(p).state is PollState.CLOSED, HUB_S)
                assert session.poll(poll_id).closed_by == "countdown"
                await projector.wait_for_selector(".timeup >> text=Temps écoulé", timeout=GUARD_MS)
                await said(console, f"Temps écoulé : vote {poll_id} clos.")
                assert await console.evaluate("window.__clickerSounded || 0") >= 1  # heard on the console
                assert await projector.evaluate("window.__clickerBeeps || 0") >= 1
                await projector.screenshot(path=shots / "projector-time-up.png")
                await console.fill("#countdown", "0")
                await console.uncheck("#countdown-close")
                await click(console, "#reveal")
                await projector.wait_for_selector(".verdict .grade", timeout=GUARD_MS)
                continue
            if number == 6:  # moving away while the poll is open: refused, offered as close-and-move
                await click(console, "#open")
                await said(console, "ouvert")
                poll_id = session.polls[-1].poll_id
                await voters.voted_in(poll_id)
                await click(console, "#next")
                await console.wait_for_selector("#ask-text >> text=est encore ouvert", timeout=GUARD_MS)
                await console.screenshot(path=shots / "console-close-and-move.png")
                await click(console, "#ask-yes")
                await said(console, "Fiche 7 à l'écran.")
                assert session.poll(poll_id).state is PollState.CLOSED and session.current == 7
                await click(console, '#history tr:has(td:text-is("6")) >> nth=0')  # the history lists it
                await click(console, f'#fiches li[data-n="{6}"]')
                await said(console, "Fiche 6 à l'écran.")
                await click(console, "#reveal")
                await projector.wait_for_selector(".verdict .grade", timeout=GUARD_MS)
                await click(console, '#fiches li[data-n="7"]')
                await said(console, "Fiche 7 à l'écran.")
                continue
            await run_poll(number, shoot=number == 1)
            if number == 2:  # a second round on the same fiche, asked for and labelled
                await click(console, "#open")
                await console.wait_for_selector("#ask-text >> text=Ouvrir un second tour ?", timeout=GUARD_MS)
                await click(console, "#ask-yes")
                await said(console, "ouvert")
                await console.wait_for_selector("#pollstate .round >> text=2e tour", timeout=GUARD_MS)
                await projector.wait_for_selector(".fiche .round >> text=2e tour", timeout=GUARD_MS)
                poll_id = session.polls[-1].poll_id
                await voters.voted_in(poll_id)
                await click(console, "#close")
                await hub.wait_until(lambda p=poll_id: session.poll(p).state is PollState.CLOSED, HUB_S)
                await click(console, "#reveal")
                await projector.wait_for_selector(".fiche-line .round >> text=2e tour", timeout=GUARD_MS)
            if number == 10:  # the assemblies' results on the projector, chosen from the console
                await project(console, hub, "auto", "*")
                await projector.wait_for_selector(".groups >> text=Assemblée « sociale »", timeout=GUARD_MS)
                await projector.screenshot(path=shots / "projector-assemblies.png")
                await project(console, hub, "auto", "sociale")
                await projector.wait_for_selector(
                    ".fiche-line >> text=Assemblée « sociale »", timeout=GUARD_MS
                )
                await project(console, hub, "auto", "")
                await projector.wait_for_selector(".verdict:not(:has(~ .groups))", timeout=GUARD_MS)

        # the ranking, then each assembly's, on the projector
        await project(console, hub, "ranking", "")
        await projector.wait_for_selector("#rows .t", timeout=GUARD_MS)
        await projector.screenshot(path=shots / "projector-ranking.png")
        await project(console, hub, "ranking", "écologique")
        await projector.wait_for_selector(".rank-head >> text=Assemblée « écologique »", timeout=GUARD_MS)
        await project(console, hub, "auto", "")
        await projector.wait_for_selector(".verdict", timeout=GUARD_MS)

        # a consent round
        await click(console, "#consent")
        await said(console, "Tour de consentement ouvert")
        poll_id = session.polls[-1].poll_id
        await voters.voted_in(poll_id)
        assert await projector.locator(".colours").count() == 0  # no colours while the cards are up
        await click(console, "#close")
        await hub.wait_until(lambda: session.poll(poll_id).state is PollState.CLOSED, HUB_S)
        await console.wait_for_selector("#preview-box >> text=Prise de parole", timeout=GUARD_MS)
        await click(console, "#reveal")
        await projector.wait_for_selector("#queue", timeout=GUARD_MS)
        await projector.screenshot(path=shots / "projector-consent.png")
        await console.screenshot(path=shots / "console-end.png")

        # what the day left: every fiche revealed, the reset and second round in the history
        revealed = {n for p in session.polls if p.state is PollState.REVEALED for n in p.items}
        assert revealed >= set(range(1, FICHES + 1))
        assert [p.round for p in session.polls if p.items == (2,) and p.state is PollState.REVEALED] == [1, 2]
        assert sum(p.state is PollState.RESET for p in session.polls) == 1
        assert errors == []
    finally:
        await voters.stop()
        await web.stop()
        await hub.stop()
    assert verify(tmp_path / "day.db").ok
