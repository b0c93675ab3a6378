"""CONTRIBUTING.md is where a newcomer learns the layout: every module of the hub, the protocol
generators and the display pages must be named there, so a new or moved module cannot leave it
behind."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_is_named_in_the_layout() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    named = set(re.findall(r"[\w./-]+\.(?:py|js|html|css|json)\b", text))
    named_stems = {Path(n).name for n in named}
    files = [
        *ROOT.glob("hub/**/*.py"),
        *ROOT.glob("protocol/*.py"),
        *ROOT.glob("display/static/*.js"),
    ]
    missing = sorted(
        str(f.relative_to(ROOT))
        for f in files
        if f.name not in ("__init__.py", "__main__.py") and f.name not in named_stems
    )
    assert missing == [], f"not named in CONTRIBUTING.md's layout (add what each holds): {missing}"
