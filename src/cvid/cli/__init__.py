"""The ``cvid`` command line: one module per command group, thin over the library."""

from __future__ import annotations

import typer

from cvid.cli.log import app as log_app

app = typer.Typer(
    name="cvid",
    help="cvid: a phased, verifiable disarmament road map as a public, signed log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(log_app, name="log")


def main() -> None:
    """Entry point of the ``cvid`` script."""
    app()
