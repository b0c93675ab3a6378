"""Simulated devices that talk bytes: keypads and the members who press them (voters.py), the
lossy radio between them (ether.py), receivers that speak the wire protocol over TCP or a pty
(receiver.py), the same receivers as firmware on emulated boards (qemu.py, firmware_receiver.py),
and a room of them (room.py). Nothing here builds a hub: the demo and the replay compose one
with a room, beside ``clicker serve`` (hub/demo.py, hub/replay.py)."""
