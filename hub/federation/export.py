"""Exports of a plenary journal (pure): the combined results, each channel's, the votation table.

The JSON's ``grades``, ``tallies``, ``voters``, ``rule`` and ``missing`` are the total's, in the
input form of ``clicker tally`` (counts worst grade first); ``electorates`` gives each fiche's
own electorate (the rooms that voted it, the ballots of the channels that counted it), and
``channels`` each room's, paper's and online's counts, so every total can be recomputed by
hand. Results are those of closed polls, as in a room's export.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.errors import ClickerError
from hub.federation.convention import ONLINE, PAPER, TOTAL, Convention
from hub.tally_io import ranking_to_json


class PlenaryExportError(ClickerError):
    """An export that cannot be made; one line."""


def export_plenary_json(conv: Convention, head: str) -> dict[str, Any]:
    cfg = conv.config.session
    label = {p.number: p.label for p in cfg.proposals}
    total = conv.results(TOTAL, revealed_only=False)
    ranking = conv.ranking(TOTAL, revealed_only=False)
    channels = {
        v: {label[n]: counts for n, (counts, _) in conv.results(v, revealed_only=False).items()}
        for v in conv.views()
        if v != TOTAL
    }
    return {
        "title": cfg.title,
        "grades": list(cfg.scale.names),
        "voters": ranking.voters,
        "rule": str(cfg.rule),
        "missing": str(cfg.missing),
        "tallies": {label[n]: counts for n, (counts, _) in total.items()},
        "electorates": {label[n]: e for n, (_, e) in total.items()},
        "ranking": ranking_to_json(ranking)["ranking"],
        "channels": channels,
        "rooms": [
            {
                "room": name,
                "label": conv.labels[name],
                "records": chain.seq,
                "head": chain.head,
                "halted": chain.halted,
            }
            for name, chain in conv.rooms.items()
        ],
        PAPER: conv.paper.to_json(),
        ONLINE: conv.online.to_json(),
        "alarms": list(conv.alarms),
        "journal_head": head,
    }


def export_plenary_csv(conv: Convention, view: str | None = None) -> str:
    """One row per fiche of ``view`` (the total by default): rank, majority grade, gauge, the
    electorate, one column per grade and the missing judgments; for the total, each channel's
    counts follow (``<channel>:<grade>``)."""
    view = view or TOTAL
    if view not in conv.views():
        raise PlenaryExportError(f"no room or channel {view!r} (choose from {', '.join(conv.views())})")
    cfg = conv.config.session
    grades = list(cfg.scale.names)
    results = conv.results(view, revealed_only=False)
    ranking = conv.ranking(view, revealed_only=False)
    parts = [v for v in conv.views() if v != TOTAL] if view == TOTAL else []
    part_results = {v: conv.results(v, revealed_only=False) for v in parts}
    by_label = {p.label: p for p in cfg.proposals}
    out = io.StringIO()
    w = csv.writer(out)
    head = [
        "rank",
        "number",
        "title",
        "transition",
        "majority_grade",
        "proponents",
        "opponents",
        "electorate",
    ]
    w.writerow([*head, *grades, "missing", *(f"{v}:{g}" for v in parts for g in grades)])
    for e in ranking.entries:
        p = by_label[e.proposal]
        g = e.gauge
        electorate = results[p.number][1] if p.number in results else ranking.voters
        row = [
            e.rank,
            p.number,
            p.title,
            p.transition,
            "" if e.majority_grade is None else grades[e.majority_grade],
            "" if g is None else g.proponents,
            "" if g is None else g.opponents,
            electorate,
            *e.tally,
            electorate - sum(e.tally),
        ]
        for v in parts:
            counts = part_results[v].get(p.number)
            row += counts[0] if counts else [""] * len(grades)
        w.writerow(row)
    return out.getvalue()
