"""The portable firmware code is built as libraries on every target: the ESP32 projects take
firmware/common and firmware/app as PlatformIO libraries (library.json), the emulated and Arm
boards link them as static archives (firmware/Makefile), and both take the same source files.
No project compiles the portable code by including a .c file."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
PROJECTS = ("keypad", "receiver")


def library_sources(lib: Path) -> set[str]:
    """The files a library.json's srcFilter selects, read as PlatformIO does: each `+<glob>`
    adds and each `-<glob>` removes, in order, relative to srcDir; a directory stands for all
    the files under it."""
    build = json.loads((lib / "library.json").read_text())["build"]
    root = lib / build.get("srcDir", "src")
    chosen: set[Path] = set()
    for sign, pattern in re.findall(r"([+-])<([^>]*)>", " ".join(build["srcFilter"])):
        found: set[Path] = set()
        for path in root.glob(pattern.rstrip("/")):
            found |= set(path.rglob("*")) if path.is_dir() else {path}
        chosen = chosen | found if sign == "+" else chosen - found
    return {str(p.relative_to(FIRMWARE)) for p in chosen if p.suffix in (".c", ".cpp")}


def project_libraries(project: str) -> dict[str, Path]:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(FIRMWARE / project / "platformio.ini")
    deps = ini[f"env:{project}"]["lib_deps"].split()
    libs = {}
    for dep in deps:
        name, _, url = dep.partition("=symlink://")
        if url:
            libs[name] = (FIRMWARE / project / url).resolve()
    return libs


def test_no_firmware_source_includes_a_c_file() -> None:
    offenders = [
        f"{path.relative_to(FIRMWARE)}: {line.strip()}"
        for path in FIRMWARE.rglob("*")
        if path.suffix in (".c", ".cpp", ".h")
        for line in path.read_text().splitlines()
        if re.match(r'\s*#\s*include\s*[<"][^>"]*\.c(pp)?[>"]', line)
    ]
    assert offenders == []


def test_each_esp32_project_links_the_portable_code_as_libraries() -> None:
    for project in PROJECTS:
        libs = project_libraries(project)
        assert set(libs) == {"clicker-common", "clicker-app"}, project
        for name, path in libs.items():
            assert json.loads((path / "library.json").read_text())["name"] == name
        # the project's own sources are the board's half of the HAL, nothing else
        assert [p.name for p in (FIRMWARE / project / "src").iterdir()] == ["main.cpp"]


def test_the_libraries_hold_the_sources_the_emulated_board_links(tmp_path: Path) -> None:
    """`make -n` lists what the RV32 images compile into their archives: the same files as the
    PlatformIO libraries, so the code run in QEMU is the code flashed on an ESP32."""
    plan = subprocess.run(
        ["make", "-n", "-C", str(FIRMWARE), f"BUILD={tmp_path}", "images"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    compiled = set(re.findall(r" -c -o \S+ (\S+\.c)", plan))
    libs = project_libraries("keypad")
    pio = library_sources(libs["clicker-common"]) | library_sources(libs["clicker-app"])
    assert compiled == pio
    assert {"common/clk_wire.c", "common/clk_keypad.c", "app/clk_receiver_app.c"} <= pio
    assert not any(p.startswith("common/host/") for p in pio)
