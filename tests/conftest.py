"""Shared fixtures: small sessions, and a guard that fails any test leaking tasks or threads."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest
from hypothesis import HealthCheck, settings

from hub.commands import OpenPoll
from hub.model import Keypad, PollMode
from hub.proposals import Proposal
from hub.receivers.link import LinkTimings
from hub.session import SessionConfig

# Tests never assert wall-clock times: hypothesis's per-example deadline (200 ms) and its
# too-slow health check are timings, which a loaded 2-core CI machine misses at random.
settings.register_profile("clicker", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("clicker")

# The receiver link's state machine with a shorter heartbeat and backoff, for tests.
FAST_LINK = LinkTimings(ping=0.1, silence=0.6, backoff_start=0.05, backoff_cap=0.3)


def make_config(n_keypads: int = 5, n_props: int = 3, **kw) -> SessionConfig:
    proposals = [
        Proposal(i, f"Fiche {i}", "écologique" if i % 2 else "sociale") for i in range(1, n_props + 1)
    ]
    roster = [Keypad(1000 + i, i) for i in range(1, n_keypads + 1)]
    # Session nonce 0, the default of a Press built in a test: such presses belong to this
    # session. Tests of the nonce itself give one (tests/test_session.py, test_replay.py).
    kw.setdefault("nonce", 0)
    return SessionConfig(title="Test", proposals=proposals, roster=roster, **kw)


@pytest.fixture
async def open_hub(tmp_path):
    """A running hub of 10 keypads with a grades poll open on the first fiche."""
    from hub.engine import Engine
    from hub.journal import Journal

    h = await Engine.open(Journal(tmp_path / "s.db"), make_config(n_keypads=10))
    await h.act(OpenPoll(PollMode.GRADES))
    yield h
    await h.stop()


@pytest.fixture
def config() -> SessionConfig:
    return make_config()


@pytest.fixture(autouse=True)
async def no_leaks():
    """Every test leaves no task running and no thread behind (the loop's default executor,
    which pyserial uses to open ports, is shut down first, as asyncio.run would)."""
    before = {t.ident for t in threading.enumerate()}
    loop = asyncio.get_running_loop()
    unread: list[str] = []  # "exception was never retrieved": a failure nobody heard of

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if "never retrieved" in context.get("message", ""):
            unread.append(f"{context['message']}: {context.get('exception')!r}")
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    yield
    gc.collect()  # futures dropped by the test report their unread exception now
    loop.set_exception_handler(None)
    assert not unread, f"exceptions nobody retrieved: {unread}"
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not left, f"tasks leaked by the test: {[t.get_name() for t in left]}"
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 10)
    for t in threading.enumerate():
        if t.ident not in before and t is not threading.current_thread():
            t.join(timeout=2)
    leaked = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not leaked, f"threads leaked by the test: {leaked}"
