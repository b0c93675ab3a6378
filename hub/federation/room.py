"""A room hub that also publishes its journal: the glue between ``Hub`` and the outbox."""

from __future__ import annotations

from hub.engine import Engine
from hub.federation.access import Credential
from hub.federation.publisher import RoomPublisher


def federate(hub: Engine, cred: Credential, servers: list[str], tls_ca: str | None = None) -> RoomPublisher:
    """Start publishing a started hub's journal. At the end, stop the hub first, then the
    publisher: it delivers the hub's closing record before it stops."""
    publisher = RoomPublisher(hub.journal, cred, servers, tls_ca)
    publisher.start()
    return publisher
