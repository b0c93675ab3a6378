"""Majority judgment and its variants, exact to the last tie-break.

Pure: ints and ``fractions.Fraction`` only, never a float in a comparison, no I/O. The cost of
ranking a proposal depends on the number of grades, never on the number of voters: every
order is computed from the merit profile's counts.

Vocabulary (Balinski & Laraki, *Majority Judgment*, MIT Press 2011):

- merit profile: how many judgments each grade received, worst grade first;
- majority grade: the **lower** median, the ceil(n/2)-th lowest judgment;
- gauge (p, alpha, q): the shares of proponents (strictly above alpha) and opponents (strictly
  below); the sign is + when p > q, otherwise - (p = q counts as minus);
- majority value: the sequence of majority grades obtained by removing one median judgment at
  a time; ``majority-judgment`` compares it lexicographically, to the end.

``typical``, ``usual`` and ``central`` are the three scores of Fabre (2021), "Tie-breaking the
highest median: alternatives to the majority judgment", Social Choice and Welfare 56:
``p - q``, ``(p - q) / 2(1 - p - q)`` and ``(p - q) / 2(p + q)``. When two proposals have the same
majority grade and the same score, the same formula is applied to the groups further out:
(p2, q2) the shares strictly above the grade just above alpha and strictly below the grade just
below it, then (p3, q3), and so on to the ends of the scale.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate
from operator import attrgetter, itemgetter, mul
from typing import Any

from hub.errors import ClickerError
from hub.model import GradeScale


class Rule(StrEnum):
    MAJORITY_JUDGMENT = "majority-judgment"
    USUAL = "usual"
    TYPICAL = "typical"
    CENTRAL = "central"


class Missing(StrEnum):
    """What a missing judgment (a voter who did not grade a proposal) counts as."""

    REJECT = "reject"  # the worst grade: the rule announced to voters
    IGNORE = "ignore"  # compare shares of expressed judgments
    MEDIAN = "median"  # the proposal's own lower median


class TallyError(ClickerError):
    """Input that cannot be tallied; the message is one line meant for the user."""


class MeritProfile:
    """Judgment counts per grade, worst first; adding or removing a judgment is O(1)."""

    __slots__ = ("counts", "total")

    def __init__(self, size_or_counts: int | Sequence[int]) -> None:
        if isinstance(size_or_counts, int):
            self.counts = [0] * size_or_counts
        else:
            self.counts = list(size_or_counts)
        self.total = sum(self.counts)

    def add(self, grade: int, k: int = 1) -> None:
        self.counts[grade] += k
        self.total += k

    def remove(self, grade: int, k: int = 1) -> None:
        if self.counts[grade] < k:
            raise ValueError("cannot remove a judgment that was not counted")
        self.counts[grade] -= k
        self.total -= k

    def __repr__(self) -> str:
        return f"MeritProfile({self.counts})"


def lower_median(counts: Sequence[int]) -> int | None:
    """Index of the ceil(n/2)-th lowest judgment, or None when there is none."""
    n = sum(counts)
    if n == 0:
        return None
    target = (n + 1) // 2
    seen = 0
    for grade, c in enumerate(counts):
        seen += c
        if seen >= target:
            return grade
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Gauge:
    """The majority gauge (p, alpha, q) as exact counts over ``total`` judgments."""

    proponents: int
    grade: int
    opponents: int
    total: int

    @property
    def sign(self) -> str:
        return "+" if self.proponents > self.opponents else "-"

    @property
    def p(self) -> Fraction:
        return Fraction(self.proponents, self.total)

    @property
    def q(self) -> Fraction:
        return Fraction(self.opponents, self.total)

    def order_key(self) -> tuple[int, int, Fraction]:
        """Bigger is better, for proposals of the same majority grade."""
        if self.sign == "+":
            return (self.grade, 1, self.p)
        return (self.grade, 0, -self.q)


def gauge(counts: Sequence[int]) -> Gauge | None:
    alpha = lower_median(counts)
    if alpha is None:
        return None
    return Gauge(sum(counts[alpha + 1 :]), alpha, sum(counts[:alpha]), sum(counts))


def balance(counts: Sequence[int], voters: int, missing: Missing) -> list[int]:
    """Fill the judgments missing up to the electorate ``voters`` by the policy's grade.

    ``ignore`` leaves the counts as they are (shares of expressed judgments are compared).
    """
    counts = list(counts)
    n = sum(counts)
    if missing is Missing.IGNORE or n == 0 or n >= voters:
        return counts
    fill = 0 if missing is Missing.REJECT else lower_median(counts)
    assert fill is not None
    counts[fill] += voters - n
    return counts


# --- majority value ------------------------------------------------------------------------
#
# Sorted judgments r_1 <= ... <= r_n, m = ceil(n/2). Removing medians one at a time gives
#   n odd : r_m, r_{m-1}, r_{m+1}, r_{m-2}, r_{m+2}, ...
#   n even: r_m, r_{m+1}, r_{m-1}, r_{m+2}, ...
# i.e. the median, then pairs (lo_j, hi_j) = (r_{s-j}, r_{t+j}) for j = 1..n//2 with
# (s, t) = (m, m) when n is odd and (m+1, m) when n is even. lo_j never rises, hi_j never
# falls, so the pairs form at most 2 * grades runs. Lexicographic order over the pairs equals
# lexicographic order over the majority value.


@dataclass(frozen=True)
class Run:
    """Depths ``start`` .. ``start + length - 1`` all have the pair (lo, hi)."""

    start: int
    length: int
    lo: int
    hi: int


def majority_value_runs(counts: Sequence[int]) -> tuple[int, list[Run]]:
    """The median and the run-length form of the majority value, in O(grades log grades)."""
    n = sum(counts)
    if n == 0:
        raise ValueError("no judgment")
    cum = list(accumulate(counts))

    def grade_at(pos: int) -> int:  # r_pos, 1-indexed
        return bisect_left(cum, pos)

    m = (n + 1) // 2
    s, t = (m, m) if n % 2 else (m + 1, m)
    depth = n // 2
    median = grade_at(m)
    if depth == 0:
        return median, []
    starts = {1}
    for g, c in enumerate(counts):
        if not c:
            continue
        j = s - cum[g]  # lo enters grade g at position cum[g]
        if 1 <= j <= depth:
            starts.add(j)
        j = cum[g] - c + 1 - t  # hi enters grade g at its block's first position
        if 1 <= j <= depth:
            starts.add(j)
    ordered = sorted(starts)
    runs = []
    for i, j in enumerate(ordered):
        end = ordered[i + 1] if i + 1 < len(ordered) else depth + 1
        runs.append(Run(j, end - j, grade_at(s - j), grade_at(t + j)))
    return median, runs


def majority_value_key(counts: Sequence[int]) -> tuple[Any, ...]:
    """A key whose tuple order is the majority-value order, for profiles of equal size.

    Two runs with the same pair but different lengths: the shorter one changes first, to a
    worse pair if its ``lo`` drops, to a better one if only its ``hi`` rises. Encoding the
    length as ``length`` for a drop and ``2M - length`` for a rise (M > n) orders both cases;
    the last run behaves as a rise (a profile that has nothing left to change is beaten by
    one whose next pair rises and beats one whose next pair falls).
    """
    n = sum(counts)
    median, runs = majority_value_runs(counts)
    big = 2 * (n + 1)
    key: list[Any] = [median]
    for i, run in enumerate(runs):
        falls = i + 1 < len(runs) and runs[i + 1].lo < run.lo
        key.append((run.lo, run.hi, run.length if falls else big - run.length))
    return tuple(key)


def first_difference(a: Sequence[int], b: Sequence[int]) -> tuple[int, int, int] | None:
    """Where the majority values of two profiles of equal size first differ.

    Returns (number of median judgments removed before, grade of a, grade of b), or None
    when the majority values are identical.
    """
    n = sum(a)
    ma, ra = majority_value_runs(a)
    mb, rb = majority_value_runs(b)
    if ma != mb:
        return 0, ma, mb
    ia = ib = 0
    j = 1
    while ia < len(ra) and ib < len(rb):
        x, y = ra[ia], rb[ib]
        if (x.lo, x.hi) != (y.lo, y.hi):
            lo_pos, hi_pos = (2 * j, 2 * j + 1) if n % 2 else (2 * j - 1, 2 * j)
            if x.lo != y.lo:
                return lo_pos - 1, x.lo, y.lo
            return hi_pos - 1, x.hi, y.hi
        j = min(x.start + x.length, y.start + y.length)
        if j == x.start + x.length:
            ia += 1
        if j == y.start + y.length:
            ib += 1
    return None


# --- Fabre's scores ------------------------------------------------------------------------
#
# ``central`` is (p - q) / 2(p + q + eps), eps a positive infinitesimal (below any 1/V): at the
# limit the score is (p - q) / 2(p + q) (0 when p = q = 0), and between equal limits eps decides:
# (p - q)/2(p + q + eps) = r (p + q)/(p + q + eps) with r the limit, so for the same r the larger
# p - q ranks higher (more proponents when r > 0, fewer opponents when r < 0). Without eps, every
# proposal whose majority grade is the top grade (p = 0) would score exactly -1/2, whatever its
# share of opponents. A fixed eps (say 1/(V+1)) would not do: the order would depend on it.


def _score(rule: Rule, p: Fraction, q: Fraction) -> Fraction:
    if rule is Rule.TYPICAL:
        return p - q
    if rule is Rule.USUAL:
        return (p - q) / (2 * (1 - p - q))
    if p + q == 0:
        return Fraction(0)
    return (p - q) / (2 * (p + q))


def fabre_groups(counts: Sequence[int]) -> list[tuple[Fraction, Fraction]]:
    """(p, q), then (p2, q2), ...: the shares strictly above and below the majority grade, then
    above the grade above it and below the grade below it, and so on to the ends of the scale."""
    alpha = lower_median(counts)
    if alpha is None:
        raise ValueError("no judgment")
    n = sum(counts)
    groups = []
    for k in range(1, len(counts)):
        if alpha + k > len(counts) - 1 and alpha - k < 0:
            break
        p = Fraction(sum(counts[alpha + k :]), n)
        q = Fraction(sum(counts[: max(alpha - k + 1, 0)]), n)
        groups.append((p, q))
    return groups


def fabre_scores(counts: Sequence[int], rule: Rule) -> tuple[Fraction, ...]:
    """The primary score, then the complementary scores of the groups further out (for
    ``central``, their values as eps goes to 0)."""
    return tuple(_score(rule, p, q) for p, q in fabre_groups(counts))


def _score_key(counts: Sequence[int], alpha: int, rule: Rule, scale: int) -> tuple[Any, ...]:
    """Bigger is better among proposals of the same majority grade; for ``central``, each
    score is followed by what eps decides when the limits are equal (p - q).

    Every score is a ratio of integers whose denominator is at most 2n (n the judgments); two
    such ratios that differ, differ by at least 1/(2n)^2. Keyed as floor(ratio x ``scale``) with
    ``scale`` > (2n)^2 for the largest n of the ranking, they keep their exact order and
    equalities as plain integers: no Fraction is built to sort (``fabre_scores`` gives them to
    whoever reads them)."""
    n = sum(counts)
    grades = len(counts)
    above = list(accumulate(reversed(counts)))[::-1]  # above[g]: judgments at g or higher
    below = list(accumulate(counts))  # below[g]: judgments at g or lower
    key: list[Any] = []
    for k in range(1, max(alpha, grades - 1 - alpha) + 1):
        p = above[alpha + k] if alpha + k < grades else 0
        q = below[alpha - k] if alpha - k >= 0 else 0
        d = p - q
        if rule is Rule.TYPICAL:
            key.append(d * scale // n)
        elif rule is Rule.USUAL:
            key.append(d * scale // (2 * (n - p - q)))
        else:
            key.append((d * scale // (2 * (p + q)) if p + q else 0, d * scale // n))
    return tuple(key)


# --- ranking -------------------------------------------------------------------------------

# Profiles of at most this many judgments are keyed by their whole majority value (a tuple of
# their grades in median-removal order, built in C); larger ones by its run-length form. Both
# order exactly as the majority value does; the first is cheaper at a convention's size.
EXPANDED_KEY_MAX = 1024


@lru_cache(maxsize=64)
def _median_order(n: int) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """Picks, from n sorted judgments, the majority value: the lower median, then the rest in
    the order medians are removed (positions m, m-1, m+1, ... for odd n; m, m+1, m-1, ... for
    even n, 1-indexed)."""
    m = (n + 1) // 2
    s, t = (m, m) if n % 2 else (m + 1, m)
    order = [m - 1]
    for j in range(1, n // 2 + 1):
        order += [s - j - 1, t + j - 1]
    getter = itemgetter(*order)
    return (lambda r: (getter(r),)) if n == 1 else getter


def _expanded_key(counts: Sequence[int], n: int) -> tuple[int, ...]:
    return _median_order(n)(b"".join(map(mul, _GRADE_BYTES, counts)))


_GRADE_BYTES = [bytes([g]) for g in range(256)]


@dataclass(frozen=True)
class Rules:
    """What explaining one entry against the next needs of their ranking."""

    rule: Rule
    missing: Missing
    scale: GradeScale


class Entry:
    """One proposal's place in a ranking. Its gauge, its scores and the sentence that places it
    above the next one are worked out when first read (a ranking is often only ordered).

    An entry knows the entry after it in its first ranking, not that ranking: a ranking holds
    its entries and nothing points back, so a ranking no longer used (the live state replaces
    one at each reveal) is freed at once, never left for the cyclic collector to find."""

    __slots__ = (
        "_gauge",
        "_next",
        "_rule",
        "_rules",
        "_scores",
        "_versus",
        "balanced",
        "key",
        "majority_grade",
        "proposal",
        "rank",
        "tally",
    )

    def __init__(
        self,
        proposal: str,
        tally: list[int],
        balanced: list[int],
        majority_grade: int | None,
        key: tuple[Any, ...],
        rule: Rule = Rule.MAJORITY_JUDGMENT,
    ) -> None:
        self.proposal = proposal
        self.tally = tally
        self.balanced = balanced
        self.majority_grade = majority_grade
        self.key = key
        self.rank = 0
        self._rule = rule
        self._scores: tuple[Fraction, ...] | None = None
        self._gauge: Gauge | bool | None = False  # False: not worked out yet
        self._next: Entry | None = None  # the next entry in its first ranking
        self._rules: Rules | None = None  # that ranking's rules (None: in no ranking yet)
        self._versus: Explanation | bool | None = False  # False: not worked out yet

    @property
    def gauge(self) -> Gauge | None:
        if self._gauge is False:
            self._gauge = gauge(self.balanced) if self.majority_grade is not None else None
        return self._gauge  # type: ignore[return-value]

    @property
    def scores(self) -> tuple[Fraction, ...]:
        """Fabre's scores, exact (none under majority judgment or without a judgment)."""
        if self._scores is None:
            judged = self.majority_grade is not None and self._rule is not Rule.MAJORITY_JUDGMENT
            self._scores = fabre_scores(self.balanced, self._rule) if judged else ()
        return self._scores

    @property
    def versus_next(self) -> Explanation | None:
        """Why this proposal is at or above the next one (None for the last)."""
        if self._versus is False:
            after, rules = self._next, self._rules
            self._versus = None if after is None or rules is None else explain(self, after, rules)
        return self._versus  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Entry({self.proposal!r}, rank={self.rank}, tally={self.tally})"


@dataclass(frozen=True)
class Explanation:
    """Why one proposal is above the next: the deciding step, in French and English."""

    step: str
    fr: str
    en: str


@dataclass
class Ranking:
    rule: Rule
    missing: Missing
    voters: int
    scale: GradeScale
    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        rules = Rules(self.rule, self.missing, self.scale)
        after = [*self.entries[1:], None]
        for e, n in zip(
            self.entries, after
        ):  # an entry explains itself against the next in its first ranking
            if e._rules is None:
                e._rules, e._next = rules, n


def _check(tallies: Mapping[str, Sequence[int]], grades: int) -> None:
    for name, t in tallies.items():
        if len(t) != grades:
            raise TallyError(f"tally of {name!r} has {len(t)} counts, the scale has {grades} grades")
        if not all(type(c) is int for c in t) or min(t) < 0:
            raise TallyError(f"tally of {name!r} must hold non-negative integers")


def rank(
    tallies: Mapping[str, Sequence[int]],
    scale: GradeScale | None = None,
    rule: Rule | str = Rule.MAJORITY_JUDGMENT,
    missing: Missing | str = Missing.REJECT,
    voters: int | None = None,
) -> Ranking:
    """Rank proposals best first, with competition ranks; exact ties keep input order."""
    scale = scale or GradeScale()
    rule, missing = Rule(rule), Missing(missing)
    _check(tallies, len(scale))
    totals = {name: sum(t) for name, t in tallies.items()}
    if voters is None:
        voters = max(totals.values(), default=0)
    elif type(voters) is not int or voters < 0:
        raise TallyError("voters must be a non-negative integer")
    if totals and max(totals.values()) > voters:
        name = next(name for name, n in totals.items() if n > voters)
        raise TallyError(f"{name!r} has {totals[name]} judgments, more than the {voters} voters")

    # Under ``ignore``, the majority value compares shares: every profile is scaled to the
    # least common multiple of the totals, which is exact and keeps the order transitive.
    common = math.lcm(*[n for n in totals.values() if n]) if missing is Missing.IGNORE else 0
    size = common or voters  # every balanced (or scaled) profile holds this many judgments
    expanded = size <= EXPANDED_KEY_MAX
    score_scale = 4 * voters * voters + 1  # > (2n)^2 for every profile: see _score_key

    entries = []
    for name, t in tallies.items():
        counts = list(t)
        total = totals[name]
        if total == 0:
            entries.append(Entry(name, counts, counts, None, ()))
            continue
        if missing is Missing.IGNORE or total >= voters:
            balanced = counts
        else:
            balanced = balance(counts, voters, missing)
        if rule is Rule.MAJORITY_JUDGMENT:
            scaled = [c * (common // total) for c in balanced] if common else balanced
            mv = _expanded_key(scaled, size) if expanded else majority_value_key(scaled)
            entries.append(Entry(name, counts, balanced, mv[0], (1, mv)))
        else:
            alpha = lower_median(balanced)
            assert alpha is not None
            key = _score_key(balanced, alpha, rule, score_scale)
            entries.append(Entry(name, counts, balanced, alpha, (1, alpha, key), rule))

    entries.sort(key=attrgetter("key"), reverse=True)  # stable: ties keep input order
    previous = None
    for i, e in enumerate(entries):
        e.rank = previous.rank if previous is not None and e.key == previous.key else i + 1
        previous = e
    return Ranking(rule, missing, voters, scale, entries)


# --- explanations --------------------------------------------------------------------------


def _pct(x: Fraction, lang: str) -> str:
    """A share as a percentage with one decimal, in the language's typography."""
    text = f"{float(x) * 100:.1f}"
    return text.replace(".", ",") + "\u202f%" if lang == "fr" else text + "%"


def explain(a: Entry, b: Entry, ranking: Ranking | Rules) -> Explanation:
    """The step that puts ``a`` at or above ``b``, as one sentence in French and English."""
    scale = ranking.scale
    A, B = a.proposal, b.proposal

    def gfr(i: int) -> str:
        return f"« {scale.name(i, 'fr')} »"

    def gen(i: int) -> str:
        return f'"{scale.name(i, "en")}"'

    if a.key == b.key:
        if a.majority_grade is None:
            return Explanation(
                "tie",
                f"{A} et {B} n'ont reçu aucune évaluation.",
                f"Neither {A} nor {B} received any judgment.",
            )
        return Explanation(
            "tie",
            f"{A} et {B} sont ex aequo : mêmes mentions dans les mêmes proportions.",
            f"{A} and {B} are tied: the same grades in the same proportions.",
        )
    if b.majority_grade is None:
        return Explanation("no-judgment", f"{B} n'a reçu aucune évaluation.", f"{B} received no judgment.")
    ga, gb = a.gauge, b.gauge
    assert ga is not None and gb is not None
    if ga.grade != gb.grade:
        return Explanation(
            "majority-grade",
            f"{A} a la mention majoritaire {gfr(ga.grade)}, {B} {gfr(gb.grade)}.",
            f"{A}'s majority grade is {gen(ga.grade)}, {B}'s is {gen(gb.grade)}.",
        )
    same_fr = f"Même mention majoritaire {gfr(ga.grade)} ; "
    same_en = f"Same majority grade {gen(ga.grade)}; "
    if ranking.rule is Rule.MAJORITY_JUDGMENT:
        return _explain_mj(a, b, ga, gb, ranking, same_fr, same_en, gfr, gen)
    return _explain_score(a, b, ranking, same_fr, same_en, gfr, gen)


def _explain_mj(
    a: Entry,
    b: Entry,
    ga: Gauge,
    gb: Gauge,
    ranking: Ranking | Rules,
    same_fr: str,
    same_en: str,
    gfr: Callable[[int], str],
    gen: Callable[[int], str],
) -> Explanation:
    A, B = a.proposal, b.proposal
    if ga.order_key() != gb.order_key():
        if ga.sign == "+" and gb.sign == "+":
            fr = f"{A} a {_pct(ga.p, 'fr')} d'évaluations au-dessus, {B} {_pct(gb.p, 'fr')}."
            en = f"{A} has {_pct(ga.p, 'en')} of judgments above it, {B} {_pct(gb.p, 'en')}."
        elif ga.sign == "-" and gb.sign == "-":
            fr = f"{A} n'a que {_pct(ga.q, 'fr')} d'évaluations en dessous, {B} {_pct(gb.q, 'fr')}."
            en = f"{A} has only {_pct(ga.q, 'en')} of judgments below it, {B} {_pct(gb.q, 'en')}."
        else:
            fr = (
                f"{A} a plus d'évaluations au-dessus ({_pct(ga.p, 'fr')}) qu'en dessous, "
                f"{B} plus en dessous ({_pct(gb.q, 'fr')}) qu'au-dessus."
            )
            en = (
                f"{A} has more judgments above it ({_pct(ga.p, 'en')}) than below, "
                f"{B} more below ({_pct(gb.q, 'en')}) than above."
            )
        return Explanation("gauge", same_fr + fr, same_en + en)
    sa, sb = list(a.balanced), list(b.balanced)
    if ranking.missing is Missing.IGNORE:  # compare shares: bring both to a common size
        n = math.lcm(sum(sa), sum(sb))
        sa = [c * (n // sum(a.balanced)) for c in sa]
        sb = [c * (n // sum(b.balanced)) for c in sb]
    diff = first_difference(sa, sb)
    assert diff is not None
    removed, x, y = diff
    share = Fraction(removed, sum(sa))
    if ga.sign == "+":
        fr_same = f"même part d'évaluations au-dessus ({_pct(ga.p, 'fr')}) ; "
        en_same = f"the same share of judgments above it ({_pct(ga.p, 'en')}); "
    else:
        fr_same = f"même part d'évaluations en dessous ({_pct(ga.q, 'fr')}) ; "
        en_same = f"the same share of judgments below it ({_pct(ga.q, 'en')}); "
    return Explanation(
        "majority-value",
        same_fr + fr_same + f"en retirant une à une les évaluations médianes, après {_pct(share, 'fr')} "
        f"retirées, {A} obtient {gfr(x)} et {B} {gfr(y)}.",
        same_en + en_same + f"removing median judgments one at a time, after {_pct(share, 'en')} removed, "
        f"{A} gets {gen(x)} and {B} {gen(y)}.",
    )


_SCORE_NAMES = {
    Rule.TYPICAL: ("score typique (p − q)", "typical score (p − q)"),
    Rule.USUAL: ("score usuel (p − q) / 2(1 − p − q)", "usual score (p − q) / 2(1 − p − q)"),
    Rule.CENTRAL: ("score central (p − q) / 2(p + q + ε)", "central score (p − q) / 2(p + q + ε)"),
}


def _explain_score(
    a: Entry,
    b: Entry,
    ranking: Ranking | Rules,
    same_fr: str,
    same_en: str,
    gfr: Callable[[int], str],
    gen: Callable[[int], str],
) -> Explanation:
    A, B = a.proposal, b.proposal
    name_fr, name_en = _SCORE_NAMES[ranking.rule]
    ka, kb = a.key[2], b.key[2]
    order = next(k for k, (x, y) in enumerate(zip(ka, kb)) if x != y)
    x, y = a.scores[order], b.scores[order]
    sfr = f"{float(x):+.3f}".replace(".", ","), f"{float(y):+.3f}".replace(".", ",")
    sen = f"{float(x):+.3f}", f"{float(y):+.3f}"
    alpha = a.majority_grade
    assert alpha is not None  # explain() gets here only for two judged proposals
    hi, lo = min(alpha + order, len(ranking.scale) - 1), max(alpha - order, 0)
    if order == 0:
        where_fr, where_en, step = "", "", "score"
    else:
        where_fr = f"sur les groupes au-delà de {gfr(hi)} et en deçà de {gfr(lo)}, "
        where_en = f"on the groups beyond {gen(hi)} and below {gen(lo)}, "
        step = f"score-{order + 1}"
    if x == y:  # central: equal limits, the ε in the denominator decides (see _score_key)
        (pa, qa), (pb, qb) = fabre_groups(a.balanced)[order], fabre_groups(b.balanced)[order]
        if x < 0:
            fr = f"moins d'opposants l'emportent : {A} {_pct(qa, 'fr')} en dessous, {B} {_pct(qb, 'fr')}."
            en = f"fewer opponents rank higher: {A} {_pct(qa, 'en')} below, {B} {_pct(qb, 'en')}."
        else:
            fr = f"plus de partisans l'emportent : {A} {_pct(pa, 'fr')} au-dessus, {B} {_pct(pb, 'fr')}."
            en = f"more proponents rank higher: {A} {_pct(pa, 'en')} above, {B} {_pct(pb, 'en')}."
        return Explanation(
            f"{step}-epsilon",
            same_fr + f"{where_fr}même {name_fr} à la limite ({sfr[0]}) ; avec ε, {fr}",
            same_en + f"{where_en}the same {name_en} at the limit ({sen[0]}); with ε, {en}",
        )
    if order == 0:
        return Explanation(
            "score",
            same_fr + f"{name_fr} : {A} {sfr[0]}, {B} {sfr[1]}.",
            same_en + f"{name_en}: {A} {sen[0]}, {B} {sen[1]}.",
        )
    return Explanation(
        step,
        same_fr + f"même {name_fr} ; {where_fr.rstrip(', ')} : {A} {sfr[0]}, {B} {sfr[1]}.",
        same_en + f"same {name_en}; {where_en.rstrip(', ')}: {A} {sen[0]}, {B} {sen[1]}.",
    )
