"""Property tests of the tally engine against brute force on expanded ballots."""

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.model import GradeScale
from hub.tally import MeritProfile, Rule, first_difference, gauge, majority_value_key, rank

RULES = [r.value for r in Rule]


def brute_majority_value(counts):
    """Balinski & Laraki's definition, literally: remove the lower median, again and again."""
    judgments = sorted(g for g, c in enumerate(counts) for _ in range(c))
    value = []
    while judgments:
        value.append(judgments.pop((len(judgments) + 1) // 2 - 1))
    return value


def profiles(grades: int, total: int):
    """Random profiles of exactly ``total`` judgments over ``grades`` grades."""
    return st.lists(st.integers(0, grades - 1), min_size=total, max_size=total).map(
        lambda js: [js.count(g) for g in range(grades)]
    )


@st.composite
def pairs_of_equal_size(draw):
    grades = draw(st.integers(2, 7))
    n = draw(st.integers(1, 40))
    return draw(profiles(grades, n)), draw(profiles(grades, n))


def sign(x):
    return (x > 0) - (x < 0)


@settings(max_examples=600)
@given(pairs_of_equal_size())
def test_majority_value_key_orders_like_brute_force(pair):
    a, b = pair
    va, vb = brute_majority_value(a), brute_majority_value(b)
    ka, kb = majority_value_key(a), majority_value_key(b)
    assert sign((ka > kb) - (ka < kb)) == sign((va > vb) - (va < vb))


@settings(max_examples=300)
@given(pairs_of_equal_size())
def test_first_difference_points_at_the_first_differing_element(pair):
    a, b = pair
    va, vb = brute_majority_value(a), brute_majority_value(b)
    diff = first_difference(a, b)
    if va == vb:
        assert diff is None
    else:
        i = next(i for i, (x, y) in enumerate(zip(va, vb)) if x != y)
        assert diff == (i, va[i], vb[i])


@settings(max_examples=300)
@given(pairs_of_equal_size())
def test_a_strict_gauge_decision_agrees_with_the_majority_value(pair):
    a, b = pair
    ga, gb = gauge(a), gauge(b)
    if ga.grade == gb.grade and ga.order_key() != gb.order_key():
        assert (ga.order_key() > gb.order_key()) == (majority_value_key(a) > majority_value_key(b))


tallies_strategy = st.integers(2, 7).flatmap(
    lambda g: st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=3),
        st.lists(st.integers(0, 12), min_size=g, max_size=g),
        max_size=8,
    )
)


def scale_for(tallies):
    size = len(next(iter(tallies.values()))) if tallies else 7
    return GradeScale(tuple(f"g{i}" for i in range(size)))


def ranks_of(ranking):
    return {e.proposal: e.rank for e in ranking.entries}


@settings(max_examples=300)
@given(
    tallies_strategy, st.sampled_from(RULES), st.sampled_from(["reject", "ignore", "median"]), st.randoms()
)
def test_ranking_does_not_depend_on_input_order(tallies, rule, missing, rnd):
    items = list(tallies.items())
    rnd.shuffle(items)
    scale = scale_for(tallies)
    r1 = rank(tallies, scale, rule, missing)
    r2 = rank(dict(items), scale, rule, missing)
    assert ranks_of(r1) == ranks_of(r2)
    for e in r1.entries:  # every adjacent pair is explained, ties exactly when ranks are shared
        if e.versus_next is not None:
            nxt = r1.entries[r1.entries.index(e) + 1]
            assert (e.versus_next.step == "tie") == (e.rank == nxt.rank)


@settings(max_examples=300)
@given(tallies_strategy, st.sampled_from(RULES), st.data())
def test_raising_one_judgment_never_lowers_a_proposal(tallies, rule, data):
    names = [n for n, t in tallies.items() if sum(t[:-1]) > 0]
    if not names:
        return
    name = data.draw(st.sampled_from(names))
    counts = tallies[name]
    grade = data.draw(st.sampled_from([g for g in range(len(counts) - 1) if counts[g]]))
    raised = list(counts)
    raised[grade] -= 1
    raised[grade + 1] += 1
    scale = scale_for(tallies)
    voters = max(sum(t) for t in tallies.values())
    before = rank(tallies, scale, rule, "reject", voters)
    after = rank({**tallies, name: raised}, scale, rule, "reject", voters)
    assert ranks_of(after)[name] <= ranks_of(before)[name]
    key_before = next(e.key for e in before.entries if e.proposal == name)
    key_after = next(e.key for e in after.entries if e.proposal == name)
    assert key_after >= key_before


@settings(max_examples=200)
@given(tallies_strategy, st.sampled_from(RULES), st.integers(2, 9))
def test_scaling_all_tallies_changes_nothing_under_ignore(tallies, rule, k):
    scale = scale_for(tallies)
    r1 = rank(tallies, scale, rule, "ignore")
    r2 = rank({n: [c * k for c in t] for n, t in tallies.items()}, scale, rule, "ignore")
    assert [(e.proposal, e.rank, e.majority_grade) for e in r1.entries] == [
        (e.proposal, e.rank, e.majority_grade) for e in r2.entries
    ]


def brute_groups(counts):
    """The majority grade and, group by group, the shares (p, q) above and below it, straight
    from Fabre's definition."""
    n = sum(counts)
    alpha = brute_majority_value(counts)[0]
    out = []
    for k in range(1, len(counts)):
        if alpha + k > len(counts) - 1 and alpha - k < 0:
            break
        out.append((Fraction(sum(counts[alpha + k :]), n), Fraction(sum(counts[: max(alpha - k + 1, 0)]), n)))
    return alpha, out


def brute_central(counts, eps):
    """Fabre's central scores with a given ε, straight from the definition, group by group."""
    alpha, groups = brute_groups(counts)
    return (alpha, tuple((p - q) / (2 * (p + q + eps)) for p, q in groups))


@settings(max_examples=300)
@given(pairs_of_equal_size())
def test_central_orders_as_every_small_enough_epsilon_does(pair):
    """With V voters, any ε below 1/(2 V^2) orders profiles the same way (a difference of two
    limits is at least 1/V^2 apart from ε's share): that order is the one ``rank`` gives."""
    a, b = pair
    n = sum(a)
    scale = GradeScale(tuple(f"g{i}" for i in range(len(a))))
    r = rank({"a": a, "b": b}, scale, "central")
    for eps in (Fraction(1, 2 * n * n + 1), Fraction(1, 10**9)):
        ka, kb = brute_central(a, eps), brute_central(b, eps)
        want = sign((ka > kb) - (ka < kb))
        got = {e.proposal: e.rank for e in r.entries}
        assert sign(got["b"] - got["a"]) == want


def test_merit_profile_updates_in_place():
    p = MeritProfile(7)
    rnd = random.Random(7)
    expected = [0] * 7
    for _ in range(500):
        g = rnd.randrange(7)
        p.add(g)
        expected[g] += 1
    p.remove(3)
    expected[3] -= 1
    assert p.counts == expected and p.total == sum(expected)


def brute_scores(counts, rule):
    """Fabre's score of each group as an exact Fraction, straight from the definition; under
    ``central`` each limit is followed by p - q, which ε decides between equal limits."""
    alpha, groups = brute_groups(counts)
    out = []
    for p, q in groups:
        if rule == "typical":
            out.append(p - q)
        elif rule == "usual":
            out.append((p - q) / (2 * (1 - p - q)))
        else:
            out.append(((p - q) / (2 * (p + q)) if p + q else Fraction(0), p - q))
    return (alpha, tuple(out))


@settings(max_examples=300)
@given(
    tallies_strategy, st.sampled_from(["typical", "usual", "central"]), st.sampled_from(["reject", "ignore"])
)
def test_scores_rank_as_their_exact_fractions_do(tallies, rule, missing):
    """``rank`` sorts Fabre's scores as integers: the same ranks as sorting the Fractions,
    including between profiles of different sizes (``ignore``) and at exact equalities."""
    scale = scale_for(tallies)
    r = rank(tallies, scale, rule, missing)
    voters = r.voters
    judged = {}
    for name, t in tallies.items():
        if sum(t):
            filled = list(t) if missing == "ignore" else [t[0] + voters - sum(t), *t[1:]]
            judged[name] = brute_scores(filled, rule)
    got = ranks_of(r)
    for a, ka in judged.items():
        for b, kb in judged.items():
            assert sign(got[b] - got[a]) == sign((ka > kb) - (ka < kb)), (a, b)
        assert [s[0] if rule == "central" else s for s in ka[1]] == list(
            next(e.scores for e in r.entries if e.proposal == a)
        )
