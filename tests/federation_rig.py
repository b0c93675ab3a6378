"""A convention on one machine for the federation tests: a real nats-server with JetStream in a
temporary folder, room hubs publishing their journals, a plenary; every piece can be stopped,
killed or restarted independently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.commands import ClosePoll, OpenPoll, Reveal, Select
from hub.engine import Engine
from hub.federation.access import Credential, plenary_credential, room_credential
from hub.federation.convention import ConventionConfig, RoomSpec
from hub.federation.natsserver import NatsServer
from hub.federation.plenary import Plenary
from hub.federation.publisher import RoomPublisher
from hub.federation.room import federate
from hub.journal import GENESIS, Journal, read_records
from hub.model import PollMode, Press
from hub.proposals import Proposal
from hub.session import SessionConfig
from tests.federation_helpers import FICHES, room_config


class RoomNode:
    """A room hub with its outbox; ``vote`` runs one poll with the given keys pressed."""

    def __init__(self, rig: Rig, name: str, index: int, keypads: int) -> None:
        self.rig, self.name, self.index, self.keypads = rig, name, index, keypads
        self.db = rig.dir / f"{name}.db"
        self.hub: Engine | None = None
        self.publisher: RoomPublisher | None = None
        self.counter = 0
        self.answers: list = []

    async def start(self) -> None:
        self.hub = await Engine.open(
            Journal(self.db),
            None if self.db.exists() else room_config(self.index, self.keypads, grace_s=0.05),
        )
        self.publisher = federate(self.hub, self.rig.creds[self.name], [self.rig.server.url])

    async def stop(self) -> None:
        if self.hub is not None:
            await self.hub.stop()
        if self.publisher is not None:  # after the hub: it delivers the closing record
            await self.publisher.stop()
        self.hub, self.publisher = None, None

    async def vote(self, fiche: int, keys: dict[int, str]) -> None:
        hub = self.hub
        assert hub is not None
        await hub.act(Select(fiche))
        poll = await hub.act(OpenPoll(PollMode.GRADES))
        before = len(self.answers)
        for k, key in keys.items():
            self.counter += 1
            hub.submit_press(
                Press(
                    10_000 * self.index + k,
                    self.counter,
                    0xFFFF,
                    0,
                    key,
                    at=hub.clock(),
                    session_nonce=hub.session.config.nonce,  # a press of this room's session
                ),
                self.answers.append,
            )
        await hub.wait_until(lambda: len(self.answers) == before + len(keys), 10)
        await hub.act(ClosePoll())
        await hub.wait_until(lambda: hub.session.poll(poll.poll_id).state == "closed", 10)
        await hub.act(Reveal(poll.poll_id))

    def journal_head(self) -> tuple[int, str]:
        """The room's own journal, read from disk: its last sequence number and hash."""
        return journal_head(self.db)


def journal_head(db: Path) -> tuple[int, str]:
    head = (0, GENESIS)
    for rec in read_records(db):
        head = (rec.seq, rec.hash)
    return head


class Rig:
    def __init__(self, directory: Path, rooms: list[str]) -> None:
        self.dir = directory
        self.creds: dict[str, Credential] = {r: room_credential(r) for r in rooms}
        self.plenary_cred = plenary_credential()
        self.server = NatsServer(directory / "nats", [*self.creds.values(), self.plenary_cred])
        self.rooms = {r: RoomNode(self, r, i + 1, 10) for i, r in enumerate(rooms)}
        self.plenary: Plenary | None = None
        self.plenary_db = directory / "plenary.db"

    def convention(self, fiches: list[Proposal] = FICHES) -> ConventionConfig:
        session = SessionConfig(title="Convention", proposals=list(fiches))
        return ConventionConfig(session, [RoomSpec(r, f"Assemblée {r}") for r in self.rooms])

    async def start_plenary(self) -> Plenary:
        self.plenary = Plenary(Journal(self.plenary_db), self.plenary_cred, [self.server.url])
        await self.plenary.start(None if self.plenary_db.exists() else self.convention())
        if self.server.running:
            await asyncio.wait_for(self.plenary.stream_ready.wait(), 20)
        return self.plenary

    async def caught_up(self, within: float = 30.0) -> None:
        """Until the plenary holds every room's whole journal (as the rooms' files say)."""
        plenary = self.plenary
        assert plenary is not None and plenary.conv is not None
        heads = {r: node.journal_head() for r, node in self.rooms.items() if node.db.exists()}
        await plenary.wait_until(
            lambda: all(
                (plenary.conv.rooms[r].seq, plenary.conv.rooms[r].head) == h for r, h in heads.items()
            ),
            within,
        )

    async def close(self) -> None:
        for node in self.rooms.values():
            await node.stop()
        if self.plenary is not None:
            await self.plenary.stop()
        await self.server.stop()
