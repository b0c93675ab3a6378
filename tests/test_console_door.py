"""The console's import and receiver list in headless Chromium: the file picked is sent as it is
and refused with the same line `clicker` prints (a Latin-1 file is no longer "importé" as
"Premi�re fiche"); a receiver that cannot be opened shows why."""

from __future__ import annotations

from typer.testing import CliRunner

from hub.cli import app
from hub.engine import Engine
from hub.journal import Journal
from hub.receivers.link import ReceiverLink
from hub.transports.serial import SerialTransport
from hub.web.server import start_web
from tests.conftest import make_config
from tests.test_browser import ARTIFACTS, GUARD_MS, browser  # noqa: F401  (fixture)

TOKEN = "console-door"
LATIN1 = "number;title\n1;Première fiche\n".encode("latin-1")


async def bar_colour(page) -> str:
    """The message bar's text colour as the browser paints it."""
    return await page.eval_on_selector("#bar", "el => getComputedStyle(el).color")


async def test_console_import_and_receiver_reason(tmp_path, browser):  # noqa: F811
    hub = await Engine.open(Journal(tmp_path / "c.db"), make_config(n_keypads=3, n_props=2))
    hub.add_receiver(ReceiverLink(SerialTransport(str(tmp_path / "ttyNOPE"), name="rx-absent"), hub))
    web = await start_web(hub, "127.0.0.1", 0, TOKEN)
    try:
        page = await browser.new_page()
        await page.goto(f"http://127.0.0.1:{web.port}/console#token={TOKEN}")
        receivers = page.locator("#receivers")
        await receivers.locator("text=rx-absent : déconnecté (").wait_for(timeout=GUARD_MS)
        assert "ttyNOPE" in await receivers.inner_text()

        (tmp_path / "fiches.csv").write_bytes(LATIN1)
        await page.set_input_files("#fiches-file", str(tmp_path / "fiches.csv"))
        msg = page.locator("#msg")
        await msg.locator("text=not UTF-8").wait_for(timeout=GUARD_MS)
        refused_colour = await bar_colour(page)
        session = tmp_path / "s.json"
        session.write_text('{"title": "t", "proposals": "fiches.csv", "open_roster": true}', encoding="utf-8")
        cli = CliRunner().invoke(app, ["check", str(session)]).stderr.strip()
        assert cli == f"clicker: error: {tmp_path}/{await msg.inner_text()}"  # the same line
        assert [p.title for p in hub.session.config.proposals] == ["Fiche 1", "Fiche 2"]  # unchanged

        (tmp_path / "fiches.csv").write_text("number;title\n7;Première fiche\n", encoding="utf-8")
        await page.set_input_files("#fiches-file", str(tmp_path / "fiches.csv"))
        await msg.locator("text=fiches.csv : importé (1)").wait_for(timeout=GUARD_MS)
        # a success never looks like a failure: the bar says it in the success colour
        assert await page.locator("#bar").get_attribute("class") == "ok"
        assert await bar_colour(page) == "rgb(26, 127, 55)" != refused_colour
        await page.locator("#fiches >> text=Première fiche").wait_for(timeout=GUARD_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / "console-import.png")
    finally:
        await web.stop()
        await hub.stop()
