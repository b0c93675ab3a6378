"""The protocol schema (protocol/wire.toml), read and checked: what every generator works from."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import ClickerError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "protocol" / "wire.toml"

SCALARS = {"u8": ("B", 1), "u16": ("H", 2), "u32": ("I", 4), "i8": ("b", 1)}
ARRAYS = {"bytes": ("s", 1), "u16s": ("H", 2)}  # a u8 count, then that many items


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    doc: str
    enum: str | None = None

    @property
    def scalar(self) -> bool:
        return self.type in SCALARS

    @property
    def size(self) -> int:
        return SCALARS[self.type][1]

    @property
    def fmt(self) -> str:
        return SCALARS[self.type][0]


@dataclass(frozen=True)
class Message:
    name: str  # PRESS_RESULT
    cls: str  # PressResult
    type: int
    direction: str
    doc: str
    fields: tuple[Field, ...]

    @property
    def snake(self) -> str:
        return self.name.lower()

    @property
    def head(self) -> tuple[Field, ...]:
        """The fixed part: every scalar before the first variable field."""
        out = []
        for f in self.fields:
            if not f.scalar:
                break
            out.append(f)
        return tuple(out)

    @property
    def tail(self) -> tuple[Field, ...]:
        return self.fields[len(self.head) :]

    @property
    def head_size(self) -> int:
        return sum(f.size for f in self.head)

    @property
    def shape(self) -> str:
        if not self.tail:
            return "fixed"
        return "text" if self.tail[0].type == "text" else "counted"

    def offsets(self) -> list[tuple[Field, int]]:
        at, out = 0, []
        for f in self.head:
            out.append((f, at))
            at += f.size
        return out


@dataclass(frozen=True)
class Enum:
    name: str
    c_prefix: str
    doc: str
    values: tuple[tuple[str, int, str], ...]
    strings: bool = False  # a Python StrEnum of the lower-case names (rejection reasons)


@dataclass(frozen=True)
class Schema:
    protocol: dict[str, Any]
    flags: tuple[tuple[str, int, str], ...]
    enums: tuple[Enum, ...]
    messages: tuple[Message, ...]
    mic_tag: bytes
    mic_covers: tuple[Field, ...]
    mic_size: int
    advert_version: int
    advert_fields: tuple[Field, ...]
    air_header_size: int
    air_to_keypad: tuple[Message, ...]

    def limit(self, f: Field) -> int:
        """The most entries of a counted array: ``max_<field>`` of [protocol]."""
        return int(self.protocol[f"max_{f.name}"])

    def message(self, name: str) -> Message:
        return next(m for m in self.messages if m.name == name)

    def enum(self, name: str) -> Enum:
        return next(e for e in self.enums if e.name == name)

    @property
    def mic_input_size(self) -> int:
        return len(self.mic_tag) + sum(f.size for f in self.mic_covers)

    @property
    def advert_size(self) -> int:
        return 1 + sum(f.size for f in self.advert_fields)


class SchemaError(ClickerError):
    pass


def load(path: Path = SCHEMA) -> Schema:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    enums = tuple(
        Enum(
            e["name"],
            e["c_prefix"],
            e["doc"],
            tuple((n, int(v), d) for n, v, d in e["values"]),
            e["name"] == "Reject",
        )
        for e in doc["enums"]
    )
    enum_names = {e.name for e in enums}
    messages = []
    for m in doc["messages"]:
        fields = []
        for entry in m["fields"]:
            name, type_, text, *rest = entry
            if type_ not in SCALARS and type_ not in ARRAYS and type_ != "text":
                raise SchemaError(f"{m['name']}.{name}: unknown type {type_}")
            enum = rest[0] if rest else None
            if enum is not None and enum not in enum_names:
                raise SchemaError(f"{m['name']}.{name}: unknown enum {enum}")
            fields.append(Field(name, type_, text, enum))
        msg = Message(m["name"], m["class"], int(m["type"]), m["direction"], m["doc"], tuple(fields))
        seen_tail = False
        for f in msg.fields:
            if not f.scalar:
                seen_tail = True
            elif seen_tail:
                raise SchemaError(f"{msg.name}: scalar {f.name} after a variable field")
        if any(f.type == "text" for f in msg.fields) and msg.fields[-1].type != "text":
            raise SchemaError(f"{msg.name}: text must be the last field")
        messages.append(msg)
    if len({m.type for m in messages}) != len(messages):
        raise SchemaError("two messages share a type code")
    press = {f.name: f for f in next(m for m in messages if m.name == "PRESS").fields}
    covers = tuple(press[n] for n in doc["mic"]["covers"])
    press_fields = next(m for m in messages if m.name == "PRESS").fields
    if press_fields[: len(covers)] != covers:
        raise SchemaError("the MIC must cover a prefix of the PRESS payload")
    tag = doc["mic"]["tag"].encode("ascii")
    advert = tuple(press[n] for n in doc["advert"]["fields"])
    flags = tuple((f["name"], int(f["bit"]), f["doc"]) for f in doc["flags"])
    if not re.fullmatch(r"[A-Z0-9]{4}", doc["mic"]["tag"]):
        raise SchemaError("the MIC tag is 4 ASCII capitals or digits")
    return Schema(
        doc["protocol"],
        flags,
        enums,
        tuple(messages),
        tag,
        covers,
        int(doc["mic"]["size"]),
        int(doc["advert"]["version"]),
        advert,
        int(doc["air"]["header_size"]),
        tuple(next(m for m in messages if m.name == n) for n in doc["air"]["to_keypad"]),
    )
