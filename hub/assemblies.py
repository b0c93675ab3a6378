"""Per-assembly results, with the secret ballot kept (pure: no I/O).

A convention's members sit in assemblies (the roster's ``assembly``); each assembly sees its own
merit profiles and ranking beside the plenary's. A group of voters small enough to tell who gave
which grade is never shown on its own: in each poll, an assembly with fewer than ``min_group``
voters is merged with the other small ones and, if that merged group is still too small, with
the smallest assembly that had enough. So no published group, and not the plenary minus the
published groups either, has fewer than ``min_group`` voters. When that leaves a single group,
only the plenary is shown.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.model import CONSENT_COLOURS, PollMode
from hub.session import Poll, PollState, SessionView
from hub.tally import Ranking, rank

NO_ASSEMBLY = ""  # keypads the roster puts in no assembly (an open roster's late arrivals, say)


def partition(voters: Mapping[str, int], min_group: int) -> list[tuple[str, ...]]:
    """Group assemblies (name -> voters) so that every group has at least ``min_group`` voters.

    Assemblies with enough voters stay alone; the others are merged into one group, topped up
    with the smallest large assemblies until it has enough. Returns [] when a breakdown would
    show nothing more than the plenary (fewer than two groups)."""
    order = sorted(voters, key=lambda a: (voters[a], a))
    small = [a for a in order if voters[a] < min_group]
    large = [a for a in order if voters[a] >= min_group]
    groups: list[tuple[str, ...]] = []
    if small:
        bucket = list(small)
        while sum(voters[a] for a in bucket) < min_group and large:
            bucket.append(large.pop(0))
        groups.append(tuple(sorted(bucket, key=sort_key)))
    groups[:0] = [(a,) for a in sorted(large, key=sort_key)]
    return groups if len(groups) > 1 else []


@dataclass(frozen=True)
class Group:
    """One published group of a poll's item: an assembly, or several merged."""

    assemblies: tuple[str, ...]
    members: int  # roster keypads in these assemblies (the group's electorate)
    voters: int  # of them, those with a counted judgment on the item
    tally: list[int] = field(default_factory=list)  # grades, worst first (grades polls)
    colours: dict[str, int] = field(default_factory=dict)  # consent rounds

    @property
    def merged(self) -> bool:
        return len(self.assemblies) > 1


def assembly_of(session: SessionView) -> dict[int, str]:
    """Keypad id -> its assembly (kept by the session until the roster changes: read only)."""
    return session.roster_index()[0]


def members(session: SessionView) -> Counter[str]:
    """Roster keypads per assembly (kept by the session until the roster changes: read only)."""
    return session.roster_index()[1]


def sort_key(name: str) -> tuple[str, str]:
    """Alphabetical order that ignores case and accents ("écologique" before "sociale")."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c)), name


def assemblies(session: SessionView) -> list[str]:
    """The session's assemblies in alphabetical order; [] when the roster names none."""
    names = members(session)
    if set(names) <= {NO_ASSEMBLY}:
        return []
    return sorted(names, key=sort_key)


def item_groups(session: SessionView, poll: Poll, item: int) -> list[Group]:
    """The groups an item of a poll may be shown by (each with enough voters); [] when only the
    plenary may be shown. Reads the poll's judgments by assembly: call it on a closed poll."""
    if not assemblies(session):
        return []
    where = assembly_of(session)
    counts = poll.judgments_by_assembly(item, where)
    values: dict[str, list[int | str]] = {a: list(c.elements()) for a, c in counts.items()}
    roster = members(session)
    voters = {a: len(values.get(a, ())) for a in roster}
    out = []
    for names in partition(voters, session.config.min_group):
        judged = [v for a in names for v in values.get(a, ())]
        group = Group(names, sum(roster[a] for a in names), len(judged))
        if poll.mode is PollMode.CONSENT:
            counted = Counter(v for v in judged if isinstance(v, str))
            colours = {c: counted[c] for c in CONSENT_COLOURS}
            group = Group(group.assemblies, group.members, group.voters, [], colours)
        else:
            tally = [0] * len(session.config.scale)
            for v in judged:
                if isinstance(v, int):
                    tally[v] += 1
            group = Group(group.assemblies, group.members, group.voters, tally)
        out.append(group)
    return out


def group_ranking(session: SessionView, item: int, group: Group) -> Ranking:
    """One group's result on an item (one row), against the group's electorate."""
    cfg = session.config
    tallies = {session.proposals[item].label: group.tally}
    return rank(tallies, cfg.scale, cfg.rule, cfg.missing, max(group.members, group.voters))


def final_polls(session: SessionView, revealed_only: bool = False) -> dict[int, Poll]:
    """Each proposal's latest grades poll with a result (closed or revealed; or revealed only)."""
    wanted = (PollState.REVEALED,) if revealed_only else (PollState.CLOSED, PollState.REVEALED)
    out: dict[int, Poll] = {}
    for poll in session.polls:
        if poll.mode is not PollMode.CONSENT and poll.state in wanted:
            for item in poll.items:
                out[item] = poll
    return out


@dataclass
class AssemblyRanking:
    """An assembly's ranking of the fiches where it was shown on its own, and the fiches where
    it had too few voters to be (merged there)."""

    assembly: str
    members: int
    ranking: Ranking
    merged: list[int]


def assembly_rankings(session: SessionView, revealed_only: bool = False) -> list[AssemblyRanking]:
    """Every assembly's ranking, in the session's proposal order before ranking."""
    cfg = session.config
    polls = final_polls(session, revealed_only)
    roster = members(session)
    shown: dict[str, dict[str, list[int]]] = {a: {} for a in assemblies(session)}
    merged: dict[str, list[int]] = {a: [] for a in shown}
    for p in cfg.proposals:
        poll = polls.get(p.number)
        if poll is None:
            continue
        groups = item_groups(session, poll, p.number)
        alone = {g.assemblies[0]: g for g in groups if not g.merged}
        for a in shown:
            if a in alone:
                shown[a][p.label] = alone[a].tally
            else:
                merged[a].append(p.number)
    out = []
    for a, tallies in shown.items():
        voters = max([roster[a], *(sum(t) for t in tallies.values())])
        ranking = rank(tallies, cfg.scale, cfg.rule, cfg.missing, voters)
        out.append(AssemblyRanking(a, roster[a], ranking, merged[a]))
    return out
