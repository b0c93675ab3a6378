"""Who may publish what: subjects, the stream, and one NATS user per room and for the plenary.

A room's user may publish on its own subject only (and hear the stream's acks on its own
inbox prefix), so a room holding another room's credentials is refused by the server itself.
The plenary's user may read the stream through its consumers but publish on no room subject.
The server configuration is JSON, which the NATS configuration format accepts as it is.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import ClickerError

STREAM = "CLICKER"
ACCOUNT = "CLICKER"
SUBJECT_PREFIX = "clicker.room"
ROOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PLENARY_USER = "plenary"


class AccessError(ClickerError):
    """A room name or a credentials file that cannot be used; one line for the user."""


def check_room(room: str) -> str:
    if not isinstance(room, str) or not ROOM_NAME.match(room):
        raise AccessError(
            f"room name {room!r}: use 1-32 lower-case letters, digits, '-' or '_' (a NATS subject token)"
        )
    return room


def room_subject(room: str) -> str:
    return f"{SUBJECT_PREFIX}.{check_room(room)}"


def room_of_subject(subject: str) -> str | None:
    head, _, room = subject.rpartition(".")
    return room if head == SUBJECT_PREFIX and ROOM_NAME.match(room) else None


def msg_id(room: str, seq: int) -> str:
    """JetStream's de-duplication key: the same record published twice is stored once."""
    return f"{room}:{seq}"


def inbox_prefix(user: str) -> str:
    return f"_INBOX.{user}"


@dataclass(frozen=True)
class Credential:
    """One NATS user: a room (publishes its records) or the plenary (reads every room)."""

    user: str
    password: str
    room: str | None = None
    stream: str = STREAM

    def to_json(self, servers: list[str]) -> dict[str, Any]:
        doc: dict[str, Any] = {"servers": servers, "user": self.user, "password": self.password}
        doc["stream"] = self.stream
        if self.room is not None:
            doc["room"] = self.room
        return doc

    @property
    def inbox(self) -> str:
        return inbox_prefix(self.user)


def room_credential(room: str, stream: str = STREAM) -> Credential:
    return Credential(f"room-{check_room(room)}", secrets.token_urlsafe(24), room, stream)


def plenary_credential(stream: str = STREAM) -> Credential:
    return Credential(PLENARY_USER, secrets.token_urlsafe(24), None, stream)


def permissions(cred: Credential) -> dict[str, Any]:
    if cred.room is not None:
        return {
            "publish": {"allow": [room_subject(cred.room)]},
            "subscribe": {"allow": [f"{cred.inbox}.>"]},
        }
    s = cred.stream
    return {
        "publish": {
            "allow": [
                "$JS.API.INFO",
                f"$JS.API.STREAM.INFO.{s}",
                f"$JS.API.STREAM.CREATE.{s}",
                f"$JS.API.STREAM.UPDATE.{s}",
                "$JS.API.CONSUMER.>",
                f"$JS.ACK.{s}.>",
            ]
        },
        "subscribe": {"allow": [f"{cred.inbox}.>"]},
    }


def server_config(
    creds: list[Credential],
    store_dir: str | Path,
    port: int = 4222,
    host: str = "127.0.0.1",
    http_port: int | None = None,
    leaf_port: int | None = None,
    leaf_users: list[tuple[str, str, list[str]]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """A nats-server configuration: JetStream on disk, one account, one user per credential.

    ``leaf_users`` (user, password, rooms) are the sites' leaf nodes: each may forward only
    the subjects of its own rooms."""
    users = [{"user": c.user, "password": c.password, "permissions": permissions(c)} for c in creds]
    for user, password, rooms in leaf_users:
        users.append(
            {
                "user": user,
                "password": password,
                "permissions": {
                    "publish": {"allow": [room_subject(r) for r in rooms]},
                    "subscribe": {"allow": [f"{inbox_prefix(f'room-{r}')}.>" for r in rooms]},
                },
            }
        )
    conf: dict[str, Any] = {
        "host": host,
        "port": port,
        "server_name": "clicker",
        "jetstream": {"store_dir": str(store_dir)},
        "accounts": {ACCOUNT: {"jetstream": "enabled", "users": users}},
        "max_payload": 1024 * 1024,
    }
    if http_port is not None:
        conf["http"] = f"{host}:{http_port}"
    if leaf_port is not None:
        conf["leafnodes"] = {"host": host, "port": leaf_port}
    return conf


def write_private(path: Path, text: str) -> None:
    """Secrets are readable by their owner only."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def load_credential(path: str | Path) -> tuple[Credential, list[str]]:
    """A credentials file written by ``clicker federation setup``; bad files give one line."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccessError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AccessError(f"{p}: not a credentials file ({exc})") from None
    if not isinstance(doc, dict):
        raise AccessError(f"{p}: not a credentials file (expected an object)")
    for key in ("user", "password"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise AccessError(f"{p}: {key!r} is missing")
    servers = doc.get("servers", [])
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        raise AccessError(f"{p}: 'servers' must be a list of nats:// URLs")
    room = doc.get("room")
    if room is not None:
        try:
            check_room(room)
        except AccessError as exc:
            raise AccessError(f"{p}: {exc}") from None
    stream = doc.get("stream", STREAM)
    if not isinstance(stream, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", stream):
        raise AccessError(f"{p}: 'stream' must be a stream name")
    return Credential(doc["user"], doc["password"], room, stream), servers
