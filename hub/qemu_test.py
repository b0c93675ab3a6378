"""``make -C firmware qemu-test``: the firmware images' sizes, the 70-keypad demo session through
receiver firmware on two emulated boards (lossy radio, one receiver power-cycled mid-session),
the keypad firmware scenario, and the relay queue flooded past its bound. The last line of
stdout is one JSON object; the exit status is 0 only when the session's tallies equal the
ground truth and the keypad scenario passes.

    python -m hub.qemu_test --build firmware/build [--keypads 70] [--proposals 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hub.demo import DemoOptions, DemoResult, run_demo
from hub.firmware_scenarios import ScenarioResult, keypad_scenario, relay_queue_limit, run_in_tempdir
from hub.sim.qemu import FIRMWARE_DIR, RV_PREFIX, FirmwareError, Images, build_images

ARM_PREFIX = "arm-none-eabi-"


def image_size(elf: Path, prefix: str) -> dict[str, int]:
    """Flash (code, constants, initial data) and RAM (data, bss, reserved stack) of an image,
    from the linker's sections (``size``, Berkeley format: text, data, bss)."""
    out = subprocess.run([prefix + "size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    return {"flash": text + data, "ram": data + bss}


def flash_by_part(elf: Path) -> dict[str, int]:
    """Code and constants by where they come from (symbol sizes, source files from the debug
    information): the applications, the portable codec and crypto, the board port, and the rest
    (C runtime: start-up, memcpy, 64-bit division)."""
    out = subprocess.run(
        [RV_PREFIX + "nm", "-S", "-l", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    parts = dict.fromkeys(("app", "common", "board"), 0)
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[2] not in "TtRr":
            continue
        for part, folder in (
            ("app", "/firmware/app/"),
            ("common", "/firmware/common/"),
            ("board", "/firmware/boards/"),
        ):
            if folder in fields[4]:
                parts[part] += int(fields[1], 16)
    return {**parts, "runtime": image_size(elf, RV_PREFIX)["flash"] - sum(parts.values())}


def images(build: Path, imgs: Images) -> list[dict[str, Any]]:
    rows = [
        {
            "name": "receiver",
            "board": "qemu-virt-rv32",
            "arch": "rv32imc",
            **image_size(imgs.receiver, RV_PREFIX),
            "flash_by_part": flash_by_part(imgs.receiver),
        },
        {
            "name": "keypad",
            "board": "qemu-virt-rv32",
            "arch": "rv32imc",
            **image_size(imgs.keypad, RV_PREFIX),
            "flash_by_part": flash_by_part(imgs.keypad),
        },
    ]
    return rows


def cortex_m4(build: Path) -> list[dict[str, Any]] | str:
    """The applications on a board that does nothing, for a Cortex-M4 (when the toolchain is here)."""
    if shutil.which(ARM_PREFIX + "gcc") is None:
        return "not measured: arm-none-eabi-gcc is not installed (gcc-arm-none-eabi libnewlib-arm-none-eabi)"
    proc = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), f"BUILD={build}", "m4-images"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return f"not measured: the Cortex-M4 build failed: {proc.stderr.strip()[-300:]}"
    return [
        {
            "name": name,
            "board": "null",
            "arch": "cortex-m4",
            **image_size(build / "m4" / f"{name}.elf", ARM_PREFIX),
        }
        for name in ("receiver", "keypad")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=FIRMWARE_DIR / "build")
    parser.add_argument("--keypads", type=int, default=70)
    parser.add_argument("--proposals", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args(argv)
    try:
        imgs = build_images(args.build)
    except FirmwareError as exc:
        print(f"qemu-test: {exc}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    say(f"receiver session: {args.keypads} keypads, {args.proposals} fiches, through 2 receiver boards")
    try:
        session = asyncio.run(
            run_demo(
                DemoOptions(
                    seed=args.seed, keypads=args.keypads, proposals=args.proposals, firmware=imgs.receiver
                )
            )
        )
    except Exception as exc:  # reported in the JSON, like a mismatch: the run did not pass
        session = DemoResult({"mismatches": [f"the session did not finish: {exc!r}"]})
    say(f"  tallies match the ground truth: {session.ok}")
    say("keypad scenario: keypad board -> receiver board -> hub")
    try:
        scenario = run_in_tempdir(
            lambda workdir: keypad_scenario(imgs, workdir, lambda line: say("  " + line))
        )
    except Exception as exc:
        scenario = ScenarioResult({"scenario_completed": False}, {"error": repr(exc)})
    for name, ok in scenario.checks.items():
        say(f"  {'ok  ' if ok else 'FAIL'} {name}")
    say("relay queue: the receiver board flooded while the hub does not answer")
    relay = run_in_tempdir(lambda workdir: relay_queue_limit(imgs, workdir))
    report = {
        "images": images(args.build, imgs),
        "cortex_m4": cortex_m4(args.build),
        "stack_peak": scenario.details.get("stack_peak"),
        "relay_queue": relay,
        "receiver_session": {
            k: session.summary.get(k)
            for k in (
                "keypads",
                "polls",
                "presses_sent",
                "presses_counted",
                "duplicates",
                "radio_lost",
                "receiver_reboots",
                "receiver_reconnects",
                "receiver_firmware",
                "mismatches",
                "seconds",
            )
        },
        "keypad_scenario": {
            "checks": scenario.checks,
            **{k: v for k, v in scenario.details.items() if k != "stack_peak"},
        },
        "receiver_session_tallies_match_ground_truth": session.ok,
        "keypad_scenario_passed": scenario.passed,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0 if session.ok and scenario.passed else 1


if __name__ == "__main__":
    sys.exit(main())
