"""Roster and session files: which keypads belong to a session, and how a session is described.

Keypad files hold AES keys: they are written with mode 0600 and never copied into the journal
beyond what the session needs to check MICs.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from hub.model import GradeScale, Keypad
from hub.proposals import ProposalError, clermont_fiches, load_proposals
from hub.session import SessionConfig, SessionError


class RosterError(ValueError):
    """A roster or session file that cannot be used; the message is one line."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RosterError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None


def parse_roster(doc: Any, where: str = "roster") -> list[Keypad]:
    if isinstance(doc, dict):
        doc = doc.get("keypads")
    if not isinstance(doc, list):
        raise RosterError(f"{where}: expected a list of keypads (or {{'keypads': [...]}})")
    out = []
    for i, k in enumerate(doc, 1):
        if not isinstance(k, dict):
            raise RosterError(f"{where}: keypad {i} is not an object")
        try:
            kid = int(str(k["keypad_id"]), 0)
            number = int(k["number"])
            key = bytes.fromhex(k["key"]) if k.get("key") else None
        except KeyError as exc:
            raise RosterError(f"{where}: keypad {i} has no {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise RosterError(f"{where}: keypad {i}: bad keypad_id, number or key") from None
        if not 0 <= kid <= 0xFFFFFFFF or number < 1:
            raise RosterError(f"{where}: keypad {i}: keypad_id must fit in 32 bits and number be positive")
        if key is not None and len(key) != 16:
            raise RosterError(f"{where}: keypad {i}: a key is 16 bytes (32 hex digits)")
        out.append(Keypad(kid, number, str(k.get("holder", "")), str(k.get("assembly", "")), key))
    ids = [k.keypad_id for k in out]
    if len(set(ids)) != len(ids):
        raise RosterError(f"{where}: a keypad_id appears twice")
    if len({k.number for k in out}) != len(out):
        raise RosterError(f"{where}: a short number appears twice")
    return out


def load_roster(path: str | Path) -> list[Keypad]:
    path = Path(path)
    return parse_roster(_read_json(path), str(path))


def roster_json(keypads: list[Keypad]) -> dict[str, Any]:
    return {
        "keypads": [
            {"keypad_id": k.keypad_id, "number": k.number, "holder": k.holder, "assembly": k.assembly}
            | ({"key": k.key.hex()} if k.key else {})
            for k in keypads
        ]
    }


def save_roster(path: str | Path, keypads: list[Keypad]) -> None:
    """Write atomically with mode 0600 (the file may hold keys)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(roster_json(keypads), f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def provision(keypads: list[Keypad]) -> list[Keypad]:
    """Give every keypad without a key a fresh random AES-128 key."""
    return [
        k if k.key else Keypad(k.keypad_id, k.number, k.holder, k.assembly, secrets.token_bytes(16))
        for k in keypads
    ]


def nvs_csv(keypad: Keypad) -> str:
    """The keypad's NVS contents in ESP-IDF's nvs_partition_gen.py CSV format (hardware.md)."""
    assert keypad.key is not None
    return (
        "key,type,encoding,value\n"
        "clicker,namespace,,\n"
        f"id,data,u32,{keypad.keypad_id}\n"
        f"number,data,u16,{keypad.number}\n"
        f"aes_key,data,hex2bin,{keypad.key.hex()}\n"
    )


SESSION_KEYS = {
    "title",
    "proposals",
    "roster",
    "open_roster",
    "electorate",
    "grace_s",
    "rule",
    "missing",
    "require_mic",
    "anonymous",
    "min_group",
    "grades",
    "grade_keys",
    "consent_keys",
}


def load_session_file(path: str | Path) -> SessionConfig:
    """A session description: JSON with the title, the proposals (a CSV/JSON path or a list), the
    roster (a path or a list) and the options; relative paths are relative to the file."""
    path = Path(path)
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise RosterError(f"{path}: expected a JSON object")
    unknown = sorted(set(doc) - SESSION_KEYS)
    if unknown:
        raise RosterError(f"{path}: unknown key {unknown[0]!r}")
    base = path.parent
    try:
        props = doc.get("proposals", "clermont-2022")
        if props == "clermont-2022":
            proposals = clermont_fiches()
        elif isinstance(props, str):
            proposals = load_proposals(base / props)
        else:
            from hub.proposals import parse_proposals

            proposals = parse_proposals(json.dumps(props), "json", f"{path}: proposals")
        roster_doc = doc.get("roster", [])
        roster = (
            load_roster(base / roster_doc)
            if isinstance(roster_doc, str)
            else parse_roster(roster_doc, str(path))
        )
        return SessionConfig.from_json(
            {
                **{k: v for k, v in doc.items() if k not in ("proposals", "roster", "grades")},
                "title": doc.get("title", "Session"),
                "proposals": [p.__dict__ | {"extra": p.extra} for p in proposals],
                "roster": [
                    {"keypad_id": k.keypad_id, "number": k.number, "holder": k.holder, "assembly": k.assembly}
                    | ({"key": k.key.hex()} if k.key else {})
                    for k in roster
                ],
                "grades": list(GradeScale(tuple(doc["grades"])).names) if doc.get("grades") else None,
            }
        )
    except (ProposalError, SessionError) as exc:
        raise RosterError(str(exc)) from None
    except ValueError as exc:
        raise RosterError(f"{path}: {exc}") from None
