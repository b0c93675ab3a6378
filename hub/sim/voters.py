"""Voter models: a room of members with uneven, realistic opinions on each proposal.

Pure and seeded: the same seed gives the same room, so tests and the demo are reproducible.
A proposal that was popular in the city votation is more likely to be graded well; each member
has a leniency of their own; a few members never vote.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from hub.proposals import Proposal


@dataclass(frozen=True)
class Opinion:
    """A member's intended grade index on one proposal, or None (will not vote)."""

    grade: int | None


def appeal(proposals: list[Proposal]) -> dict[int, float]:
    """Each proposal's popularity as a z-score of log(votation votes); 0 when unknown."""
    raw = {}
    for p in proposals:
        try:
            raw[p.number] = math.log(
                1 + int(p.extra.get("votation_paper", 0)) + int(p.extra.get("votation_online", 0))
            )
        except ValueError:
            raw[p.number] = 0.0
    values = list(raw.values())
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
    return {k: (v - mean) / sd for k, v in raw.items()}


class Opinions:
    """What ``members`` voters think of each proposal: ``opinion(member, proposal)`` is fixed
    for a given seed (the simulated room, hub/sim/room.py, presses them)."""

    def __init__(
        self,
        proposals: list[Proposal],
        members: int = 70,
        grades: int = 7,
        seed: int = 2022,
        abstain_rate: float = 0.03,
    ) -> None:
        self.proposals = proposals
        self.members = members
        self.grades = grades
        self.seed = seed
        rnd = random.Random(seed)
        self._appeal = appeal(proposals)
        self._leniency = [rnd.gauss(0.0, 0.7) for _ in range(members)]
        self._absent = {m for m in range(members) if rnd.random() < abstain_rate}

    def opinion(self, member: int, proposal: Proposal) -> Opinion:
        if member in self._absent:
            return Opinion(None)
        rnd = random.Random(f"{self.seed}:{member}:{proposal.number}")
        centre = (self.grades - 1) / 2 + 1.1 * self._appeal.get(proposal.number, 0.0) + self._leniency[member]
        grade = round(rnd.gauss(centre, 1.2))
        return Opinion(min(self.grades - 1, max(0, grade)))

    def tally(self, proposal: Proposal) -> list[int]:
        counts = [0] * self.grades
        for m in range(self.members):
            g = self.opinion(m, proposal).grade
            if g is not None:
                counts[g] += 1
        return counts


def example_tally_document(members: int = 70, seed: int = 2022) -> dict[str, Any]:
    """The bundled example for ``clicker tally``: the 40 Clermont fiches, 70 simulated voters."""
    from hub.model import FRENCH_7
    from hub.proposals import clermont_fiches

    fiches = clermont_fiches()
    opinions = Opinions(fiches, members, seed=seed)
    return {
        "grades": list(FRENCH_7),
        "tallies": {f"Fiche {p.number} : {p.title}": opinions.tally(p) for p in fiches},
        "voters": members,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(example_tally_document(), ensure_ascii=False, indent=1))
