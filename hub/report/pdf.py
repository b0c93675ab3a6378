"""The results report a town hall can publish: a multi-page PDF from a verified journal.

Drawn with matplotlib's object API and its PDF backend (no pyplot), so it runs anywhere the
hub runs; text pages are figures with text, so the PDF's text can be extracted and checked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hub.model import CONSENT_NAMES, PollMode
from hub.report.charts import merit_profile, ranking_chart
from hub.session import PollState
from hub.tally import rank
from hub.verify import verify

A4 = (8.27, 11.69)

TEXT = {
    "fr": {
        "report": "Résultats",
        "date": "Date",
        "voters": "Votants (corps électoral)",
        "fiches": "Fiches évaluées",
        "method": "Méthode : le jugement majoritaire",
        "method_body": (
            "Chaque membre a évalué chaque fiche sur l'échelle : {scale}. "
            "Le profil de mérite d'une fiche donne la part de chaque mention. Sa mention majoritaire est "
            "la mention qu'une majorité lui accorde au moins : la médiane inférieure des évaluations. "
            "Entre deux fiches de même mention majoritaire, on compare les partisans (évaluations "
            "au-dessus de la mention) et les opposants (en dessous) ; si l'égalité persiste, on retire "
            "les évaluations médianes une à une (valeur majoritaire de Balinski et Laraki). "
            "Règle : {rule}. Une évaluation manquante compte comme : {missing}. "
            "Lire un profil : la barre va de « {worst} » à gauche à « {best} » à droite ; "
            "le trait vertical marque 50 % : la mention sous ce trait est la mention majoritaire."
        ),
        "missing": {
            "reject": "« À rejeter » (règle annoncée aux votants)",
            "ignore": "ignorée (parts des évaluations exprimées)",
            "median": "la mention majoritaire de la fiche",
        },
        "ranking": "Classement",
        "cols": ["Rang", "Fiche", "Mention majoritaire", "Partisans", "Opposants"],
        "profiles": "Profils de mérite",
        "participation": "Participation par vote",
        "pcols": ["Vote", "Type", "Fiches", "Participation", "État"],
        "consent": "Tours de consentement",
        "journal": "Journal et recomptage",
        "journal_body": (
            "Ce rapport est calculé à partir du journal de la session ({records} enregistrements, "
            "{presses} appuis). Chaque enregistrement est chaîné au précédent par une empreinte SHA-256 ; "
            "l'empreinte finale est : {head}. Pour vérifier la chaîne et recompter chaque vote à partir "
            "des appuis bruts : clicker verify {db}"
        ),
        "rank_ex": "ex aequo",
    },
    "en": {
        "report": "Results",
        "date": "Date",
        "voters": "Voters (electorate)",
        "fiches": "Proposals graded",
        "method": "Method: majority judgment",
        "method_body": (
            "Every member graded every proposal on the scale: {scale}. A proposal's merit profile gives "
            "the share of each grade. Its majority grade is the grade a majority gives it at least: the "
            "lower median of its judgments. Between two proposals with the same majority grade, the "
            "proponents (judgments above it) and opponents (below) are compared; if still tied, median "
            "judgments are removed one at a time (Balinski and Laraki's majority value). "
            "Rule: {rule}. A missing judgment counts as: {missing}. "
            'Reading a profile: the bar goes from "{worst}" on the left to "{best}" on the right; the '
            "vertical line marks 50 %: the grade under it is the majority grade."
        ),
        "missing": {
            "reject": '"To reject" (the rule announced to voters)',
            "ignore": "ignored (shares of expressed judgments)",
            "median": "the proposal's majority grade",
        },
        "ranking": "Ranking",
        "cols": ["Rank", "Proposal", "Majority grade", "Proponents", "Opponents"],
        "profiles": "Merit profiles",
        "participation": "Participation per poll",
        "pcols": ["Poll", "Kind", "Proposals", "Turnout", "State"],
        "consent": "Consent rounds",
        "journal": "Journal and recount",
        "journal_body": (
            "This report is computed from the session's journal ({records} records, {presses} presses). "
            "Each record is chained to the previous one by a SHA-256 hash; the final hash is: {head}. "
            "To check the chain and recount every poll from the raw presses: clicker verify {db}"
        ),
        "rank_ex": "tied",
    },
}


class ReportError(ValueError):
    """A journal that cannot be reported on; one line for the user."""


def _page(title: str) -> Figure:
    fig = Figure(figsize=A4)
    FigureCanvasAgg(fig)
    fig.text(0.08, 0.94, title, fontsize=18, weight="bold", va="top")
    return fig


def _paragraph(fig: Figure, text: str, y: float, size: float = 10.5, width: int = 95) -> float:
    for line in textwrap.wrap(text, width):
        fig.text(0.08, y, line, fontsize=size, va="top")
        y -= 0.022 * size / 10.5
    return y - 0.01


def _table(fig: Figure, header: list[str], rows: list[list[str]], y: float, xs: list[float]) -> None:
    for x, h in zip(xs, header):
        fig.text(x, y, h, fontsize=9, weight="bold", va="top")
    y -= 0.025
    for row in rows:
        for x, cell in zip(xs, row):
            fig.text(x, y, textwrap.shorten(cell, 58), fontsize=8, va="top")
        y -= 0.021


def build_report(
    db: str | Path, out: str | Path, lang: str = "fr", progress: Callable[[int, int], None] | None = None
) -> int:
    """Write the PDF; returns its number of pages. The journal must verify first."""
    if lang not in TEXT:
        raise ReportError(f"unknown language {lang!r} (fr or en)")
    verdict = verify(db, progress)
    if not verdict.ok or verdict.session is None:
        raise ReportError(f"{db}: the journal does not verify: {verdict.problem}")
    session = verdict.session
    cfg = session.config
    t = TEXT[lang]
    ranking = session.ranking()
    by_label = {p.label: p for p in cfg.proposals}
    pages: list[Figure] = []

    opened = [p.opened_at for p in session.polls]
    when = datetime.fromtimestamp(min(opened), UTC).strftime("%Y-%m-%d") if opened else "—"
    fig = _page(cfg.title)
    y = _paragraph(fig, t["report"], 0.86, 16)
    for label, value in (
        (t["date"], when),
        (t["voters"], str(ranking.voters)),
        (t["fiches"], str(len(ranking.entries))),
    ):
        y = _paragraph(fig, f"{label} : {value}" if lang == "fr" else f"{label}: {value}", y, 12)
    pages.append(fig)

    fig = _page(t["method"])
    scale = [cfg.scale.name(i, lang) for i in range(len(cfg.scale))]
    _paragraph(
        fig,
        t["method_body"].format(
            scale=", ".join(scale),
            rule=cfg.rule,
            missing=t["missing"][cfg.missing],
            worst=scale[0],
            best=scale[-1],
        ),
        0.88,
    )
    pages.append(fig)

    rows = []
    for e in ranking.entries:
        tied = sum(1 for x in ranking.entries if x.rank == e.rank) > 1
        g = e.gauge
        rows.append(
            [
                f"{e.rank}{' (' + t['rank_ex'] + ')' if tied else ''}",
                f"{e.proposal} — {by_label[e.proposal].title}",
                "—" if e.majority_grade is None else cfg.scale.name(e.majority_grade, lang),
                "—" if g is None else f"{100 * float(g.p):.1f} %",
                "—" if g is None else f"{100 * float(g.q):.1f} %",
            ]
        )
    for start in range(0, max(1, len(rows)), 35):
        fig = _page(t["ranking"])
        _table(fig, t["cols"], rows[start : start + 35], 0.88, [0.05, 0.13, 0.58, 0.76, 0.87])
        pages.append(fig)
    chart, _ = ranking_chart(ranking, lang, t["ranking"])
    pages.append(chart)
    for transition in sorted({p.transition for p in cfg.proposals if p.transition}):
        subset = {
            e.proposal: e.tally for e in ranking.entries if by_label[e.proposal].transition == transition
        }
        if subset:
            sub = rank(subset, cfg.scale, cfg.rule, cfg.missing, ranking.voters)
            chart, _ = ranking_chart(sub, lang, f"{t['ranking']} — {transition}")
            pages.append(chart)

    for i, e in enumerate(ranking.entries):
        fig, _ = merit_profile(ranking, i, lang, page=A4)
        fig.text(0.06, 0.93, by_label[e.proposal].title, fontsize=11, va="top", wrap=True)
        y = 0.70
        if i > 0 and ranking.entries[i - 1].versus_next:
            y = _paragraph(fig, getattr(ranking.entries[i - 1].versus_next, lang), y, 9.5)
        if e.versus_next:
            _paragraph(fig, getattr(e.versus_next, lang), y, 9.5)
        pages.append(fig)

    fig = _page(t["participation"])
    prow = [
        [
            str(p.poll_id),
            p.mode.name.lower(),
            ", ".join(map(str, p.items)),
            f"{len(p.voters)} / {session.electorate}",
            str(p.state),
        ]
        for p in session.polls
    ]
    _table(fig, t["pcols"], prow[:38], 0.88, [0.08, 0.2, 0.4, 0.6, 0.8])
    pages.append(fig)

    consent = [p for p in session.polls if p.mode is PollMode.CONSENT and p.state is not PollState.RESET]
    if consent:
        fig = _page(t["consent"])
        y = 0.88
        for p in consent:
            counts = ", ".join(f"{CONSENT_NAMES[lang][c]} {n}" for c, n in p.colours.items())
            y = _paragraph(fig, f"#{p.poll_id} ({', '.join(map(str, p.items))}) : {counts}", y)
        pages.append(fig)

    fig = _page(t["journal"])
    _paragraph(
        fig,
        t["journal_body"].format(
            records=verdict.records, presses=verdict.presses, head=verdict.head, db=Path(db).name
        ),
        0.88,
    )
    pages.append(fig)

    with PdfPages(out) as pdf:
        for n, page in enumerate(pages, 1):
            pdf.savefig(page)
            if progress:
                progress(n, len(pages))
    return len(pages)
