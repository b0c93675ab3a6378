"""Benchmark of the tally engine beside votelib (and pref_voting where it can run).

``clicker_s`` is ``rank`` (the order, exact ranks, majority grades: what votelib's
``MajorityJudgment`` computes); ``clicker_with_explanations_s`` also writes the sentence that
places each proposal above the next, in French and English (worked out when first read);
``clicker_central_s`` and the others rank by Fabre's scores instead. The
target at the convention's size (50 fiches, 70 voters): ``clicker_s`` <= votelib's time. Best of
N runs each (this machine is shared: the minimum is the least disturbed).

Prints one JSON object. Run: python bench/tally.py [--quick]
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from hub.model import GradeScale
from hub.tally import rank

T = TypeVar("T")


def profiles(n_props: int, voters: int, grades: int, seed: int) -> dict[str, list[int]]:
    """Random merit profiles of exactly ``voters`` judgments, uneven across proposals."""
    rnd = random.Random(seed)
    out = {}
    for i in range(n_props):
        weights = [rnd.random() ** 2 for _ in range(grades)]
        total = sum(weights)
        counts = [int(voters * w / total) for w in weights]
        counts[rnd.randrange(grades)] += voters - sum(counts)
        out[f"P{i}"] = counts
    return out


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The best of ``repeat`` runs (at least one), and what the last one returned."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def votelib_rank(tallies: dict[str, list[int]], seats: int | None = None) -> Any:
    """votelib's MajorityJudgment; with seats=None it orders every proposal (its docs warn the
    order among the elected is not exact), with seats=1 it picks the winner."""
    from votelib.evaluate.cardinal import MajorityJudgment

    # votelib counts ballots; a ballot grading one proposal, counted c times, is exact.
    votes = {frozenset({(k, g)}): c for k, v in tallies.items() for g, c in enumerate(v) if c}
    return MajorityJudgment().evaluate(votes, n_seats=seats or len(tallies))


def pref_voting_winner(tallies: dict[str, list[int]]) -> Any:
    """pref_voting needs ballots: expand the counts (each proposal's judgments, voter by voter)."""
    from pref_voting.grade_methods import majority_judgement
    from pref_voting.grade_profiles import GradeProfile

    columns = {k: [g for g, c in enumerate(v) for _ in range(c)] for k, v in tallies.items()}
    n = len(next(iter(columns.values())))
    ballots = [{k: col[i] for k, col in columns.items()} for i in range(n)]
    profile = GradeProfile(ballots, list(range(7)))
    return majority_judgement(profile)


def case(
    name: str, n_props: int, voters: int, repeat: int, with_pref: bool, peer_subset: int | None = None
) -> dict[str, Any]:
    tallies = profiles(n_props, voters, 7, seed=n_props)
    scale = GradeScale()
    ours, ranking = timed(lambda: rank(tallies, scale, voters=voters), repeat)
    explained, _ = timed(lambda: [e.versus_next for e in rank(tallies, scale, voters=voters).entries], repeat)
    ours_order = [e.proposal for e in ranking.entries]
    row: dict[str, Any] = {
        "case": name,
        "proposals": n_props,
        "grades": 7,
        "voters": voters,
        "clicker_s": round(ours, 6),
        "clicker_with_explanations_s": round(explained, 6),
    }
    if repeat > 1:  # Fabre's scores (sorted as exact integers), at the convention's size only
        for rule in ("central", "usual", "typical"):
            t, _ = timed(partial(rank, tallies, scale, rule=rule, voters=voters), repeat)
            row[f"clicker_{rule}_s"] = round(t, 6)
    try:
        peer = tallies
        if peer_subset:  # votelib's time grows faster than linearly: time it on a subset
            peer = dict(list(tallies.items())[:peer_subset])
            row["votelib_on_proposals"] = peer_subset
        theirs, order = timed(lambda: votelib_rank(peer), max(1, repeat // 3))
        row["votelib_s"] = round(theirs, 6)
        # per proposal, so a subset compares fairly (it flatters votelib: its cost is superlinear)
        row["votelib_over_clicker_per_proposal"] = round((theirs / len(peer)) / (ours / n_props), 2)
        if not peer_subset:
            row["target"] = "clicker_s <= votelib_s"
            row["meets_target"] = ours <= theirs
        if not peer_subset:
            row["votelib_order_equal"] = list(order) == ours_order
            row["same_winner_as_votelib"] = votelib_rank(tallies, 1) == [ours_order[0]]
    except Exception as exc:  # a peer's failure is a figure to report, not a crash
        row["votelib_error"] = f"{type(exc).__name__}: {exc}"[:200]
    if with_pref:
        try:
            theirs, winners = timed(lambda: pref_voting_winner(tallies), 1)
            row["pref_voting_winner_only_s"] = round(theirs, 6)
            row["pref_voting_over_clicker"] = round(theirs / ours, 2)
            row["same_winner_as_pref_voting"] = winners == [ours_order[0]]
        except Exception as exc:
            row["pref_voting_error"] = f"{type(exc).__name__}: {exc}"[:200]
    else:
        row["pref_voting"] = f"not run: needs {n_props * voters:.1e} expanded judgments"
    return row


def main() -> None:
    quick = "--quick" in sys.argv
    rows = [case("convention", 50, 70, 200, True)]
    big = 1_000 if quick else 10_000
    rows.append(case("large", big, 1_000_000, 1, False, peer_subset=None if quick else 1_000))
    print(
        json.dumps(
            {
                "bench": "tally",
                "machine": f"{platform.machine()} {platform.python_implementation()} "
                f"{platform.python_version()}",
                "results": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
