"""A receiver of the simulated room that is the receiver firmware itself, running on the
emulated qemu-virt-rv32 board: the room's keypads reach it through the lossy ether and its
radio channel, the hub opens its UART0 as ``socket://``. A reboot is a power cut of QEMU and
a fresh boot (new boot id, empty relay queue), exactly what the hub sees of a real one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

from hub.aio import cancel_and_wait
from hub.sim.ether import Ether
from hub.sim.qemu import BROADCAST, Board, RadioPort, parse_air, radio_address
from hub.wire.advert import encode_advert
from hub.wire.framing import FrameError
from hub.wire.messages import PollStateMessage, PressMessage, PressResult


class FirmwareReceiver:
    """The room's side of one emulated receiver (same interface as ``VirtualReceiver``)."""

    def __init__(
        self,
        name: str,
        ether: Ether,
        rng: random.Random,
        on_result: Callable[[PressResult], None],
        on_poll_state: Callable[[PollStateMessage], None],
        elf: Path,
        workdir: Path,
    ) -> None:
        self.name = name
        self.ether = ether
        self.rng = rng
        self.on_result = on_result
        self.on_poll_state = on_poll_state
        self.board = Board(name, elf, workdir, "tcp")
        self.board.provision({"id": rng.getrandbits(32)})
        self.radio: RadioPort | None = None
        self.rx_ok = 0
        self.reboots = 0
        self.dropped = 0  # the firmware's own count travels in its STATUS to the hub
        self.misaddressed = 0  # a result to another keypad's address, a unicast POLL_STATE
        self.unknown = 0  # datagrams that do not parse
        self._tasks: list[asyncio.Task[None]] = []

    # --- radio --------------------------------------------------------------------------------

    def hear(self, press: PressMessage) -> None:
        """A keypad's transmission reached this receiver's antenna (the ether decided loss)."""
        if self.radio is None:
            return
        self.rx_ok += 1
        rssi = -40 - self.rng.randrange(50)
        self.radio.deliver(radio_address(press.keypad_id), rssi, encode_advert(press))

    def _from_firmware(self, dst: bytes, air: bytes) -> None:
        """A datagram the firmware sent (a type byte, then the payload): POLL_STATE broadcast,
        PRESS_RESULT to the keypad that pressed."""
        try:
            msg = parse_air(air)
        except FrameError:
            self.unknown += 1
            return
        if isinstance(msg, PollStateMessage) and dst == BROADCAST:
            self.on_poll_state(msg)  # the room's ether decides who hears it
        elif isinstance(msg, PressResult) and dst in (BROADCAST, radio_address(msg.keypad_id)):
            self.ether.transmit(self.on_result, msg)
        else:
            self.misaddressed += 1

    # --- the board --------------------------------------------------------------------------------

    async def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Power the board on; returns the URL the hub opens (on ``port`` if given)."""
        if port:
            self.board.port = port
        await self._boot()
        return self.board.url

    async def serve_pty(self) -> str:
        raise ValueError("a firmware receiver's hub link is a TCP socket (no --pty)")

    async def _boot(self) -> None:
        await self.board.start()
        self.radio = RadioPort(self.board.radio_path, self._from_firmware)
        await self.radio.open()

    async def _power_cycle(self) -> None:
        await self._power_off()
        await asyncio.sleep(0.2)  # off long enough for the hub to notice
        await self._boot()

    async def _power_off(self) -> None:
        radio, self.radio = self.radio, None
        if radio is not None:
            await radio.close()
        await self.board.power_cut()

    def reboot(self) -> None:
        """Power-cycle the board: the relay queue is lost, a new boot id is announced."""
        self.reboots += 1
        self._tasks.append(asyncio.create_task(self._power_cycle(), name=f"{self.name} power cycle"))

    def drop_connection(self) -> None:
        """The power cut of ``reboot`` already drops the hub's connection."""

    async def close(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        await self._power_off()
