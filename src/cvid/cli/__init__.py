"""The ``cvid`` command line: one module per command group, thin over the library."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from cvid import __version__
from cvid.cli._app import fail, out
from cvid.cli.agreement import agreement_app, event_app, report, roadmap_app, status
from cvid.cli.escrow import beacon_app, escrow_app, inspect_app
from cvid.cli.log import app as log_app
from cvid.cli.mirror import mirror
from cvid.cli.monitor import monitor_app
from cvid.cli.notify import notify
from cvid.cli.reference import ref_app
from cvid.cli.service import serve
from cvid.cli.sim import game_app, sim_app
from cvid.cli.verify import verify_app
from cvid.cli.witness import witness_app

app = typer.Typer(
    name="cvid",
    help="cvid: a phased, verifiable disarmament road map as a public, signed log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        out(f"cvid {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print cvid's version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """cvid: a phased, verifiable disarmament road map as a public, signed log."""


app.add_typer(log_app, name="log")
app.add_typer(roadmap_app, name="roadmap")
app.add_typer(agreement_app, name="agreement")
app.add_typer(event_app, name="event")
app.add_typer(escrow_app, name="escrow")
app.add_typer(beacon_app, name="beacon")
app.add_typer(inspect_app, name="inspect")
app.add_typer(verify_app, name="verify")
app.add_typer(ref_app, name="ref")
app.add_typer(witness_app, name="witness")
app.add_typer(sim_app, name="sim")
app.add_typer(game_app, name="game")
app.add_typer(monitor_app, name="monitor")
app.command("status")(status)
app.command("report")(report)
app.command("serve")(serve)
app.command("mirror")(mirror)
app.command("notify")(notify)


def main() -> None:
    """Entry point of the ``cvid`` script: usage errors, too, are one line and exit 2."""
    try:
        code = app(standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):
        fail("aborted")
        sys.exit(1)
    except Exception as e:
        # Typer's bundled click raises its usage errors with format_message/exit_code;
        # typer does not export their class, so they are recognised by shape.
        format_message = getattr(e, "format_message", None)
        if format_message is None:
            raise
        fail(format_message())
        sys.exit(getattr(e, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


def run() -> None:
    """The ``cvid`` script: :func:`main`, then an exit that skips freeing every object.

    A command that opened a large agreement holds millions of objects when it ends;
    the interpreter would spend about a second freeing them one by one (10^6 events:
    1.2 s of a 3.1 s ``cvid status``) before the process exits, which frees them all at
    once. Output is flushed and logging shut down first; a command that succeeded has
    closed its log, snapshots and temporary files by the time it returns. A command that
    failed exits as usual, so that whatever it had open is closed (a SQLite log leaves
    no ``-wal`` or ``-shm`` file behind).
    """
    try:
        main()
        code = 0
    except SystemExit as e:
        if isinstance(e.code, str):
            sys.stderr.write(e.code + "\n")
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    if code != 0:  # a refusal ends as usual: what the command left open is closed
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (cvid status | head)
            code = 1
    logging.shutdown()
    os._exit(code)
