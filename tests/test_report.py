"""Report and exports from the journal of a simulated session: the PDF holds the method, every
fiche and the ranking in order; the charts draw exactly the tallies; exports round-trip; an
anonymous session never lets a keypad's grade out."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from hub.commands import OpenPoll
from hub.model import PollMode
from hub.report.charts import merit_profile, ranking_chart, render
from hub.verify import verify

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


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
        positions.append(text.index(f"{e.rank} {e.proposal} {title[:20]}"))
    assert positions == sorted(positions)  # the ranking table lists them best first
    v = verify(journal)
    assert v.head in text.replace(" ", "") and v.complete
    assert f"clicker verify session.db --head {v.short_head}" in text


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
    v = verify(journal)
    assert doc["journal"] == {"seq": v.seq, "head": v.head, "complete": True}
    session = v.session
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
    v = verify(journal)
    assert {(r["journal_seq"], r["journal_head"]) for r in rows} == {(str(v.seq), v.head)}
    session = v.session
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
    from hub.engine import Engine
    from hub.journal import Journal
    from hub.model import Press
    from tests.conftest import make_config

    db = tmp_path / "open.db"
    hub = await Engine.open(Journal(db), make_config(anonymous=False))
    try:
        await hub.act(OpenPoll(PollMode.GRADES))
        answers = []
        hub.submit_press(Press(1001, 1, 1, 0, "4", at=hub.clock()), answers.append)
        await hub.wait_until(lambda: answers, 5)
    finally:
        await hub.stop()
    out = run("export", str(db), "--with-presses")
    assert out.returncode == 0, out.stderr
    presses = json.loads(out.stdout)["presses"]
    assert [(p["keypad_id"], p["key"], p["status"]) for p in presses] == [(1001, "4", 0)]


# --- a whole convention day: every page A4, every sentence whole, words in the reader's language


async def _day(db) -> None:
    from hub.engine import Engine
    from hub.journal import Journal
    from tests.sessions import Room, convention_config, convention_day

    hub = await Engine.open(Journal(db), convention_config(keypads=70, fiches=40, guests=3))
    try:
        await convention_day(Room(hub, seed=3, turnout=0.9), 40)
    finally:
        await hub.stop()


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    import asyncio

    db = tmp_path_factory.mktemp("day") / "day.db"
    asyncio.run(_day(db))
    return db


@pytest.fixture(scope="module", params=["fr", "en"])
def composed(request, day):
    """The report's pages as laid out, and the PDF written from them."""
    from hub.report.pdf import JournalFacts, compose, write_pdf

    verdict = verify(day)
    doc = compose(
        verdict.session, JournalFacts(verdict.records, verdict.presses, verdict.head, "day.db"), request.param
    )
    pages = doc.finish()
    artifacts = ARTIFACTS / "report"
    artifacts.mkdir(parents=True, exist_ok=True)
    pdf = artifacts / f"report-{request.param}.pdf"  # kept, to look at
    write_pdf(pages, pdf, "day")
    return request.param, doc, PdfReader(pdf), verdict.session


def test_every_page_is_a4(composed):
    _lang, _doc, reader, _session = composed
    for n, page in enumerate(reader.pages, 1):
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx((595.44, 841.68), abs=0.5), f"page {n} is {size} pt"
    assert len(reader.pages) > 10


def test_every_string_written_is_whole_in_the_pdf_text_of_its_page(composed):
    _lang, doc, reader, _session = composed
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert len(doc.written) > 500
    for index, text in doc.written:
        wanted = " ".join(text.split())
        assert wanted in pages[index], f"page {index + 1}: {wanted!r} is not whole in the PDF"


def test_no_text_crosses_the_edge_of_a_page(composed):
    from hub.report.layout import texts_outside

    _lang, doc, _reader, _session = composed
    for n, fig in enumerate(doc.pages, 1):
        assert texts_outside(fig, margin=10) == [], f"page {n}"


def test_numbers_and_words_are_in_the_readers_language(composed):
    lang, _doc, reader, _session = composed
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    if lang == "fr":
        assert re.search(r"\d,\d %", text) and not re.search(r"\d\.\d", text)
        for english in ("revealed", "grades", "consent", "reset", "Proposal", "voters", "tied"):
            assert not re.search(rf"\b{english}\b", text), english
        for french in (
            "révélé",
            "annulé : fiche mal lue",
            "2e tour",
            "vert",
            "rouge",
            "Assemblée « sociale »",
        ):
            assert french in text, french
    else:
        assert re.search(r"\d\.\d%", text) and not re.search(r"\d,\d", text)
        # ("Fiche N" is a proposal's name, as the convention's documents call it, in both languages)
        for french in ("révélé", "annulé", "mentions", "consentement", "votants", "tour", "regroupées"):
            assert not re.search(rf"\b{french}\b", text), french
        for english in ("revealed", "reset: fiche mal lue", "round 2", "green", "red", 'Assembly "sociale"'):
            assert english in text, english


def test_the_report_has_each_assemblys_table_and_says_where_it_was_merged(composed):
    lang, _doc, reader, session = composed
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    from hub.assemblies import assembly_rankings

    for a in assembly_rankings(session):
        name = f"Assemblée « {a.assembly} »" if lang == "fr" else f'Assembly "{a.assembly}"'
        assert name in text
        if a.merged:
            assert ", ".join(str(n) for n in a.merged) in text
    guests = next(a for a in assembly_rankings(session) if a.assembly == "invités")
    assert guests.ranking.entries == [] and len(guests.merged) == 40


def test_slide_charts_keep_their_text_inside(day):
    from hub.report.layout import texts_outside

    ranking = verify(day).session.ranking()
    for lang in ("fr", "en"):
        fig, _ = merit_profile(ranking, 0, lang)
        assert texts_outside(fig) == []
        fig, _ = ranking_chart(ranking, lang, "Classement")
        assert texts_outside(fig) == []


def test_a_share_is_never_written_under_the_50_percent_line():
    """A label whose segment's middle falls on the line moves to the segment's far side, or is left
    out when it does not fit there; the others stay in the middle of their segment."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from hub.report.charts import draw_bar

    for counts, written in (
        ([10, 0, 80, 0, 10], 3),  # the middle one moves to the left of the line
        ([45, 0, 10, 0, 45], 2),  # the middle one has no room beside the line: left out
        ([30, 0, 40, 0, 30], 3),
        ([49, 0, 2, 0, 49], 2),  # too narrow anyway
        ([20, 15, 15, 20, 30], 5),  # nothing under the line: every label in its middle
    ):
        fig = Figure(figsize=(6, 0.4))
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        draw_bar(ax, counts, "fr", 6)
        canvas.draw()
        line = ax.transData.transform((50, 0))[0]
        halo = 4.5 / 72 * fig.dpi / 2
        boxes = [t.get_window_extent(canvas.get_renderer()) for t in ax.texts]
        assert len(boxes) == written, counts
        assert all(b.x1 < line - halo or b.x0 > line + halo for b in boxes), counts
