"""Every decision of docs/protocol.md as a short session of frames (tests/vectors/decisions.json):
each PRESS frame, decoded, decided by the session engine, must get exactly the PRESS_RESULT
frame the vector holds. The same frames are read by the C decoder in test_firmware_c.py."""

from __future__ import annotations

import pytest

from hub.commands import command_from_json
from hub.model import Keypad, PressStatus
from hub.proposals import Proposal
from hub.records import apply_command
from hub.session import Session, SessionConfig
from hub.wire import PressResult, StreamDecoder
from hub.wire.messages import PressMessage
from hub.wire.presses import check_mic, from_wire
from tests.wire_vectors import load


def _session(v: dict) -> Session:
    config = SessionConfig(
        title=v["name"],
        proposals=[Proposal(n, f"Fiche {n}") for n in (1, 2, 3)],
        roster=[
            Keypad(k["keypad_id"], k["number"], key=bytes.fromhex(k["key"]), counter=k["counter"])
            for k in v["roster"]
        ],
        require_mic=v["require_mic"],
        nonce=v["session_nonce"],
    )
    return Session(config, check_mic)


@pytest.mark.parametrize("v", load("decisions"), ids=lambda v: v["name"])
def test_decision(v):
    session = _session(v)
    for step in v["steps"]:
        if "action" in step:
            apply_command(session, command_from_json({**step["action"], "at": step["at"]}))
        elif "press" in step:
            (frame,) = StreamDecoder().feed(bytes.fromhex(step["press"]))
            assert isinstance(frame.message, PressMessage)
            d = session.handle_press(from_wire(frame.message, "rx", step["at"]))
            assert d.status is PressStatus[step["status"].upper()], step
            answer = PressResult(
                frame.message.keypad_id, frame.message.counter, d.status, d.poll_id, v["session_nonce"]
            )
            assert answer.encode(frame.seq).hex() == step["result"]
        else:
            t = step["tally"]
            assert session.poll(t["poll_id"]).tally(t["item"]) == t["counts"]


def test_every_status_but_unknown_keypad_and_invalid_key_has_a_decision_vector():
    seen = {step["status"] for v in load("decisions") for step in v["steps"] if "status" in step}
    assert {s.name.lower() for s in PressStatus} - seen == {"unknown_keypad"}
