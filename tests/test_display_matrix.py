"""Every projector view at the resolutions real venues have, light and dark, for 70 and 500
keypads, checked from the DOM: every main box inside the viewport, no two overlapping, none
clipping its content, the document not scrolling, every keypad inside the grid, the majority
grade the largest text, every ranking title whole or at least 40 characters of it shown, no
ranking column without a grade in it. A real hub is driven through its states (actions and presses straight
into it) while one browser's eight pages, one per size and theme, follow it on /ws/live. Each
view is saved as a screenshot in artifacts/display/ (look at them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from hub.commands import OpenPoll, Reveal, Select, Show
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode
from hub.web.server import start_web
from tests.sessions import Room, close_and_wait, convention_config, grades_poll
from tests.test_browser import ARTIFACTS, GUARD_MS, browser  # noqa: F401  (fixture)

SIZES = [(1024, 768), (1280, 720), (1920, 1080), (3840, 2160)]
THEMES = ["light", "dark"]
TOKEN = "matrix"
FICHES = 40
GUESTS = 3  # a small assembly, merged on the projector rather than shown alone

# Run in the page: what is wrong with the layout (an empty list when nothing is).
GEOMETRY = (Path(__file__).parent / "geometry.js").read_text(encoding="utf-8")


async def _pages(browser, base: str) -> list[tuple[str, Page]]:  # noqa: F811
    pages = []
    for w, h in SIZES:
        for theme in THEMES:
            page = await browser.new_page(viewport={"width": w, "height": h})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.errors = errors  # type: ignore[attr-defined]
            await page.goto(f"{base}/?theme={theme}&lang=fr")
            pages.append((f"{w}x{h}-{theme}", page))
    return pages


async def _look(
    hub: Engine, pages: list[tuple[str, Page]], view: str, keypads: int, folder: Path
) -> list[str]:
    problems = []
    version = hub.version
    for name, page in pages:
        await page.wait_for_function(f"(window.__clickerVersion || 0) >= {version}", timeout=GUARD_MS)
        await page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        found = await page.evaluate(GEOMETRY, {"keypads": keypads, "dark": name.endswith("dark")})
        problems += [f"{view} {name}: {p}" for p in found]
        problems += [f"{view} {name}: script error {e}" for e in page.errors]  # type: ignore[attr-defined]
        await page.screenshot(path=folder / f"{view}-{name}.png")
    return problems


async def _drive(hub: Engine, room: Room, pages: list[tuple[str, Page]], keypads: int) -> list[str]:
    folder = ARTIFACTS / "display" / f"{keypads - GUESTS}-keypads"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    async def look(view: str) -> None:
        problems.extend(await _look(hub, pages, view, keypads, folder))

    async def show(view: str, assembly: str = "") -> None:
        await hub.act(Show(view, assembly))

    await hub.act(Select(FICHES))
    await look("waiting")
    poll = await hub.act(OpenPoll(PollMode.GRADES, countdown_s=600))
    room.turnout = 0.6
    await room.judge(FICHES, poll.poll_id)
    await look("voting")
    await close_and_wait(hub, poll.poll_id)
    await look("closed")
    await hub.act(Reveal(poll.poll_id))
    await look("revealed")
    await show("auto", "*")
    await look("revealed-assemblies")
    await show("auto", "sociale")
    await look("revealed-one-assembly")
    await show("ranking")
    await look("ranking")
    await show("ranking", "*")
    await look("ranking-assemblies")
    await show("ranking", "écologique")
    await look("ranking-one-assembly")
    await show("auto")
    room.turnout = 0.9
    poll = await hub.act(OpenPoll(PollMode.CONSENT))
    await room.cards(poll.poll_id)
    await look("consent-open")
    await close_and_wait(hub, poll.poll_id)
    await look("consent-closed")
    await hub.act(Reveal(poll.poll_id))
    await look("consent-revealed")
    await show("auto", "*")
    await look("consent-revealed-assemblies")
    return problems


@pytest.mark.parametrize("keypads", [70, 500])
async def test_every_view_fits_every_screen(tmp_path, browser, keypads):  # noqa: F811
    hub = await Engine.open(
        Journal(tmp_path / "m.db"), convention_config(keypads=keypads, fiches=FICHES, guests=GUESTS)
    )
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    try:
        room = Room(hub, seed=keypads, turnout=0.93)
        for number in range(1, FICHES):  # the day so far: every fiche but the last revealed
            await grades_poll(room, number)
        pages = await _pages(browser, f"http://127.0.0.1:{web.port}")
        problems = await _drive(hub, room, pages, keypads + GUESTS)
        assert problems == [], "\n".join(problems[:40])
    finally:
        await web.stop()
        await hub.stop()
