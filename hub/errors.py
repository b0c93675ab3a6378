"""The root of clicker's own errors.

Every error clicker raises on purpose derives from ``ClickerError`` (tests/test_errors.py
checks it), so an edge can tell "clicker refused this, here is why" from a bug with one
``except``. ``str(error)`` is one line a person can act on: what went wrong and where (a file
and its line, a journal record, a receiver). The families, by who has to act:

- input people wrote (a file, a request, a command's argument): ``hub.imports.InputError``
  and its kinds, ``hub.tally.TallyError``, ``hub.traffic.TrafficError``;
- a facilitator's action refused at this moment: ``hub.session.SessionError`` (with a
  ``code`` the console words in its language);
- a journal that cannot be read, does not verify or cannot be written:
  ``hub.journal.JournalError``, ``hub.codec.RecordError``, ``hub.verify.BadJournal``,
  ``hub.records.ReplayMismatch``, ``hub.journal.JournalFailure``, ``hub.backup.BackupError``;
- the hub refusing or stopping: ``hub.engine.HubFailure``, ``hub.engine.JournalRefused``;
- bytes from a device: ``hub.wire.framing.FrameError``, ``hub.receivers.link.LinkLost``;
- documents the hub writes: ``hub.report.export.ExportError``, ``hub.report.pdf.ReportError``;
- a convention of several rooms: the errors of ``hub.federation``.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 500  # characters of a whole message: a terminal line or two, never a file's content
QUOTE_LIMIT = 60  # characters of a value quoted inside a message
NAME_LIMIT = 160  # a file's name or path shown as it is up to this length (else quoted, cut at 120)

# Every character str.splitlines() breaks on, with the blanks around it.
_BREAK = re.compile(r"\s*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]\s*")


def printable(text: str) -> str:
    """``text`` with every character that would not print as itself escaped (no quotes, no cut)."""
    return "".join(_escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    """A character that would not print as itself (a control, format, separator or
    unassigned code point, a lone surrogate), as Python escapes it: \\x00, \\u202e."""
    return ch if ch.isprintable() or ch == " " else repr(ch)[1:-1]


def single_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` as one printable line of at most ``limit`` characters: line breaks folded
    into one space, tabs made spaces, any other character that would not print as itself
    escaped, the end cut with "…". What a message becomes before anyone reads it."""
    if len(text) > 4 * limit:  # bounded work too: a message may have swallowed a whole file
        text = text[: 4 * limit] + "…"
    folded = _BREAK.sub(" ", text).replace("\t", " ").strip()
    line = printable(folded)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def quoted(value: str, limit: int = QUOTE_LIMIT) -> str:
    """Text a person wrote, quoted inside a message as ``repr`` would (so a newline, a NUL or a
    bidirectional override shows as its escape), cut beyond ``limit`` characters with its
    length: ``'abc'… (10,485,760 characters)``."""
    out: list[str] = []
    used = 2
    for ch in value:
        piece = "\\\\" if ch == "\\" else "\\'" if ch == "'" else _escaped(ch)
        if used + len(piece) > limit:
            return "'" + "".join(out) + f"'… ({len(value):,} characters)"
        out.append(piece)
        used += len(piece)
    return "'" + "".join(out) + "'"


def named(name: str) -> str:
    """A file's name or path for a message: as it is when it prints as itself on one line
    (spaces and accents included), else quoted like any other value."""
    plain = 0 < len(name) <= NAME_LIMIT and name == name.strip() and all(ch.isprintable() for ch in name)
    return name if plain else quoted(name, NAME_LIMIT - 40)  # at most NAME_LIMIT: shown as it is again


class ClickerError(Exception):
    """An error clicker raises on purpose; its message is one line of bounded length (line
    breaks inside it, from a library's message say, are folded: ``single_line``)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(single_line(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""
