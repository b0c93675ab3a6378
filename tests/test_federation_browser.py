"""The plenary's projector and console in headless Chromium: the view selector, the combined
ranking, the votation table, a room's own view, the alarm banner, and a paper sheet entered
and confirmed by two guarantors from the console (screenshots in artifacts/)."""

from __future__ import annotations

import asyncio

from hub.federation.access import plenary_credential
from hub.federation.plenary import Plenary
from hub.federation.web import create_plenary_app
from hub.federation.wire import RoomRecord
from hub.journal import Journal
from hub.web.server import serve_app
from tests.federation_helpers import PlenaryJournal
from tests.test_browser import ARTIFACTS, BOXES, GUARD_MS, browser  # noqa: F401 - the fixture

TOKEN = "plenary-browser-token"


async def plenary_with_two_rooms(tmp_path) -> Plenary:
    """A plenary journal holding two rooms' votes (as the intake journals them) and one refused
    record, resumed by a plenary whose NATS server is away: the pages work without it."""
    pj = PlenaryJournal(["eco", "soc"])
    for i, room in enumerate(("eco", "soc"), 1):
        w = pj.room(room, i, 8, (1, 2, 3, 4))
    forged = RoomRecord("soc", 3, w.records[2].kind, 2, w.records[2].raw + b"\x00", w.records[2].hash)
    pj.offer(forged, 100.0)
    await pj.write(tmp_path / "plenary.db")
    plenary = Plenary(Journal(tmp_path / "plenary.db"), plenary_credential(), ["nats://127.0.0.1:9"])
    await plenary.start()
    return plenary


async def test_projector_and_console_of_the_plenary(tmp_path, browser):  # noqa: F811
    plenary = await plenary_with_two_rooms(tmp_path)
    web = await serve_app(lambda: create_plenary_app(plenary, TOKEN), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{web.port}"
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await page.goto(base + "/")
        await page.wait_for_selector("#views a.here[data-view=total]", timeout=GUARD_MS)
        views = await page.locator("#views a[data-view]").evaluate_all("els => els.map(e => e.dataset.view)")
        assert views == ["total", "eco", "soc", "paper", "online"]
        ranked = [row.proposal for row in plenary.conv.ranking().entries]
        await page.wait_for_selector("#rows .n", timeout=GUARD_MS)
        shown = await page.locator("#rows .n").all_text_contents()
        assert shown == ranked  # the combined ranking, as the convention ranks it
        banner = page.locator("#alarms")
        assert await banner.is_visible() and "1 alerte" in await banner.text_content()
        assert "record 3 refused" in await banner.text_content()  # never silent
        await page.screenshot(path=ARTIFACTS / "plenary-ranking.png")

        await page.goto(base + "/#table")
        await page.wait_for_selector("table.votation", timeout=GUARD_MS)
        expected = {row["number"]: row for row in plenary.conv.table()}
        for n, row in expected.items():
            cells = await page.locator(f'table.votation tr[data-n="{n}"] td').all_text_contents()
            assert cells == [
                str(n),
                str(sum(row["channels"]["eco"])),
                str(sum(row["channels"]["soc"])),
                str(sum(row["total"])),
                str(row["electorate"]),
            ]
        (box,) = await page.evaluate(BOXES, ["table.votation"])  # at one instant: redraws replace it
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
        await page.screenshot(path=ARTIFACTS / "plenary-table.png")

        await page.click("#views a[data-view=eco]")
        await page.wait_for_selector("#views a.here[data-view=eco]", timeout=GUARD_MS)
        await page.wait_for_selector("text=Salle 1", timeout=GUARD_MS)  # the room's own title
        await page.screenshot(path=ARTIFACTS / "plenary-room.png")

        console = await browser.new_page(viewport={"width": 1280, "height": 900})
        await console.goto(f"{base}/console#token={TOKEN}")
        await console.wait_for_selector("#p-grid tr[data-n='1'] input", timeout=GUARD_MS)
        assert not await console.locator("#open").is_visible()  # no poll to open at a plenary
        await console.fill("#p-batch", "Stand Jaude 1")
        await console.fill("#p-by", "Ana")
        await console.fill("#p-ballots", "10")
        for grade, count in enumerate([0, 1, 1, 2, 2, 2, 2]):
            await console.locator("#p-grid tr[data-n='2'] input").nth(grade).fill(str(count))
        await console.click("#p-enter")
        sheet = console.locator("#p-sheets li[data-batch='Stand Jaude 1']")
        await sheet.wait_for(timeout=GUARD_MS)
        for guarantor in ("Bea", "Carl"):
            await sheet.locator("input.g").fill(guarantor)
            await sheet.locator("button.confirm").click()
            await console.wait_for_selector(f"#p-sheets li:has-text('{guarantor}')", timeout=GUARD_MS)
        await console.wait_for_selector("#p-sheets li:has-text('comptée')", timeout=GUARD_MS)
        await console.wait_for_selector("#p-table tr[data-n='2'] td:has-text('10')", timeout=GUARD_MS)
        assert plenary.conv.results("paper")[2] == ([0, 1, 1, 2, 2, 2, 2], 10)
        await console.screenshot(path=ARTIFACTS / "plenary-console.png", full_page=True)
        await page.goto(base + "/?channel=paper")
        await page.wait_for_selector("#views a.here[data-view=paper]", timeout=GUARD_MS)
        await page.wait_for_selector("text=Fiche 2", timeout=GUARD_MS)
    finally:
        await web.stop()
        await plenary.stop()
        await asyncio.sleep(0)
