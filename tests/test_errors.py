"""One error tree: every exception clicker defines derives from ClickerError, and its message is
one line."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import hub
import protocol
from hub.errors import ClickerError
from hub.session import SessionError


def _modules() -> list[str]:
    names = []
    for package in (hub, protocol):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):  # running it would run the command
                names.append(info.name)
    return sorted(names)


def test_every_exception_defined_in_clicker_is_a_clicker_error():
    defined = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                defined.append(cls)
    assert len(defined) > 20  # the walk found the hub's errors (journal, session, wire, federation...)
    strays = [f"{c.__module__}.{c.__qualname__}" for c in defined if not issubclass(c, ClickerError)]
    assert strays == []


def test_a_message_is_one_line_and_an_action_refusal_keeps_its_code():
    exc = SessionError("poll 3 is still open:\n  close it first", "poll_active", poll_id=3)
    assert str(exc) == "poll 3 is still open: close it first"
    assert (exc.code, exc.params) == ("poll_active", {"poll_id": 3})
    assert not isinstance(exc, ValueError)  # a refusal is not mistaken for a bad value
