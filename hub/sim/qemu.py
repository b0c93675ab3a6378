"""The firmware images on the emulated qemu-virt-rv32 board: building them, provisioning their
NVS, starting and power-cutting QEMU, and the board's radio channel seen from the simulator.

One board is one ``qemu-system-riscv32 -M virt`` process whose RAM is a shared file: the NVS
region inside it (firmware/boards/qemu-virt-rv32/nvs.c) survives a reboot and a power cut, a
test writes it before the first boot (the keypad's id, counter and AES key) and reads it after.
Powering a board on zeroes its RAM but the NVS (volatile memory, and the word the keypad
keeps across deep sleep, lose power; flash does not). UART0 is the receiver's hub link (a TCP
socket the hub opens as ``socket://``) or the keypad's key-and-LED panel (a Unix socket); the
radio is a PCI 16550 whose Unix socket carries one COBS frame per datagram: ``dst[6] |
payload`` out of the firmware, ``src[6] | rssi | payload`` into it. The ether in between
(loss, duplication, delay) is the simulator's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cobs import cobs

from hub.aio import cancel_and_wait, within
from hub.errors import ClickerError
from hub.protocol import MessageType, Reject
from hub.wire.framing import FrameError
from hub.wire.messages import PollStateMessage, PressResult

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
INSTALL = (
    "sudo apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"
    "  (or: bash scripts/system-deps.sh)"
)
QEMU = "qemu-system-riscv32"
RV_PREFIX = "riscv64-unknown-elf-"

RAM_BASE = 0x80000000
RAM_SIZE = 4 << 20
NVS_ADDR = 0x801F0000
NVS_BANK = 512
NVS_ENTRIES = 10
NVS_MAGIC = 0x31564E43  # "CNV1"
_ENTRY = struct.Struct("<12sBB32s")
STACK_PAINT = 0x5AC4C0DE

BROADCAST = b"\xff" * 6


class FirmwareError(ClickerError):
    """The toolchain or QEMU is missing, an image does not build, a board does not start."""


def missing_tools() -> list[str]:
    """The programs the emulated firmware needs that this machine lacks."""
    need = [QEMU, RV_PREFIX + "gcc", RV_PREFIX + "size", RV_PREFIX + "nm"]
    missing = [t for t in need if shutil.which(t) is None]
    if shutil.which(RV_PREFIX + "gcc") and not _picolibc_present():
        missing.append("picolibc-riscv64-unknown-elf")
    return missing


def _picolibc_present() -> bool:
    return Path("/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs").exists()


def require_tools() -> None:
    missing = missing_tools()
    if missing:
        raise FirmwareError(f"missing {', '.join(missing)}: install with {INSTALL}")


@dataclass(frozen=True)
class Images:
    receiver: Path
    keypad: Path


def build_images(build: Path) -> Images:
    """``make -C firmware images`` into ``build`` (incremental); the paths of the two ELFs.
    Blocking: call it before the event loop runs, or in a thread."""
    require_tools()
    if not (FIRMWARE_DIR / "Makefile").exists():
        raise FirmwareError(f"{FIRMWARE_DIR}: no firmware sources (run from a clone of the repository)")
    proc = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), f"BUILD={build}", "images"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise FirmwareError(f"the firmware images do not build:\n{proc.stdout}{proc.stderr}")
    return Images(build / "rv32" / "receiver.elf", build / "rv32" / "keypad.elf")


# --- NVS -------------------------------------------------------------------------------------------


def _nvs_bank(values: dict[str, int | bytes], seq: int) -> bytes:
    if len(values) > NVS_ENTRIES:
        raise ValueError(f"the NVS holds at most {NVS_ENTRIES} values")
    body = bytearray(struct.pack("<II", NVS_MAGIC, seq))
    for name, value in values.items():
        raw = struct.pack("<I", value) if isinstance(value, int) else value
        if len(name.encode()) >= 12 or len(raw) > 32:
            raise ValueError(f"NVS value {name!r}: name under 12 bytes, value at most 32")
        body += _ENTRY.pack(name.encode(), 1 if isinstance(value, int) else 2, len(raw), raw)
    body += bytes(NVS_BANK - 4 - len(body))
    return bytes(body) + struct.pack("<I", zlib.crc32(body))


def _parse_bank(raw: bytes) -> tuple[int, dict[str, int | bytes]] | None:
    magic, seq = struct.unpack_from("<II", raw)
    if magic != NVS_MAGIC or struct.unpack_from("<I", raw, NVS_BANK - 4)[0] != zlib.crc32(raw[:-4]):
        return None
    values: dict[str, int | bytes] = {}
    for i in range(NVS_ENTRIES):
        name, kind, length, value = _ENTRY.unpack_from(raw, 8 + i * _ENTRY.size)
        if kind == 1:
            values[name.rstrip(b"\0").decode()] = struct.unpack_from("<I", value)[0]
        elif kind == 2:
            values[name.rstrip(b"\0").decode()] = value[:length]
    return seq, values


def provision(ram: Path, values: dict[str, int | bytes]) -> None:
    """A board's RAM file, blank but for an NVS that holds ``values`` (u32 or bytes)."""
    with ram.open("wb") as f:
        f.truncate(RAM_SIZE)
        f.seek(NVS_ADDR - RAM_BASE)
        f.write(_nvs_bank(values, 1) + bytes(NVS_BANK))


def read_nvs(ram: Path) -> dict[str, int | bytes]:
    """The values in force in a board's NVS, as its firmware would read them."""
    with ram.open("rb") as f:
        f.seek(NVS_ADDR - RAM_BASE)
        raw = f.read(2 * NVS_BANK)
    b0, b1 = _parse_bank(raw[:NVS_BANK]), _parse_bank(raw[NVS_BANK:])
    if b0 and b1:  # the newer by sequence number, wrapping as the firmware compares
        return b1[1] if 0 < ((b1[0] - b0[0]) & 0xFFFFFFFF) < 0x80000000 else b0[1]
    return (b0 or b1 or (0, {}))[1]


def _power_on_ram(ram: Path) -> None:
    nvs = NVS_ADDR - RAM_BASE
    with ram.open("r+b") as f:
        f.write(bytes(nvs))
        f.seek(nvs + 2 * NVS_BANK)
        f.write(bytes(RAM_SIZE - nvs - 2 * NVS_BANK))


def stack_peak(elf: Path, ram: Path) -> int:
    """The deepest the stack went in a run (bytes), from the pattern the board painted."""
    symbols = {}
    out = subprocess.run([RV_PREFIX + "nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in ("__heap_end", "__stack"):
            symbols[parts[2]] = int(parts[0], 16)
    low, top = symbols["__heap_end"], symbols["__stack"]
    with ram.open("rb") as f:
        f.seek(low - RAM_BASE)
        words = struct.unpack(f"<{(top - low) // 4}I", f.read(top - low))
    untouched = next((i for i, w in enumerate(words) if w != STACK_PAINT), len(words))
    return top - (low + 4 * untouched)


# --- the radio channel ------------------------------------------------------------------------------


def parse_air(air: bytes) -> PressResult | PollStateMessage:
    """What the receiver sends keypads: the message's type byte, then its payload."""
    if air[:1] == bytes([MessageType.PRESS_RESULT]):
        return PressResult.from_payload(air[1:])
    if air[:1] == bytes([MessageType.POLL_STATE]):
        return PollStateMessage.from_payload(air[1:])
    raise FrameError(Reject.UNKNOWN_TYPE, f"air datagram of type {air[:1].hex() or 'none'}")


def radio_address(keypad_id: int) -> bytes:
    """The radio (MAC) address the simulator gives a keypad: locally administered, from its id."""
    return b"\x02\x00" + keypad_id.to_bytes(4, "big")


class RadioPort:
    """The simulator's end of a board's radio: datagrams the firmware sends are handed to
    ``on_datagram(dst, payload)``; ``deliver`` puts one into the firmware's receiver."""

    def __init__(self, path: Path, on_datagram: Callable[[bytes, bytes], None]) -> None:
        self.path = path
        self.on_datagram = on_datagram
        self.bad = 0
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, limit: float = 10.0) -> None:
        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            while True:
                with contextlib.suppress(FileNotFoundError, ConnectionRefusedError):
                    return await asyncio.open_unix_connection(str(self.path))
                await asyncio.sleep(0.02)

        reader, self._writer = await within(connect(), limit)
        self._task = asyncio.create_task(self._read(reader), name=f"radio {self.path.name}")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buf = b""
        while data := await reader.read(4096):
            buf += data
            *frames, buf = buf.split(b"\0")
            for raw in frames:
                try:
                    frame = cobs.decode(raw)
                except cobs.DecodeError:
                    self.bad += 1
                    continue
                if len(frame) < 6:
                    self.bad += 1
                    continue
                self.on_datagram(frame[:6], frame[6:])

    def deliver(self, src: bytes, rssi: int, payload: bytes) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(cobs.encode(src + struct.pack("<b", rssi) + payload) + b"\0")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
            self._writer = None


# --- one board ---------------------------------------------------------------------------------------


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Board:
    """One emulated board: ``start`` powers it on, ``power_cut`` kills QEMU (RAM but the NVS
    file's content is lost with it), ``start`` again boots the same NVS."""

    def __init__(self, name: str, elf: Path, workdir: Path, uart0: str) -> None:
        """``uart0``: ``"tcp"`` (a port the hub connects to) or ``"unix"`` (a socket at
        ``workdir/NAME.uart0``)."""
        self.name = name
        self.elf = elf
        self.ram = workdir / f"{name}.ram"
        self.radio_path = workdir / f"{name}.radio"
        self.uart0_path = workdir / f"{name}.uart0"
        self.uart0 = uart0
        self.port = free_tcp_port() if uart0 == "tcp" else 0
        self.boots = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr = workdir / f"{name}.qemu.log"

    @property
    def url(self) -> str:
        """What the hub opens (``--receiver``) when UART0 is the hub link."""
        return f"socket://127.0.0.1:{self.port}"

    def provision(self, values: dict[str, int | bytes]) -> None:
        provision(self.ram, values)

    def command(self) -> list[str]:
        serial = (
            f"tcp:127.0.0.1:{self.port},server=on,wait=off,nodelay=on"
            if self.uart0 == "tcp"
            else f"unix:{self.uart0_path},server=on,wait=on"  # the hart starts once the panel is open
        )
        return [
            QEMU,
            "-M",
            "virt,memory-backend=ram",
            "-object",
            f"memory-backend-file,id=ram,size={RAM_SIZE},mem-path={self.ram},share=on",
            "-m",
            f"{RAM_SIZE >> 20}M",
            "-smp",
            "1",
            "-bios",
            "none",
            "-kernel",
            str(self.elf),
            "-display",
            "none",
            "-nodefaults",
            "-monitor",
            "none",
            "-serial",
            serial,
            "-chardev",
            f"socket,id=radio,path={self.radio_path},server=on,wait=off",
            "-device",
            "pci-serial,chardev=radio",
        ]

    async def start(self) -> None:
        """Power on: RAM blank but for the NVS, then QEMU boots the image."""
        if not self.ram.exists():
            provision(self.ram, {})
        _power_on_ram(self.ram)
        for path in (self.radio_path, self.uart0_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        with self._stderr.open("ab") as err:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        self.boots += 1
        await within(self._until_listening(), 10)

    async def _until_listening(self) -> None:
        """QEMU creates its sockets before the hart runs; wait for them (or for its failure).
        A Unix UART0 holds QEMU back until a client connects to it: only that one exists."""
        assert self._proc is not None
        while not (self.uart0_path.exists() if self.uart0 == "unix" else self.radio_path.exists()):
            if self._proc.returncode is not None:
                raise FirmwareError(f"{self.name}: QEMU exited: {self._stderr.read_text()[-500:]}")
            await asyncio.sleep(0.01)

    async def open_link(self, limit: float = 10.0) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to the TCP UART0 as the hub would (QEMU may not listen yet just after start)."""

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            while True:
                with contextlib.suppress(ConnectionRefusedError):
                    return await asyncio.open_connection("127.0.0.1", self.port)
                await asyncio.sleep(0.02)

        return await within(connect(), limit)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def power_cut(self) -> None:
        """SIGKILL: no chance to finish anything, as when the cable is pulled."""
        if self._proc is None:
            return
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        await within(self._proc.wait(), 10)
        self._proc = None
        for path in (self.radio_path, self.uart0_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
