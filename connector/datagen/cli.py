"""``generate-data``: the generator on the command line (a Typer sub-app).

Mounted by the main CLI; also run by ``scripts/generate_data.py``. The summary
goes to stdout (``--format json`` prints JSON alone), progress to stderr.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from connector.datagen.generate import DEFAULT_AS_OF, generate
from connector.normalize import parse_timestamp


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


datagen_app = typer.Typer(
    add_completion=False, no_args_is_help=False,
    help="Generate a demo/benchmark MAP file export and a matching Salesforce seed.")


def _as_of(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None


def _table(summary: dict[str, Any]) -> Table:
    table = Table(title="Generated data", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in summary.items():
        if isinstance(value, dict):
            for sub, n in value.items():
                table.add_row(f"{key}.{sub}", str(n))
        else:
            table.add_row(key, str(value))
    return table


@datagen_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory: writes OUT/map "
                                      "(MAP file export) and OUT/sf (Salesforce seed).")
                   ] = Path("demo-data"),
    people: Annotated[int, typer.Option(min=1, help="People rows in the MAP export.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: same arguments, same bytes.")] = 42,
    dirty: Annotated[float, typer.Option(min=0.0, max=0.99, help="Share of people rows and "
                                         "of touch rows carrying a defect.")] = 0.05,
    file_format: Annotated[FileFormat, typer.Option("--file-format",
                                                    help="Format of the MAP export tables.")
                           ] = FileFormat.csv,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The data's 'now', ISO 8601 with offset; default "
        f"{DEFAULT_AS_OF.isoformat()} (fixed, so output is reproducible).")] = None,
    touches_per_person: Annotated[float, typer.Option(min=0.0, max=1000.0,
                                                      help="Average touches per person.")
                                  ] = 10.0,
    signal: Annotated[bool, typer.Option(
        "--signal", help="Plant a known relationship for learned scoring: closed "
        "opportunities are won mostly when the primary buyer is an executive or VP and "
        "a buyer attended a webinar or event (README: Learned scoring).")] = False,
    account_signal: Annotated[bool, typer.Option(
        "--account-signal", help="Plant an account-level relationship: mid-market "
        "companies get opportunities far more often than others (README: Learned "
        "scoring).")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="How to print the summary.")
                      ] = OutputFormat.table,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write a MAP file export and the Salesforce seed the emulator loads."""
    when = _as_of(as_of)
    err = Console(file=sys.stderr)
    show = not quiet and err.is_terminal
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=not show) as bar:
        task = bar.add_task("people", total=people)
        try:
            result = generate(out, people=people, seed=seed, dirty=dirty,
                              fmt=file_format.value, as_of=when,
                              touches_per_person=touches_per_person, signal=signal,
                              account_signal=account_signal,
                              progress=lambda done: bar.update(task, completed=done))
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    if output is OutputFormat.json:
        typer.echo(json.dumps(result.summary, indent=2))
        return
    console = Console()
    console.print(_table(result.summary))
    console.print(f"MAP file export (MAP_FILES_DIR): {result.map_dir}")
    console.print(f"Salesforce seed for the emulator: {result.sf_dir}")
