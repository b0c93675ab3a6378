"""Property tests: valid session files, rosters and fiches files, mutated the ways people and
programs get them wrong (types, keys, encodings, delimiters, quotes, sizes), fed to the command
line and to the API. Each is accepted whole or refused with one line (a 4xx through the API),
never a traceback or a 500; a refusal changes no journal; and whatever is accepted leaves a
session that the live state, the exports and the ranking can all read."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hub.cli import app
from hub.codec import MsgpackCodec
from hub.engine import Engine
from hub.journal import Journal
from hub.live import LiveState
from hub.model import PollMode, Press
from hub.records import SessionRecord
from hub.report.export import export_csv, export_json
from hub.session import Session, SessionConfig
from hub.session_file import load_session_file
from tests.test_imports import client, hub, through_api, through_cli  # noqa: F401  (fixtures)
from tests.test_session_file import GOOD, write

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["70", "false", "reject", "rejet", "0x1F", "clermont-2022", "", " "]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
TOP_KEYS = [*GOOD, "open_roster", "grace_s", "rule", "missing", "require_mic", "anonymous", "grades"]
TOP_KEYS += ["grade_keys", "consent_keys", "colour"]
ENTRY_KEYS = ["number", "title", "transition", "keypad_id", "holder", "key", "extra", "nom"]


@st.composite
def mutated_sessions(draw) -> dict:
    doc = json.loads(json.dumps(GOOD))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "delete", "entry-set", "entry-delete", "size"]))
        if kind == "set":
            doc[draw(st.sampled_from(TOP_KEYS))] = draw(JSON_VALUES)
        elif kind == "delete" and doc:
            doc.pop(draw(st.sampled_from(sorted(doc))))
        elif kind.startswith("entry") and isinstance(
            doc.get(lst := draw(st.sampled_from(["proposals", "roster"]))), list
        ):
            entries = doc[lst]
            if entries and isinstance(entry := entries[draw(st.integers(0, len(entries) - 1))], dict):
                key = draw(st.sampled_from(ENTRY_KEYS))
                if kind == "entry-set":
                    entry[key] = draw(JSON_VALUES)
                else:
                    entry.pop(key, None)
        elif kind == "size":
            doc[draw(st.sampled_from(["title", "missing", "grade_keys"]))] = "x" * draw(st.integers(0, 2000))
    return doc


def readable_by_everything(config: SessionConfig) -> None:
    """The session as the journal records it and replays it, through a poll, the live state, the
    exports and the ranking: what crashed when a bad setting was journaled."""
    codec = MsgpackCodec()  # the journal's own encoding of the session record, and back
    record = codec.decode("session", codec.encode_record(SessionRecord(config))[1])
    assert isinstance(record, SessionRecord)
    session = Session(record.config)
    if session.current is not None:
        session.open_poll(PollMode.GRADES, 10.0)
        for i, keypad in enumerate(session.keypads.values()):
            key = config.grade_keys[i % len(config.grade_keys)]
            session.handle_press(Press(keypad.keypad_id, 1, 1, 0, key, at=11.0))
        session.close_poll(12.0)
        session.finish_grace()
        session.reveal(1)
    LiveState(session).build(1, [], set(), 13.0)
    export_json(session, None)
    export_csv(session)
    session.ranking()


@pytest.fixture
def journal_bytes(tmp_path):
    """A journal that already holds GOOD's session, and the digest of its bytes."""
    import asyncio

    db = tmp_path / "held.db"

    async def create() -> None:
        h = await Engine.open(Journal(db), load_session_file(write(tmp_path, GOOD, "held.json")))
        await h.stop()

    asyncio.run(create())
    return db, hashlib.sha256(db.read_bytes()).hexdigest()


@SETTINGS
@given(doc=mutated_sessions(), encoding=st.sampled_from(ENCODINGS))
def test_mutated_session_files_are_accepted_whole_or_refused_in_one_line(
    tmp_path, journal_bytes, doc, encoding
):
    path = tmp_path / "session.json"
    try:
        path.write_bytes(json.dumps(doc, ensure_ascii=False).encode(encoding))
    except UnicodeEncodeError:
        assume(False)
    runner = CliRunner()
    checked = runner.invoke(app, ["check", str(path)])
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.exception
    event("accepted" if checked.exit_code == 0 else "refused")
    if checked.exit_code == 0:
        readable_by_everything(load_session_file(path))
        return
    line = checked.stderr.strip()  # about the session file, or a file it names
    assert checked.exit_code == 1 and "\n" not in line and line.startswith(f"clicker: error: {tmp_path}/"), (
        line
    )
    # refused by serve too, before anything is written: a new journal is not created, an
    # existing one is not touched
    fresh = tmp_path / "fresh.db"
    served = runner.invoke(app, ["serve", "--session", str(path), "--db", str(fresh), "--no-web"])
    assert served.exit_code == 1 and served.stderr.strip() == line and not fresh.exists()
    db, before = journal_bytes
    served = runner.invoke(app, ["serve", "--session", str(path), "--db", str(db), "--no-web"])
    assert served.exit_code == 1 and served.stderr.strip() == line
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda t: t.strip() != "")


@st.composite
def fiches_files(draw) -> tuple[bytes, bool, list[str]]:
    """A fiches CSV as some program may write it: (bytes, left intact?, expected titles)."""
    numbers = draw(st.lists(st.integers(1, 9999), min_size=1, max_size=6, unique=True))
    titles = [draw(SAFE_TEXT) for _ in numbers]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=delimiter,
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
    )
    writer.writerow(["number", "title", "transition"])
    for n, t in zip(numbers, titles):
        writer.writerow([n, t, draw(st.sampled_from(["", "sociale", "écologique"]))])
    text = out.getvalue()
    intact = True
    damage = draw(st.sampled_from(["none", "none", "quote", "drop-field", "duplicate", "long", "cut"]))
    if damage == "quote":
        at = draw(st.integers(0, len(text)))
        text, intact = text[:at] + '"' + text[at:], False
    elif damage == "drop-field":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(1, len(lines) - 1))
        lines[i] = lines[i].replace(delimiter, "", 1)
        text, intact = "".join(lines), False
    elif damage == "duplicate":
        lines = text.splitlines(keepends=True)
        text, intact = "".join([*lines, lines[-1]]), False
    elif damage == "long":
        text, intact = (
            text + f"{max(numbers) + 1}{delimiter}{'y' * draw(st.integers(250, 5000))}{delimiter}\n",
            False,
        )
    elif damage == "cut":
        text, intact = text[: draw(st.integers(0, len(text)))], False
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data, encoding = text.encode("utf-8"), "utf-8"
    intact = intact and encoding in ("utf-8", "utf-8-sig")
    return data, intact, [t.strip() for t in titles]


@SETTINGS
@given(case=fiches_files())
async def test_fiches_files_get_the_same_answer_from_the_cli_and_the_api(tmp_path, client, hub, case):  # noqa: F811
    data, intact, titles = case
    before = hub.journal.records
    cli_ok, cli_msg = through_cli(tmp_path, data)
    api_ok, api_msg = await through_api(client, data)
    assert cli_ok == api_ok
    event(f"{'accepted' if api_ok else 'refused'}, {'intact' if intact else 'damaged'}")
    if not api_ok:
        assert cli_msg == api_msg and hub.journal.records == before
        assert not intact  # an intact UTF-8 file is never refused
        return
    assert hub.journal.records == before + 1
    if intact:  # accepted whole: every row, every title as written
        assert [p.title for p in hub.session.config.proposals] == titles
    readable_by_everything(hub.session.config)


@st.composite
def roster_files(draw) -> bytes:
    entries = [
        {"keypad_id": draw(st.sampled_from([i, hex(i), f"0x{i:08X}"])), "number": n}
        for n, i in enumerate(
            draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5, unique=True)), 1
        )
    ]
    doc: object = {"keypads": entries} if draw(st.booleans()) else entries
    for _ in range(draw(st.integers(0, 2))):
        entry = entries[draw(st.integers(0, len(entries) - 1))]
        entry[draw(st.sampled_from(["keypad_id", "number", "holder", "key", "nom"]))] = draw(JSON_VALUES)
    return json.dumps(doc, ensure_ascii=False).encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))


@SETTINGS
@given(data=roster_files())
async def test_rosters_get_the_same_answer_from_the_cli_and_the_api(tmp_path, client, hub, data):  # noqa: F811
    before = hub.journal.records
    (tmp_path / "roster.json").write_bytes(data)
    session = write(tmp_path, {**GOOD, "roster": "roster.json"}, "with-roster.json")
    checked = CliRunner().invoke(app, ["check", str(session)])
    r = await client.post("/api/session/roster", content=data, params={"name": "roster.json"}, headers=AUTH)
    assert r.status_code in (200, 422), r.text
    assert (checked.exit_code == 0) == (r.status_code == 200), (checked.output, r.text)
    event(f"status {r.status_code}")
    if r.status_code == 422:
        line = checked.stderr.strip()
        assert line == f"clicker: error: {tmp_path / 'roster.json'}: " + r.json()["detail"].removeprefix(
            "roster.json: "
        )
        assert hub.journal.records == before
    else:
        readable_by_everything(hub.session.config)


AUTH = {"Authorization": "Bearer t0ken"}
