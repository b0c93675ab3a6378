"""The firmware run as firmware: the receiver and keypad images, cross-built for RV32IMC with
-Werror, on QEMU's virt machine, against the real hub (hardware.md, "The emulated board").
Without the cross toolchain or QEMU these tests fail with the command that installs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.firmware_scenarios import keypad_scenario, relay_queue_limit
from hub.sim.qemu import FIRMWARE_DIR, RV_PREFIX, Images, build_images, missing_tools

LIMITS = {"flash": 256 * 1024, "ram": 64 * 1024}  # boards/qemu-virt-rv32/memory.ld


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Images:
    missing = missing_tools()
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: install with sudo apt-get install gcc-riscv64-unknown-elf "
            "picolibc-riscv64-unknown-elf qemu-system-misc (or bash scripts/system-deps.sh)"
        )
    return build_images(tmp_path_factory.mktemp("fw-images"))


def symbols(elf: Path) -> set[str]:
    out = subprocess.run([RV_PREFIX + "nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines()}


def test_images_build_with_werror_and_carry_the_portable_applications(images):
    """The Makefile builds with -Wall -Wextra -Werror (a warning fails the fixture); the images
    hold the applications and the codec that the ESP32 builds compile."""
    assert {"clk_receiver_app_step", "clk_relay_add", "clk_stream_feed"} <= symbols(images.receiver)
    assert {"clk_keypad_app_step", "clk_keypad_press", "clk_cmac_aes128"} <= symbols(images.keypad)
    for elf in (images.receiver, images.keypad):
        out = subprocess.run([RV_PREFIX + "size", str(elf)], capture_output=True, text=True, check=True)
        text, data, bss = (int(x) for x in out.stdout.splitlines()[1].split()[:3])
        assert 0 < text + data <= LIMITS["flash"] and 0 < data + bss <= LIMITS["ram"]


def test_board_nvs_keeps_old_or_new_value_under_a_power_cut_at_every_byte(tmp_path):
    proc = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), f"BUILD={tmp_path}", str(tmp_path / "host" / "test_nvs")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = subprocess.run([str(tmp_path / "host" / "test_nvs")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip().endswith("28 passed, 0 failed"), run.stdout + run.stderr


def test_demo_session_through_receiver_firmware_matches_ground_truth(images):
    """`clicker demo --firmware` as a user runs it: two receiver boards between the lossy radio
    and the hub, one power-cycled mid-session, every tally equal to the ground truth."""
    args = ("demo", "--headless", "--firmware", "--keypads", "20", "--proposals", "4", "--seed", "7")
    out = subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["tallies_match_ground_truth"] is True
    assert summary["polls"] == 5
    assert summary["receiver_firmware"] == ["1.1.0"]  # HELLO_ACK from the firmware, not the simulator
    assert summary["receiver_reboots"] == 1 and summary["receiver_reconnects"] >= 1
    assert summary["radio_lost"] > 0 and summary["duplicates"] > 0


async def test_keypad_firmware_in_the_loop(images, tmp_path):
    """Green only after `counted`, retries on loss, the counter across a power cut, the poll
    forgotten in deep sleep, red when refused, "no answer", MICs the hub verifies."""
    result = await keypad_scenario(images, tmp_path)
    assert len(result.checks) == 10
    assert result.checks == dict.fromkeys(result.checks, True), result.details


async def test_relay_queue_keeps_the_newest_64_and_counts_the_dropped(images, tmp_path):
    r = await relay_queue_limit(images, tmp_path, offered=100)
    assert (r["heard"], r["queued"], r["dropped"]) == (100, 64, 36)
    assert r["repeated"] == 64 and r["kept_newest"] is True
