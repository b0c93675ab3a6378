"""Small asyncio helpers shared by the edges."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel tasks we own and wait for them to end.

    Unlike ``with suppress(CancelledError): await task``, this never swallows a cancellation
    aimed at the caller itself (which would leave it running forever).
    """
    owned = [t for t in tasks if t is not None]
    for t in owned:
        t.cancel()
    if owned:
        await asyncio.wait(owned)
    for t in owned:
        if not t.cancelled():
            t.exception()  # retrieved: a failure while stopping is not worth a warning


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with a time limit; on Python 3.11 ``asyncio.wait_for`` can swallow a cancellation of
    the caller when the inner awaitable finishes at the same moment, ``asyncio.timeout`` cannot."""
    async with asyncio.timeout(seconds):
        return await awaitable
