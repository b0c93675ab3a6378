"""`pip install .` (a real wheel, not an editable install) must ship data and display assets."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from display import palette
from hub.sim.voters import example_tally_document

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_display_assets_and_example_data(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("clicker-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for static in (ROOT / "display" / "static").rglob("*"):
        if static.is_file():
            assert static.relative_to(ROOT).as_posix() in names
    assert "hub/data/clermont-2022-fiches.csv" in names
    assert "hub/data/clermont-2022-tally.json" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "clicker = hub.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_bundled_example_tally_is_reproducible_from_the_voter_model():
    bundled = json.loads((ROOT / "hub" / "data" / "clermont-2022-tally.json").read_text(encoding="utf-8"))
    assert bundled == example_tally_document()
    assert len(bundled["tallies"]) == 40


def test_palettes_are_diverging_and_sized():
    for size in (5, 6, 7):
        colours = palette(size)
        assert len(colours) == size and len(set(colours)) == size
