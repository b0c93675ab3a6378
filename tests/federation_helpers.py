"""Room journals made the way a hub makes them (Session, the journal's codec, chain_hash),
synchronously, for the pure federation tests."""

from __future__ import annotations

from dataclasses import replace

from hub.codec import CODECS
from hub.commands import ClosePoll, Command, EndGrace, OpenPoll, Reveal, Select
from hub.federation.convention import ConventionConfig, RoomSpec
from hub.federation.wire import RoomRecord
from hub.journal import FORMAT, GENESIS, chain_hash
from hub.model import Keypad, PollMode, Press
from hub.proposals import Proposal
from hub.records import PRESS, ResultRecord, SessionRecord, apply_command
from hub.session import SessionConfig

FICHES = [Proposal(i, f"Fiche {i}", "écologique" if i % 2 else "sociale") for i in range(1, 5)]


def room_config(room_index: int, keypads: int = 5, **kw) -> SessionConfig:
    roster = [Keypad(10_000 * room_index + i, i, assembly=f"a{room_index}") for i in range(1, keypads + 1)]
    kw.setdefault("nonce", 0)  # the session of the presses these tests make (Press's default)
    return SessionConfig(title=f"Salle {room_index}", proposals=list(FICHES), roster=roster, **kw)


def convention_config(rooms: list[str], **kw) -> ConventionConfig:
    session = SessionConfig(title="Convention", proposals=list(FICHES), **kw)
    return ConventionConfig(session, [RoomSpec(r, f"Assemblée {r}") for r in rooms])


class RoomWriter:
    """Appends records to a room's chain as its hub would, deciding with a real Session."""

    def __init__(self, room: str, config: SessionConfig) -> None:
        from hub.session import Session

        self.room = room
        self.records: list[RoomRecord] = []
        self.head = GENESIS
        self.clock = 100.0
        self.counter = 0
        self.add(*CODECS[FORMAT].encode_record(SessionRecord(config)))
        self.session = Session(config)

    def add(self, kind: str, raw: bytes) -> RoomRecord:
        seq = len(self.records) + 1
        self.head = chain_hash(self.head, seq, kind, raw, FORMAT)
        rec = RoomRecord(self.room, seq, kind, FORMAT, raw, self.head)
        self.records.append(rec)
        return rec

    def act(self, command: Command):
        command = replace(command, at=self.clock)
        outcome = apply_command(self.session, command)
        self.add(*CODECS[FORMAT].encode_record(command))
        if isinstance(command, EndGrace):
            self.add(*CODECS[FORMAT].encode_record(ResultRecord.of(outcome)))
        return outcome

    def press(self, keypad_id: int, key: str) -> None:
        self.counter += 1
        self.clock += 0.01
        p = Press(
            keypad_id, self.counter, 0xFFFF, 0, key, at=self.clock, session_nonce=self.session.config.nonce
        )
        d = self.session.handle_press(p)
        self.add(PRESS, CODECS[FORMAT].encode_press(p, int(d.status), d.poll_id))

    def vote(self, fiche: int, keys: dict[int, str], reveal: bool = True) -> None:
        """Select, open, presses, close, grace end (with its result record), reveal."""
        self.act(Select(fiche))
        poll = self.act(OpenPoll(PollMode.GRADES))
        for kid, key in keys.items():
            self.press(kid, key)
        self.clock += 1
        self.act(ClosePoll())
        self.clock += 5
        self.act(EndGrace())
        if reveal:
            self.act(Reveal(poll.poll_id))


class PlenaryJournal:
    """A plenary's journal written as the plenary writes it: rooms' records through the intake,
    then whatever other entries (paper sheets, confirmations) a test adds."""

    def __init__(self, rooms: list[str]) -> None:
        from hub.federation.convention import CONVENTION, Convention
        from hub.federation.intake import Intake

        self.config = convention_config(rooms)
        self.conv = Convention(self.config)
        self.intake: Intake[int] = Intake(self.conv)
        self.entries: list[tuple[str, dict]] = [(CONVENTION, self.config.to_json())]
        self.writers: dict[str, RoomWriter] = {}

    def room(self, name: str, index: int, keypads: int, fiches: tuple[int, ...]) -> RoomWriter:
        w = RoomWriter(name, room_config(index, keypads))
        for fiche in fiches:
            w.vote(
                fiche, {10_000 * index + k: "1234567"[(k * fiche + index) % 7] for k in range(1, keypads + 1)}
            )
        for rec in w.records:
            self.offer(rec)
        self.writers[name] = w
        return w

    def offer(self, rec: RoomRecord, at: float = 0.0) -> None:
        self.entries += self.intake.offer(rec, rec.seq, at).entries

    def add(self, kind: str, body: dict) -> None:
        from hub.federation.convention import apply_plenary

        apply_plenary(self.conv, kind, body)
        self.entries.append((kind, body))

    async def write(self, path) -> None:
        from hub.journal import Journal

        journal = Journal(path)
        await journal.open()
        await journal.append([(k, journal.codec.encode(k, b)) for k, b in self.entries])
        await journal.close()
