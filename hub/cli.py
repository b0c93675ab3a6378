"""The ``clicker`` command (typer): one sub-command per job."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from hub.errors import named, single_line
from hub.tally import Missing, Rule, TallyError, rank
from hub.tally_io import parse_document, ranking_to_json

if TYPE_CHECKING:  # imported where used: `clicker --help` stays quick
    from rich.console import Console

    from hub.model import Keypad
    from hub.session import SessionConfig
    from hub.sim.qemu import Images

app = typer.Typer(
    help="clicker: jugement majoritaire avec boîtiers de vote / majority judgment with keypads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's help: flags shown as flags, every choice listed
)


class Lang(StrEnum):
    FR = "fr"
    EN = "en"


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"clicker {version('clicker')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """clicker: jugement majoritaire avec boîtiers de vote / majority judgment with keypads."""


def fail(message: str, code: int = 1, details: Sequence[str] = ()) -> NoReturn:
    """One line on stderr, then a non-zero exit: the contract for bad input (``single_line``:
    whatever the message quotes, it stays one printable line of bounded length). ``details``:
    indented lines after it, each one line too (a list of differences, say)."""
    typer.echo(f"clicker: error: {single_line(message)}", err=True)
    for line in details:
        typer.echo(f"  {single_line(line)}", err=True)
    raise typer.Exit(code)


@app.command()
def tally(
    file: str = typer.Argument(..., help="JSON tally document, or - for standard input."),
    rule: Rule | None = typer.Option(
        None, help="Ranking rule [default: the document's 'rule', else majority-judgment]."
    ),
    missing: Missing | None = typer.Option(
        None, help="What a missing judgment counts as [default: the document's 'missing', else reject]."
    ),
) -> None:
    """Rank proposals from their merit profiles and print the result as JSON.

    Reads grades, tallies, voters, rule and missing; the other keys of `clicker export --format
    json` are ignored, so an export pipes in unchanged."""
    try:
        if file == "-":
            text = sys.stdin.read()
        else:
            path = Path(file)
            if not path.is_file():
                fail(f"{named(file)}: {'a directory, not a file' if path.is_dir() else 'no such file'}")
            text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{named(file)}: not UTF-8 text")
    except OSError as exc:
        fail(f"{named(file)}: {exc.strerror}")
    where = "standard input" if file == "-" else named(file)
    try:
        doc = parse_document(text)
        result = rank(
            doc.tallies,
            doc.scale,
            rule or doc.rule or Rule.MAJORITY_JUDGMENT,
            missing or doc.missing or Missing.REJECT,
            doc.voters,
        )
    except TallyError as exc:
        fail(f"{where}: {exc}")
    typer.echo(json.dumps(ranking_to_json(result), ensure_ascii=False, indent=2))


def main() -> None:
    try:
        app()
    except OSError as exc:  # the last net: a file the system refused is one line, not a traceback
        where = named(str(exc.filename)) + ": " if exc.filename else ""
        typer.echo(f"clicker: error: {single_line(where + (exc.strerror or str(exc)))}", err=True)
        sys.exit(1)


def writable_or_fail(path: Path) -> None:
    """An output file that cannot be one (a folder, or in no folder) is said before any work."""
    if path.is_dir():
        fail(f"{named(str(path))}: a directory, not a file")
    if not path.parent.is_dir():
        fail(f"{named(str(path))}: no such folder {named(str(path.parent))}")


def interrupted(journal: Path | None = None) -> None:
    """After Ctrl-C: say so (and where the journal is), exit 130 as a shell expects."""
    typer.echo("clicker: interrupted" + (f"; journal kept: {journal}" if journal else ""), err=True)
    raise typer.Exit(130)


# --- verify -------------------------------------------------------------------------------------


EXIT_INCOMPLETE = 3  # clicker verify: chain and recount intact, but no closing record


def _journal_or_fail(db: Path) -> None:
    """A journal argument that is not a file gets its own one line."""
    if db.is_dir():
        fail(f"{db}: a directory, not a journal")
    if not db.exists():
        fail(f"{db}: no such file")


@app.command()
def verify(
    db: Path = typer.Argument(..., help="The session's journal (SQLite)."),
    head: list[str] = typer.Option(
        [], "--head", help="A head noted during the session (SEQ:HASH, 16+ hex digits); repeatable."
    ),
    heads: Path | None = typer.Option(
        None, "--heads", help="A file of noted heads, one per line (# starts a comment)."
    ),
) -> None:
    """Check the journal's hash chain, recount every poll from the raw presses, and prove that
    it holds every noted head and everything before it.

    Exit status: 0 verified and complete, 1 it does not verify (one line names the first bad
    record, the file's problem or the missing head), 3 verified but incomplete (no closing
    record: copied while the hub ran, or the hub did not stop cleanly). A plenary's journal:
    also every room's chain, and every room's polls recounted from its presses."""
    from hub.federation.audit import is_plenary_journal
    from hub.verify import INCOMPLETE, Head
    from hub.verify import verify as run_verify

    texts = [(f"--head {h}", h) for h in head]
    if heads is not None:
        try:
            lines = heads.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{heads}: {getattr(exc, 'strerror', None) or exc}")
        for n, line in enumerate(lines, 1):
            if line.split("#")[0].strip():
                texts.append((f"{heads}:{n}", line.split("#")[0]))
    noted = []
    for where, text in texts:
        try:
            noted.append(Head.parse(text))
        except ValueError as exc:
            fail(f"{where}: {exc}")
    _journal_or_fail(db)
    if is_plenary_journal(db):
        from hub.federation.commands import verify_plenary_command

        return verify_plenary_command(db, fail)
    verdict = run_verify(db, heads=noted)
    if not verdict.ok:
        fail(verdict.problem if verdict.problem.startswith(f"{db}:") else f"{db}: {verdict.problem}")
    proven = f"; the {len(noted)} noted heads are in it" if noted else ""
    typer.echo(
        f"OK: {verdict.records} records, {verdict.presses} presses, {verdict.polls} polls recounted; "
        f"chain intact{proven}; last record {verdict.seq}, hash {verdict.head}"
    )
    if not verdict.complete:
        typer.echo(f"INCOMPLETE: {INCOMPLETE}", err=True)
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def backup(
    db: Path = typer.Argument(..., help="The session's journal (the hub may be running)."),
    out: Path = typer.Argument(..., help="The copy to write (a new file)."),
) -> None:
    """A complete copy of the journal, safe while the hub runs: SQLite's backup API copies the
    main file and its write-ahead log together into one self-contained file, then the copy is
    verified."""
    from hub.backup import BackupError, backup_journal

    try:
        verdict = backup_journal(db, out)
    except BackupError as exc:
        fail(str(exc))
    state = "complete" if verdict.complete else "up to now (the hub has not stopped: no closing record yet)"
    typer.echo(f"{out}: {verdict.records} records, last {verdict.short_head}, verified, {state}")


# --- demo -----------------------------------------------------------------------------------------


@app.command()
def demo(
    headless: bool = typer.Option(
        False, "--headless", help="No browser: run a scripted session, print JSON."
    ),
    seed: int = typer.Option(2022, help="Seed of the simulated room (same seed, same session)."),
    db: Path | None = typer.Option(
        None, help="The journal to write (default: clicker-demo-DATE-TIME.db in the current folder)."
    ),
    keypads: int = typer.Option(70, min=1, max=5000, help="Simulated keypads."),
    proposals: int = typer.Option(40, min=1, max=40, help="How many of the 40 fiches to vote on."),
    loss: float = typer.Option(0.05, min=0.0, max=0.5, help="Radio loss per transmission."),
    receivers: int = typer.Option(2, min=1, max=4, help="Simulated receivers (each hears every keypad)."),
    speed: float = typer.Option(25.0, min=1.0, help="How much faster than people the room presses."),
    record: Path | None = typer.Option(None, help="Record all serial traffic to this JSONL file."),
    pty: bool = typer.Option(False, "--pty", help="Connect the receivers through ptys instead of TCP."),
    firmware: bool = typer.Option(
        False, "--firmware", help="Receivers run the receiver firmware on an emulated RV32 board (QEMU)."
    ),
    scripted: bool = typer.Option(False, "--scripted", help="Run the scripted session with a progress bar."),
    host: str = typer.Option("127.0.0.1", help="Web server address (interactive demo)."),
    port: int = typer.Option(8000, help="Web server port (interactive demo; 0 = any free port)."),
    rooms: int = typer.Option(
        0, min=0, max=20, help="A convention: this many rooms (members split by assembly) and a plenary."
    ),
) -> None:
    """The hub and a simulated room of keypads through the real serial transport.

    Without --headless: the projector and the console are served (their URLs are printed) and
    the room votes whenever a poll is opened from the console. Ctrl-C stops it; the journal is
    kept (its path is printed) for clicker verify, report and export. With --rooms N (headless
    or scripted): N rooms publish their journals through a NATS server that stops for a third of
    the session, a paper channel and an online import are entered, and the plenary adds
    everything up; --db is then a folder for the rooms' and the plenary's journals."""
    import asyncio

    from rich.console import Console
    from rich.progress import Progress

    from hub.demo import DemoOptions, run_demo

    if rooms:
        return _convention_demo(
            rooms, headless, scripted, record, seed, db, keypads, proposals, loss, receivers, speed, pty
        )
    if db is None:
        db = _fresh_demo_journal()
    elif db.exists():
        fail(f"{db}: already exists (the demo starts a new journal)")
    if record is not None and record.exists():
        fail(f"{record}: already exists (a recording is never overwritten)")
    opts = DemoOptions(
        seed, keypads, proposals, loss, receivers, speed, db, "pty" if pty else "tcp", record=record
    )
    if firmware:
        if pty:
            fail("--firmware: the emulated receiver's hub link is a TCP socket (no --pty)")
        opts.firmware = _firmware_images().receiver
    err = Console(stderr=True)
    try:
        if headless:
            result = asyncio.run(run_demo(opts))
        elif scripted:
            with Progress(console=err, transient=True, disable=not sys.stderr.isatty()) as bar:
                task = bar.add_task("Vote", total=proposals + 1)
                result = asyncio.run(
                    run_demo(opts, lambda what: bar.update(task, advance=1, description=what))
                )
            _print_demo_table(err, result.summary)
        else:
            from hub.demo import run_interactive
            from hub.web.server import PortInUse

            try:
                asyncio.run(run_interactive(opts, host, port, lambda line: typer.echo(line)))
            except KeyboardInterrupt:
                pass  # Ctrl-C is how an interactive demo ends
            except PortInUse as exc:
                fail(str(exc))
            typer.echo(f"journal kept: {db}   (clicker verify {db})")
            return
    except KeyboardInterrupt:
        interrupted(db if db.exists() else None)
    typer.echo(json.dumps({**result.summary, "journal": str(db)}, ensure_ascii=False))
    if not result.ok:
        raise typer.Exit(1)


def _convention_demo(
    rooms: int,
    headless: bool,
    scripted: bool,
    record: Path | None,
    seed: int,
    folder: Path | None,
    keypads: int,
    proposals: int,
    loss: float,
    receivers: int,
    speed: float,
    pty: bool,
) -> None:
    """``clicker demo --rooms N``: the convention's demo (hub/federation/demo.py)."""
    import asyncio

    from rich.console import Console

    from hub.demo import DemoOptions

    if not (headless or scripted) or record is not None:
        fail("--rooms runs with --headless or --scripted (and without --record)")
    if keypads < rooms:
        fail("--rooms: at least one keypad per room")
    if folder is None:
        folder = _fresh_demo_journal().with_suffix("")
    elif folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
        fail(f"{folder}: already exists (the demo writes its journals in a new folder)")
    from hub.federation.demo import run_convention_demo

    opts = DemoOptions(seed, keypads, proposals, loss, receivers, speed, folder, "pty" if pty else "tcp")
    err = Console(stderr=True)
    try:
        result = asyncio.run(
            run_convention_demo(opts, rooms, progress=(lambda what: err.print(what)) if scripted else None)
        )
    except KeyboardInterrupt:
        interrupted(folder if folder.exists() else None)
    typer.echo(json.dumps({**result.summary, "journals": str(folder)}, ensure_ascii=False))
    if not result.ok:
        raise typer.Exit(1)


def _fresh_demo_journal() -> Path:
    """clicker-demo-DATE-TIME.db in the current folder: where the user will look for it."""
    stem = f"clicker-demo-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = Path(f"{stem}.db"), 1
    while path.exists():
        n += 1
        path = Path(f"{stem}-{n}.db")
    return path


def _firmware_images() -> Images:
    """The firmware images for the emulated board, built (incrementally) in firmware/build."""
    from hub.sim.qemu import FIRMWARE_DIR, FirmwareError, build_images

    try:
        return build_images(FIRMWARE_DIR / "build")
    except FirmwareError as exc:
        fail(str(exc))


def _print_demo_table(console: Console, summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="clicker demo")
    table.add_column("")
    table.add_column("", justify="right")
    for key in (
        "keypads",
        "polls",
        "presses_sent",
        "presses_counted",
        "duplicates",
        "frames_rejected_by_hub",
        "receiver_reconnects",
        "journal_commits",
        "seconds",
    ):
        table.add_row(key, str(summary.get(key)))
    table.add_row("tallies = ground truth", "yes" if summary.get("tallies_match_ground_truth") else "NO")
    console.print(table)


# --- replay and sim ---------------------------------------------------------------------------------


@app.command()
def replay(
    file: Path = typer.Argument(
        ..., help="A JSONL traffic file (clicker serve --record, clicker demo --record)."
    ),
    speed: float = typer.Option(1.0, help="Replay this many times faster than recorded."),
    db: Path | None = typer.Option(None, help="Keep the replayed journal here."),
) -> None:
    """Replay recorded receiver traffic into a fresh hub and compare the tallies."""
    import asyncio

    from rich.console import Console
    from rich.progress import Progress

    from hub.replay import replay as run_replay
    from hub.traffic import TrafficError, outline

    if speed <= 0:
        fail("--speed must be positive")
    try:
        plan = outline(file)  # a bad file is reported before anything starts
        with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("Replay", total=None)
            summary = asyncio.run(
                run_replay(
                    file, speed, db, lambda done, total: bar.update(task, completed=done, total=total), plan
                )
            )
    except KeyboardInterrupt:
        interrupted(db if db is not None and db.exists() else None)
    except TrafficError as exc:
        fail(str(exc))
    if summary["lost_events"]:
        typer.echo(
            f"{file}: {summary['lost_events']} events are missing from the recording (its disk did "
            "not keep up); the replay could not see them",
            err=True,
        )
    typer.echo(json.dumps(summary))
    if not summary["tallies_match"]:
        raise typer.Exit(1)


@app.command()
def sim(
    receivers: int = typer.Option(1, min=1, max=4, help="Virtual receivers to start."),
    keypads: int = typer.Option(70, min=1, max=5000, help="Simulated keypads."),
    port: int = typer.Option(0, help="First TCP port (0: any free port)."),
    loss: float = typer.Option(0.05, min=0.0, max=0.5, help="Radio loss per transmission."),
    seed: int = typer.Option(2022, help="Seed of the simulated room (same seed, same room)."),
    speed: float = typer.Option(1.0, min=0.1, help="Speed of the room (1 = people's pace)."),
    roster: Path | None = typer.Option(
        None,
        help="The keypads' roster: its keypads vote and sign with its keys. If the file does not "
        "exist, the simulated keypads (keys drawn from --seed) are written there for `clicker serve`.",
    ),
    firmware: bool = typer.Option(
        False, "--firmware", help="Receivers run the receiver firmware on an emulated RV32 board (QEMU)."
    ),
) -> None:
    """A simulated room against a running hub: start it, then `clicker serve --receiver URL`."""
    import asyncio
    import tempfile

    from hub.proposals import clermont_fiches
    from hub.roster import save_roster
    from hub.sim.ether import Impairments
    from hub.sim.room import FirmwareRoom, SimRoom

    elf = _firmware_images().receiver if firmware else None

    keys = None
    if roster is not None and roster.exists():
        keys = _load_roster_or_fail(roster)
        unsigned = [k.number for k in keys if k.key is None]
        if unsigned:
            fail(f"{roster}: keypad n° {unsigned[0]} has no key (clicker keypads provision {roster} ...)")

    async def main() -> None:
        boards = tempfile.TemporaryDirectory(prefix="clicker-sim-")
        room = SimRoom(
            clermont_fiches(),
            keypads,
            seed,
            Impairments(loss=loss),
            receivers,
            speed,
            roster=keys,
            firmware=FirmwareRoom(elf, Path(boards.name)) if elf else None,
        )
        if roster is not None and keys is None:
            save_roster(roster, room.roster())
            typer.echo(f"{roster}: the {len(room.keypads)} simulated keypads and their keys")
        try:
            for i, r in enumerate(room.receivers):
                url = await r.serve_tcp(port=port + i if port else 0)
                typer.echo(f"{r.name}: {url}")
            room._tasks.append(asyncio.create_task(room._retransmit(), name="keypad retransmissions"))
            typer.echo("The room votes whenever the hub opens a poll. Ctrl-C to stop.")
            await asyncio.Event().wait()
        finally:
            await room.close()
            boards.cleanup()

    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


# --- keypads ------------------------------------------------------------------------------------------

keypads_app = typer.Typer(
    help="Keypads: list, enrol, provision keys, keep their counters (the keypad store), print the key card.",
    no_args_is_help=True,
)
app.add_typer(keypads_app, name="keypads")


def _load_roster_or_fail(path: Path, missing_ok: bool = False) -> list[Keypad]:
    from hub.imports import InputError
    from hub.roster import load_roster

    if missing_ok and not path.exists():
        return []
    try:
        return load_roster(path)
    except InputError as exc:
        fail(str(exc))


@keypads_app.command("list")
def keypads_list(roster: Path = typer.Argument(..., help="Roster JSON file.")) -> None:
    """The roster as a table (keys are never printed, only whether a keypad has one)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=str(roster))
    for col in ("n°", "keypad id", "holder", "assembly", "key", "counter"):
        table.add_column(col)
    for k in sorted(_load_roster_or_fail(roster), key=lambda k: k.number):
        key = "yes" if k.key else "no"
        table.add_row(str(k.number), f"{k.keypad_id:#010x}", k.holder, k.assembly, key, str(k.counter))
    Console().print(table)


@keypads_app.command("enrol")
def keypads_enrol(
    roster: Path = typer.Argument(..., help="Roster JSON file (created if missing)."),
    keypad_id: str = typer.Option(..., "--id", help="The keypad's radio id: 161 or 0xA1."),
    number: int = typer.Option(..., min=1, help="The short number on its label."),
    holder: str = typer.Option("", help="Who holds it (optional)."),
    assembly: str = typer.Option("", help="Assembly (optional)."),
) -> None:
    """Add a keypad to a roster."""
    from hub.model import Keypad
    from hub.roster import MAX_ID, keypad_id_arg, save_roster, show_id

    keypads = _load_roster_or_fail(roster, missing_ok=True)
    try:
        kid = keypad_id_arg(keypad_id)
    except ValueError:
        fail(f"--id {keypad_id!r}: a keypad id is decimal (161) or hexadecimal (0xA1)")
    if not 0 <= kid <= MAX_ID:
        fail(f"--id {keypad_id}: a keypad id fits in 32 bits (at most 0xFFFFFFFF)")
    if any(k.keypad_id == kid for k in keypads):
        fail(f"keypad {show_id(kid)} is already enrolled")
    if any(k.number == number for k in keypads):
        fail(f"number {number} is already taken")
    save_roster(roster, [*keypads, Keypad(kid, number, holder, assembly)])
    typer.echo(f"enrolled keypad {show_id(kid)} as n° {number}")


@keypads_app.command("provision")
def keypads_provision(
    roster: Path = typer.Argument(..., help="Roster JSON file; keys are added to it (mode 0600)."),
    out: Path = typer.Option(..., help="Folder for one NVS CSV per keypad (nvs_partition_gen.py)."),
) -> None:
    """Give every keypad without a key a random AES-128 key; write its NVS CSV for flashing."""
    from hub.roster import nvs_csv, provision, save_roster

    before = _load_roster_or_fail(roster)
    if out.exists() and not out.is_dir():
        fail(f"--out {named(str(out))}: a file, not a folder")
    after = provision(before)
    out.mkdir(parents=True, exist_ok=True)
    fresh = 0
    for old, new in zip(before, after):
        if old.key is None:
            fresh += 1
        target = out / f"keypad-{new.number:03d}.csv"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(nvs_csv(new))
    save_roster(roster, after)
    typer.echo(f"{fresh} new keys, {len(after)} NVS files in {out}")


@keypads_app.command("sync")
def keypads_sync(
    roster: Path = typer.Argument(..., help="Roster JSON file: its counters are raised (mode 0600)."),
    journals: list[Path] = typer.Argument(..., help="Journals of past sessions (each must verify)."),
) -> None:
    """Keep the keypad store: raise each keypad's counter to the highest its signed presses used
    in these sessions, so that their recorded traffic can never vote in a later session.

    `clicker serve` does it itself when it stops cleanly and its session file names the roster
    file; this is for journals from elsewhere (another hub, a backup, a session resumed without
    its session file). The rest of the roster file is kept as it is."""
    from hub.imports import InputError
    from hub.roster import signed_counters, store_counters
    from hub.verify import verify as run_verify

    _load_roster_or_fail(roster)  # a bad roster is said before the journals are recounted
    highest: dict[int, int] = {}
    for db in journals:
        _journal_or_fail(db)
        verdict = run_verify(db)
        if not verdict.ok or verdict.session is None:
            fail(f"{named(str(db))}: the journal does not verify: {verdict.problem}")
        session = verdict.session
        for kid, n in signed_counters(session.highest, session.keypads).items():
            highest[kid] = max(n, highest.get(kid, 0))
    try:
        moved = store_counters(roster, highest)
    except InputError as exc:
        fail(str(exc))
    typer.echo(f"{roster}: {moved} counters raised from {len(journals)} journal(s)")


@keypads_app.command("card")
def keypads_card(
    lang: Lang = typer.Option(Lang.FR, help="Language of the card."),
    out: Path | None = typer.Option(None, help="Write the card here instead of standard output."),
) -> None:
    """The printed key card: which key means which grade, and the consent colours."""
    from hub.model import CONSENT_NAMES, DEFAULT_CONSENT_KEYS, DEFAULT_GRADE_KEYS, GradeScale

    scale = GradeScale()
    lang = Lang(lang).value  # type: ignore[assignment]
    head = "Touches de vote" if lang == "fr" else "Voting keys"
    lines = [head, "=" * len(head)]
    lines += [f"  {k}  {scale.name(i, lang)}" for i, k in enumerate(DEFAULT_GRADE_KEYS)]
    lines += ["", "Consentement" if lang == "fr" else "Consent"]
    lines += [f"  {k}  {CONSENT_NAMES[lang][c]}" for k, c in DEFAULT_CONSENT_KEYS.items()]
    text = "\n".join(lines) + "\n"
    if out is not None:
        writable_or_fail(out)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


# --- serve ----------------------------------------------------------------------------------------


@app.command()
def serve(
    receiver: list[str] = typer.Option(
        [],
        "--receiver",
        metavar="<device|url>",
        help="Serial device or pyserial URL, e.g. socket://host:port (repeatable).",
    ),
    usb: bool = typer.Option(False, "--usb", help="Also open every USB receiver found by VID:PID."),
    ble: bool = typer.Option(False, "--ble", help="Also connect to BLE receivers (GATT service)."),
    adverts: bool = typer.Option(False, "--adverts", help="Also hear keypads' BLE adverts directly."),
    session: Path | None = typer.Option(
        None, help="Session file (docs/session-file.md); must match the journal's when resuming."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Resume the journal's session as it is, ignoring --session."
    ),
    db: Path = typer.Option(..., help="The session's journal; an existing one is resumed."),
    host: str = typer.Option("127.0.0.1", help="Web server address (0.0.0.0: every network)."),
    port: int = typer.Option(8000, help="Web server port."),
    allow_host: list[str] = typer.Option(
        [],
        "--allow-host",
        metavar="<name>",
        help="Another name the hub is reached by, e.g. hub.local (repeatable).",
    ),
    web: bool = typer.Option(True, "--web/--no-web", help="Serve the projector, console and API."),
    federate: list[str] = typer.Option(
        [], "--federate", help="nats://HOST:PORT: also publish every journal record there (repeatable)."
    ),
    nats_credentials: Path | None = typer.Option(
        None, "--nats-credentials", help="This room's NATS credentials (clicker federation setup)."
    ),
    nats_ca: Path | None = typer.Option(None, "--nats-ca", help="CA certificate for a TLS NATS server."),
    new_token: bool = typer.Option(
        False, "--new-token", help="Replace the console's control token (kept beside the journal)."
    ),
    record: Path | None = typer.Option(
        None, help="Record every receiver's traffic to this JSONL file, for `clicker replay`."
    ),
) -> None:
    """Run the hub with real receivers (resuming the journal if it exists). Ctrl-C stops it.

    With --federate, the hub also publishes its journal to a convention's NATS server, for
    `clicker plenary` (docs/federation.md); the room votes whether or not NATS is reachable."""
    import asyncio

    from hub.engine import JournalRefused
    from hub.imports import InputError
    from hub.runner import RecordRefused, ServeOptions, run_serve
    from hub.session import SessionError
    from hub.session_file import differences, load_session_file, roster_file
    from hub.web.server import PortInUse
    from hub.web.token import token_path

    journaled = _journaled_session_or_fail(db)
    if web and token_path(db).exists() and not token_path(db).is_file():
        fail(f"{named(str(token_path(db)))}: a directory, not the console's control token file")
    config = None
    store = None
    if resume:
        if journaled is None:
            fail(f"--resume: {db} holds no session to resume")
        if session is not None:
            typer.echo(f"resuming {db} as journaled; {session} is ignored (--resume)", err=True)
    elif session is not None:
        try:
            config = load_session_file(session)
            store = roster_file(session)
        except InputError as exc:
            fail(str(exc))
        if journaled is not None:
            diffs = differences(journaled, config)
            if diffs:
                fail(
                    f"{db} holds a different session than {session}:",
                    details=[
                        *diffs,
                        "--resume continues the journal's session (the file ignored), or give a new --db",
                    ],
                )
    elif journaled is None:
        fail(f"{db}: no journal to resume; give --session to start a new one")
    opts = ServeOptions(
        receiver,
        usb,
        ble,
        adverts,
        config,
        db,
        host,
        port,
        web,
        allow_hosts=allow_host,
        new_token=new_token,
        record=record,
    )
    opts.roster_file = store
    if federate or nats_credentials is not None:
        from hub.federation.commands import read_credentials

        cred, servers = read_credentials(nats_credentials, fail, room=True)
        opts.federate = federate or servers
        opts.nats_credentials, opts.nats_ca = cred, str(nats_ca) if nats_ca else None
    status = 0
    try:
        status = asyncio.run(run_serve(opts, lambda line: typer.echo(line, err=True)))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a session ends; run_serve has said where the journal is
    except PortInUse as exc:
        fail(str(exc))
    except SessionError as exc:
        fail(str(exc))
    except JournalRefused as exc:
        fail(f"{db}: {exc}")
    except RecordRefused as exc:
        fail(str(exc))
    if status:
        raise typer.Exit(status)


def _journaled_session_or_fail(db: Path) -> SessionConfig | None:
    """The session a journal holds (None if there is no journal yet), or one line saying why not."""
    from hub.journal import JournalError
    from hub.session import SessionError
    from hub.session_file import journaled_session

    if db.is_dir():
        fail(f"{db}: a directory, not a journal")
    try:
        return journaled_session(db)
    except (JournalError, SessionError) as exc:
        fail(str(exc))


@app.command()
def check(session: Path = typer.Argument(..., help="Session file (docs/session-file.md).")) -> None:
    """Check a session file and the files it names, without starting anything."""
    from hub.imports import InputError
    from hub.session_file import load_session_file

    try:
        config = load_session_file(session)
    except InputError as exc:
        fail(str(exc))
    typer.echo(
        f"OK: {config.title!r}: {len(config.proposals)} fiches, {len(config.roster)} keypads, "
        f"{len(config.scale)} grades, rule {config.rule}, missing {config.missing}"
    )


# --- report and export ------------------------------------------------------------------------------


@app.command()
def report(
    db: Path = typer.Argument(..., help="The session's journal."),
    output: Path = typer.Option(Path("results.pdf"), "-o", "--output", help="The PDF to write."),
    lang: Lang = typer.Option(Lang.FR, help="Language of the report."),
) -> None:
    """The results report (PDF): method, ranking, one merit profile per fiche, participation."""
    from rich.console import Console
    from rich.progress import Progress

    from hub.federation.audit import is_plenary_journal
    from hub.report.pdf import ReportError, build_report

    _journal_or_fail(db)
    writable_or_fail(output)
    if is_plenary_journal(db):
        from hub.federation.report import build_plenary_report

        build_report = build_plenary_report  # the convention's combined results
    try:
        with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("Rapport" if lang == "fr" else "Report", total=None)
            pages = build_report(
                db, output, Lang(lang).value, lambda n, total: bar.update(task, completed=n, total=total)
            )
    except ReportError as exc:
        fail(str(exc))
    typer.echo(f"{output}: {pages} pages")


@app.command()
def export(
    db: Path = typer.Argument(..., help="The session's journal."),
    fmt: ExportFormat = typer.Option(ExportFormat.JSON, "--format", help="Output format."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of standard output."),
    with_presses: bool = typer.Option(
        False, "--with-presses", help="Per-keypad presses (non-anonymous sessions)."
    ),
    assembly: str | None = typer.Option(
        None, "--assembly", help="CSV: this assembly's rows (a plenary's journal: a room, paper or online)."
    ),
) -> None:
    """Tallies per proposal and poll metadata, from a verified journal.

    The JSON pipes into `clicker tally -` unchanged; it holds every assembly's results too."""
    from rich.console import Console
    from rich.progress import Progress

    from hub.journal import read_records
    from hub.records import PressRecord
    from hub.report.export import ExportError, check_presses_allowed, export_csv, export_json
    from hub.verify import verify as run_verify

    _journal_or_fail(db)
    if output is not None:
        writable_or_fail(output)
    from hub.federation.audit import is_plenary_journal

    if is_plenary_journal(db):
        if with_presses:
            fail("--with-presses: export each room's own journal (a plenary never exports presses)")
        from hub.federation.commands import export_plenary_command

        return export_plenary_command(db, str(fmt), output, assembly, fail)
    with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("Recount", total=None)
        verdict = run_verify(db, lambda done, total: bar.update(task, completed=done, total=total))
    if not verdict.ok or verdict.session is None:
        fail(f"{db}: the journal does not verify: {verdict.problem}")
    session = verdict.session
    try:
        check_presses_allowed(session, with_presses)
    except ExportError as exc:
        fail(str(exc))
    journal = {"seq": verdict.seq, "head": verdict.head, "complete": verdict.complete}
    if fmt == "csv":
        if with_presses:
            fail("--with-presses needs --format json")
        try:
            text = export_csv(session, assembly, journal)
        except ExportError as exc:
            fail(str(exc))
    elif assembly is not None:
        fail("--assembly is for --format csv (the JSON holds every assembly)")
    if fmt == "json":
        presses = None
        if with_presses:
            presses = [
                {**r.body.press._asdict(), "status": r.body.status}
                for r in read_records(db)
                if isinstance(r.body, PressRecord)
            ]
        text = json.dumps(export_json(session, presses, journal), ensure_ascii=False, indent=1) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


# --- a convention of several rooms (hub/federation) ----------------------------------------------------

from hub.federation.commands import federation_app, plenary_command  # noqa: E402

app.command("plenary")(plenary_command(fail))
app.add_typer(federation_app, name="federation")
