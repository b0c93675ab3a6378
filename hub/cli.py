"""The ``clicker`` command (typer): one sub-command per job."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from hub.tally import Missing, Rule, TallyError, rank
from hub.tally_io import parse_document, ranking_to_json

app = typer.Typer(
    help="clicker: jugement majoritaire avec boîtiers de vote / majority judgment with keypads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """clicker: jugement majoritaire avec boîtiers de vote / majority judgment with keypads."""


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, then a non-zero exit: the contract for bad input."""
    typer.echo(f"clicker: error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def tally(
    file: str = typer.Argument(..., help="JSON tally document, or - for standard input."),
    rule: Rule = typer.Option(Rule.MAJORITY_JUDGMENT, help="Ranking rule."),
    missing: Missing = typer.Option(Missing.REJECT, help="What a missing judgment counts as."),
) -> None:
    """Rank proposals from their merit profiles and print the result as JSON."""
    try:
        if file == "-":
            text = sys.stdin.read()
        else:
            path = Path(file)
            if not path.is_file():
                fail(f"{file}: no such file")
            text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    except OSError as exc:
        fail(f"{file}: {exc.strerror}")
    try:
        scale, tallies, voters = parse_document(text)
        result = rank(tallies, scale, rule, missing, voters)
    except TallyError as exc:
        fail(str(exc))
    typer.echo(json.dumps(ranking_to_json(result), ensure_ascii=False, indent=2))


def main() -> None:
    app()
