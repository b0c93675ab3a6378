"""Exports of a session's results from its journal: tallies per proposal and poll metadata.

Secret ballot: no export names a keypad next to a grade. Per-press rows (keypad, counter, key,
status) come out only with ``with_presses`` and only when the session was declared
non-anonymous.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.assemblies import assembly_rankings, item_groups
from hub.errors import ClickerError
from hub.model import PollMode
from hub.session import Poll, PollState, SessionView
from hub.tally import Ranking
from hub.tally_io import ranking_to_json


class ExportError(ClickerError):
    """An export that must not or cannot be made; one line for the user."""


def polls_metadata(session: SessionView) -> list[dict[str, Any]]:
    """Every poll, reset ones included; a poll with a result also lists the groups its result
    may be shown by (assemblies with enough voters, the small ones merged)."""
    return [
        {
            "poll_id": p.poll_id,
            "mode": p.mode.name.lower().replace("_", "-"),
            "state": str(p.state),
            "items": list(p.items),
            "turnout": p.turnout,
            "opened_at": p.opened_at,
            "closed_at": p.closed_at,
            "reset_reason": p.reset_reason,
            **({"colours": dict(p.colours)} if p.mode is PollMode.CONSENT else {}),
            **({"groups": _groups(session, p)} if p.state in (PollState.CLOSED, PollState.REVEALED) else {}),
        }
        for p in session.polls
    ]


def _groups(session: SessionView, poll: Poll) -> dict[str, list[dict[str, Any]]]:
    """Per item: each published group's assemblies, members, voters and counts."""
    out = {}
    for item in poll.items:
        out[str(item)] = [
            {"assemblies": list(g.assemblies), "members": g.members, "voters": g.voters}
            | ({"colours": g.colours} if poll.mode is PollMode.CONSENT else {"tally": g.tally})
            for g in item_groups(session, poll, item)
        ]
    return out


def export_json(
    session: SessionView, presses: list[dict[str, Any]] | None = None, journal: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The session's results; ``grades``, ``tallies``, ``voters``, ``rule`` and ``missing`` are
    exactly what ``clicker tally`` reads, and it ignores the rest (README, "Exports").
    ``journal``: the verified journal's last record (``seq``, ``head``, ``complete``), the head
    a reader checks with ``clicker verify --head``."""
    cfg = session.config
    ranking = session.ranking()
    final = session.final_tallies()
    tallies = {p.label: final[p.number] for p in cfg.proposals if p.number in final}
    doc: dict[str, Any] = {
        "title": cfg.title,
        "grades": list(cfg.scale.names),
        "voters": ranking.voters,
        "rule": str(cfg.rule),
        "missing": str(cfg.missing),
        "anonymous": cfg.anonymous,
        "min_group": cfg.min_group,
        # the input format of `clicker tally`: worst grade first
        "tallies": tallies,
        "ranking": ranking_to_json(ranking)["ranking"],
        "polls": polls_metadata(session),
        "assemblies": {
            a.assembly: {
                "members": a.members,
                "tallies": {e.proposal: e.tally for e in a.ranking.entries},
                "ranking": ranking_to_json(a.ranking)["ranking"],
                "merged": a.merged,
            }
            for a in assembly_rankings(session)
        },
    }
    if journal is not None:
        doc["journal"] = journal
    if presses is not None:
        doc["presses"] = presses
    return doc


def export_csv(
    session: SessionView, assembly: str | None = None, journal: dict[str, Any] | None = None
) -> str:
    """One row per fiche: rank, majority grade, gauge, one column per grade (worst first) and
    the missing judgments, so that every row adds up to the electorate. ``assembly`` gives that
    assembly's rows (the fiches where it was shown on its own) instead of the plenary's. With
    ``journal``, every row ends with the verified journal's last record (``journal_seq``,
    ``journal_head``): the table stays one row per fiche, and any row says what to verify."""
    cfg = session.config
    ranking = session.ranking() if assembly is None else _assembly_ranking(session, assembly)
    by_label = {p.label: p for p in cfg.proposals}
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "rank",
            "number",
            "title",
            "transition",
            "majority_grade",
            "proponents",
            "opponents",
            *cfg.scale.names,
            "missing",
            *(["journal_seq", "journal_head"] if journal is not None else []),
        ]
    )
    anchor = [journal["seq"], journal["head"]] if journal is not None else []
    for e in ranking.entries:
        p = by_label[e.proposal]
        g = e.gauge
        w.writerow(
            [
                e.rank,
                p.number,
                p.title,
                p.transition,
                "" if e.majority_grade is None else cfg.scale.names[e.majority_grade],
                "" if g is None else g.proponents,
                "" if g is None else g.opponents,
                *e.tally,
                ranking.voters - sum(e.tally),
                *anchor,
            ]
        )
    return out.getvalue()


def _assembly_ranking(session: SessionView, assembly: str) -> Ranking:
    found = {a.assembly: a for a in assembly_rankings(session)}
    if assembly not in found:
        names = ", ".join(repr(a) for a in found) or "none"
        raise ExportError(f"no assembly {assembly!r} in this session's roster (assemblies: {names})")
    return found[assembly].ranking


def check_presses_allowed(session: SessionView, with_presses: bool) -> None:
    if with_presses and session.config.anonymous:
        raise ExportError("this session is anonymous (secret ballot): per-keypad presses are never exported")
