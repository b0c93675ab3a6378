"""Rosters: which keypads belong to a session, read from a file a person wrote and written back.

A roster is ``{"keypads": [...]}`` (or the bare list), one object per keypad (docs/session-file.md).
A keypad id is written one way everywhere: a JSON integer (``161``) or a string of ``0x`` and
hexadecimal digits (``"0xA1"``). Every refusal names the entry by its position and its id.

A roster file is also the keypad store: beside each keypad's id, short number and AES key it
keeps ``counter``, the highest press counter the keypad used in past sessions (raised by
`clicker keypads sync` from the journals), below which a press is refused as from another
session (docs/protocol.md, "Counters"). Roster files hold keys: they are written with mode
0600. The session record of the journal holds the keys of the session's keypads too, so that
`clicker verify` can recheck every MIC: the journal is as sensitive as the roster.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from hub.imports import InputError, loc_text, one_line, read_input_file, read_json
from hub.model import Keypad

MAX_KEYPADS = 10_000
MAX_ID = 0xFFFFFFFF
_HEX_ID = re.compile(r"0[xX][0-9a-fA-F]{1,8}")
_KEY = re.compile(r"[0-9a-fA-F]{32}")
ID_RULE = 'a keypad id is a JSON integer (161) or a "0x…" string ("0xA1")'


class RosterError(InputError):
    """A roster that cannot be used; the message is one line."""


def keypad_id_of(value: object) -> int:
    """The one way to write a keypad id: an integer, or "0x" and 1 to 8 hexadecimal digits."""
    if isinstance(value, str) and _HEX_ID.fullmatch(value.strip()):
        return int(value.strip(), 16)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{json.dumps(value)[:30]}: {ID_RULE}")


def keypad_id_arg(text: str) -> int:
    """A keypad id typed on the command line: decimal digits or "0x…" (the JSON forms)."""
    value = text.strip()
    return keypad_id_of(int(value) if value.isascii() and value.isdigit() else value)


def _key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError("a key is 32 hexadecimal digits (16 bytes)")
    return value


def show_id(keypad_id: int) -> str:
    return f"{keypad_id:#010x}"


KeypadId = Annotated[int, BeforeValidator(keypad_id_of), Field(ge=0, le=MAX_ID)]


class KeypadEntry(BaseModel):
    """One keypad of a roster file."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    keypad_id: KeypadId
    number: Annotated[int, Field(ge=1, le=0xFFFF)]
    holder: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    assembly: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = ""
    key: Annotated[str, AfterValidator(_key)] | None = None
    # the keypad store: the highest counter the keypad used in past sessions (docs/protocol.md)
    counter: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 0

    def keypad(self) -> Keypad:
        key = bytes.fromhex(self.key or "") or None
        return Keypad(self.keypad_id, self.number, self.holder, self.assembly, key, counter=self.counter)


KEYPAD_KEYS = list(KeypadEntry.model_fields)


def entry_name(position: int, raw: object) -> str:
    """How a message names a roster entry: its position, and its id when it has a readable one."""
    try:
        kid = keypad_id_of(raw.get("keypad_id") if isinstance(raw, dict) else None)
    except ValueError:
        return f"keypad {position}"
    return f"keypad {position} (id {show_id(kid)})" if 0 <= kid <= MAX_ID else f"keypad {position}"


def check_distinct(keypads: list[Keypad], where: str) -> None:
    """Ids and short numbers appear once each; a repeat names both entries."""
    by_id: dict[int, int] = {}
    by_number: dict[int, int] = {}
    for i, k in enumerate(keypads, 1):
        this = f"keypad {i} (id {show_id(k.keypad_id)})"
        if k.keypad_id in by_id:
            raise RosterError(f"{where}: {this}: the same id as keypad {by_id[k.keypad_id]}")
        if k.number in by_number:
            j = by_number[k.number]
            other = f"keypad {j} (id {show_id(keypads[j - 1].keypad_id)})"
            raise RosterError(f"{where}: {this}: number {k.number} is already used by {other}")
        by_id[k.keypad_id] = i
        by_number[k.number] = i


def validate_entries(entries: list[Any], where: str) -> list[Keypad]:
    if len(entries) > MAX_KEYPADS:
        raise RosterError(f"{where}: {len(entries)} keypads, at most {MAX_KEYPADS:,}")
    keypads = []
    for i, raw in enumerate(entries, 1):
        try:
            keypads.append(KeypadEntry.model_validate(raw).keypad())
        except ValidationError as exc:
            message = one_line(exc, f"{where}: {entry_name(i, raw)}", _field, lambda _: KEYPAD_KEYS)
            raise RosterError(message) from None
    check_distinct(keypads, where)
    return keypads


def _field(loc: tuple[int | str, ...]) -> str:
    return f"field {loc_text(loc)!r}" if loc else ""


def parse_roster(doc: Any, where: str = "roster") -> list[Keypad]:
    """A roster document already read from JSON: ``{"keypads": [...]}`` or the bare list."""
    if isinstance(doc, dict) and set(doc) == {"keypads"}:
        doc = doc["keypads"]
    if not isinstance(doc, list):
        raise RosterError(f'{where}: expected {{"keypads": [...]}} or a list of keypads')
    return validate_entries(doc, where)


def parse_roster_file(data: bytes, name: str) -> list[Keypad]:
    """A roster file's bytes (the console's import and ``load_roster`` both come here)."""
    return parse_roster(read_json(data, name), name)


def load_roster(path: str | Path) -> list[Keypad]:
    path = Path(path)
    return parse_roster_file(read_input_file(path), str(path))


def roster_json(keypads: list[Keypad]) -> dict[str, Any]:
    return {"keypads": [k.to_json() for k in keypads]}


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
    return [k if k.key else dataclasses.replace(k, key=secrets.token_bytes(16)) for k in keypads]


def sync_counters(keypads: list[Keypad], highest: dict[int, int]) -> tuple[list[Keypad], int]:
    """The keypad store raised to the highest counters a session saw (never lowered); returns
    the roster and how many keypads moved."""
    out, moved = [], 0
    for k in keypads:
        seen = highest.get(k.keypad_id, 0)
        if seen > k.counter:
            k, moved = dataclasses.replace(k, counter=seen), moved + 1
        out.append(k)
    return out, moved


def nvs_csv(keypad: Keypad) -> str:
    """The keypad's NVS contents in ESP-IDF's nvs_partition_gen.py CSV format (hardware.md); its
    counter starts at the keypad store's, so a re-flashed keypad is never taken for a replay."""
    assert keypad.key is not None
    return (
        "key,type,encoding,value\n"
        "clicker,namespace,,\n"
        f"id,data,u32,{keypad.keypad_id}\n"
        f"number,data,u16,{keypad.number}\n"
        f"counter,data,u32,{keypad.counter}\n"
        f"aes_key,data,hex2bin,{keypad.key.hex()}\n"
    )
