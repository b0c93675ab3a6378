"""The pages in headless Chromium (Playwright with the system Chromium): the projector follows a
simulated room through the real radio and serial path, the console runs a poll from the keyboard
and speaks French or English, the ranking's filter forgives case and accents. Screenshots are
saved in artifacts/. The layout matrix is tests/test_display_matrix.py; a whole day run from the
console, tests/test_console_day.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from hub.commands import OpenPoll, Reveal
from hub.demo import demo_config
from hub.engine import Engine
from hub.journal import Journal
from hub.model import PollMode
from hub.proposals import clermont_fiches
from hub.receivers.link import ReceiverLink
from hub.session import PollState
from hub.sim.ether import Impairments
from hub.sim.room import SimRoom
from hub.transports.serial import SerialTransport
from hub.web.server import start_web

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the countdown's end is heard (tests count it)
]
TOKEN = "browser-test-token"
# The boxes of the first element matching each selector, read at one instant (null: none).
BOXES = """(selectors) => selectors.map((s) => {
  const e = document.querySelector(s);
  if (!e) return null;
  const r = e.getBoundingClientRect();
  return {x: r.left, y: r.top, width: r.width, height: r.height};
})"""
GUARD_MS = 30_000  # a hang guard, generous for a loaded machine, not a timing claim: see bench/projectors.py


@pytest.fixture
async def browser():
    """Headless system Chromium, closed after the test."""
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def room_and_hub(tmp_path):
    fiches = clermont_fiches()[:3]
    room = SimRoom(fiches, 24, seed=5, impair=Impairments(loss=0.02), receivers=1, speed=25)
    urls = await room.start()
    hub = await Engine.open(Journal(tmp_path / "b.db"), demo_config(fiches, room, 25))

    def follow(state):
        poll = state.get("poll")
        if poll and poll["state"] == "open" and poll["items"]:
            room.up[poll["poll_id"]] = poll["items"][0]

    hub.subscribe(follow)
    hub.add_receiver(ReceiverLink(SerialTransport(urls[0], name="rx1"), hub))
    web = [await start_web(hub, "127.0.0.1", 0, TOKEN)]
    try:
        yield room, hub, f"http://127.0.0.1:{web[0].port}", web
    finally:
        await web[0].stop()
        await hub.stop()
        await room.close()


async def test_console_runs_a_poll_from_the_keyboard_and_the_projector_follows(room_and_hub, browser):
    room, hub, base, _web = room_and_hub
    ARTIFACTS.mkdir(exist_ok=True)
    projector = await browser.new_page(viewport={"width": 1280, "height": 720})
    await projector.goto(base + "/")
    await projector.wait_for_selector("text=Le vote va bientôt s'ouvrir.", timeout=GUARD_MS)
    await projector.screenshot(path=ARTIFACTS / "projector-waiting.png")

    console = await browser.new_page()
    await console.goto(f"{base}/console#token={TOKEN}")
    await console.wait_for_selector("#fiches li.current", timeout=GUARD_MS)
    await console.fill("#countdown", "90")
    await console.click("h1")  # leave the field: shortcuts apply to the page again
    await console.keyboard.press("Space")  # open
    await hub.wait_until(lambda: hub.session.active is not None, 30)
    poll_id = hub.session.active.poll_id

    # the first press the hub counts lights its keypad number on the projector
    await hub.wait_until(lambda: len(hub.session.active.voters) > 0, 30)
    number = hub.session.keypad_numbers(hub.session.active.voters)[0]
    await projector.wait_for_selector(f'#grid span.on[data-n="{number}"]', timeout=GUARD_MS)
    assert await projector.locator(".bar").count() == 0  # never the distribution while open
    await projector.wait_for_selector("#countdown:has-text(':')", timeout=GUARD_MS)
    await projector.screenshot(path=ARTIFACTS / "projector-vote.png")

    await room.wait_voted(poll_id)
    turnout = len(hub.session.active.voters)
    await projector.wait_for_selector(f'#turnout >> text="{turnout} / 24 ont voté"', timeout=GUARD_MS)
    await console.keyboard.press("Space")  # close
    await hub.wait_until(lambda: hub.session.poll(poll_id).state is PollState.CLOSED, 30)
    await console.keyboard.press("Enter")  # reveal
    await projector.wait_for_selector(".bar", timeout=GUARD_MS)
    await projector.wait_for_selector("text=Mention majoritaire", timeout=GUARD_MS)
    # the journal's head under the result: a record of the journal, at or after the reveal
    shown = await projector.locator("#journal-head").text_content(timeout=GUARD_MS)
    seq, prefix = re.fullmatch(r"Journal (\d+):([0-9a-f]{16})", shown).groups()
    (record,) = await hub.journal.records_after(int(seq) - 1, limit=1)
    assert record.hash.startswith(prefix)
    assert any(isinstance(r.body, Reveal) for r in await hub.journal.records_after(0, int(seq)))
    # both boxes read in one go: every state the page receives redraws the view, so two separate
    # reads could fall on either side of a redraw (and find the element gone)
    head_box, bar_box = await projector.evaluate(BOXES, ["#journal-head", ".bar"])
    assert head_box["y"] > bar_box["y"] + bar_box["height"] and head_box["y"] + head_box["height"] <= 720
    assert re.fullmatch(r"Journal \d+:[0-9a-f]{16}", await console.locator("#journal").text_content())
    await projector.screenshot(path=ARTIFACTS / "projector-result.png")

    await projector.click("#lang")  # English
    await projector.wait_for_selector("text=Majority grade", timeout=GUARD_MS)
    await projector.click("#lang")

    await console.keyboard.press("ArrowRight")
    await hub.wait_until(lambda: hub.session.current == 2, 30)
    await projector.goto(base + "/#ranking")
    await projector.wait_for_selector("text=Classement", timeout=GUARD_MS)
    await projector.screenshot(path=ARTIFACTS / "projector-ranking.png")

    await console.click("#consent")
    await hub.wait_until(lambda: hub.session.active is not None, 30)
    consent_id = hub.session.active.poll_id
    await projector.goto(base + "/")
    await room.wait_voted(consent_id)
    await projector.wait_for_selector("#turnout", timeout=GUARD_MS)
    assert await projector.locator(".colours").count() == 0  # no colour counts while cards are up
    await console.click("#close")
    await hub.wait_until(lambda: hub.session.poll(consent_id).state is PollState.CLOSED, 30)
    await console.keyboard.press("Enter")  # reveal
    await projector.wait_for_selector("text=Prise de parole", timeout=GUARD_MS)
    await projector.screenshot(path=ARTIFACTS / "projector-consent.png")
    await console.screenshot(path=ARTIFACTS / "console.png")


async def test_the_console_reports_a_refused_action(room_and_hub, browser):
    _room, _hub, base, _web = room_and_hub
    page = await browser.new_page()
    await page.goto(f"{base}/console#token=wrong")
    await page.wait_for_selector("#fiches li", timeout=GUARD_MS)
    await page.click("#open")
    await page.wait_for_selector("#bar.error >> text=Jeton de contrôle absent ou faux", timeout=GUARD_MS)


async def test_projector_reconnects_and_resyncs(room_and_hub, browser):
    _room, hub, base, web = room_and_hub
    page = await browser.new_page()
    await page.goto(base + "/")
    await page.wait_for_selector("text=Le vote va bientôt s'ouvrir.", timeout=GUARD_MS)
    port = web[0].port
    await web[0].stop()  # the server goes away: the page keeps its last picture
    await hub.act(OpenPoll(PollMode.GRADES))  # and misses this change
    opened = hub.version
    web[0] = await start_web(hub, "127.0.0.1", port, TOKEN)
    await page.wait_for_selector("#turnout", timeout=GUARD_MS)  # reconnected, resynced
    assert await page.evaluate("window.__clickerVersion") >= opened


async def test_console_imports_fiches_and_shows_what_is_wrong(room_and_hub, browser):
    _room, hub, base, _web = room_and_hub
    page = await browser.new_page()
    await page.goto(f"{base}/console#token={TOKEN}")
    await page.wait_for_selector("#fiches li", timeout=GUARD_MS)
    bad = {"name": "fiches.csv", "mimeType": "text/csv", "buffer": b"titre\nx\n"}
    await page.set_input_files("#fiches-file", files=[bad])
    await page.wait_for_selector("text=fiches.csv: line 1: no 'number' column", timeout=GUARD_MS)
    good = {
        "name": "fiches.csv",
        "mimeType": "text/csv",
        "buffer": "number,title\n5,Vélo\n6,Bus\n".encode(),
    }
    await page.set_input_files("#fiches-file", files=[good])
    await page.wait_for_selector("text=Fiche 6 — Bus", timeout=GUARD_MS)
    assert sorted(hub.session.proposals) == [5, 6]


async def test_the_ranking_filter_forgives_case_and_accents_and_says_when_nothing_matches(tmp_path, browser):
    from tests.sessions import Room, convention_config, grades_poll

    fiches = clermont_fiches()
    chosen = [p for t in ("écologique", "sociale", "démocratique") for p in fiches if p.transition == t][::5]
    hub = await Engine.open(Journal(tmp_path / "f.db"), convention_config(keypads=12, proposals=chosen))
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    try:
        room = Room(hub, seed=2)
        for p in chosen:
            await grades_poll(room, p.number)
        by_transition: dict[str, set[str]] = {}
        for p in hub.session.config.proposals:
            by_transition.setdefault(p.transition, set()).add(p.title)
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        for asked, meant in (
            ("ECOLOGIQUE", "écologique"),
            ("Démocratique", "démocratique"),
            ("sociale", "sociale"),
        ):
            await page.goto(f"http://127.0.0.1:{web.port}/?view=ranking&transition={asked}")
            await page.wait_for_selector("#rows .t", timeout=GUARD_MS)
            shown = set(await page.locator("#rows .t").evaluate_all("(ts) => ts.map((t) => t.title)"))
            assert shown == by_transition[meant], asked
        await page.goto(f"http://127.0.0.1:{web.port}/?view=ranking&transition=agricole")
        hint = await page.locator("#hint").text_content(timeout=GUARD_MS)
        assert "Aucune fiche révélée pour la transition « agricole »" in hint
        assert all(t in hint for t in by_transition), hint  # and which transitions there are
        await page.screenshot(path=ARTIFACTS / "projector-ranking-no-match.png")
    finally:
        await web.stop()
        await hub.stop()


async def test_the_whole_console_speaks_english_too(room_and_hub, browser):
    _room, hub, base, _web = room_and_hub
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.goto(f"{base}/console#token={TOKEN}")
    await page.wait_for_selector("#fiches li.current", timeout=GUARD_MS)
    await page.click("#lang")
    await page.wait_for_selector("#open >> text=Open the vote (space)", timeout=GUARD_MS)
    await page.click("#open")
    await page.wait_for_selector("#bar.ok >> text=Poll 1 open.", timeout=GUARD_MS)
    await page.wait_for_selector("#pollstate >> text=Poll 1 (grades): open", timeout=GUARD_MS)
    await page.click("#next")  # refused by the hub, worded here, offered as close-and-move
    await page.wait_for_selector(
        "#ask-text >> text=Poll 1 is still open. Close it and move to fiche 2?", timeout=GUARD_MS
    )
    await page.click("#ask-no")
    await page.click('#fiches li[data-n="3"]')
    await page.wait_for_selector("#ask-text >> text=move to fiche 3?", timeout=GUARD_MS)
    await page.click("#ask-no")
    assert hub.session.current == 1
    text = await page.locator("body").inner_text()
    for french in ("Ouvrir", "Clore", "Révéler", "Historique", "N'ont pas voté", "ouvert", "Précédente"):
        assert french not in text, french
    await page.screenshot(path=ARTIFACTS / "console-english.png")
    await page.click("#lang")
    await page.wait_for_selector("#open >> text=Ouvrir le vote (espace)", timeout=GUARD_MS)
