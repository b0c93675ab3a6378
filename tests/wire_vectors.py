"""Loading the shared vectors and building messages from their fields (used by the Python and
the C tests alike)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hub.wire.messages import MESSAGE_TYPES, Message

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> list[dict]:
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def message_from_fields(type_: int, values: dict) -> Message:
    cls = MESSAGE_TYPES[type_]
    kwargs = {}
    for f in dataclasses.fields(cls):
        v = values[f.name]
        kwargs[f.name] = bytes.fromhex(v) if f.type == "bytes" else tuple(v) if isinstance(v, list) else v
    return cls(**kwargs)


def canonical(msg: Message) -> str:
    """One line naming every field, the format the C harness prints too."""
    parts = [f"type={msg.TYPE}"]
    for f in dataclasses.fields(msg):
        v = getattr(msg, f.name)
        if isinstance(v, bytes):
            v = v.hex()
        elif isinstance(v, str):
            v = v.encode("utf-8").hex()
        elif isinstance(v, tuple):
            v = ",".join(map(str, v))
        parts.append(f"{f.name}={v}")
    return " ".join(parts)
