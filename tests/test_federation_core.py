"""The plenary's pure core: room chains checked as records arrive in any order, the
convention's totals equal to the sum of the rooms' own counts, the votation's channels."""

from __future__ import annotations

import random

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.codec import CODECS
from hub.federation.chain import RoomChain, Verdict
from hub.federation.channels import ChannelError, parse_online
from hub.federation.convention import (
    ALARM,
    CONVENTION,
    PAPER,
    ROOM,
    TOTAL,
    Convention,
    ConventionConfig,
    PlenaryError,
    apply_plenary,
    rank_with_electorates,
)
from hub.federation.intake import GAP_ALARM_S, Intake
from hub.federation.wire import RoomRecord, WireError, decode, encode
from hub.model import GradeScale
from hub.records import apply
from hub.tally import Missing, rank
from tests.federation_helpers import FICHES, RoomWriter, convention_config, room_config

KEYS = "1234567"


def room_writer(room: str, index: int, seed: int, fiches=(1, 2, 3), keypads: int = 5) -> RoomWriter:
    rng = random.Random(seed)
    w = RoomWriter(room, room_config(index, keypads))
    for f in fiches:
        voters = {10_000 * index + i: rng.choice(KEYS) for i in range(1, keypads + 1) if rng.random() < 0.9}
        w.vote(f, voters)
        if rng.random() < 0.3:  # someone changes their mind after the poll: refused, journaled
            w.press(10_000 * index + 1, "7")
    return w


def replay_own_journal(records: list[RoomRecord]):
    session = None
    for r in records:
        session = apply(session, CODECS[r.fmt].decode(r.kind, r.raw))
    return session


def altered(raw: bytes) -> bytes:
    """The same record with one byte changed: another key, another count."""
    return raw[:-1] + bytes([raw[-1] ^ 1])


def feed_in_order(conv: Convention, records: list[RoomRecord], intake: Intake | None = None):
    intake = intake or Intake(conv)
    entries = []
    for i, r in enumerate(records):
        entries += intake.offer(r, i, 0.0).entries
    return intake, entries


def test_wire_round_trip_and_refusals():
    rec = RoomRecord("eco", 3, "press", 2, b"\x93\x00\x01\x02", "ab" * 32)
    assert decode(encode(rec), "eco") == rec
    with pytest.raises(WireError, match="subject of room 'soc'"):
        decode(encode(rec), "soc")
    for bad, match in (
        (b"\xc1", "not MessagePack"),
        (msgpack.packb([1, 2]), "not a journal record"),
        (msgpack.packb({"room": "eco"}), "not a journal record"),
        (encode(RoomRecord("eco", 0, "press", 2, b"", "ab" * 32)), "seq must be"),
        (encode(RoomRecord("eco", 1, "convention", 2, b"", "ab" * 32)), "not a room's record kind"),
        (encode(RoomRecord("eco", 1, "press", 7, b"", "ab" * 32)), "unknown journal format"),
        (encode(RoomRecord("eco", 1, "press", 2, b"", "AB" * 32)), "bad record hash"),
    ):
        with pytest.raises(WireError, match=match):
            decode(bad, "eco")


def test_chain_accepts_in_order_and_equals_the_rooms_own_replay():
    w = room_writer("eco", 1, seed=1)
    chain = RoomChain("eco")
    for r in w.records:
        assert chain.classify(r) is Verdict.EXTENDS
        chain.accept(r)
    own = replay_own_journal(w.records)
    assert chain.seq == len(w.records) and chain.head == w.head
    assert chain.session.final_tallies() == own.final_tallies() == w.session.final_tallies()
    assert chain.classify(w.records[2]) is Verdict.DUPLICATE


def test_forged_and_out_of_chain_records_are_refused_with_an_alarm():
    w = room_writer("eco", 1, seed=2)
    conv = Convention(convention_config(["eco"]))
    intake: Intake[int] = Intake(conv)
    half = len(w.records) // 2
    feed_in_order(conv, w.records[:half], intake)
    genuine = w.records[half]
    forged = RoomRecord("eco", genuine.seq, genuine.kind, genuine.fmt, altered(genuine.raw), genuine.hash)
    rcpt = intake.offer(forged, "forged", 1.0)
    assert rcpt.acks == ["forged"] and [k for k, _ in rcpt.entries] == [ALARM]
    assert "does not extend the chain" in rcpt.entries[0][1]["reason"]
    assert conv.rooms["eco"].seq == half  # nothing applied
    # a record already accepted, sent again with other content: refused too (rate-limited alarm)
    old = w.records[3]
    rcpt = intake.offer(RoomRecord("eco", old.seq, old.kind, old.fmt, old.raw, "0" * 64), "conflict", 2.0)
    assert rcpt.entries == [] and intake.rooms["eco"].counts["alarms_not_journaled"] == 1
    same_hash = RoomRecord("eco", old.seq, old.kind, old.fmt, altered(old.raw), old.hash)
    assert intake.offer(same_hash, "same hash, other body", 3.0).acks == ["same hash, other body"]
    assert intake.rooms["eco"].counts[Verdict.CONFLICT] == 2  # not taken for a duplicate
    # the genuine chain goes on
    for i, r in enumerate(w.records[half:]):
        assert [k for k, _ in intake.offer(r, i, 3.0).entries] == [ROOM]
    assert conv.rooms["eco"].head == w.head


def test_a_gap_raises_an_alarm_and_stops_the_room_until_the_record_arrives():
    w = room_writer("eco", 1, seed=3)
    conv = Convention(convention_config(["eco"]))
    intake: Intake[int] = Intake(conv)
    recs = w.records
    feed_in_order(conv, recs[:5], intake)
    for r in recs[6:]:
        assert intake.offer(r, r.seq, 10.0).acks == []  # held, not acknowledged
    assert conv.rooms["eco"].seq == 5
    assert intake.check_gaps(10.0 + GAP_ALARM_S / 2).entries == []
    alarm = intake.check_gaps(10.0 + GAP_ALARM_S).entries
    assert [k for k, _ in alarm] == [ALARM] and "record 6 missing" in alarm[0][1]["reason"]
    assert intake.check_gaps(100.0).entries == []  # once per gap
    assert intake.status("eco")["waiting_for"] == 6
    rcpt = intake.offer(recs[5], 6, 20.0)  # the late record: everything held follows it
    assert sorted(rcpt.acks) == list(range(6, len(recs) + 1))
    assert conv.rooms["eco"].head == w.head and intake.status("eco")["held"] == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), dup_rate=st.floats(0, 1), late=st.integers(1, 30))
def test_any_delivery_order_with_duplicates_gives_the_in_order_result(seed, dup_rate, late):
    """Redeliveries, re-sends and late records: each record is applied exactly once, in order."""
    rng = random.Random(seed)
    writers = [room_writer("eco", 1, seed), room_writer("soc", 2, seed + 1, fiches=(2, 3, 4))]
    conv = Convention(convention_config(["eco", "soc"]))
    intake: Intake[tuple[str, int, int]] = Intake(conv)
    deliveries = []
    for w in writers:
        for r in w.records:
            deliveries += [r] * (1 + (rng.random() < dup_rate) * rng.randint(1, 4))
    # records arrive late: shuffle within windows of `late`
    order = sorted(range(len(deliveries)), key=lambda i: i + rng.uniform(0, late))
    acked, journaled = [], []
    for n, i in enumerate(order):
        rec = deliveries[i]
        rcpt = intake.offer(rec, (rec.room, rec.seq, n), float(n))
        acked += rcpt.acks
        journaled += [b for k, b in rcpt.entries if k == ROOM]
    assert len(acked) == len(set(acked)) == len(deliveries)  # every message acknowledged once
    for w in writers:
        ours = [b["seq"] for b in journaled if b["room"] == w.room]
        assert ours == list(range(1, len(w.records) + 1))  # journaled once each, in order
        assert conv.rooms[w.room].session.final_tallies() == w.session.final_tallies()
    assert conv.alarm_count == 0


def test_plenary_journal_replays_to_the_same_state():
    writers = [room_writer("eco", 1, 5), room_writer("soc", 2, 6)]
    config = convention_config(["eco", "soc"])
    conv = Convention(config)
    intake: Intake[int] = Intake(conv)
    entries = [(CONVENTION, config.to_json())]
    for w in writers:
        entries += feed_in_order(conv, w.records, intake)[1]
    body = {
        "channel": PAPER,
        "batch": "Stand Jaude",
        "by": "Ana",
        "ballots": 10,
        "tallies": {"1": [1, 1, 1, 1, 1, 1, 4]},
    }
    apply_plenary(conv, "sheet", body)
    entries.append(("sheet", body))
    for g in ("Bea", "Carl"):
        c = {"channel": PAPER, "batch": "Stand Jaude", "version": 1, "guarantor": g}
        apply_plenary(conv, "confirm", c)
        entries.append(("confirm", c))
    replayed = None
    for kind, b in entries:
        replayed = apply_plenary(replayed, kind, b)
    assert replayed.table(False) == conv.table(False)
    assert {r: c.head for r, c in replayed.rooms.items()} == {r: c.head for r, c in conv.rooms.items()}
    with pytest.raises(PlenaryError):  # a room record applied twice no longer extends the chain
        apply_plenary(replayed, ROOM, writers[0].records[-1].to_json())


def test_a_room_that_counts_differently_is_halted_and_stays_halted():
    w = RoomWriter("eco", room_config(1))
    conv = Convention(convention_config(["eco"], scale=GradeScale.french(5), grade_keys="12345"))
    intake: Intake[int] = Intake(conv)
    rcpt = intake.offer(w.records[0], 1, 0.0)
    ((kind, body),) = rcpt.entries
    assert kind == ALARM and body["halt"] and "scale" in body["reason"]
    assert conv.rooms["eco"].halted
    w.vote(1, {10_001: "5"})
    assert intake.offer(w.records[1], 2, 1.0).acks == [2]  # acknowledged, never applied
    assert conv.rooms["eco"].seq == 0
    replayed = apply_plenary(None, CONVENTION, conv.config.to_json())
    apply_plenary(replayed, ALARM, body)
    assert replayed.rooms["eco"].halted == conv.rooms["eco"].halted


def test_total_is_the_sum_of_the_rooms_own_journals_ranked_by_the_same_rule():
    writers = [
        room_writer(r, i + 1, 40 + i, fiches=(1, 2, 3, 4)) for i, r in enumerate(("eco", "soc", "dem"))
    ]
    conv = Convention(convention_config(["eco", "soc", "dem"]))
    for w in writers:
        feed_in_order(conv, w.records)
    own = [replay_own_journal(w.records) for w in writers]
    for f in FICHES:
        total = [sum(s.final_tallies()[f.number][g] for s in own) for g in range(7)]
        assert conv.results(TOTAL)[f.number] == (total, sum(s.electorate for s in own))
    raw = {f.label: conv.results(TOTAL)[f.number][0] for f in FICHES}
    expected = rank(raw, conv.config.session.scale, "majority-judgment", "reject", 15)
    got = conv.ranking(TOTAL)
    assert [(e.proposal, e.rank, e.tally) for e in got.entries] == [
        (e.proposal, e.rank, e.tally) for e in expected.entries
    ]
    assert conv.ranking("soc").entries[0].tally == own[1].ranking().entries[0].tally


@settings(max_examples=80, deadline=None)
@given(
    tallies=st.dictionaries(
        st.sampled_from(["Fiche 1", "Fiche 2", "Fiche 3", "Fiche 4"]),
        st.lists(st.integers(0, 9), min_size=7, max_size=7),
        min_size=1,
    ),
    extra=st.integers(0, 20),
    missing=st.sampled_from(list(Missing)),
)
def test_one_electorate_for_all_is_exactly_the_rooms_rule(tallies, extra, missing):
    cfg = convention_config([], missing=missing).session
    e = max(sum(t) for t in tallies.values()) + extra
    got = rank_with_electorates(tallies, dict.fromkeys(tallies, e), cfg)
    want = rank(tallies, cfg.scale, cfg.rule, missing, e)
    assert [(x.proposal, x.rank, x.tally, x.balanced) for x in got.entries] == [
        (x.proposal, x.rank, x.tally, x.balanced) for x in want.entries
    ]


def test_a_fiche_not_yet_voted_everywhere_is_judged_on_its_own_electorate():
    """Room soc has not voted fiche 2 yet: fiche 2's 5 voters are not padded with rejections."""
    eco = room_writer("eco", 1, 9, fiches=(1, 2))
    soc = room_writer("soc", 2, 10, fiches=(1,))
    conv = Convention(convention_config(["eco", "soc"]))
    feed_in_order(conv, eco.records)
    feed_in_order(conv, soc.records)
    assert conv.results(TOTAL)[1][1] == 10 and conv.results(TOTAL)[2][1] == 5
    row = next(e for e in conv.ranking().entries if e.proposal == "Fiche 2")
    assert sum(row.balanced) == 5 and row.tally == eco.session.final_tallies()[2]


def test_paper_sheet_needs_two_guarantors_and_a_correction_replaces_it():
    conv = Convention(convention_config([]))
    sheet = {
        "channel": PAPER,
        "batch": "Jaude",
        "by": "Ana",
        "ballots": 3,
        "tallies": {"1": [0, 0, 1, 1, 1, 0, 0]},
    }
    conv.enter(sheet)
    assert conv.results(PAPER) == {}
    conv.confirm({"batch": "Jaude", "version": 1, "guarantor": "Bea"})
    with pytest.raises(ChannelError, match="already confirmed"):
        conv.confirm({"batch": "Jaude", "version": 1, "guarantor": "bea"})
    with pytest.raises(ChannelError, match="cannot also confirm"):
        conv.confirm({"batch": "Jaude", "version": 1, "guarantor": "ANA"})
    conv.confirm({"batch": "Jaude", "version": 1, "guarantor": "Carl"})
    assert conv.results(PAPER) == {1: ([0, 0, 1, 1, 1, 0, 0], 3)}
    with pytest.raises(ChannelError, match="needs its reason"):
        conv.enter(sheet)
    conv.enter(
        {**sheet, "reason": "a ballot read twice", "ballots": 2, "tallies": {"1": [0, 0, 1, 1, 0, 0, 0]}}
    )
    assert conv.results(PAPER)[1][1] == 3  # the correction counts once confirmed, not before
    with pytest.raises(ChannelError, match="was corrected"):
        conv.confirm({"batch": "Jaude", "version": 1, "guarantor": "Dan"})
    for g in ("Bea", "Carl"):
        conv.confirm({"batch": "Jaude", "version": 2, "guarantor": g})
    assert conv.results(PAPER) == {1: ([0, 0, 1, 1, 0, 0, 0], 2)}
    for bad, match in (
        ({"tallies": {"9": [0] * 7}}, "not one of the convention's fiches"),
        ({"tallies": {"1": [0] * 6}}, "7 non-negative"),
        ({"tallies": {"1": [5, 0, 0, 0, 0, 0, 0]}}, "5 judgments for 3 ballots"),
        ({"ballots": -1}, "ballots must be"),
        ({"batch": ""}, "name"),
    ):
        with pytest.raises(ChannelError, match=match):
            conv.enter({**sheet, "batch": "Autre", **bad})


def test_online_imports_from_csv_and_json():
    scale = GradeScale()
    csv_text = "number," + ",".join(scale.names) + "\n1,1,2,3,4,5,6,7\n2,0,0,0,0,0,0,1\n"
    body = parse_online(csv_text.encode(), "csv", "web.csv", scale)
    assert body["tallies"] == {"1": [1, 2, 3, 4, 5, 6, 7], "2": [0] * 6 + [1]} and body["ballots"] == 28
    assert body["source"].startswith("web.csv sha256:")
    js = b'{"tallies": {"Fiche 1": [1,1,1,1,1,1,1]}, "voters": 9}'
    assert parse_online(js, "json", "web.json", scale)["ballots"] == 9
    conv = Convention(convention_config([]))
    conv.enter({"channel": "online", "batch": "web", "by": "Ana", **body})
    assert conv.results("online")[2] == ([0] * 6 + [1], 28)  # no guarantor needed: the hash is journaled
    for data, fmt, match in (
        (b"number,a,b\n", "csv", "header must be"),
        (csv_text.replace("5,6,7", "5,x,7").encode(), "csv", "row 2: every cell"),
        (b"\xff", "csv", "not UTF-8"),
        (b'{"grades": ["a","b"], "tallies": {"Fiche 1": [1, 1]}}', "json", "not the convention's scale"),
    ):
        with pytest.raises(ChannelError, match=match):
            parse_online(data, fmt, "f", scale)


def test_convention_description_errors_are_one_line():
    base = convention_config(["eco"]).to_json()
    assert ConventionConfig.from_json(base).to_json() == base
    for bad, match in (
        ({"rooms": [{"name": "Eco Room"}]}, "room name"),
        ({"rooms": ["eco", "eco"]}, "same name"),
        ({"proposals": []}, "no fiches"),
        ({"rule": "plurality"}, "bad session description"),
    ):
        with pytest.raises(PlenaryError, match=match):
            ConventionConfig.from_json({**base, **bad})
