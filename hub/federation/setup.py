"""``clicker federation setup``: the NATS server's configuration and one credentials file per
room and for the plenary; with ``sites``, one leaf-node configuration per site as well.

On one LAN, every room's hub and the plenary connect to the one server. Across a town, each
site runs a leaf node on its own LAN: its rooms connect to it, and it forwards (only) its own
rooms' subjects to the central server over one outbound connection. Each room's permissions
hold on its leaf node, and the site's leaf user holds on the central server.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from hub.federation.access import (
    ACCOUNT,
    Credential,
    check_room,
    permissions,
    plenary_credential,
    room_credential,
    server_config,
    write_private,
)

LEAF_PORT = 7422


def _write(path: Path, doc: dict[str, Any]) -> Path:
    write_private(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path


def leaf_config(
    site: str,
    rooms: list[Credential],
    hub_host: str,
    leaf_user: str,
    password: str,
    leaf_port: int = LEAF_PORT,
    site_listen: str = "0.0.0.0:4222",
) -> dict[str, Any]:
    """A site's leaf node: its rooms' users locally, one outbound link to the central server."""
    host, _, port = site_listen.rpartition(":")
    return {
        "host": host,
        "port": int(port),
        "server_name": f"leaf-{site}",
        "accounts": {
            ACCOUNT: {
                "users": [
                    {"user": c.user, "password": c.password, "permissions": permissions(c)} for c in rooms
                ]
            }
        },
        "leafnodes": {
            "remotes": [
                {"urls": [f"nats-leaf://{leaf_user}:{password}@{hub_host}:{leaf_port}"], "account": ACCOUNT}
            ]
        },
    }


def write_setup(
    out: Path,
    rooms: list[str],
    listen: str = "127.0.0.1:4222",
    public: str | None = None,
    sites: dict[str, list[str]] | None = None,
    leaf_port: int = LEAF_PORT,
    site_listen: str = "0.0.0.0:4222",
) -> list[Path]:
    """Write nats.conf, plenary.json, room-<name>.json (and leaf-<site>.conf); all mode 0600.

    ``listen``: where the central server listens; ``public``: the host rooms reach it by."""
    for r in rooms:
        check_room(r)
    host, _, port_text = listen.rpartition(":")
    port = int(port_text)
    reach = public or (host if host not in ("0.0.0.0", "::", "") else "127.0.0.1")
    out.mkdir(parents=True, exist_ok=True)
    creds = {r: room_credential(r) for r in rooms}
    plenary = plenary_credential()
    sites = sites or {}
    placed = [r for rs in sites.values() for r in rs]
    if sorted(set(placed)) != sorted(placed) or not set(placed) <= set(rooms):
        raise ValueError("each site lists rooms of the convention, each room at one site at most")
    leaf_users = [(f"leaf-{site}", secrets.token_urlsafe(24), rs) for site, rs in sites.items()]
    central = [c for r, c in creds.items() if r not in placed] + [plenary]
    conf = server_config(
        central,
        (out / "jetstream").resolve(),
        port,
        host,
        leaf_port=leaf_port if sites else None,
        leaf_users=leaf_users,
    )
    written = [_write(out / "nats.conf", conf)]
    written.append(_write(out / "plenary.json", plenary.to_json([f"nats://{reach}:{port}"])))
    site_of = {r: site for site, rs in sites.items() for r in rs}
    for r, cred in creds.items():
        # a site's rooms reach their leaf node on the site's LAN (--federate says where)
        site_url = f"nats://127.0.0.1:{site_listen.rpartition(':')[2]}"
        url = site_url if r in site_of else f"nats://{reach}:{port}"
        written.append(_write(out / f"room-{r}.json", cred.to_json([url])))
    for (user, password, rs), site in zip(leaf_users, sites):
        doc = leaf_config(site, [creds[r] for r in rs], reach, user, password, leaf_port, site_listen)
        written.append(_write(out / f"leaf-{site}.conf", doc))
    return written
