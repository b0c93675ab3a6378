"""Per-assembly results keep the secret ballot: every published group has at least
``min_group`` voters, and so has the plenary minus the published groups; the groups cover every
judgment exactly once; small groups are merged and say so."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.assemblies import assembly_rankings, item_groups, partition
from hub.model import Keypad, PollMode, Press
from hub.session import Session, SessionError
from tests.conftest import make_config

voters_maps = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 40), max_size=8)


@given(voters_maps, st.integers(1, 12))
def test_every_published_group_and_every_remainder_is_large_enough(voters, min_group):
    groups = partition(voters, min_group)
    if not groups:
        return
    names = [a for g in groups for a in g]
    assert sorted(names) == sorted(voters)  # a partition: every assembly once
    sizes = [sum(voters[a] for a in g) for g in groups]
    assert all(s >= min_group for s in sizes)
    # what an observer can subtract: the plenary minus any set of the published groups is a
    # union of published groups, each large enough, so no small remainder can be computed
    for g in groups:
        alone = len(g) == 1
        assert not alone or voters[g[0]] >= min_group


@given(voters_maps, st.integers(1, 12))
def test_an_assembly_with_enough_voters_is_merged_only_to_shelter_the_small_ones(voters, min_group):
    groups = partition(voters, min_group)
    merged = [g for g in groups if len(g) > 1]
    assert len(merged) <= 1
    for g in merged:
        large = [a for a in g if voters[a] >= min_group]
        small = [a for a in g if voters[a] < min_group]
        # the large ones were pulled in smallest first, only as many as needed
        assert small or not large
        if large:
            assert sum(voters[a] for a in g) - voters[max(large, key=lambda a: (voters[a], a))] < min_group


def test_a_single_group_shows_only_the_plenary():
    assert partition({"a": 30}, 5) == []
    assert partition({"a": 3, "b": 4}, 5) == []  # even merged, 7 voters make one group: the plenary
    assert partition({"a": 30, "b": 2}, 5) == []  # b alone would be plenary minus a
    assert partition({"a": 30, "b": 6, "c": 2}, 5) == [("a",), ("b", "c")]


def _session(sizes: dict[str, int], min_group: int = 5) -> Session:
    roster, n = [], 0
    for name, size in sizes.items():
        for _ in range(size):
            n += 1
            roster.append(Keypad(1000 + n, n, assembly=name))
    cfg = make_config(n_props=2, min_group=min_group)
    cfg.roster = roster
    return Session(cfg)


def _vote(session: Session, keys: dict[int, str]) -> None:
    poll = session.open_poll(PollMode.GRADES, now=1.0)
    for kid, key in keys.items():  # each keypad's counter: one press per poll
        session.handle_press(Press(kid, poll.poll_id, poll.poll_id, 0, key, at=2.0))
    session.close_poll(3.0)
    session.finish_grace()


def test_groups_cover_every_judgment_once_and_the_small_assembly_is_merged():
    session = _session({"A": 12, "B": 9, "C": 3})
    keys = {k.keypad_id: "1234567"[k.number % 7] for k in session.keypads.values() if k.number != 5}
    _vote(session, keys)
    poll = session.polls[-1]
    groups = item_groups(session, poll, 1)
    assert [g.assemblies for g in groups] == [("A",), ("B", "C")]  # C (3) sheltered in B (9)
    assert [g.voters for g in groups] == [11, 12] and [g.members for g in groups] == [12, 12]
    assert [sum(c) for c in zip(*(g.tally for g in groups))] == poll.tally(1)
    assert groups[1].merged and not groups[0].merged


def test_assembly_rankings_say_where_an_assembly_was_merged():
    session = _session({"A": 12, "B": 10, "C": 6}, min_group=5)
    ids = {k.number: k.keypad_id for k in session.keypads.values()}
    # fiche 1: C has 6 voters (shown); fiche 2: C has 2 voters (merged into the smallest other)
    _vote(session, {ids[n]: "5" for n in range(1, 29)})
    session.select(2)
    _vote(session, {ids[n]: "3" for n in range(1, 25)})
    ranks = {a.assembly: a for a in assembly_rankings(session)}
    assert [e.proposal for e in ranks["C"].ranking.entries] == ["Fiche 1"]
    assert ranks["C"].merged == [2]
    assert ranks["A"].merged == [] and len(ranks["A"].ranking.entries) == 2
    assert ranks["B"].merged == [2]  # B (10) was pulled in to shelter C's 2 voters
    assert ranks["A"].ranking.voters == 12  # each assembly against its own members


def test_no_assemblies_no_breakdown():
    session = Session(make_config(n_keypads=10))
    _vote(session, {1001: "3", 1002: "4"})
    assert item_groups(session, session.polls[-1], 1) == []
    assert assembly_rankings(session) == []


@pytest.mark.parametrize("bad", [0, -1, 2.5, "5"])
def test_min_group_must_be_a_positive_whole_number(bad):
    with pytest.raises(SessionError, match="min_group"):
        make_config(min_group=bad)
