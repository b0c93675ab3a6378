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

_BREAK = re.compile(r"\s*\n\s*")


class ClickerError(Exception):
    """An error clicker raises on purpose; its message is one line (line breaks inside it,
    from a library's message say, are folded)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(_BREAK.sub(" ", message.strip()))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""
