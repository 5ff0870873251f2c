"""The `connector` command line: thin commands that parse, call and render."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Reconcile a marketing automation platform with Salesforce.")


def main() -> None:
    app()
