"""The generated sections of docs/protocol.md: every table that restates the schema, and the
worked examples, printed from the byte vectors."""

from __future__ import annotations

from typing import Any

from protocol.schema import ARRAYS, Field, Message, Schema


def _summary(f: Field) -> str:
    if f.type == "bytes":
        return f"n{f.name} u8, {f.name}[n{f.name}]"
    if f.type == "u16s":
        return f"n{f.name} u8, {f.name} u16[n{f.name}]"
    if f.type == "text":
        return f"{f.name} (UTF-8, to the end)"
    return f"{f.name} {f.type}"


def _size(s: Schema, f: Field) -> str:
    if f.scalar:
        return str(f.size)
    if f.type == "text":
        return "rest"
    width = ARRAYS[f.type][1]
    return f"1 + {'' if width == 1 else f'{width}×'}n (n ≤ {s.limit(f)})"


def _type(f: Field) -> str:
    if f.type == "bytes":
        return "u8 count, bytes"
    if f.type == "u16s":
        return "u8 count, u16 each"
    if f.type == "text":
        return "UTF-8"
    return f.type


def _layout(s: Schema, m: Message) -> list[str]:
    size = f"{m.head_size} bytes" if m.shape == "fixed" else f"at least {m.head_size} byte"
    size += "s" if m.shape != "fixed" and m.head_size > 1 else ""
    if m.shape == "counted":
        most = m.head_size + sum(1 + ARRAYS[f.type][1] * s.limit(f) for f in m.tail)
        size = f"{m.head_size + len(m.tail)} to {most} bytes"
    out = [
        f"#### {m.name} (`{m.type:#04x}`, {m.direction}, {size})",
        "",
        f"{m.doc[0].upper()}{m.doc[1:]}.",
        "",
    ]
    if not m.fields:
        return [*out, "Empty payload.", ""]
    out += ["| offset | size | type | field | meaning |", "|---|---|---|---|---|"]
    offsets = dict((f.name, at) for f, at in m.offsets())
    after = False
    for f in m.fields:
        offset = str(offsets[f.name]) if f.name in offsets else ("then" if after else str(m.head_size))
        after = after or f.name not in offsets
        meaning = f.doc + (f"; codes: {f.enum}" if f.enum else "")
        out.append(f"| {offset} | {_size(s, f)} | {_type(f)} | `{f.name}` | {meaning} |")
    return [*out, ""]


def _enum_tables(s: Schema) -> list[str]:
    out: list[str] = []
    for e in s.enums:
        out += [f"**{e.name}**: {e.doc}.", "", "| code | name | meaning |", "|---|---|---|"]
        for name, value, doc in e.values:
            code = f"`{value:#04x}`" if value > 9 else f"`{value}`"
            out.append(f"| {code} | `{name.lower()}` | {doc} |")
        out.append("")
    return out


def _hex(data: str) -> str:
    return " ".join(data[i : i + 2] for i in range(0, len(data), 2))


def _wrap_hex(data: str, indent: int = 12, per_line: int = 28) -> list[str]:
    octets = _hex(data).split()
    return [" " * indent + " ".join(octets[i : i + per_line]) for i in range(0, len(octets), per_line)]


def _examples(vectors: dict[str, Any]) -> list[str]:
    by_name = {v["name"]: v for v in vectors["messages"]}
    mic = vectors["mic"][0]
    f = mic["fields"]
    out = [
        f"Keypad key `{_hex(mic['key'])}`, keypad_id {f['keypad_id']:#010x}, counter {f['counter']},"
        f" session nonce {f['session_nonce']:#010x}, poll {f['poll_id']}, item {f['item']},"
        f" key `'{chr(f['key'])}'`,"
        f" battery {f['battery']}, rssi {f['rssi']}, age_ms {f['age_ms']}:",
        "",
        "```",
        "MIC input",
        *_wrap_hex(mic["input"]),
        f"MIC         {mic['mic']:#010x}",
    ]
    for v in vectors["messages"]:
        if not v["name"].startswith("worked "):
            continue
        out += [
            f"{v['name'][len('worked ') :]}, decoded ({len(v['decoded']) // 2} bytes)",
            *_wrap_hex(v["decoded"]),
        ]
        out += ["  on the wire", *_wrap_hex(v["wire"])]
    advert = vectors["advert"][0]
    out += ["Advert payload after the company id (and the keypad's air frame)", *_wrap_hex(advert["payload"])]
    result = by_name["worked PRESS_RESULT counted, poll 3 (seq 1)"]
    air = f"{result['type']:02x}" + result["decoded"][10:-4]  # type byte, then the bare payload
    out += ["PRESS_RESULT on the air, receiver to keypad (type byte, payload)", *_wrap_hex(air)]
    cobs = next(c for c in vectors["cobs"] if c["decoded"] == "11220033")
    out += [f"COBS of {_hex(cobs['decoded'])} = {_hex(cobs['encoded'])}", "```"]
    return out


def sections(s: Schema, vectors: dict[str, Any]) -> dict[str, str]:
    p = s.protocol
    messages = ["| type | name | direction | payload |", "|---|---|---|---|"]
    for m in s.messages:
        fields = ", ".join(_summary(f) for f in m.fields) or "empty"
        messages.append(f"| `{m.type:#04x}` | {m.name} | {m.direction} | {fields} |")
    flags = ["| bit | flag | meaning |", "|---|---|---|"]
    flags += [f"| {bit} | `{name.lower()}` | {doc} |" for name, bit, doc in s.flags]
    press = s.message("PRESS")
    offsets = dict((f.name, at) for f, at in press.offsets())
    tag = s.mic_tag.decode("ascii")
    mic = ["| offset | size | bytes |", "|---|---|---|", f"| 0 | {len(s.mic_tag)} | ASCII `{tag}` |"]
    mic += [
        f"| {len(s.mic_tag) + offsets[f.name]} | {f.size} | `{f.name}` ({f.type}) |" for f in s.mic_covers
    ]
    advert = ["| offset | size | field |", "|---|---|---|", f"| 0 | 1 | version = {s.advert_version} |"]
    at = 1
    for f in s.advert_fields:
        advert.append(f"| {at} | {f.size} | `{f.name}` ({f.type}) |")
        at += f.size
    air = [
        "| direction | frame |",
        "|---|---|",
        f"| keypad -> receiver | the advert layout (version {s.advert_version}) |",
    ]
    air += [
        f"| receiver -> keypad | {m.name}: its type byte `{m.type:#04x}`, then its payload |"
        for m in s.air_to_keypad
    ]
    constants = [
        "| constant | value |",
        "|---|---|",
        f"| protocol revision (HELLO `proto`) | {p['revision']} ({p['name']}) |",
        f"| frame `ver` byte | {p['frame_version']} |",
        f"| largest payload | {p['max_payload']} bytes |",
        f"| POLL_STATE keys, items | at most {p['max_keys']}, at most {p['max_items']} |",
        f"| `poll_id` of a keypad that does not know the poll | `{p['unknown_poll']:#06x}` |",
        f"| `poll_id` before the first poll | {p['no_poll']} |",
        f"| MIC input | {s.mic_input_size} bytes |",
        f"| advert payload | {s.advert_size} bytes |",
    ]
    layouts: list[str] = []
    for m in s.messages:
        layouts += _layout(s, m)
    return {
        name: "\n".join(lines).rstrip("\n") + "\n"
        for name, lines in {
            "constants": constants,
            "flags": flags,
            "messages": messages,
            "layouts": layouts,
            "codes": _enum_tables(s),
            "mic": mic,
            "advert": advert,
            "air": air,
            "examples": _examples(vectors),
        }.items()
    }
