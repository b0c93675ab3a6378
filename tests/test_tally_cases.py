"""Cases worked by hand, each citing where it comes from."""

from fractions import Fraction

import pytest

from hub.model import FRENCH_6, GradeScale
from hub.tally import Missing, Ranking, Rule, TallyError, first_difference, gauge, lower_median, rank


def order(ranking):
    return [(e.proposal, e.rank) for e in ranking.entries]


def test_lower_median_of_an_even_split_is_the_lower_grade():
    # docs/design.md and Balinski & Laraki (2011), ch. 13: the majority grade is the lower median.
    counts = [35, 0, 0, 0, 0, 35, 0]
    assert lower_median(counts) == 0
    r = rank({"A": counts}, voters=70)
    assert r.entries[0].majority_grade == 0


def test_orsay_2007_experiment_order():
    # Balinski & Laraki, "A theory of measuring, electing, and ranking", PNAS 104 (2007):
    # the Orsay experiment of the 2007 French presidential election, percentages per grade
    # (Très bien .. À rejeter) as reported there, written here worst first and x10 as counts.
    # The paper's order: Bayrou (Assez bien+), Royal (Assez bien-), Sarkozy (Assez bien-),
    # then Voynet (Passable), Le Pen last (À rejeter).
    pct_best_first = {
        "Bayrou": [13.6, 30.7, 25.1, 14.8, 8.4, 7.4],
        "Royal": [16.7, 22.7, 19.1, 16.8, 12.2, 12.5],
        "Sarkozy": [19.1, 19.8, 14.3, 11.5, 6.1, 29.1],
        "Voynet": [2.9, 9.3, 17.5, 23.7, 26.1, 20.5],
        "Le Pen": [0.3, 1.6, 2.8, 4.2, 8.8, 82.3],
    }
    tallies = {k: [round(x * 10) for x in reversed(v)] for k, v in pct_best_first.items()}
    r = rank(tallies, GradeScale(FRENCH_6), missing="ignore")
    assert [e.proposal for e in r.entries] == ["Bayrou", "Royal", "Sarkozy", "Voynet", "Le Pen"]
    grades = {e.proposal: (r.scale.names[e.majority_grade], e.gauge.sign) for e in r.entries}
    assert grades["Bayrou"] == ("Assez bien", "+")
    assert grades["Royal"] == ("Assez bien", "-")
    assert grades["Sarkozy"] == ("Assez bien", "-")
    assert grades["Voynet"][0] == "Passable"
    assert grades["Le Pen"][0] == "À rejeter"
    # Royal above Sarkozy: fewer opponents (41.5 % vs 46.8 %), both gauges minus.
    assert r.entries[1].versus_next.step == "gauge"


def test_mieuxvoter_library_readme_example():
    # MieuxVoter/majority-judgment-library-python, README: grades 0..3 of 10 voters; the
    # library ranks Chips, Pasta, Pizza, Bread. Worked by hand: Chips has median 2, the others
    # median 1 with 5, 5 and 4 proponents; Pizza and Pasta tie on the gauge and Pasta wins
    # at the 5th element of the majority value (r3: 1 against 0).
    ballots = {
        "Pizza": [0, 0, 0, 1, 1, 2, 2, 3, 3, 3],
        "Chips": [0, 0, 1, 1, 2, 2, 2, 2, 3, 3],
        "Pasta": [0, 0, 1, 1, 1, 2, 2, 3, 3, 3],
        "Bread": [0, 0, 1, 1, 1, 1, 2, 2, 2, 3],
    }
    tallies = {k: [v.count(g) for g in range(4)] for k, v in ballots.items()}
    r = rank(tallies, GradeScale(("0", "1", "2", "3")))
    assert order(r) == [("Chips", 1), ("Pasta", 2), ("Pizza", 3), ("Bread", 4)]
    steps = [e.versus_next.step for e in r.entries[:-1]]
    assert steps == ["majority-grade", "majority-value", "gauge"]
    assert first_difference(tallies["Pasta"], tallies["Pizza"]) == (4, 1, 0)


def test_design_example_is_decided_by_the_deep_majority_value():
    # The example of the README and docs/design.md. Both have majority grade Bien and 30/70
    # proponents (gauge +, equal), so the gauge cannot decide. Removing medians: hi reaches Très
    # bien at depth 6 for both; Fiche 21's lo drops to Assez bien at depth 14 (position 22),
    # Fiche 14's only at depth 16. Fiche 14 keeps Bien longer: it is first (listing Fiche 21
    # first, as a first sketch of the contract did, would be wrong).
    r = rank({"Fiche 14": [2, 3, 5, 10, 20, 15, 15], "Fiche 21": [0, 4, 6, 12, 18, 20, 10]}, voters=70)
    assert order(r) == [("Fiche 14", 1), ("Fiche 21", 2)]
    assert r.entries[0].versus_next.step == "majority-value"
    assert first_difference([2, 3, 5, 10, 20, 15, 15], [0, 4, 6, 12, 18, 20, 10]) == (26, 4, 3)
    assert "Assez bien" in r.entries[0].versus_next.fr


# Four proposals of 100 judgments on a 3-grade scale, all with majority grade "Ok", built so
# that the four rules give four different rankings (scores by Fabre 2021's formulas, by hand;
# central's ε in the denominator puts V, with more proponents, above Z at the same limit .5):
#        p     q     typical  usual   central  MJ gauge
#   W  .45   .40     .05      1/6     .0294    + .45
#   V  .10   .00     .10      .0556   .5 (+ε)  + .10
#   X  .30   .10     .20      1/6     .25      + .30
#   Z  .06   .00     .06      .0319   .5       + .06
DISAGREE = {"W": [40, 15, 45], "V": [0, 90, 10], "X": [10, 60, 30], "Z": [0, 94, 6]}
SCALE3 = GradeScale(("Bad", "Ok", "Good"))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("majority-judgment", [("W", 1), ("X", 2), ("V", 3), ("Z", 4)]),
        ("typical", [("X", 1), ("V", 2), ("Z", 3), ("W", 4)]),
        ("usual", [("W", 1), ("X", 1), ("V", 3), ("Z", 4)]),  # W and X tie exactly at 1/6
        ("central", [("V", 1), ("Z", 2), ("X", 3), ("W", 4)]),  # 1/2 both at the limit: ε decides
    ],
)
def test_the_four_rules_disagree(rule, expected):
    r = rank(DISAGREE, SCALE3, rule=rule)
    assert order(r) == expected


def test_usual_scores_are_exact_fractions():
    r = rank(DISAGREE, SCALE3, rule="usual")
    scores = {e.proposal: e.scores[0] for e in r.entries}
    assert scores["W"] == scores["X"] == Fraction(1, 6)
    assert r.entries[0].versus_next.step == "tie"


def test_complementary_score_breaks_a_primary_tie():
    # Same majority grade Bien and p = q = 30 % for both, so every primary score is 0; the
    # groups further out differ: A has 10 % above Très bien and 10 % below Assez bien, B 5 %
    # and 10 %: A is above B at the second order for every Fabre rule, and MJ agrees.
    a, b = [0, 0, 10, 20, 40, 20, 10], [0, 5, 5, 20, 40, 25, 5]
    for rule in ("typical", "usual", "central"):
        r = rank({"B": b, "A": a}, rule=rule)
        assert order(r) == [("A", 1), ("B", 2)], rule
        assert r.entries[0].versus_next.step == "score-2"
    r = rank({"B": b, "A": a})
    assert order(r) == [("A", 1), ("B", 2)]
    assert r.entries[0].versus_next.step == "majority-value"


def test_unanimity_and_exact_ties_share_a_rank_in_input_order():
    full = [0, 0, 0, 0, 0, 0, 70]
    r = rank({"B": full, "A": full, "C": [0, 0, 0, 0, 0, 70, 0]})
    assert order(r) == [("B", 1), ("A", 1), ("C", 3)]
    assert r.entries[0].versus_next.step == "tie"


def test_proposals_without_judgment_rank_last_with_no_grade():
    r = rank({"empty1": [0] * 7, "low": [70, 0, 0, 0, 0, 0, 0], "empty2": [0] * 7})
    assert order(r) == [("low", 1), ("empty1", 2), ("empty2", 2)]
    assert r.entries[1].majority_grade is None and r.entries[1].gauge is None
    assert r.entries[0].versus_next.step == "no-judgment"


def test_missing_judgments_policies_on_an_unbalanced_tally():
    # 70 voters; A got 40 judgments (all Bien), B 70 judgments (36 Assez bien, 34 Bien).
    a = [0, 0, 0, 0, 40, 0, 0]
    b = [0, 0, 0, 36, 34, 0, 0]
    reject = rank({"A": a, "B": b}, voters=70)
    assert reject.entries[0].proposal == "A"  # 40 Bien + 30 À rejeter: median Bien (35th)
    assert reject.entries[0].balanced == [30, 0, 0, 0, 40, 0, 0]
    # 31 judgments only: 39 À rejeter make the median À rejeter.
    reject2 = rank({"A": [0, 0, 0, 0, 31, 0, 0], "B": b}, voters=70)
    assert [e.proposal for e in reject2.entries] == ["B", "A"]
    assert reject2.entries[1].majority_grade == 0
    ignore = rank({"A": [0, 0, 0, 0, 31, 0, 0], "B": b}, voters=70, missing="ignore")
    assert [e.proposal for e in ignore.entries] == ["A", "B"]  # 100 % Bien
    median = rank({"A": [0, 0, 0, 0, 31, 0, 0], "B": b}, voters=70, missing="median")
    assert median.entries[0].balanced == [0, 0, 0, 0, 70, 0, 0]


def test_gauge_counts_equal_groups_as_minus():
    g = gauge([10, 0, 50, 0, 10])
    assert (g.proponents, g.grade, g.opponents, g.sign) == (10, 2, 10, "-")


def test_more_judgments_than_voters_is_refused():
    with pytest.raises(TallyError, match="more than the 5 voters"):
        rank({"A": [3, 3]}, GradeScale(("a", "b")), voters=5)


def test_rule_and_policy_names():
    assert [r.value for r in Rule] == ["majority-judgment", "usual", "typical", "central"]
    assert [m.value for m in Missing] == ["reject", "ignore", "median"]


def test_explanations_are_one_sentence_in_both_languages():
    r = rank(DISAGREE, SCALE3)
    for e in r.entries[:-1]:
        assert e.versus_next.fr and e.versus_next.en
        assert "\n" not in e.versus_next.fr + e.versus_next.en
    # French typography: comma decimals and a narrow no-break space before %.
    assert "45,0\u202f%" in r.entries[0].versus_next.fr


def test_standard_scales():
    assert GradeScale.french(5).names[-1] == "Très bien"
    assert GradeScale().name(6, "en") == "Excellent"
    assert GradeScale().name(0, "en") == "To reject"
    assert len(GradeScale.english_scale(6)) == 6
    with pytest.raises(ValueError):
        GradeScale(("a", "a"))


# Central judgment with ε in its denominator, (p - q) / 2(p + q + ε): without it, every proposal
# whose majority grade is the top grade (p = 0) scores exactly -1/2 whatever its opponents.
@pytest.mark.parametrize(
    ("tallies", "expected", "why"),
    [
        # 3 grades, 7 voters, majority grade "Good" for both: fewer opponents rank higher
        ({"A": [0, 3, 4], "B": [0, 1, 6]}, [("B", 1), ("A", 2)], "fewer opponents"),
        # the bottom grade, mirrored: p > 0, q = 0, limit +1/2: more proponents rank higher
        ({"A": [4, 3, 0], "B": [6, 1, 0]}, [("A", 1), ("B", 2)], "more proponents"),
        # same limit +1/6 with proponents and opponents: (4, 2) over (2, 1) of 13
        ({"A": [1, 10, 2], "B": [2, 7, 4]}, [("B", 1), ("A", 2)], "more proponents"),
        # the same shares, in proportion: still exactly tied
        ({"A": [0, 1, 6], "B": [0, 2, 12]}, [("A", 1), ("B", 1)], None),
    ],
)
def test_central_has_epsilon_in_its_denominator(tallies, expected, why):
    r = rank(tallies, SCALE3, rule="central", missing="ignore")
    assert order(r) == expected
    first = r.entries[0].versus_next
    if why is None:
        assert first.step == "tie"
    else:
        assert first.step == "score-epsilon" and why in first.en and "ε" in first.fr
        assert r.entries[0].scores == r.entries[1].scores  # the limits are equal


def test_central_does_not_depend_on_how_small_epsilon_is():
    """(1, 0) and (5, 1) proponents and opponents of 10: at the limit 1/2 against 1/3, so the
    first ranks higher; a fixed ε = 0.09 (< 1/V) would have put the second first."""
    r = rank({"A": [1, 4, 5], "B": [0, 9, 1]}, SCALE3, rule="central")
    assert order(r) == [("B", 1), ("A", 2)]
    assert r.entries[0].versus_next.step == "score"
    eps = Fraction(9, 100)
    fixed = {
        n: Fraction(p - q, 10) / (2 * (Fraction(p + q, 10) + eps))
        for n, (p, q) in {"A": (5, 1), "B": (1, 0)}.items()
    }
    assert fixed["A"] > fixed["B"]  # what a fixed ε would have said


def test_a_ranking_is_freed_as_soon_as_it_is_dropped_and_a_part_of_it_explains_as_the_whole():
    """Nothing in a ranking points back to it: one the live state replaces at a reveal is freed
    at once, not left for a full collection of the cyclic collector (a pause in the hub's
    loop). A ranking made of another's entries (the report's charts, 40 rows at a time) still
    explains its last entry against the next one of the whole ranking."""
    import gc
    import weakref

    tallies = {f"P{i}": [i % 3, 2, i % 5, 1, 3, i % 4, 2] for i in range(12)}
    gc.disable()
    try:
        whole = rank(tallies, voters=20)
        said = [e.versus_next for e in whole.entries]
        gone = weakref.ref(whole)
        first = whole.entries[:5]
        del whole
        assert gone() is None
    finally:
        gc.enable()
    assert said[-1] is None and all(said[:-1])
    part = Ranking(Rule.MAJORITY_JUDGMENT, Missing.REJECT, 20, GradeScale(), first)
    assert [e.versus_next for e in part.entries] == said[:5]  # the 5th against the 6th of the whole
