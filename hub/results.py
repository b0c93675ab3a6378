"""A poll's result as the projector, the console's preview and the chart endpoints show it (pure).

Only ever built for a closed or revealed poll: the live state carries a poll's result once it
is revealed, and the console (with the control token) can preview a closed one.
"""

from __future__ import annotations

from typing import Any

from hub.assemblies import Group, assembly_rankings, group_ranking, item_groups
from hub.model import PollMode
from hub.session import Poll, SessionView
from hub.tally_io import ranking_to_json


def _row(session: SessionView, row: dict[str, Any]) -> dict[str, Any]:
    p = session.proposals[int(row["proposal"].split()[-1])]
    return row | {"number": p.number, "title": p.title, "transition": p.transition}


def _group(session: SessionView, poll: Poll, item: int, g: Group) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "assemblies": list(g.assemblies),
        "merged": g.merged,
        "members": g.members,
        "voters": g.voters,
    }
    if poll.mode is PollMode.CONSENT:
        return doc | {"colours": g.colours}
    rows = ranking_to_json(group_ranking(session, item, g))["ranking"]
    return doc | {"row": _row(session, rows[0])}


def poll_results(session: SessionView, poll: Poll) -> dict[str, Any]:
    """Grades: one ranking row per item with the electorate; consent: the colours and the
    speaking queue. Both with ``groups``: the assemblies (or merged groups) the result may be
    shown by, each with at least ``min_group`` voters ([] when only the plenary may be)."""
    voters = len(poll.voters)
    if poll.mode is PollMode.CONSENT:
        item = poll.items[0]
        return {
            "colours": dict(poll.colours),
            "speaking_queue": session.speaking_queue(poll),
            "voters": voters,
            "groups": [_group(session, poll, item, g) for g in item_groups(session, poll, item)],
        }
    ranking = session.poll_ranking(poll)
    rows = [_row(session, r) for r in ranking_to_json(ranking)["ranking"]]
    return {
        "items": rows,
        "electorate": ranking.voters,
        "voters": voters,
        "groups": {
            str(item): [_group(session, poll, item, g) for g in item_groups(session, poll, item)]
            for item in poll.items
        },
    }


def rankings_by_assembly(session: SessionView) -> list[dict[str, Any]]:
    """Each assembly's ranking of the revealed fiches where it was shown on its own."""
    out = []
    for a in assembly_rankings(session, revealed_only=True):
        doc = ranking_to_json(a.ranking)
        out.append(
            {
                "assembly": a.assembly,
                "members": a.members,
                "voters": doc["voters"],
                "ranking": [_row(session, r) for r in doc["ranking"]],
                "merged": a.merged,
            }
        )
    return out
