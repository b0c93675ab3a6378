"""Value types shared by the tally, the session engine and the edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hub.protocol import UNKNOWN_POLL, PollMode, PressStatus

__all__ = [
    "CONSENT_COLOURS",
    "CONSENT_NAMES",
    "DEFAULT_CONSENT_KEYS",
    "DEFAULT_GRADE_KEYS",
    "UNKNOWN_POLL",
    "GradeScale",
    "Keypad",
    "PollMode",
    "Press",
    "PressStatus",
    "Proposal",
]

FRENCH_7 = ("À rejeter", "Insuffisant", "Passable", "Assez bien", "Bien", "Très bien", "Excellent")
ENGLISH_7 = ("To reject", "Insufficient", "Passable", "Fairly good", "Good", "Very good", "Excellent")
FRENCH_6 = ("À rejeter", "Insuffisant", "Passable", "Assez bien", "Bien", "Très bien")
ENGLISH_6 = ("To reject", "Insufficient", "Passable", "Fairly good", "Good", "Very good")
FRENCH_5 = ("À rejeter", "Insuffisant", "Passable", "Bien", "Très bien")
ENGLISH_5 = ("To reject", "Insufficient", "Passable", "Good", "Very good")

_ENGLISH_OF = {FRENCH_7: ENGLISH_7, FRENCH_6: ENGLISH_6, FRENCH_5: ENGLISH_5}


@dataclass(frozen=True)
class GradeScale:
    """An ordered verbal scale, worst grade first (index 0 is the worst).

    ``english`` holds the English names when the scale is one of the standard ones, so the
    display and the report can switch language without a second source of truth.
    """

    names: tuple[str, ...] = FRENCH_7
    english: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = tuple(self.names)
        object.__setattr__(self, "names", names)
        if len(names) < 2:
            raise ValueError("a grade scale needs at least 2 grades")
        if any(not isinstance(n, str) or not n.strip() for n in names):
            raise ValueError("grade names must be non-empty strings")
        if len(set(names)) != len(names):
            raise ValueError("grade names must be distinct")
        english = self.english if self.english is not None else _ENGLISH_OF.get(names)
        if english is not None:
            english = tuple(english)
            if len(english) != len(names):
                raise ValueError("English names must match the scale's length")
        object.__setattr__(self, "english", english)

    @classmethod
    def french(cls, size: int = 7) -> GradeScale:
        """The standard French scale of 5, 6 or 7 grades."""
        scales = {7: FRENCH_7, 6: FRENCH_6, 5: FRENCH_5}
        if size not in scales:
            raise ValueError(f"no standard scale of {size} grades (5, 6 or 7)")
        return cls(scales[size])

    @classmethod
    def english_scale(cls, size: int = 7) -> GradeScale:
        """The standard English scale of 5, 6 or 7 grades."""
        scales = {7: ENGLISH_7, 6: ENGLISH_6, 5: ENGLISH_5}
        if size not in scales:
            raise ValueError(f"no standard scale of {size} grades (5, 6 or 7)")
        return cls(scales[size], english=scales[size])

    def __len__(self) -> int:
        return len(self.names)

    def name(self, index: int, lang: str = "fr") -> str:
        """The grade's name in ``lang`` ("fr" gives the scale's own names)."""
        if lang == "en" and self.english is not None:
            return self.english[index]
        return self.names[index]

    def index(self, name: str) -> int:
        return self.names.index(name)


CONSENT_COLOURS = ("green", "yellow", "orange", "red")
CONSENT_NAMES = {
    "fr": {"green": "vert", "yellow": "jaune", "orange": "orange", "red": "rouge"},
    "en": {"green": "green", "yellow": "yellow", "orange": "orange", "red": "red"},
}
DEFAULT_GRADE_KEYS = "1234567"
DEFAULT_CONSENT_KEYS = {"A": "green", "B": "yellow", "C": "orange", "D": "red"}
# PressStatus (the hub's answer to a press), PollMode and UNKNOWN_POLL are codes of the wire
# protocol, declared once in protocol/wire.toml and re-exported here.


@dataclass(frozen=True)
class Proposal:
    """A fiche-action: its number, its title, and what the projector and the report show of it."""

    number: int
    title: str
    transition: str = ""
    subject: str = ""
    text: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self) -> str:
        return f"Fiche {self.number}"

    def to_json(self) -> dict[str, Any]:
        """As the journal and the live state hold it (``extra`` only when there is some)."""
        doc: dict[str, Any] = {
            "number": self.number,
            "title": self.title,
            "transition": self.transition,
            "subject": self.subject,
            "text": self.text,
        }
        if self.extra:
            doc["extra"] = self.extra
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Proposal:
        """From ``to_json``'s form (KeyError or TypeError for a row that is not one: a person's
        file is checked before, by hub/proposals.py)."""
        return cls(
            doc["number"],
            doc["title"],
            doc.get("transition", ""),
            doc.get("subject", ""),
            doc.get("text", ""),
            doc.get("extra", {}),
        )


@dataclass(frozen=True)
class Keypad:
    """A keypad of the roster: its radio id, the short number on its label, who holds it."""

    keypad_id: int
    number: int
    holder: str = ""
    assembly: str = ""
    key: bytes | None = None  # AES-128 key when the keypad signs its presses
    enrolled: bool = False  # True when it joined an open session unannounced (flagged)
    # The highest counter this keypad used in earlier sessions (the keypad store, kept in the
    # roster file by `clicker keypads sync`): a press at or below it is from another session.
    counter: int = 0

    def to_json(self) -> dict[str, Any]:
        """As the roster file and the journal hold it (the key in hex; no counter when 0)."""
        doc: dict[str, Any] = {
            "keypad_id": self.keypad_id,
            "number": self.number,
            "holder": self.holder,
            "assembly": self.assembly,
        }
        if self.key:
            doc["key"] = self.key.hex()
        if self.counter:
            doc["counter"] = self.counter
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Keypad:
        """From ``to_json``'s form (a person's roster is checked before, by hub/roster.py)."""
        return cls(
            int(doc["keypad_id"]),
            int(doc["number"]),
            doc.get("holder", ""),
            doc.get("assembly", ""),
            bytes.fromhex(doc["key"]) if doc.get("key") else None,
            counter=int(doc.get("counter", 0)),
        )


class Press(NamedTuple):
    """A press as the hub received it: the wire fields plus where and when it arrived.

    A NamedTuple, not a frozen dataclass: just as immutable, and five times cheaper to build,
    which counts at tens of thousands of presses a second (bench/ingest.py).
    """

    keypad_id: int
    counter: int
    poll_id: int
    item: int
    key: str
    battery: int = 0xFF
    rssi: int = 0
    age_ms: int = 0
    mic: int = 0
    receiver: str = ""
    at: float = 0.0  # hub time of arrival, seconds
    session_nonce: int = 0  # the session the keypad signed for (docs/protocol.md, "Sessions")
