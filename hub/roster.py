"""Rosters: which keypads belong to a session, read from a file a person wrote and written back.

A roster is ``{"keypads": [...]}`` (or the bare list), one object per keypad (docs/session-file.md).
A keypad id is written one way everywhere: a JSON integer (``161``) or a string of ``0x`` and
hexadecimal digits (``"0xA1"``). Every refusal names the entry by its position and its id.

A roster file is also the keypad store: beside each keypad's id, short number and AES key it
keeps ``counter``, the highest press counter the keypad used in past sessions (raised when
`clicker serve` stops cleanly, or by `clicker keypads sync` from journals), below which a press
is refused as from another session (docs/protocol.md, "Counters"). Roster files hold keys:
they are written with mode 0600. The session record of the journal holds the keys of the
session's keypads too, so that `clicker verify` can recheck every MIC: the journal is as
sensitive as the roster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
from collections.abc import Mapping
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

from hub.errors import named
from hub.imports import InputError, line_field, loc_text, one_line, read_input_file, read_json
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
    holder: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(line_field)
    ] = ""
    assembly: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=60), AfterValidator(line_field)
    ] = ""
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
    return f"field '{loc_text(loc)}'" if loc else ""


def parse_roster(doc: Any, where: str = "roster") -> list[Keypad]:
    """A roster document already read from JSON: ``{"keypads": [...]}`` or the bare list."""
    where = named(where)
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
    write_atomically(Path(path), json.dumps(roster_json(keypads), ensure_ascii=False, indent=1))


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """``text`` into ``path`` so that a crash leaves the old file or the new one, never half of
    one: a temporary file beside it, synced, then renamed over it (and the folder synced)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # not every file system syncs a folder
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def signed_counters(highest: Mapping[int, int], keypads: Mapping[int, Keypad]) -> dict[int, int]:
    """What the keypad store may learn from a session: the highest counters of keypads with a
    key (their presses' MICs verified; an unsigned press could name any counter)."""
    return {kid: n for kid, n in highest.items() if kid in keypads and keypads[kid].key is not None}


def store_counters(path: Path, highest: Mapping[int, int]) -> int:
    """The keypad store in the roster file ``path`` raised to ``highest`` (keypad id -> counter;
    never lowered), the rest of the file kept as it is: ids written as "0x…", holders, keys, the
    order of the entries, its form, its mode. Read afresh, so that a keypad enrolled meanwhile
    stays. Written atomically, and only if a counter moved. Returns how many keypads moved;
    raises RosterError (one line) if the file is no longer a roster or cannot be written."""
    name = named(str(path))
    doc = read_json(read_input_file(path), name)
    parse_roster(doc, name)  # still a roster: every entry below is a checked object
    entries: list[dict[str, Any]] = doc["keypads"] if isinstance(doc, dict) else doc
    moved = 0
    for entry in entries:
        seen = highest.get(keypad_id_of(entry["keypad_id"]), 0)
        if seen > entry.get("counter", 0):
            entry["counter"] = seen
            moved += 1
    if moved:
        try:
            mode = path.stat().st_mode & 0o777
            write_atomically(path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n", mode)
        except OSError as exc:
            raise RosterError(f"{name}: cannot be written ({exc.strerror})") from None
    return moved


def provision(keypads: list[Keypad]) -> list[Keypad]:
    """Give every keypad without a key a fresh random AES-128 key."""
    return [k if k.key else dataclasses.replace(k, key=secrets.token_bytes(16)) for k in keypads]


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
