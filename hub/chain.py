"""A long journal's hash chain checked by a child process while this one recounts it.

Restarting on a whole day's journal (a million presses) replays it before the hub answers
anyone, and ``clicker verify`` does the same: the recount is sequential Python on one core, and
the chain's SHA-256, which needs nothing from the recount, is a sixth of it. With a second core,
``python -m hub.chain JOURNAL [LAST]`` checks every row and hash (``journal.check_chain``: the reader's
checks, in its order) while this process reads the same rows without hashing them, taking each
record's link as stored. Once both are done, the first problem by record wins, the child's on
the same record (its checks come first in the reader's order), so the verdict is the one a
single pass gives, word for word: tests/test_chain.py holds them together.

Only past ``CHILD_FROM`` records (starting a child costs about 0.1 s), on the default VFS (a
test's crash VFS lives in this process only), and with two cores to run on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHILD_FROM = 100_000  # records: below it, one process is as fast
# How long the hub waits for a child's verdict, beyond which it checks the chain itself: the
# child checks a million records in under 2 s here, so this leaves a slow machine 20 times that.
TIMEOUT_S = 30.0  # seconds, plus:
TIMEOUT_PER_RECORD_S = 40e-6


@dataclass(frozen=True)
class ChainVerdict:
    """How far the child got: ``checked`` records passed, the last one's ``head`` (hex), and
    the ``problem`` with the next one ("" when none)."""

    checked: int
    head: str
    problem: str = ""


class ChainBeside:
    """The child checking a journal's chain; ``outcome`` combines its verdict with this
    process's pass, ``stop`` ends it early (both kill it if it is still running)."""

    def __init__(self, proc: subprocess.Popen[bytes], records: int = 0) -> None:
        self._proc = proc
        self._records = records

    @classmethod
    def start(cls, path: Path, records: int, vfs: str | None = None) -> ChainBeside | None:
        """A child checking the journal at ``path`` up to record ``records`` (a hub may be
        appending to it), or None when checking here is as good (a short journal, a test VFS,
        one core) or no child can be started."""
        if records < CHILD_FROM or vfs is not None or _cores() < 2:
            return None
        try:
            proc = subprocess.Popen(
                # -P: not the current folder first on its path (another checkout's hub may lie
                # there), so that it runs this hub's code
                [sys.executable, "-P", "-m", "hub.chain", str(path), str(records)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": _with_this_hub(os.environ.get("PYTHONPATH", ""))},
            )
        except OSError:
            return None
        return cls(proc, records)

    def verdict(self, timeout: float | None = None) -> ChainVerdict | None:
        """The child's verdict, or None if it gave none (it failed, or took longer than
        ``timeout``, by default ``TIMEOUT_S`` and ``TIMEOUT_PER_RECORD_S`` a record)."""
        if timeout is None:
            timeout = TIMEOUT_S + TIMEOUT_PER_RECORD_S * self._records
        try:
            out, _ = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None
        try:
            doc: Any = json.loads(out)
            return ChainVerdict(int(doc["checked"]), str(doc["head"]), str(doc["problem"]))
        except (ValueError, KeyError, TypeError):
            return None

    def outcome(self, consumed: int, failed: bool, head: str, check_here: Callable[[], ChainVerdict]) -> str:
        """After this process's pass (``consumed`` records, then a failure or, if not
        ``failed``, the end at ``head``): the problem to report instead of its own, "" when its
        own outcome stands. ``check_here()`` checks the chain in this process if the child gave
        no verdict."""
        verdict = self.verdict() or check_here()
        if verdict.problem and verdict.checked <= consumed:
            return verdict.problem
        if not failed and (verdict.checked != consumed or verdict.head != head):
            checked = verdict.checked
            return f"the journal changed while it was read ({checked} records checked, {consumed} read)"
        return ""

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.communicate()


def _cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _with_this_hub(path: str) -> str:
    """PYTHONPATH with this ``hub`` package's folder first: the child runs the same code."""
    here = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join([here, path]) if path else here


def check_file(path: str | Path, until: int | None = None) -> ChainVerdict:
    """The chain of the journal at ``path`` up to record ``until``, checked in this process
    (JournalError if it cannot be opened)."""
    from hub.journal import JournalReader  # the child's entry point: the journal imports this module

    with JournalReader(path) as reader:
        return ChainVerdict(*reader.check_chain(until))


def main(argv: list[str]) -> int:
    """Print the verdict as JSON; exit 2, printing nothing, if the journal cannot be opened (the
    parent, which could, then checks the chain itself)."""
    from hub.journal import JournalError

    try:
        verdict = check_file(argv[0], int(argv[1]) if len(argv) > 1 else None)
    except (JournalError, ValueError):
        return 2
    print(json.dumps({"checked": verdict.checked, "head": verdict.head, "problem": verdict.problem}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
