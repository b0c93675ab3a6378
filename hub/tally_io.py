"""Reading the ``clicker tally`` input document and writing its JSON result.

Kept apart from the pure engine so that the engine never sees raw JSON, and every way a file
can be wrong is turned into one clear line for the user.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, NamedTuple

from hub.model import GradeScale
from hub.tally import Missing, Ranking, Rule, TallyError

READ_KEYS = ("grades", "tallies", "voters", "rule", "missing")
# What `clicker export --format json` adds around the tallies: accepted and ignored, so that the
# export pipes into `clicker tally -` unchanged; any other key is refused (a typo, say).
IGNORED_KEYS = (
    "title",
    "anonymous",
    "min_group",
    "electorate",
    "ranking",
    "polls",
    "assemblies",
    "presses",
    "journal",
)


class TallyDocument(NamedTuple):
    """What ``clicker tally`` reads from its input; ``rule`` and ``missing`` are None when the
    document does not say (the command line's options, or their defaults, apply)."""

    scale: GradeScale
    tallies: dict[str, list[int]]
    voters: int | None
    rule: Rule | None = None
    missing: Missing | None = None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise TallyError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def parse_document(text: str) -> TallyDocument:
    """Validate a tally document; raise TallyError with a one-line message."""
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise TallyError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(doc, dict):
        raise TallyError("the document must be a JSON object with 'grades' and 'tallies'")
    unknown = sorted(set(doc) - set(READ_KEYS) - set(IGNORED_KEYS))
    if unknown:
        raise TallyError(f"unknown key {unknown[0]!r} (expected: {', '.join(READ_KEYS)})")
    if "tallies" not in doc:
        raise TallyError("missing key 'tallies'")
    grades = doc.get("grades")
    if grades is None:
        scale = GradeScale()
    else:
        if not isinstance(grades, list):
            raise TallyError("'grades' must be a list of grade names, worst first")
        try:
            scale = GradeScale(tuple(grades))
        except ValueError as exc:
            raise TallyError(f"'grades': {exc}") from None
    tallies = doc["tallies"]
    if not isinstance(tallies, dict):
        raise TallyError("'tallies' must be an object mapping each proposal to its counts")
    for name, counts in tallies.items():
        if not isinstance(counts, list):
            raise TallyError(f"tally of {name!r} must be a list of counts")
    voters = doc.get("voters")
    if voters is not None and (type(voters) is not int or voters < 0):
        raise TallyError("'voters' must be a non-negative integer")
    return TallyDocument(scale, tallies, voters, _choice(doc, "rule", Rule), _choice(doc, "missing", Missing))


def _choice(doc: dict[str, Any], key: str, kind: type[Rule] | type[Missing]) -> Any:
    value = doc.get(key)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(v) for v in kind)
        raise TallyError(f"{key!r} must be one of {allowed}, got {value!r}") from None


def _frac(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def ranking_to_json(ranking: Ranking) -> dict[str, Any]:
    """The documented JSON form of a ranking (see README, "Reading a result")."""
    scale = ranking.scale
    rows = []
    for e in ranking.entries:
        g = e.gauge
        rows.append(
            {
                "proposal": e.proposal,
                "rank": e.rank,
                "majority_grade": None if e.majority_grade is None else scale.names[e.majority_grade],
                "majority_grade_index": e.majority_grade,
                "judgments": sum(e.tally),
                "tally": e.tally,
                "balanced_tally": e.balanced,
                "gauge": None
                if g is None
                else {
                    "proponents": _frac(g.p),
                    "opponents": _frac(g.q),
                    "sign": g.sign,
                    "proponents_percent": round(float(g.p) * 100, 2),
                    "opponents_percent": round(float(g.q) * 100, 2),
                },
                "scores": [_frac(s) for s in e.scores],
                "versus_next": None
                if e.versus_next is None
                else {"step": e.versus_next.step, "fr": e.versus_next.fr, "en": e.versus_next.en},
            }
        )
    return {
        "rule": str(ranking.rule),
        "missing": str(ranking.missing),
        "voters": ranking.voters,
        "grades": list(scale.names),
        "ranking": rows,
    }
