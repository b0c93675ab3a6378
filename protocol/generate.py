"""Generate every file that follows from protocol/wire.toml, or check that none is stale.

    python -m protocol.generate           write them
    python -m protocol.generate --check   exit 1, naming each file that differs

What is generated: the Python codec tables (hub/protocol.py, hub/wire/messages.py), the C
header and codec (firmware/common/clk_spec.h, clk_spec.c), the host harness's field printer
(firmware/common/host/clk_fields.h), the byte vectors (tests/vectors/*.json, built by the
Python codec from the vectors' hand-pinned worked examples) and the generated sections of
docs/protocol.md (between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``). Output is
deterministic: the same schema gives the same bytes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from protocol import gen_c, gen_docs, gen_python
from protocol.schema import ROOT, Schema, load

DOCS = ROOT / "docs" / "protocol.md"
VECTORS = ROOT / "tests" / "vectors"
_SECTION = re.compile(r"(<!-- generated: ([a-z-]+) -->\n).*?(<!-- end: \2 -->)", re.S)


def code_outputs(s: Schema) -> dict[Path, str]:
    """The files that come from the schema alone."""
    return {
        ROOT / "hub" / "protocol.py": gen_python.spec_module(s),
        ROOT / "hub" / "wire" / "messages.py": gen_python.messages_module(s),
        ROOT / "firmware" / "common" / "clk_spec.h": gen_c.header(s),
        ROOT / "firmware" / "common" / "clk_spec.c": gen_c.source(s),
        ROOT / "firmware" / "common" / "host" / "clk_fields.h": gen_c.host_fields(s),
    }


def vector_text(doc: object) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def data_outputs(s: Schema) -> dict[Path, str]:
    """The files that need the Python codec (so the generated code must be current)."""
    from protocol.vectors import build

    vectors = build()
    out = {VECTORS / f"{name}.json": vector_text(doc) for name, doc in vectors.items()}
    out[DOCS] = fill_sections(DOCS.read_text(encoding="utf-8"), gen_docs.sections(s, vectors))
    return out


def fill_sections(text: str, sections: dict[str, str]) -> str:
    missing = set(sections) - {m.group(2) for m in _SECTION.finditer(text)}
    if missing:
        raise SystemExit(f"docs/protocol.md has no generated section {sorted(missing)[0]!r}")

    def fill(m: re.Match[str]) -> str:
        return m.group(1) + sections[m.group(2)] + m.group(3)

    return _SECTION.sub(fill, text)


def stale(outputs: dict[Path, str]) -> list[Path]:
    return [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]


def check() -> list[Path]:
    """Every generated file that differs from what the schema gives (empty: all current)."""
    s = load()
    code = stale(code_outputs(s))
    if code:  # the codec itself is stale: the data cannot be trusted to compare
        return code
    return stale(data_outputs(s))


def write(outputs: dict[Path, str], say: Callable[[str], None]) -> None:
    for path in stale(outputs):
        path.write_text(outputs[path], encoding="utf-8")
        say(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = check()
        for path in bad:
            print(f"stale: {path.relative_to(ROOT)} (run: python -m protocol.generate)", file=sys.stderr)
        return 1 if bad else 0
    s = load()
    if "--data" in argv:
        write(data_outputs(s), print)
        return 0
    write(code_outputs(s), print)
    # The data is built by the codec just written: a fresh interpreter imports it.
    return subprocess.run([sys.executable, "-m", "protocol.generate", "--data"], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
