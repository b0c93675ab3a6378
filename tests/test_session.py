"""The session engine, exhaustively: every status, grace, reordering, two receivers, vote
changes, consent and self-paced polls, bad MICs, replayed counters, other sessions. No event
loop needed."""

import dataclasses

import pytest

from hub.model import UNKNOWN_POLL, Keypad, PollMode, Press, PressStatus
from hub.protocol import MAX_ITEMS
from hub.session import PollState, Session, SessionConfig, SessionError
from hub.wire.presses import check_mic, sign
from tests.conftest import make_config

S = PressStatus


def press(kid=1001, counter=1, poll_id=1, key="5", at=10.0, age_ms=0, item=0, **kw):
    return Press(kid, counter, poll_id, item, key, at=at, age_ms=age_ms, **kw)


@pytest.fixture
def session(config):
    s = Session(config)
    s.open_poll(PollMode.GRADES, now=5.0)
    return s


def test_counted_and_tallied(session):
    assert session.handle_press(press(key="5")).status is S.COUNTED
    assert session.active.tally(1) == [0, 0, 0, 0, 1, 0, 0]
    assert session.turnout(session.active) == 1


def test_duplicate_from_retransmission_or_second_receiver(session):
    assert session.handle_press(press(receiver="rx1")).status is S.COUNTED
    assert session.handle_press(press(receiver="rx2", at=10.1)).status is S.DUPLICATE
    assert session.handle_press(press(receiver="rx1", at=10.3)).status is S.DUPLICATE
    assert session.active.tally(1)[4] == 1


def test_last_press_wins_by_counter_not_arrival(session):
    assert session.handle_press(press(counter=7, key="2")).status is S.COUNTED
    assert session.handle_press(press(counter=5, key="6", at=10.5)).status is S.SUPERSEDED  # older, late
    assert session.handle_press(press(counter=9, key="7", at=11)).status is S.COUNTED
    assert session.active.tally(1) == [0, 0, 0, 0, 0, 0, 1]


def test_vote_change_moves_the_judgment(session):
    session.handle_press(press(counter=1, key="1"))
    session.handle_press(press(counter=2, key="4"))
    assert session.active.tally(1) == [0, 0, 0, 1, 0, 0, 0]
    assert session.turnout(session.active) == 1


def test_unknown_keypad_in_roster_mode(session):
    d = session.handle_press(press(kid=9999))
    assert d.status is S.UNKNOWN_KEYPAD and d.poll_id == 1


def test_open_mode_enrols_and_flags():
    s = Session(make_config(open_roster=True))
    s.open_poll(PollMode.GRADES, 0)
    d = s.handle_press(press(kid=424242))
    assert d.status is S.COUNTED and d.enrolled is not None and d.enrolled.enrolled
    assert d.keypad_number == 6 and s.electorate == 6


def test_invalid_key_and_invalid_item(session):
    assert session.handle_press(press(key="A")).status is S.INVALID_KEY
    assert session.handle_press(press(counter=2, key="8")).status is S.INVALID_KEY
    assert session.handle_press(press(counter=3, item=3)).status is S.INVALID_KEY  # not the proposal up
    assert session.handle_press(press(counter=4, item=1)).status is S.COUNTED  # its own number is fine


def test_stale_poll(session):
    session.close_poll(20)
    session.finish_grace()
    session.open_poll(PollMode.GRADES, 30)
    assert session.handle_press(press(counter=1, poll_id=1, at=31)).status is S.STALE_POLL
    assert session.handle_press(press(counter=2, poll_id=7, at=31)).status is S.STALE_POLL
    # unknown poll id (a keypad that slept) but made before this poll opened
    assert (
        session.handle_press(press(counter=3, poll_id=UNKNOWN_POLL, at=31, age_ms=2000)).status
        is S.STALE_POLL
    )
    assert session.handle_press(press(counter=4, poll_id=UNKNOWN_POLL, at=31)).status is S.COUNTED


def test_poll_closed_when_nothing_is_open_whatever_poll_it_names(config):
    """Before the first poll the keypad is told poll 0; a press while nothing is open is
    poll_closed, whether it names no poll, poll 0 or a poll that never existed."""
    s = Session(config)
    d = s.handle_press(press(poll_id=UNKNOWN_POLL))
    assert d.status is S.POLL_CLOSED and d.poll_id == 0
    for counter, poll_id in ((2, 4), (3, 0)):
        d = s.handle_press(press(counter=counter, poll_id=poll_id))
        assert d.status is S.POLL_CLOSED and d.poll_id == 0
    s.open_poll(PollMode.GRADES, 20)
    s.close_poll(21)
    s.finish_grace()
    d = s.handle_press(press(counter=4, poll_id=9, at=30))
    assert d.status is S.POLL_CLOSED and d.poll_id == 1  # after a poll: the last poll's id


def test_grace_period_decided_by_the_press_age(session):
    session.close_poll(20.0)  # grace 1.5 s
    # made at 19.9 (age 300 ms), arrived during the grace: counted
    assert session.handle_press(press(counter=1, at=20.2, age_ms=300)).status is S.COUNTED
    # made after the close: refused
    assert session.handle_press(press(kid=1002, at=20.2, age_ms=100)).status is S.POLL_CLOSED
    # made before the close but arrived after the grace: refused
    assert session.handle_press(press(kid=1003, at=21.6, age_ms=2000)).status is S.POLL_CLOSED
    session.finish_grace()
    assert session.active is None
    assert session.handle_press(press(kid=1004, at=22, age_ms=5000)).status is S.POLL_CLOSED
    assert session.polls[0].tally(1)[4] == 1


def test_refused_press_seen_again_gets_the_same_answer(session):
    assert session.handle_press(press(key="X")).status is S.INVALID_KEY
    assert session.handle_press(press(key="X", at=11)).status is S.INVALID_KEY
    assert session.statuses[S.INVALID_KEY] == 2


def test_replayed_counter_after_reboot_is_a_duplicate(session):
    session.handle_press(press(counter=3, key="5"))
    # a keypad that lost its counter would replay 3 with another key: the hub keeps the first
    assert session.handle_press(press(counter=3, key="1", at=12)).status is S.DUPLICATE
    assert session.active.tally(1)[4] == 1 and session.active.tally(1)[0] == 0


def signed(key, kid=1001, counter=1, poll_id=1, k="5", battery=80, nonce=0, **kw):
    p = press(kid=kid, counter=counter, poll_id=poll_id, key=k, battery=battery, session_nonce=nonce, **kw)
    return sign(key, p)


def keyed_session(key=bytes(range(16)), floor=0, nonce=0, **kw) -> Session:
    cfg = make_config(require_mic=True, nonce=nonce, **kw)
    cfg.roster[0] = dataclasses.replace(cfg.roster[0], key=key, counter=floor)
    s = Session(cfg, check_mic)
    s.open_poll(PollMode.GRADES, 0)
    return s


def test_bad_mic():
    key = bytes(range(16))
    s = keyed_session(key)
    assert s.handle_press(signed(key)).status is S.COUNTED
    forged = signed(key, counter=2)._replace(key="1")  # the key changed in flight
    assert s.handle_press(forged).status is S.BAD_MIC
    assert s.handle_press(press(kid=1002)).status is S.BAD_MIC  # no key but the session requires one
    # rssi and age are not covered
    assert s.handle_press(signed(key, counter=3)._replace(rssi=-90, age_ms=50, at=11)).status is S.COUNTED
    # the session nonce is: a press re-labelled for this session does not verify
    other = signed(key, counter=4, nonce=77)._replace(session_nonce=0)
    assert s.handle_press(other).status is S.BAD_MIC


def test_without_a_checker_no_mic_verifies():
    key = bytes(range(16))
    cfg = make_config()
    cfg.roster[0] = dataclasses.replace(cfg.roster[0], key=key)
    s = Session(cfg)  # no check_mic given: a keypad with a key cannot be believed
    s.open_poll(PollMode.GRADES, 0)
    assert s.handle_press(signed(key)).status is S.BAD_MIC
    assert s.handle_press(press(kid=1002)).status is S.COUNTED  # no key, no MIC required


def test_a_press_of_another_session_is_stale_session():
    """Replayed radio traffic of an earlier session (same keys) never counts: it names another
    session nonce, and the answer names the current one (the keypad signs again)."""
    key = bytes(range(16))
    s = keyed_session(key, nonce=0xABCD)
    old = signed(key, counter=7, nonce=0x1234)  # genuine, recorded in session 0x1234
    d = s.handle_press(old)
    assert d.status is S.STALE_SESSION and d.keypad_number == 1
    assert s.handle_press(signed(key, counter=8, nonce=0)).status is S.STALE_SESSION  # knows none
    assert s.handle_press(signed(key, counter=9, nonce=0xABCD)).status is S.COUNTED
    assert s.active.tally(1)[4] == 1 and s.highest == {1001: 9}
    # a nonce collision still cannot replay it: see the keypad store below


def test_the_keypad_store_refuses_counters_of_earlier_sessions():
    key = bytes(range(16))
    s = keyed_session(key, floor=500)  # the keypad used counters up to 500 before this session
    for counter in (1, 499, 500):
        assert s.handle_press(signed(key, counter=counter)).status is S.STALE_SESSION
    assert s.handle_press(signed(key, counter=501)).status is S.COUNTED
    # the MIC is checked first: a forged press with a low counter is bad_mic, not stale
    assert s.handle_press(signed(key, counter=3)._replace(key="1")).status is S.BAD_MIC


def test_a_press_naming_no_poll_but_older_than_the_poll_is_stale():
    """poll_id 0xFFFF (a keypad that slept) counts only if made after the poll opened: by its
    age, and by its counter, which is signed, unlike the age the receiver reports."""
    key = bytes(range(16))
    s = keyed_session(key)
    assert s.handle_press(signed(key, counter=10, at=1)).status is S.COUNTED
    s.close_poll(2)
    s.finish_grace()
    s.open_poll(PollMode.GRADES, 5)
    held_back = signed(key, counter=9, poll_id=UNKNOWN_POLL, at=6)  # made in poll 1, age forged 0
    assert s.handle_press(held_back).status is S.STALE_POLL
    assert s.handle_press(signed(key, counter=11, poll_id=UNKNOWN_POLL, at=6)).status is S.COUNTED


def test_consent_round_and_speaking_queue(config):
    s = Session(config)
    poll = s.open_poll(PollMode.CONSENT, 0)
    for kid, key, at in [(1001, "D", 1), (1002, "B", 2), (1003, "C", 3), (1004, "D", 4), (1005, "A", 5)]:
        assert s.handle_press(press(kid=kid, key=key, at=at)).status is S.COUNTED
    assert poll.colours == {"green": 1, "yellow": 1, "orange": 1, "red": 2}
    queue = s.speaking_queue(poll)
    assert [(q["number"], q["colour"]) for q in queue] == [
        (1, "red"),
        (4, "red"),
        (3, "orange"),
        (2, "yellow"),
    ]
    assert s.handle_press(press(kid=1001, counter=2, key="A", at=6)).status is S.COUNTED  # objection lifted
    assert poll.colours["red"] == 1 and next(q["number"] for q in s.speaking_queue(poll)) == 4
    assert s.handle_press(press(kid=1002, counter=2, key="5", at=7)).status is S.INVALID_KEY


def test_self_paced_poll_over_several_items(config):
    s = Session(config)
    poll = s.open_poll(PollMode.SELF_PACED, 0, items=[1, 3])
    assert s.handle_press(press(item=1, key="7")).status is S.COUNTED
    assert s.handle_press(press(counter=2, item=3, key="2")).status is S.COUNTED
    assert s.handle_press(press(counter=3, item=2, key="2")).status is S.INVALID_KEY
    assert s.handle_press(press(counter=4, item=0, key="2")).status is S.INVALID_KEY
    assert s.handle_press(press(counter=5, item=1, key="6")).status is S.COUNTED  # changes item 1 only
    assert poll.tally(1)[5] == 1 and poll.tally(3)[1] == 1 and sum(poll.tally(1)) == 1


def test_self_paced_ordering_is_per_item(config):
    """An item-1 press older than the keypad's latest item-3 press still counts: each proposal
    is judged on its own, and the last press wins per proposal."""
    s = Session(config)
    poll = s.open_poll(PollMode.SELF_PACED, 0, items=[1, 3])
    assert s.handle_press(press(counter=5, item=3, key="4")).status is S.COUNTED
    assert s.handle_press(press(counter=4, item=1, key="7", at=11)).status is S.COUNTED
    assert s.handle_press(press(counter=3, item=3, key="1", at=12)).status is S.SUPERSEDED
    assert poll.tally(1)[6] == 1 and poll.tally(3)[3] == 1


def test_a_replaced_press_seen_again_is_a_duplicate(session):
    """It was counted, then replaced by the keypad's own newer press: seen again (a receiver's
    retransmission), it gets the same kind of answer as before, `duplicate`, not `superseded`."""
    assert session.handle_press(press(counter=1, key="2")).status is S.COUNTED
    assert session.handle_press(press(counter=2, key="6", at=11)).status is S.COUNTED
    assert session.handle_press(press(counter=1, key="2", at=12)).status is S.DUPLICATE
    assert session.active.tally(1) == [0, 0, 0, 0, 0, 1, 0]


def test_lifecycle_errors(config):
    s = Session(config)
    with pytest.raises(SessionError):
        s.close_poll(0)
    s.open_poll(PollMode.GRADES, 0)
    with pytest.raises(SessionError, match="close it first"):
        s.open_poll(PollMode.GRADES, 1)
    with pytest.raises(SessionError, match="only a closed poll"):
        s.reveal()
    s.close_poll(2)
    with pytest.raises(SessionError):
        s.reveal()
    s.finish_grace()
    assert s.reveal().state is PollState.REVEALED
    with pytest.raises(SessionError, match="reason"):
        s.reset_poll(1, "  ")
    with pytest.raises(SessionError):
        s.open_poll(PollMode.SELF_PACED, 3)
    with pytest.raises(SessionError):
        s.open_poll(PollMode.GRADES, 3, items=[99])
    with pytest.raises(SessionError, match="mode"):
        s.open_poll(PollMode.NONE, 3)
    many = make_config(n_props=MAX_ITEMS + 1)
    with pytest.raises(SessionError, match=f"at most {MAX_ITEMS}"):
        Session(many).open_poll(PollMode.SELF_PACED, 0, items=range(1, MAX_ITEMS + 2))
    Session(many).open_poll(PollMode.SELF_PACED, 0, items=range(1, MAX_ITEMS + 1))


def test_reset_discards_the_poll_from_the_results(config):
    s = Session(config)
    s.open_poll(PollMode.GRADES, 0)
    s.handle_press(press(key="7"))
    s.close_poll(1)
    s.finish_grace()
    assert s.final_tallies() == {1: [0, 0, 0, 0, 0, 0, 1]}
    s.reset_poll(1, "test vote")
    assert s.final_tallies() == {}
    assert s.poll(1).reset_reason == "test vote"


def test_navigation(config):
    s = Session(config)
    assert s.current == 1
    assert s.step(+1) == 2 and s.step(+1) == 3
    with pytest.raises(SessionError):
        s.step(+1)
    s.select(1)
    with pytest.raises(SessionError):
        s.step(-1)


def test_ranking_uses_the_roster_as_electorate(config):
    s = Session(config)  # 5 keypads
    for number, key in [(1, "7"), (2, "4")]:
        s.select(number)
        s.open_poll(PollMode.GRADES, 0)
        for i, kid in enumerate([1001, 1002, 1003]):
            s.handle_press(press(kid=kid, poll_id=s.active.poll_id, key=key, counter=number * 10 + i))
        s.close_poll(1)
        s.finish_grace()
    r = s.ranking()
    assert [e.proposal for e in r.entries] == ["Fiche 1", "Fiche 2"]
    assert r.voters == 5 and r.entries[0].balanced == [2, 0, 0, 0, 0, 0, 3]


def test_config_round_trips_through_json(config):
    cfg = make_config(nonce=0xDEADBEEF)
    cfg.roster[0] = Keypad(1001, 1, "Alice", "sociale", bytes(16), counter=4242)
    again = SessionConfig.from_json(cfg.to_json())
    assert again.to_json() == cfg.to_json()
    assert again.nonce == 0xDEADBEEF and again.roster[0].counter == 4242
    with pytest.raises(SessionError):
        SessionConfig.from_json({"title": "x"})


def test_every_session_draws_its_own_nonce():
    """Drawn when the session is created (journaled with it, so a restart keeps it)."""
    nonces = {SessionConfig(title="x", proposals=[]).nonce for _ in range(20)}
    assert len(nonces) == 20 and all(0 < n <= 0xFFFFFFFF for n in nonces)
    with pytest.raises(SessionError, match="32-bit"):
        SessionConfig(title="x", proposals=[], nonce=1 << 32)
    with pytest.raises(SessionError, match="printable ASCII"):
        SessionConfig(title="x", proposals=[], grade_keys="12345é7")
