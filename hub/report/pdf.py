"""The results report a town hall can publish: an A4 PDF from a verified journal.

Drawn with matplotlib's object API and its PDF backend (no pyplot), so it runs anywhere the hub
runs. Text is laid out by measuring it (hub/report/layout.py): every page is A4, nothing is cut
at an edge, and every string written is recorded so tests can find it in the PDF's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from hub.assemblies import (
    NO_ASSEMBLY,
    AssemblyRanking,
    assembly_rankings,
    final_polls,
    group_ranking,
    item_groups,
)
from hub.errors import ClickerError
from hub.model import CONSENT_COLOURS, CONSENT_NAMES, PollMode
from hub.proposals import Proposal
from hub.report.charts import draw_bar, draw_legend, draw_ranking, grade_with_sign, pct
from hub.report.layout import A4, MARGIN_X, Document, wrap
from hub.session import Poll, PollState, Session
from hub.tally import Entry, Ranking, rank
from hub.verify import short_head, verify

MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "en": "January February March April May June July August September October November December".split(),
}

TEXT: dict[str, dict[str, Any]] = {
    "fr": {
        "subtitle": "Résultats du vote au jugement majoritaire",
        "date": "Date",
        "electorate": "Corps électoral",
        "members": "{n} membres",
        "fiches": "Fiches évaluées",
        "polls": "Votes tenus",
        "polls_value": "{n} votes, dont {rounds} et {resets}",
        "n_rounds": ("{n} second tour", "{n} seconds tours"),
        "n_resets": ("{n} vote annulé", "{n} votes annulés"),
        "n_missing": ("{n} évaluation manquante", "{n} évaluations manquantes"),
        "assemblies": "Assemblées",
        "head": "Empreinte finale du journal",
        "head_value": "{short}… (complète en dernière page)",
        "method": "Méthode : le jugement majoritaire",
        "method_body": (
            "Chaque membre a évalué chaque fiche sur l'échelle : {scale}. Le profil de mérite d'une "
            "fiche donne la part de chaque mention. Sa mention majoritaire est la mention qu'une "
            "majorité lui accorde au moins : la médiane inférieure des évaluations. Entre deux fiches "
            "de même mention majoritaire, on compare les parts d'évaluations au-dessus de la mention "
            "(partisans) et en dessous (opposants) ; si l'égalité persiste, on retire les évaluations "
            "médianes une à une (valeur majoritaire de Balinski et Laraki)."
        ),
        "rule": "Règle de classement : {rule}.",
        "rules": {
            "majority-judgment": "jugement majoritaire (valeur majoritaire)",
            "usual": "score usuel de Fabre",
            "typical": "score typique de Fabre",
            "central": "score central de Fabre",
        },
        "missing_body": "Une évaluation manquante (un membre qui n'a pas voté) compte comme : {missing}.",
        "missing": {
            "reject": "« À rejeter » (règle annoncée aux votants)",
            "ignore": "rien : seules les évaluations exprimées comptent",
            "median": "la mention majoritaire de la fiche",
        },
        "gauge_body": (
            "Le signe après une mention majoritaire se lit ainsi : « + » quand il y a plus "
            "d'évaluations au-dessus de la mention qu'en dessous, « − » quand il y en a autant ou moins."
        ),
        "reading": (
            "Lire un profil : la barre va de « {worst} » à gauche à « {best} » à droite ; le trait "
            "vertical marque 50 % : la mention sous ce trait est la mention majoritaire. Une part trop "
            "petite pour y écrire son pourcentage n'est pas étiquetée. Couleurs des mentions :"
        ),
        "secret": (
            "Secret du vote : les résultats par assemblée ne montrent jamais seul un groupe de moins "
            "de {min_group} votants ; une assemblée qui en a moins sur une fiche y est regroupée avec "
            "d'autres."
        ),
        "ranking": "Classement",
        "cols": ["Rang", "Fiche", "Titre", "Mention majoritaire", "Au-dessus", "En dessous"],
        "ranking_chart": "Classement : profils de mérite",
        "transition": "Transition {name}",
        "profiles": "Profils de mérite",
        "plenary": "Plénière",
        "majority": "Mention majoritaire : {grade}",
        "no_judgment": "Aucune évaluation.",
        "gauge": "{above} des évaluations au-dessus de « {grade} », {below} en dessous.",
        "voters": "{voters} votants sur {electorate} ; {missing}.",
        "round": "{n}e tour (vote {poll}).",
        "group": "{name} : {voters} votants sur {members} — {grade}",
        "merged_group": "{names} (regroupées) : {voters} votants sur {members} — {grade}",
        "assembly": "Assemblée « {name} »",
        "no_assembly": "Sans assemblée",
        "by_assembly": "Résultats par assemblée",
        "assembly_intro": (
            "{members} membres. Classement des fiches où l'assemblée a assez de votants pour être "
            "montrée seule."
        ),
        "assembly_merged": (
            "Fiches où l'assemblée n'est montrée que regroupée avec d'autres, pour qu'aucun groupe de "
            "moins de {min_group} votants ne soit montré ni déductible : {fiches}."
        ),
        "assembly_none": "Aucune fiche : l'assemblée n'a jamais eu assez de votants pour être montrée seule.",
        "acols": ["Rang", "Fiche", "Mention majoritaire", "Au-dessus", "En dessous"],
        "participation": "Participation par vote",
        "pcols": ["Vote", "Type", "Objet", "Participation", "État"],
        "kinds": {"grades": "mentions", "consent": "consentement", "self-paced": "à son rythme"},
        "states": {
            "open": "ouvert",
            "closing": "en clôture",
            "closed": "clos, non révélé",
            "revealed": "révélé",
            "reset": "annulé : {reason}",
        },
        "object_round": "{fiches}, {n}e tour",
        "no_fiche": "sans fiche",
        "consent": "Tours de consentement",
        "consent_line": "Vote {poll} ({what}) : {turnout} votants sur {electorate} — {counts}.",
        "journal": "Journal et recomptage",
        "journal_body": (
            "Ce rapport est calculé à partir du journal de la session ({records} enregistrements, "
            "{presses} appuis), après vérification. Chaque enregistrement est chaîné au précédent par "
            "une empreinte SHA-256 ; l'empreinte finale (enregistrement {seq}) est :"
        ),
        "complete": "Le journal se termine par l'enregistrement de clôture du boîtier central.",
        "incomplete": (
            "Attention : le journal n'a pas d'enregistrement de clôture (copie faite pendant la séance, "
            "ou arrêt non propre du boîtier central)."
        ),
        "journal_how": (
            "Pour vérifier la chaîne, recompter chaque vote à partir des appuis bruts et prouver que le "
            "journal contient les têtes notées pendant la séance : clicker verify {db} --head {short}"
        ),
        "page": "page {n} / {total}",
        "fiche": "Fiche",
    },
    "en": {
        "subtitle": "Results of the majority-judgment vote",
        "date": "Date",
        "electorate": "Electorate",
        "members": "{n} members",
        "fiches": "Proposals graded",
        "polls": "Polls held",
        "polls_value": "{n} polls, including {rounds} and {resets}",
        "n_rounds": ("{n} second round", "{n} second rounds"),
        "n_resets": ("{n} poll reset", "{n} polls reset"),
        "n_missing": ("{n} missing judgment", "{n} missing judgments"),
        "assemblies": "Assemblies",
        "head": "Journal's final hash",
        "head_value": "{short}… (in full on the last page)",
        "method": "Method: majority judgment",
        "method_body": (
            "Every member graded every proposal on the scale: {scale}. A proposal's merit profile "
            "gives the share of each grade. Its majority grade is the grade a majority gives it at "
            "least: the lower median of its judgments. Between two proposals with the same majority "
            "grade, the shares of judgments above the grade (proponents) and below it (opponents) are "
            "compared; if still tied, median judgments are removed one at a time (Balinski and "
            "Laraki's majority value)."
        ),
        "rule": "Ranking rule: {rule}.",
        "rules": {
            "majority-judgment": "majority judgment (majority value)",
            "usual": "Fabre's usual score",
            "typical": "Fabre's typical score",
            "central": "Fabre's central score",
        },
        "missing_body": "A missing judgment (a member who did not vote) counts as: {missing}.",
        "missing": {
            "reject": '"To reject" (the rule announced to voters)',
            "ignore": "nothing: only the judgments expressed count",
            "median": "the proposal's majority grade",
        },
        "gauge_body": (
            'The sign after a majority grade reads: "+" when more judgments lie above the grade than '
            'below it, "−" when as many or more lie below.'
        ),
        "reading": (
            'Reading a profile: the bar goes from "{worst}" on the left to "{best}" on the right; the '
            "vertical line marks 50 %: the grade under it is the majority grade. A share too narrow "
            "for its percentage is left unlabelled. Colours of the grades:"
        ),
        "secret": (
            "Secret ballot: results by assembly never show a group of fewer than {min_group} voters "
            "on its own; an assembly with fewer on a proposal is grouped with others there."
        ),
        "ranking": "Ranking",
        "cols": ["Rank", "Proposal", "Title", "Majority grade", "Above", "Below"],
        "ranking_chart": "Ranking: merit profiles",
        "transition": "{name} transition",
        "profiles": "Merit profiles",
        "plenary": "Plenary",
        "majority": "Majority grade: {grade}",
        "no_judgment": "No judgment.",
        "gauge": '{above} of judgments above "{grade}", {below} below.',
        "voters": "{voters} voters out of {electorate}; {missing}.",
        "round": "Round {n} (poll {poll}).",
        "group": "{name}: {voters} voters out of {members} — {grade}",
        "merged_group": "{names} (grouped): {voters} voters out of {members} — {grade}",
        "assembly": 'Assembly "{name}"',
        "no_assembly": "No assembly",
        "by_assembly": "Results by assembly",
        "assembly_intro": (
            "{members} members. Ranking of the proposals where the assembly had enough voters to be "
            "shown on its own."
        ),
        "assembly_merged": (
            "Proposals where the assembly is shown only grouped with others, so that no group of "
            "fewer than {min_group} voters is shown or can be deduced: {fiches}."
        ),
        "assembly_none": "No proposal: the assembly never had enough voters to be shown on its own.",
        "acols": ["Rank", "Proposal", "Majority grade", "Above", "Below"],
        "participation": "Participation per poll",
        "pcols": ["Poll", "Kind", "Subject", "Turnout", "State"],
        "kinds": {"grades": "grades", "consent": "consent", "self-paced": "self-paced"},
        "states": {
            "open": "open",
            "closing": "closing",
            "closed": "closed, not revealed",
            "revealed": "revealed",
            "reset": "reset: {reason}",
        },
        "object_round": "{fiches}, round {n}",
        "no_fiche": "no proposal",
        "consent": "Consent rounds",
        "consent_line": "Poll {poll} ({what}): {turnout} voters out of {electorate} — {counts}.",
        "journal": "Journal and recount",
        "journal_body": (
            "This report is computed from the session's journal ({records} records, {presses} presses), "
            "after checking it. Each record is chained to the previous one by a SHA-256 hash; the final "
            "hash (record {seq}) is:"
        ),
        "complete": "The journal ends with the hub's closing record.",
        "incomplete": (
            "Warning: the journal has no closing record (copied during the session, or the hub did not "
            "stop cleanly)."
        ),
        "journal_how": (
            "To check the chain, recount every poll from the raw presses and prove that the journal "
            "holds the heads noted during the session: clicker verify {db} --head {short}"
        ),
        "page": "page {n} of {total}",
        "fiche": "Proposal",
    },
}


class ReportError(ClickerError):
    """A journal that cannot be reported on; one line for the user."""


@dataclass(frozen=True)
class JournalFacts:
    records: int
    presses: int
    head: str
    db: str
    seq: int = 0
    complete: bool = True


def _date(ts: float, lang: str) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return f"{d.day} {MONTHS[lang][d.month - 1]} {d.year}"


def plural(t: dict[str, Any], key: str, n: int) -> str:
    """``n`` things in words: the singular form for 0 and 1 in French, for 1 in English."""
    one: str
    many: str
    one, many = t[key]
    return (one if n == 1 or (n == 0 and t is TEXT["fr"]) else many).format(n=n)


def _label(t: dict[str, Any], lang: str, label: str, value: str) -> str:
    return f"{label} : {value}" if lang == "fr" else f"{label}: {value}"


def ranking_pages(
    doc: Document,
    t: dict[str, Any],
    ranking: Ranking,
    by_label: dict[str, Proposal],
    names: list[str],
    lang: str,
) -> None:
    """The ranking's table (rank, fiche, title, majority grade, shares above and below) and its
    charts, on a new page: one layout for a room's report and the plenary's."""
    doc.new_page()
    doc.heading(t["ranking"])
    rows = []
    for e in ranking.entries:
        tied = sum(1 for x in ranking.entries if x.rank == e.rank) > 1
        above, below = _shares(e, lang)
        rank_text = f"{e.rank} ({'ex aequo' if lang == 'fr' else 'tied'})" if tied else str(e.rank)
        rows.append([rank_text, e.proposal, by_label[e.proposal].title, _grade(e, names), above, below])
    doc.table(t["cols"], rows, [0.08, 0.1, 0.44, 0.16, 0.11, 0.11], right=frozenset({4, 5}))
    _ranking_charts(doc, t["ranking_chart"], ranking, names, lang)


def _grade(entry: Entry, names: list[str]) -> str:
    if entry.majority_grade is None:
        return "—"
    return grade_with_sign(names[entry.majority_grade], entry.gauge.sign if entry.gauge else "")


def _shares(entry: Entry, lang: str) -> tuple[str, str]:
    g = entry.gauge
    if g is None:
        return "—", "—"
    return pct(100 * float(g.p), lang), pct(100 * float(g.q), lang)


def _assembly_name(t: dict[str, Any], name: str) -> str:
    word: str = t["no_assembly"] if name == NO_ASSEMBLY else t["assembly"].format(name=name)
    return word


def compose(session: Session, facts: JournalFacts, lang: str = "fr") -> Document:
    """Every page of the report, laid out (not yet written to a file)."""
    if lang not in TEXT:
        raise ReportError(f"unknown language {lang!r} (fr or en)")
    t = TEXT[lang]
    cfg = session.config
    names = [cfg.scale.name(i, lang) for i in range(len(cfg.scale))]
    ranking = session.ranking()
    by_label = {p.label: p for p in cfg.proposals}
    groups_by_assembly = assembly_rankings(session)
    doc = Document(lambda n, total: f"{cfg.title} — {t['page'].format(n=n, total=total)}")

    # --- cover -----------------------------------------------------------------------------
    doc.new_page()
    doc.space(1.2)
    doc.heading(cfg.title, 24)
    doc.paragraph(t["subtitle"], 15, after=0.4)
    opened = [p.opened_at for p in session.polls]
    rounds = sum(1 for p in session.polls if session.round_of(p) > 1 and p.state is not PollState.RESET)
    resets = sum(1 for p in session.polls if p.state is PollState.RESET)
    facts_lines = [
        (t["date"], _date(min(opened), lang) if opened else "—"),
        (t["electorate"], t["members"].format(n=session.electorate)),
        (t["fiches"], str(len(ranking.entries))),
        (
            t["polls"],
            t["polls_value"].format(
                n=len(session.polls),
                rounds=plural(t, "n_rounds", rounds),
                resets=plural(t, "n_resets", resets),
            ),
        ),
    ]
    if groups_by_assembly:
        listed = ", ".join(f"{_assembly_name(t, a.assembly)} ({a.members})" for a in groups_by_assembly)
        facts_lines.append((t["assemblies"], listed))
    facts_lines.append((t["head"], t["head_value"].format(short=facts.head[:16])))
    for label, value in facts_lines:
        doc.paragraph(_label(t, lang, label, value), 12, after=0.08)

    # --- method ----------------------------------------------------------------------------
    doc.new_page()
    doc.heading(t["method"])
    doc.paragraph(t["method_body"].format(scale=", ".join(names)))
    doc.paragraph(t["rule"].format(rule=t["rules"][str(cfg.rule)]))
    doc.paragraph(t["missing_body"].format(missing=t["missing"][str(cfg.missing)]))
    doc.paragraph(t["gauge_body"])
    doc.paragraph(t["reading"].format(worst=names[0], best=names[-1]), after=0.05)
    _legend(doc, names)
    if groups_by_assembly:
        doc.paragraph(t["secret"].format(min_group=cfg.min_group))

    # --- ranking ----------------------------------------------------------------------------
    ranking_pages(doc, t, ranking, by_label, names, lang)
    transitions = sorted({p.transition for p in cfg.proposals if p.transition})
    for name in transitions:
        subset = {e.proposal: e.tally for e in ranking.entries if by_label[e.proposal].transition == name}
        if subset:
            sub = rank(subset, cfg.scale, cfg.rule, cfg.missing, ranking.voters)
            _ranking_charts(
                doc, f"{t['ranking']} — {t['transition'].format(name=name)}", sub, names, lang, new=False
            )

    # --- one merit profile per fiche ----------------------------------------------------------
    doc.new_page()
    doc.heading(t["profiles"])
    polls = final_polls(session)
    for i, e in enumerate(ranking.entries):
        p = by_label[e.proposal]
        _profile(doc, session, ranking, i, polls.get(p.number), t, names, lang)

    # --- per assembly ---------------------------------------------------------------------------
    if groups_by_assembly:
        doc.new_page()
        doc.heading(t["by_assembly"])
        doc.paragraph(t["secret"].format(min_group=cfg.min_group))
        for a in groups_by_assembly:
            _assembly_table(doc, a, t, names, lang, cfg.min_group)

    # --- participation and consent ----------------------------------------------------------------
    doc.new_page()
    doc.heading(t["participation"])
    prow = []
    for poll in session.polls:
        mode = poll.mode.name.lower().replace("_", "-")
        what = _poll_subject(session, poll, t)
        if poll.mode is not PollMode.CONSENT and session.round_of(poll) > 1:
            what = t["object_round"].format(fiches=what, n=session.round_of(poll))
        share = pct(100 * poll.turnout / session.electorate, lang) if session.electorate else "—"
        state = t["states"][str(poll.state)].format(reason=poll.reset_reason)
        turnout = f"{poll.turnout} / {session.electorate} ({share})"
        prow.append([str(poll.poll_id), t["kinds"][mode], what, turnout, state])
    doc.table(t["pcols"], prow, [0.08, 0.16, 0.26, 0.22, 0.28])

    consent = [q for q in session.polls if q.mode is PollMode.CONSENT and q.state is not PollState.RESET]
    if consent:
        doc.heading(t["consent"], 14)
        for poll in consent:
            counts = ", ".join(f"{CONSENT_NAMES[lang][c]} {poll.colours.get(c, 0)}" for c in CONSENT_COLOURS)
            doc.paragraph(
                t["consent_line"].format(
                    poll=poll.poll_id,
                    what=_poll_subject(session, poll, t),
                    turnout=poll.turnout,
                    electorate=session.electorate,
                    counts=counts,
                ),
                after=0.06,
            )

    # --- journal ------------------------------------------------------------------------------------
    doc.heading(t["journal"], 14, keep_with=1.2)
    body = t["journal_body"].format(records=facts.records, presses=facts.presses, seq=facts.seq)
    doc.paragraph(body, after=0.06)
    doc.paragraph(facts.head, 9.5, indent=0.2, after=0.06)
    doc.paragraph(t["complete" if facts.complete else "incomplete"], after=0.06)
    doc.paragraph(t["journal_how"].format(db=facts.db, short=short_head(facts.seq, facts.head)))
    return doc


def _poll_subject(session: Session, poll: Poll, t: dict[str, Any]) -> str:
    items = [n for n in poll.items if n in session.proposals]
    if not items:
        none: str = t["no_fiche"]
        return none
    return ", ".join(f"{t['fiche']} {n}" for n in items)


def _legend(doc: Document, names: list[str]) -> None:
    height = 0.45

    def draw(fig: Figure, box: tuple[float, float, float, float]) -> None:
        top = (1 - box[1] - box[3]) * A4[1]
        draw_legend(fig, MARGIN_X, top + 0.05, doc.width, names, 9)

    doc.block(height, draw)
    for name in names:
        doc.written.append((len(doc.pages) - 1, name))
    doc.space(0.1)


def _ranking_charts(
    doc: Document, title: str, ranking: Ranking, names: list[str], lang: str, new: bool = True
) -> None:
    """The ranking as merit bars, 40 rows per chart, each chart kept on one page."""
    per = 40
    entries = ranking.entries
    for start in range(0, max(1, len(entries)), per):
        chunk = Ranking(
            ranking.rule, ranking.missing, ranking.voters, ranking.scale, entries[start : start + per]
        )
        height = 0.35 + 0.2 * max(1, len(chunk.entries))
        if new:
            doc.new_page()
            new = False
        doc.heading(title, 14, keep_with=height + 0.6)
        _legend(doc, names)

        def draw(fig: Figure, box: tuple[float, float, float, float], c: Ranking = chunk) -> None:
            draw_ranking(fig, box, c, lang)

        doc.block(height, draw)
        for e in chunk.entries:
            doc.written.append((len(doc.pages) - 1, f"{e.rank}. {e.proposal}"))
        doc.space(0.25)


def _bar_block(doc: Document, counts: list[int], lang: str, height: float, indent: float = 0.0) -> None:
    def draw(fig: Figure, box: tuple[float, float, float, float]) -> None:
        left, bottom, width, tall = box
        ax = fig.add_axes((left + indent / A4[0], bottom, width - indent / A4[0], tall))
        draw_bar(ax, counts, lang, doc.width - indent)

    doc.block(height, draw)


def _profile(
    doc: Document,
    session: Session,
    ranking: Ranking,
    index: int,
    poll: Poll | None,
    t: dict[str, Any],
    names: list[str],
    lang: str,
) -> None:
    """One fiche: title, majority grade, the shares above and below in words, voters and
    missing judgments, the plenary bar, each assembly's bar, and the sentences that place it."""
    e = ranking.entries[index]
    p = session.proposals[int(e.proposal.split()[-1])]
    groups = item_groups(session, poll, p.number) if poll is not None else []
    title_lines = wrap(f"{e.proposal} — {p.title}", 11, doc.width, bold=True)
    height = len(title_lines) * 0.2 + 1.3 + 0.5 * len(groups)
    doc.ensure(min(height, 9.0))
    doc.lines(title_lines, 11, bold=True)
    doc.space(0.04)
    if e.majority_grade is None:
        doc.paragraph(t["no_judgment"])
        return
    grade = _grade(e, names)
    doc.paragraph(t["majority"].format(grade=grade), 12, after=0.04)
    above, below = _shares(e, lang)
    judged = sum(e.tally)
    voters = ranking.voters
    sentence = t["gauge"].format(above=above, below=below, grade=names[e.majority_grade]) + " "
    sentence += t["voters"].format(
        voters=judged, electorate=voters, missing=plural(t, "n_missing", voters - judged)
    )
    if poll is not None and session.round_of(poll) > 1:
        sentence += " " + t["round"].format(n=session.round_of(poll), poll=poll.poll_id)
    doc.paragraph(sentence, 9.5, after=0.06)
    _bar_block(doc, e.balanced, lang, 0.32)
    for g in groups:
        gr = group_ranking(session, p.number, g).entries[0]
        label = (
            t["merged_group"].format(
                names=" + ".join(_assembly_name(t, a) for a in g.assemblies),
                voters=g.voters,
                members=g.members,
                grade=_grade(gr, names),
            )
            if g.merged
            else t["group"].format(
                name=_assembly_name(t, g.assemblies[0]),
                voters=g.voters,
                members=g.members,
                grade=_grade(gr, names),
            )
        )
        doc.space(0.03)
        doc.paragraph(label, 8.5, indent=0.25, after=0.02)
        _bar_block(doc, gr.balanced, lang, 0.2, indent=0.25)
    if index > 0 and ranking.entries[index - 1].versus_next:
        doc.paragraph(getattr(ranking.entries[index - 1].versus_next, lang), 9, after=0.04)
    if e.versus_next:
        doc.paragraph(getattr(e.versus_next, lang), 9, after=0.04)
    doc.space(0.2)


def _assembly_table(
    doc: Document, a: AssemblyRanking, t: dict[str, Any], names: list[str], lang: str, min_group: int
) -> None:
    doc.heading(_assembly_name(t, a.assembly), 13, keep_with=1.0)
    doc.paragraph(t["assembly_intro"].format(members=a.members), 9.5, after=0.06)
    if a.ranking.entries:
        rows = []
        for e in a.ranking.entries:
            above, below = _shares(e, lang)
            rows.append([str(e.rank), e.proposal, _grade(e, names), above, below])
        doc.table(t["acols"], rows, [0.1, 0.2, 0.3, 0.2, 0.2], right=frozenset({3, 4}))
    else:
        doc.paragraph(t["assembly_none"], 9.5)
    if a.merged:
        fiches = ", ".join(str(n) for n in a.merged)
        doc.paragraph(t["assembly_merged"].format(min_group=min_group, fiches=fiches), 9, after=0.2)


def write_pdf(
    pages: list[Figure], out: str | Path, title: str, progress: Callable[[int, int], None] | None = None
) -> None:
    with PdfPages(out, metadata={"Title": title, "Creator": "clicker"}) as pdf:
        for n, page in enumerate(pages, 1):
            pdf.savefig(page)
            if progress:
                progress(n, len(pages))


def build_report(
    db: str | Path, out: str | Path, lang: str = "fr", progress: Callable[[int, int], None] | None = None
) -> int:
    """Write the PDF; returns its number of pages. The journal must verify first."""
    if lang not in TEXT:
        raise ReportError(f"unknown language {lang!r} (fr or en)")
    verdict = verify(db, progress)
    if not verdict.ok or verdict.session is None:
        raise ReportError(f"{db}: the journal does not verify: {verdict.problem}")
    facts = JournalFacts(
        verdict.records, verdict.presses, verdict.head, Path(db).name, verdict.seq, verdict.complete
    )
    doc = compose(verdict.session, facts, lang)
    pages = doc.finish()
    write_pdf(pages, out, verdict.session.config.title, progress)
    return len(pages)
