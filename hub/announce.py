"""What the keypads are told about the session (pure): the POLL_STATE a receiver broadcasts,
and the session nonce the hub's HELLO carries (docs/protocol.md)."""

from __future__ import annotations

from hub.model import PollMode
from hub.protocol import PollStateCode
from hub.session import PollState, SessionView
from hub.wire.messages import PollStateMessage


def session_nonce(session: SessionView) -> int:
    """The session's nonce (0 for a session journaled before v1.1, which has none)."""
    return session.config.nonce or 0


def poll_state_message(session: SessionView) -> PollStateMessage:
    """The poll as keypads learn it: its id, state, mode, the session nonce they sign under,
    the valid keys and the proposal numbers (docs/protocol.md, POLL_STATE)."""
    nonce = session_nonce(session)
    poll = session.active
    if poll is None:
        return PollStateMessage(session.last_poll_id, PollStateCode.IDLE, PollMode.NONE, nonce, b"", ())
    config = session.config
    keys = "".join(config.consent_keys) if poll.mode is PollMode.CONSENT else config.grade_keys
    state = PollStateCode.OPEN if poll.state is PollState.OPEN else PollStateCode.CLOSING
    items = tuple(n for n in poll.items if n)  # a consent round on no proposal has none
    return PollStateMessage(poll.poll_id, state, poll.mode, nonce, keys.encode("ascii"), items)
