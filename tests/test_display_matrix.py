"""Every projector view at the resolutions real venues have, light (in French) and dark (in
English), for 70 and 500 keypads, checked from the DOM: every main box inside the viewport, no
two overlapping, none clipping its content, the document not scrolling, every keypad inside the
grid, the majority grade the largest text, every ranking title whole or at least 40 characters
of it shown, no ranking column without a grade in it, body text of at least 24 px at 720p and
contrasted (4.5:1), no French word in an English page. A real hub is driven through its states
(actions and presses straight into it) while one browser's eight pages, one per size and theme,
follow it on /ws/live. Each view is saved as a screenshot in artifacts/display/ (look at them)."""

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
THEMES = [("light", "fr"), ("dark", "en")]  # the light pages in French, the dark ones in English
# Words of the French interface that an English page must never show (none is in the fiches'
# titles or subjects, nor in the session's title: checked below, so the check cannot misfire).
FRENCH = (
    "Mention majoritaire", "votants", "manquante", "Classement", "Plénière", "Assemblée", "regroupée",
    "récepteurs", "mis à jour", "Tour de consentement", "Prise de parole", "Vote clos", "ont voté",
    "résultat", "Son coupé", "Insuffisant", "Assez bien", "Très bien", "À rejeter",
    "d'accord", "amélioration", "jaune", "rouge", "au-dessus", "en dessous", "Temps écoulé",
    "bientôt", "appuyez", "Toutes les", "ex aequo", "Aucun", "touche", "Même mention",
)  # fmt: skip
TOKEN = "matrix"
FICHES = 40
GUESTS = 3  # a small assembly, merged on the projector rather than shown alone

# Run in the page: what is wrong with the layout (an empty list when nothing is).
GEOMETRY = (Path(__file__).parent / "geometry.js").read_text(encoding="utf-8")


async def _pages(browser, base: str) -> list[tuple[str, Page]]:  # noqa: F811
    pages = []
    for w, h in SIZES:
        for theme, lang in THEMES:
            page = await browser.new_page(viewport={"width": w, "height": h})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.errors = errors  # type: ignore[attr-defined]
            await page.goto(f"{base}/?theme={theme}&lang={lang}")
            pages.append((f"{w}x{h}-{theme}-{lang}", page))
    return pages


async def _look(
    hub: Engine, pages: list[tuple[str, Page]], view: str, keypads: int, folder: Path
) -> list[str]:
    problems = []
    version = hub.version
    for name, page in pages:
        await page.wait_for_function(f"(window.__clickerVersion || 0) >= {version}", timeout=GUARD_MS)
        await page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        expected = {"keypads": keypads, "dark": "-dark-" in name, "lang": name[-2:], "french": FRENCH}
        found = await page.evaluate(GEOMETRY, expected)
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
    config = convention_config(keypads=keypads, fiches=FICHES, guests=GUESTS)
    data = " ".join([config.title, *(f"{p.title} {p.subject} {p.transition}" for p in config.proposals)])
    assert not [w for w in FRENCH if w.casefold() in data.casefold()]
    hub = await Engine.open(Journal(tmp_path / "m.db"), config)
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    try:
        room = Room(hub, seed=keypads, turnout=0.93)
        for number in range(1, FICHES):  # the day so far: every fiche but the last revealed
            await grades_poll(room, number)
        pages = await _pages(browser, f"http://127.0.0.1:{web.port}")
        problems = await _drive(hub, room, pages, keypads + GUESTS)
        assert problems == [], "\n".join(problems[:400])
    finally:
        await web.stop()
        await hub.stop()
