"""The hub process's heap as Python's cyclic garbage collector sees it.

A hub that has just started holds ~70,000 objects the collector tracks and that live as long
as the process: imported modules' functions, classes and schemas (FastAPI, pydantic, the
protocol's generated classes) and the session (its roster: one Keypad per keypad, the polls
replayed from the journal). Each full (generation-2) collection walks all of them: 25-43 ms
on the benchmark machine, during which no press is decided and no state published. A day of
5,000 keypads and 200 polls ran 33 such collections, more of them as the day went on, and a
press that arrived during one waited for it: the p99 of press -> state latency over the last
20 polls was 4.7 x that over the first 20 (bench/long_session.py).

``freeze_startup_heap`` collects once, then moves every object alive to the collector's
permanent generation (``gc.freeze``), which no collection walks again: a full collection then
walks only what was made since, and costs the same at the end of the day as at its start.

What it costs: an object frozen is never freed by the collector, only by its reference count
reaching zero, so a reference cycle among frozen objects that becomes garbage later stays in
memory. That is bounded here because what is frozen is what the process keeps anyway until it
stops (modules, the app, the session and its roster, which are replaced only before the first
vote) and is frozen once, not repeatedly through the day: at most the startup heap's size,
never a growth with the day. Called by the programs that run a hub for a day (``clicker serve``
and ``clicker demo``, after the engine is open and the web app built, and the day's benchmark),
never by ``Engine.open``: a process that opens many engines (the tests) relies on the
collector finding their garbage. ``thaw_heap`` undoes it when the hub stops.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect the garbage of the start-up, then keep every object now alive out of every
    later collection. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw_heap() -> None:
    """Give the frozen objects back to the collector (when the hub has stopped)."""
    gc.unfreeze()
