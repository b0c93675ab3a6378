"""``clicker report`` on a plenary journal: the convention's results as an A4 PDF.

Laid out with the room report's engine and helpers (hub/report): the same method page,
ranking table and merit-bar charts for the total; then each room's and channel's ranking, the
votation table (each room, paper, online and the total per fiche, with the fiche's own
electorate), a merit profile per fiche with each channel's bar, the alarms, and the hashes to
check every journal against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.federation.audit import verify_plenary
from hub.federation.convention import TOTAL, Convention
from hub.report.layout import Document
from hub.report.pdf import (
    TEXT,
    ReportError,
    _bar_block,
    _grade,
    _legend,
    _ranking_charts,
    _shares,
    plural,
    ranking_pages,
    write_pdf,
)

WORDS: dict[str, dict[str, Any]] = {
    "fr": {
        "subtitle": "Plénière : résultats combinés des assemblées et de la votation",
        "rooms": "Salles (assemblées)",
        "room_line": "{label} ({name}) : {records} enregistrements reçus",
        "halted": " — INTERROMPUE : {why}",
        "paper": "Papier",
        "online": "En ligne",
        "ballots": "{name} : {n} bulletins",
        "electorate_body": (
            "Le total d'une fiche additionne les profils de mérite de chaque salle (son dernier vote clos "
            "sur cette fiche) et ceux des feuilles papier confirmées par deux garants et des imports en "
            "ligne ; son corps électoral est la somme des corps électoraux de ce qui y a contribué. Le "
            "classement applique la même règle que chaque salle."
        ),
        "table": "Tableau de la votation",
        "table_intro": (
            "Évaluations reçues par fiche, par canal ; le total et le corps électoral de la fiche."
        ),
        "total": "Total",
        "electorate": "Corps électoral",
        "channel_line": "{name} : {n} évaluations",
        "alarms": "Alertes",
        "no_alarm": "Aucune alerte : chaque enregistrement reçu prolongeait la chaîne de sa salle.",
        "journal_body": (
            "Ce rapport est calculé à partir du journal de la plénière ({records} enregistrements, dont "
            "{room_records} reçus des salles, chacun vérifié contre la chaîne de sa salle et recompté), "
            "après vérification. Empreinte finale :"
        ),
        "heads": "Dernière empreinte reçue de chaque salle (à comparer au journal de la salle) :",
        "how": "Pour tout revérifier et recompter : clicker verify {db}",
    },
    "en": {
        "subtitle": "Plenary: combined results of the assemblies and the votation",
        "rooms": "Rooms (assemblies)",
        "room_line": "{label} ({name}): {records} records received",
        "halted": " — HALTED: {why}",
        "paper": "Paper",
        "online": "Online",
        "ballots": "{name}: {n} ballots",
        "electorate_body": (
            "A proposal's total adds the merit profiles of each room (its latest closed poll on that "
            "proposal) and those of the paper sheets confirmed by two guarantors and of the online "
            "imports; its electorate is the sum of the electorates of what contributed to it. The "
            "ranking applies the same rule as each room."
        ),
        "table": "Votation table",
        "table_intro": (
            "Judgments received per proposal, per channel; the total and the proposal's electorate."
        ),
        "total": "Total",
        "electorate": "Electorate",
        "channel_line": "{name}: {n} judgments",
        "alarms": "Alarms",
        "no_alarm": "No alarm: every record received extended its room's chain.",
        "journal_body": (
            "This report is computed from the plenary's journal ({records} records, {room_records} of "
            "them received from the rooms, each checked against its room's chain and recounted), after "
            "verification. Final hash:"
        ),
        "heads": "Last hash received from each room (to compare with the room's own journal):",
        "how": "To check and recount everything: clicker verify {db}",
    },
}


@dataclass(frozen=True)
class PlenaryFacts:
    records: int
    room_records: int
    head: str
    db: str


def compose_plenary(conv: Convention, facts: PlenaryFacts, lang: str = "fr") -> Document:
    if lang not in TEXT:
        raise ReportError(f"unknown language {lang!r} (fr or en)")
    t, w = TEXT[lang], WORDS[lang]
    cfg = conv.config.session
    names = [cfg.scale.name(i, lang) for i in range(len(cfg.scale))]
    ranking = conv.ranking(TOTAL, revealed_only=False)
    by_label = {p.label: p for p in cfg.proposals}
    parts = [v for v in conv.views() if v != TOTAL]
    label = {**{v: w[v] for v in ("paper", "online")}, **conv.labels}
    doc = Document(lambda n, total: f"{cfg.title} — {t['page'].format(n=n, total=total)}")

    doc.new_page()
    doc.space(1.2)
    doc.heading(cfg.title, 24)
    doc.paragraph(w["subtitle"], 15, after=0.4)
    doc.heading(w["rooms"], 13, keep_with=0.4)
    for name, chain in conv.rooms.items():
        line = w["room_line"].format(label=conv.labels[name], name=name, records=chain.seq)
        doc.paragraph(line + (w["halted"].format(why=chain.halted) if chain.halted else ""), 11, after=0.06)
    for channel in (conv.paper, conv.online):
        n = sum(v.ballots for v in channel.counted().values())
        doc.paragraph(w["ballots"].format(name=w[channel.name], n=n), 11, after=0.06)

    doc.new_page()
    doc.heading(t["method"])
    doc.paragraph(t["method_body"].format(scale=", ".join(names)))
    doc.paragraph(t["rule"].format(rule=t["rules"][str(cfg.rule)]))
    doc.paragraph(t["missing_body"].format(missing=t["missing"][str(cfg.missing)]))
    doc.paragraph(w["electorate_body"])
    doc.paragraph(t["gauge_body"])
    doc.paragraph(t["reading"].format(worst=names[0], best=names[-1]), after=0.05)
    _legend(doc, names)

    ranking_pages(doc, t, ranking, by_label, names, lang)
    for view in parts:
        sub = conv.ranking(view, revealed_only=False)
        if sub.entries:
            _ranking_charts(doc, f"{t['ranking']} — {label[view]}", sub, names, lang, new=False)

    doc.new_page()
    doc.heading(w["table"])
    doc.paragraph(w["table_intro"], 9.5)
    table = conv.table(revealed_only=False)
    header = [t["fiche"], *(label[v] for v in parts), w["total"], w["electorate"]]
    widths = [0.12] + [0.64 / len(parts)] * len(parts) + [0.12, 0.12]
    body = [
        [
            str(row["number"]),
            *(str(sum(row["channels"][v])) if v in row["channels"] else "—" for v in parts),
            str(sum(row["total"])),
            str(row["electorate"]),
        ]
        for row in table
    ]
    doc.table(header, body, widths, right=frozenset(range(1, len(header))))

    doc.new_page()
    doc.heading(t["profiles"])
    rows_by_number = {row["number"]: row for row in table}
    for i, e in enumerate(ranking.entries):
        p = by_label[e.proposal]
        doc.ensure(1.6 + 0.42 * len(parts))
        doc.paragraph(f"{e.proposal} — {p.title}", 11, after=0.04)
        if e.majority_grade is None:
            doc.paragraph(t["no_judgment"])
            continue
        above, below = _shares(e, lang)
        judged, electorate = sum(e.tally), sum(e.balanced)
        doc.paragraph(t["majority"].format(grade=_grade(e, names)), 12, after=0.04)
        sentence = t["gauge"].format(above=above, below=below, grade=names[e.majority_grade]) + " "
        missing = plural(t, "n_missing", electorate - judged)
        sentence += t["voters"].format(voters=judged, electorate=electorate, missing=missing)
        doc.paragraph(sentence, 9.5, after=0.06)
        _bar_block(doc, e.balanced, lang, 0.32)
        for view, counts in rows_by_number[p.number]["channels"].items():
            doc.paragraph(
                w["channel_line"].format(name=label[view], n=sum(counts)), 8.5, indent=0.25, after=0.02
            )
            _bar_block(doc, counts, lang, 0.2, indent=0.25)
        for v in ((ranking.entries[i - 1].versus_next if i else None), e.versus_next):
            if v:
                doc.paragraph(getattr(v, lang), 9, after=0.04)
        doc.space(0.2)

    doc.new_page()
    doc.heading(w["alarms"])
    alarms = [f"{a['room']} : {a['reason']}" for a in conv.alarms]
    for line in alarms or [w["no_alarm"]]:
        doc.paragraph(line, 9.5, after=0.04)
    doc.heading(t["journal"], 14, keep_with=1.2)
    doc.paragraph(
        w["journal_body"].format(records=facts.records, room_records=facts.room_records), after=0.06
    )
    doc.paragraph(facts.head, 9.5, indent=0.2, after=0.1)
    doc.paragraph(w["heads"], after=0.06)
    for name, chain in conv.rooms.items():
        doc.paragraph(f"{name} ({chain.seq}) : {chain.head}", 8.5, indent=0.2, after=0.04)
    doc.paragraph(w["how"].format(db=facts.db))
    return doc


def build_plenary_report(
    db: str | Path, out: str | Path, lang: str = "fr", progress: Callable[[int, int], None] | None = None
) -> int:
    if lang not in TEXT:
        raise ReportError(f"unknown language {lang!r} (fr or en)")
    verdict = verify_plenary(db, progress)
    if not verdict.ok or verdict.convention is None:
        raise ReportError(f"{db}: the journal does not verify: {verdict.problem}")
    facts = PlenaryFacts(verdict.records, verdict.room_records, verdict.head, Path(db).name)
    pages = compose_plenary(verdict.convention, facts, lang).finish()
    write_pdf(pages, out, verdict.convention.config.session.title, progress)
    return len(pages)
