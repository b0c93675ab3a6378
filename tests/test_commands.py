"""Declared commands and records: one JSON form each, both journal formats, refusals in one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.codec import CODECS
from hub.commands import (
    COMMANDS,
    ClosePoll,
    CommandError,
    EndGrace,
    LoadProposals,
    LoadRoster,
    OpenPoll,
    ResetPoll,
    Reveal,
    Select,
    Show,
    Step,
    command_from_json,
    command_to_json,
)
from hub.model import Keypad, PollMode, Press, Proposal
from hub.records import (
    CloseRecord,
    NoteRecord,
    PressRecord,
    RecordError,
    ResultRecord,
    SessionRecord,
    record_from_json,
    record_kind,
    record_to_json,
)
from tests.conftest import make_config

times = st.floats(0, 2e9, allow_nan=False)
ids = st.integers(1, 0xFFFE)
text = st.text(max_size=20)
proposals = st.builds(Proposal, st.integers(1, 999), text, text, text, text)
keypads = st.builds(
    Keypad,
    st.integers(0, 0xFFFFFFFF),
    st.integers(1, 65535),
    text,
    text,
    st.none() | st.binary(min_size=16, max_size=16),
    counter=st.integers(0, 0xFFFFFFFF),
)
commands = st.one_of(
    st.builds(
        OpenPoll,
        st.sampled_from([PollMode.GRADES, PollMode.CONSENT, PollMode.SELF_PACED]),
        st.none() | st.lists(ids, max_size=5).map(tuple),
        st.none() | st.floats(1, 3600),
        st.booleans(),
        times,
    ),
    st.builds(ClosePoll, st.none() | ids, st.sampled_from(["facilitator", "countdown"]), times),
    st.builds(EndGrace, times),
    st.builds(Reveal, st.none() | ids, times),
    st.builds(ResetPoll, ids, text, times),
    st.builds(LoadProposals, st.lists(proposals, max_size=3).map(tuple), times),
    st.builds(LoadRoster, st.lists(keypads, max_size=3).map(tuple), times),
    st.builds(Select, ids, times),
    st.builds(Step, st.sampled_from([1, -1]), times),
    st.builds(Show, st.sampled_from(["auto", "ranking"]), text, times),
)


def test_every_command_is_declared_once_under_its_journaled_name():
    assert sorted(COMMANDS) == sorted(
        [
            "open",
            "close",
            "grace_end",
            "reveal",
            "reset",
            "load_proposals",
            "load_roster",
            "select",
            "step",
            "display",
        ]
    )


@given(commands)
def test_a_command_reads_back_from_its_json_and_from_both_journal_formats(command):
    assert command_from_json(command_to_json(command)) == command
    for codec in CODECS.values():
        kind, raw = codec.encode_record(command)
        assert kind == "action" and codec.decode(kind, raw) == command


def test_the_json_form_is_the_journal_s_own_defaults_left_out():
    assert command_to_json(ClosePoll(at=5.0)) == {"action": "close", "at": 5.0}
    assert command_to_json(ClosePoll(3, "countdown", 5.0)) == {
        "action": "close",
        "poll_id": 3,
        "by": "countdown",
        "at": 5.0,
    }
    assert command_to_json(OpenPoll(PollMode.CONSENT)) == {"action": "open", "mode": 2, "at": 0.0}
    assert command_from_json({"action": "open", "mode": 1, "items": [3], "countdown_s": 60}) == OpenPoll(
        PollMode.GRADES, (3,), 60.0
    )


@pytest.mark.parametrize(
    ("doc", "line"),
    [
        ({"action": "opne", "mode": 1}, "unknown command 'opne'"),
        ({"action": "open"}, "open: field 'mode' is missing"),
        ({"action": "open", "mode": 1, "itmes": [2]}, "open: unknown field 'itmes'"),
        ({"action": "select", "proposal": "2"}, "select: field 'proposal': expected a whole number, got str"),
        ({"action": "open", "mode": 9}, "open: field 'mode': 9 is not a valid PollMode"),
        ({"action": "close", "at": float("nan")}, "close: field 'at': expected a number, got nan"),
        (["open"], "a command is a JSON object"),
    ],
)
def test_a_malformed_command_is_refused_in_one_line_naming_the_field(doc, line):
    with pytest.raises(CommandError) as info:
        command_from_json(doc)
    assert str(info.value) == line


def test_every_record_kind_reads_back_from_its_json_and_from_both_formats():
    press = Press(7, 3, 1, 0, "5", 80, -50, 120, 0xABCDEF, "rx1", 12.5, 42)
    records = [
        SessionRecord(make_config()),
        PressRecord(0, 1, press),
        ResultRecord(1, 1, {"1": [0, 1, 2, 0, 0, 0, 0]}, {}, 3),
        NoteRecord({"text": "micro coupé 2 min"}),
        CloseRecord(99.5),
        Reveal(1, 9.0),
    ]
    for record in records:
        kind = record_kind(record)
        assert record_from_json(kind, record_to_json(record)) == record
        for codec in CODECS.values():
            assert codec.encode_record(record)[0] == kind
            assert codec.decode(kind, codec.encode_record(record)[1]) == record


def test_a_record_that_is_not_of_its_kind_is_refused_in_one_line():
    with pytest.raises(RecordError, match="field 'voters' is missing"):
        record_from_json("result", {"poll_id": 1, "mode": 1, "tallies": {}, "colours": {}})
    with pytest.raises(RecordError, match="unknown command 'vote'"):
        record_from_json("action", {"action": "vote"})
    with pytest.raises(RecordError, match="not an object"):
        record_from_json("close", [1.0])
