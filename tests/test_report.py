"""Report and exports from the journal of a simulated session: the PDF holds the method, every
fiche and the ranking in order; the charts draw exactly the tallies; exports round-trip; an
anonymous session never lets a keypad's grade out."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from pypdf import PdfReader

from hub.report.charts import merit_profile, ranking_chart, render
from hub.verify import verify


def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    db = tmp_path_factory.mktemp("rep") / "session.db"
    out = run("demo", "--headless", "--keypads", "25", "--proposals", "5", "--seed", "11", "--db", str(db))
    assert out.returncode == 0, out.stderr[-2000:]
    return db


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_holds_the_method_every_fiche_and_the_ranking_in_order(journal, tmp_path, lang):
    pdf = tmp_path / f"results-{lang}.pdf"
    out = run("report", str(journal), "-o", str(pdf), "--lang", lang)
    assert out.returncode == 0, out.stderr
    text = " ".join(pdf_text(pdf).split())
    session = verify(journal).session
    ranking = session.ranking()
    assert ("jugement majoritaire" if lang == "fr" else "majority judgment") in text
    assert ("Mention majoritaire" if lang == "fr" else "Majority grade") in text
    positions = []
    for e in ranking.entries:
        title = session.proposals[int(e.proposal.split()[-1])].title
        assert e.proposal in text
        positions.append(text.index(f"{e.proposal} — {title[:20]}"))
    assert positions == sorted(positions)  # the ranking table lists them best first
    assert verify(journal).head in text.replace(" ", "")
    assert "clicker verify" in text


def test_charts_draw_exactly_the_tallies(journal):
    ranking = verify(journal).session.ranking()
    fig, shares = merit_profile(ranking, 0)
    e = ranking.entries[0]
    assert shares == [100 * c / sum(e.balanced) for c in e.balanced]
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == pytest.approx(shares)
    fig, drawn = ranking_chart(ranking)
    assert [round(sum(s), 6) for s in drawn] == [100.0] * len(ranking.entries)
    assert render(fig, "svg").startswith(b"<?xml")
    assert render(fig, "png")[:4] == b"\x89PNG"


def test_json_export_round_trips_through_clicker_tally(journal, tmp_path):
    out = run("export", str(journal), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    session = verify(journal).session
    assert doc["tallies"] == {session.proposals[n].label: t for n, t in session.final_tallies().items()}
    assert len(doc["polls"]) == len(session.polls)
    # the export is valid input for `clicker tally`, which ranks it the same way
    f = tmp_path / "t.json"
    f.write_text(json.dumps({k: doc[k] for k in ("grades", "tallies", "voters")}), encoding="utf-8")
    again = json.loads(run("tally", str(f)).stdout)
    assert [r["proposal"] for r in again["ranking"]] == [r["proposal"] for r in doc["ranking"]]


def test_csv_export_round_trips(journal):
    out = run("export", str(journal), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    session = verify(journal).session
    grades = session.config.scale.names
    assert {int(r["number"]): [int(r[g]) for g in grades] for r in rows} == session.final_tallies()


def test_an_anonymous_session_never_exports_a_keypads_grade(journal):
    out = run("export", str(journal), "--with-presses")
    assert out.returncode != 0 and "anonymous" in out.stderr and out.stdout == ""
    session = verify(journal).session
    ids = {str(k) for k in session.keypads}
    for fmt in ("json", "csv"):
        text = run("export", str(journal), "--format", fmt).stdout
        assert not any(i in text for i in ids), "a keypad id appears in an anonymous export"
        assert "keypad" not in text


def test_bad_journals_are_refused(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"nope" * 100)
    for args in (("report", str(junk), "-o", str(tmp_path / "x.pdf")), ("export", str(junk))):
        out = run(*args)
        assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1


async def test_a_declared_non_anonymous_session_exports_presses(tmp_path):
    from hub.core import Hub
    from hub.journal import Journal
    from hub.model import Press
    from tests.conftest import make_config

    db = tmp_path / "open.db"
    hub = Hub(Journal(db))
    await hub.start(make_config(anonymous=False))
    try:
        await hub.act({"action": "open", "mode": 1})
        answers = []
        hub.submit_press(Press(1001, 1, 1, 0, "4", at=hub.clock()), answers.append)
        await hub.wait_until(lambda: answers, 5)
    finally:
        await hub.stop()
    out = run("export", str(db), "--with-presses")
    assert out.returncode == 0, out.stderr
    presses = json.loads(out.stdout)["presses"]
    assert [(p["keypad_id"], p["key"], p["status"]) for p in presses] == [(1001, "4", 0)]
