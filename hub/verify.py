"""``clicker verify``: check a journal's hash chain, recount every poll from the raw presses, and
prove that it holds the heads the guarantors noted.

One streaming pass, record by record (memory does not grow with the journal's length, only the
session's own state does). The hub runs the same ``Recount`` on its journal before it answers
anyone, so a journal the hub resumes is one that verify accepts, with the same one-line reason
when it is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hub.errors import ClickerError
from hub.journal import GENESIS, JournalError, JournalReader, Record
from hub.records import CLOSE, PressRecord, apply, press_mismatch
from hub.session import Session
from hub.wal import wal_damage

HEAD_RE = re.compile(r"^(?:(\d+):)?([0-9a-f]{16,64})$")
INCOMPLETE = (
    "no closing record: the journal is incomplete (copied while the hub ran) or the hub did not stop cleanly"
)


class BadJournal(ClickerError):
    """A journal that does not verify; the message is one line naming the first bad record."""


@dataclass(frozen=True)
class Head:
    """A head a guarantor noted: a record's sequence number (optional) and its hash or a prefix."""

    seq: int | None
    prefix: str

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH`` or ``HASH``, the hash in full or its first 16 hex digits at least."""
        m = HEAD_RE.match("".join(text.split()).lower())
        if m is None:
            raise ValueError(f"{text.strip()!r} is not a journal head (SEQ:HASH, 16 to 64 hex digits)")
        return cls(int(m[1]) if m[1] else None, m[2])

    def __str__(self) -> str:
        return f"{self.seq}:{self.prefix}" if self.seq is not None else self.prefix


def short_head(seq: int, head: str) -> str:
    """The form shown on the projector and the console, and noted by the guarantors."""
    return f"{seq}:{head[:16]}"


class Recount:
    """Records in, in order: applies each to a session, checking what the journal recorded
    against the recount, and notes which of the expected heads went by.

    A press is the hot path of a long day's replay (a million of them): it goes straight to the
    session, and the hashes are kept as stored, turned into hex only when read."""

    def __init__(self, heads: Iterable[Head] = ()) -> None:
        self.session: Session | None = None
        self.presses = 0
        self._last: Record | None = None  # the last record applied (only it is kept)
        self._quiet_at: tuple[int, bytes | str] = (0, "")
        self._quiet = False  # no poll in flight (a press never changes it)
        self._by_seq = {h.seq: h for h in heads if h.seq is not None}
        self._loose = {h for h in heads if h.seq is None}
        self.missing_heads = [*self._by_seq.values(), *self._loose]

    @property
    def seq(self) -> int:
        return 0 if self._last is None else self._last.seq

    @property
    def records(self) -> int:
        """Records applied: the journal's are numbered from 1 without a gap."""
        return self.seq

    @property
    def last_kind(self) -> str:
        return "" if self._last is None else self._last.kind

    @property
    def head(self) -> str:
        return GENESIS if self._last is None else self._last.hash

    @property
    def quiet_head(self) -> tuple[int, str]:
        """The last record after which no poll was in flight (a head that may be published)."""
        seq, link = self._quiet_at
        return seq, link if type(link) is str else link.hex()  # type: ignore[union-attr]

    def feed(self, rec: Record) -> None:
        body, session = rec.body, self.session
        try:
            if type(body) is PressRecord and session is not None:
                status, poll_id = session.recount_press(body.press)
                if status != body.status or poll_id != body.poll_id:
                    raise press_mismatch(body, status, poll_id)
                self.presses += 1
            else:
                self.session = session = apply(session, body)
                self._quiet = session is not None and session.quiet
        except (ClickerError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadJournal(f"record {rec.seq} ({rec.kind}): {exc}") from None
        self._last = rec
        if self._quiet:
            self._quiet_at = (rec.seq, rec.link)
        if self.missing_heads:
            self._check_heads(rec)

    def _check_heads(self, rec: Record) -> None:
        noted = self._by_seq.get(rec.seq)
        if noted is not None:
            if not rec.hash.startswith(noted.prefix):
                raise BadJournal(
                    f"record {rec.seq} ({rec.kind}): its hash {rec.hash[:16]}… is not the head {noted} "
                    "that was noted: the journal was changed from this record on"
                )
            self.missing_heads.remove(noted)
        for h in [h for h in self._loose if rec.hash.startswith(h.prefix)]:
            self._loose.discard(h)
            self.missing_heads.remove(h)


@dataclass
class Verdict:
    ok: bool
    complete: bool = False  # the journal ends with the hub's closing record
    records: int = 0
    presses: int = 0
    polls: int = 0
    seq: int = 0
    head: str = GENESIS
    format: int = 0
    problem: str = ""
    session: Session | None = field(default=None, repr=False)

    @property
    def short_head(self) -> str:
        return short_head(self.seq, self.head)


def verify(
    path: str | Path,
    progress: Callable[[int, int], None] | None = None,
    heads: Iterable[Head] = (),
) -> Verdict:
    """Never raises on a bad journal: the verdict names the first bad record, or the file's
    problem, or the first noted head the journal does not contain.

    ``progress(done, total)`` is called as the recount goes (every 1,000 records)."""
    try:
        reader = JournalReader(path)
    except JournalError as exc:
        return Verdict(False, problem=str(exc))
    damage = wal_damage(path)  # what SQLite would silently take as the log's end
    if damage is not None:
        reader.close()
        return Verdict(False, format=reader.format, problem=damage)
    recount = Recount(heads)
    verdict = Verdict(True, format=reader.format)
    try:
        total = reader.last_seq()

        def feed(rec: Record) -> None:
            recount.feed(rec)
            if progress and recount.records % 1000 == 0:
                progress(recount.records, total)

        reader.replay(feed)
    except (JournalError, BadJournal) as exc:
        return _bad(verdict, recount, str(exc))
    except Exception as exc:  # the last resort of "never raises": still one line
        return _bad(verdict, recount, f"after record {recount.seq}: unreadable ({type(exc).__name__}: {exc})")
    finally:
        reader.close()
    if recount.records == 0:
        return _bad(verdict, recount, "the journal is empty")
    if recount.missing_heads:
        noted = recount.missing_heads[0]
        return _bad(
            verdict,
            recount,
            f"head {noted} is not in this journal, which ends at record {recount.seq}: "
            "records noted during the session are missing",
        )
    _fill(verdict, recount)
    verdict.complete = recount.last_kind == CLOSE
    return verdict


def _fill(verdict: Verdict, recount: Recount) -> None:
    verdict.records, verdict.presses = recount.records, recount.presses
    verdict.seq, verdict.head = recount.seq, recount.head
    verdict.session = recount.session
    verdict.polls = len(recount.session.polls) if recount.session else 0


def _bad(verdict: Verdict, recount: Recount, problem: str) -> Verdict:
    _fill(verdict, recount)
    verdict.session = None
    verdict.ok = False
    verdict.problem = problem
    return verdict
