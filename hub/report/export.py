"""Exports of a session's results from its journal: tallies per proposal and poll metadata.

Secret ballot: no export names a keypad next to a grade. Per-press rows (keypad, counter, key,
status) come out only with ``with_presses`` and only when the session was declared
non-anonymous.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.model import PollMode
from hub.session import Session
from hub.tally_io import ranking_to_json


class ExportError(ValueError):
    """An export that must not or cannot be made; one line for the user."""


def polls_metadata(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "poll_id": p.poll_id,
            "mode": p.mode.name.lower().replace("_", "-"),
            "state": str(p.state),
            "items": list(p.items),
            "turnout": len(p.voters),
            "opened_at": p.opened_at,
            "closed_at": p.closed_at,
            "reset_reason": p.reset_reason,
            **({"colours": dict(p.colours)} if p.mode is PollMode.CONSENT else {}),
        }
        for p in session.polls
    ]


def export_json(session: Session, presses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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
        # the input format of `clicker tally`: worst grade first
        "tallies": tallies,
        "ranking": ranking_to_json(ranking)["ranking"],
        "polls": polls_metadata(session),
    }
    if presses is not None:
        doc["presses"] = presses
    return doc


def export_csv(session: Session) -> str:
    """One row per fiche: rank, majority grade, one column per grade (worst first)."""
    cfg = session.config
    ranking = session.ranking()
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
        ]
    )
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
            ]
        )
    return out.getvalue()


def check_presses_allowed(session: Session, with_presses: bool) -> None:
    if with_presses and session.config.anonymous:
        raise ExportError("this session is anonymous (secret ballot): per-keypad presses are never exported")
