"""The command line as a person meets it: Ctrl-C in a terminal stops `clicker demo` and `clicker
serve` with the journal kept and its path printed; a port in use or a receiver that cannot be
opened is one line; --help shows flags as flags and every choice; --version."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from hub.cli import app
from hub.verify import verify
from tests.test_session_file import GOOD, write

GUARD = 30.0  # a hang guard for the terminal tests, not a timing claim (bench/door.py times Ctrl-C)
# Runs a command with the pty as its controlling terminal, so Ctrl-C typed there is a SIGINT to
# its process group, as in a real terminal.
CTTY = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """A command in a pseudo-terminal: read what it prints, type Ctrl-C."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CTTY, sys.executable, "-m", "hub", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.output = ""

    def _pump(self, seconds: float) -> None:
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                self.output += os.read(self.master, 65536).decode(errors="replace")
            except OSError:  # the other side closed: the command ended
                time.sleep(seconds)

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + GUARD
        while not (found := re.search(pattern, self.output)):
            assert time.monotonic() < deadline and self.proc.poll() is None, self.output
            self._pump(0.1)
        return found

    def interrupt(self) -> int:
        os.write(self.master, b"\x03")
        deadline = time.monotonic() + GUARD
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "still running after Ctrl-C:\n" + self.output
            self._pump(0.05)
        self._pump(0.2)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def stalled_websocket(base: str) -> socket.socket:
    """A live-state client that completes its handshake and never reads (a tab left behind)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(
        f"GET /ws/live HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    return s


def test_ctrl_c_stops_the_interactive_demo_with_its_journal_kept(tmp_path):
    term = Terminal(["demo", "--port", "0", "--keypads", "20", "--proposals", "3"], tmp_path)
    try:
        base, token = term.wait_for(r"(http://[\d.:]+)/console#token=(\S+)").groups()
        journal = term.wait_for(r"journal: +(\S+)").group(1)
        stalled = stalled_websocket(base)
        r = httpx.post(
            f"{base}/api/polls/open", json={"mode": "grades"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200  # the room is voting when Ctrl-C comes
        assert term.interrupt() == 0
        stalled.close()
    finally:
        term.close()
    assert f"journal kept: {journal}" in term.output and "Traceback" not in term.output
    path = tmp_path / journal
    assert journal.startswith("clicker-demo-") and path.is_file()  # where the user ran it, not a temp dir
    assert verify(path).ok


def test_ctrl_c_stops_serve_and_a_receiver_that_cannot_be_opened_is_said(tmp_path):
    session = write(tmp_path, GOOD)
    db = tmp_path / "s.db"
    term = Terminal(
        ["serve", "--session", str(session), "--db", str(db), "--port", "0", "--receiver", "/dev/ttyNOPE"],
        tmp_path,
    )
    try:
        base = term.wait_for(r"projector: (http://[\d.:]+)/").group(1)
        reason = term.wait_for(r"receiver /dev/ttyNOPE: cannot be opened: (.+) \(retrying\)").group(1)
        assert "ttyNOPE" in reason
        state = httpx.get(f"{base}/api/state").json()  # the console shows the same reason
        assert state["receivers"][0]["last_error"] == reason.strip()
        stalled = stalled_websocket(base)
        assert term.interrupt() == 0
        stalled.close()
    finally:
        term.close()
    assert f"journal kept: {db}" in term.output and "Traceback" not in term.output
    assert term.output.count("cannot be opened") == 1  # said when it changes, not at every retry
    assert verify(db).ok


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_is_one_line_and_a_failure(tmp_path, command):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    args = (
        ["serve", "--session", str(write(tmp_path, GOOD)), "--db", "s.db"] if command == "serve" else ["demo"]
    )
    try:
        out = subprocess.run(
            [sys.executable, "-m", "hub", *args, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    finally:
        taken.close()
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [
        f"clicker: error: cannot listen on 127.0.0.1:{port}: the port is in use (another clicker?); "
        "choose another --port"
    ]
    assert not list(tmp_path.glob("*.db"))  # nothing started, no journal written


def test_version_and_help():
    runner = CliRunner()
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and re.fullmatch(r"clicker \d+\.\d+\.\d+\n", version.stdout)
    demo = runner.invoke(app, ["demo", "--help"]).stdout
    assert re.search(r"^  --headless +No browser", demo, re.M)  # a flag, not "--headless <bool>"
    assert "<bool>" not in demo and "BOOLEAN" not in demo
    assert "--format <csv|json>" in runner.invoke(app, ["export", "--help"]).stdout
    assert "--lang <fr|en>" in runner.invoke(app, ["report", "--help"]).stdout
    assert (
        "--rule <majority-judgment|usual|typical|central>" in runner.invoke(app, ["tally", "--help"]).stdout
    )


def _commands(group, prefix: str = "") -> list:
    out = []
    for name, command in group.commands.items():
        out.append((prefix + name, command))
        if hasattr(command, "commands"):
            out += _commands(command, f"{prefix}{name} ")
    return out


def test_every_option_and_argument_is_described():
    for name, command in _commands(typer.main.get_command(app)):
        assert command.help, f"clicker {name} has no description"
        for param in command.params:
            assert getattr(param, "help", None), f"clicker {name} {param.name} has no description"


@pytest.mark.parametrize(
    ("make", "expected"), [(None, "no such file"), ("dir", "a directory, not a journal")]
)
def test_verify_names_a_missing_or_wrong_journal_once(tmp_path, make, expected):
    target = tmp_path / "nope.db"
    if make == "dir":
        target.mkdir()
    result = CliRunner().invoke(app, ["verify", str(target)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"clicker: error: {target}: {expected}"
