"""``cvid serve``: run an agreement's service (API, tiles, dashboard) with uvicorn."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from cvid.cli._app import handle_errors, out
from cvid.cli.agreement import Database, Dir
from cvid.errors import InputError
from cvid.service.app import run
from cvid.service.core import Limits, open_service


@handle_errors
def serve(
    directory: Dir,
    database: Database = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.", min=1, max=65535)] = 8000,
    witness: Annotated[
        list[str] | None,
        typer.Option(help="A witness of the road map and its URL, as ID=URL (repeatable)."),
    ] = None,
    checkpoint_interval: Annotated[
        float, typer.Option(help="Seconds between checkpoints (when the log grew).")
    ] = 1.0,
    party_rate: Annotated[
        float, typer.Option(help="Events per second one party may submit, sustained.")
    ] = Limits.party_rate,
    examples: Annotated[
        bool, typer.Option(help="Also show the Kazakhstan 1991-2014 worked example.")
    ] = True,
) -> None:
    """Serve an agreement: submit events, read the log and proofs, see the dashboard."""
    if checkpoint_interval <= 0 or party_rate <= 0:
        raise InputError("--checkpoint-interval and --party-rate must be positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    urls = {}
    for spec in witness or []:
        witness_id, sep, url = spec.partition("=")
        if not sep or not witness_id or not url:
            raise InputError(f"--witness {spec!r} is not ID=URL")
        urls[witness_id] = url
    service = open_service(
        str(directory),
        database=database,
        limits=Limits(party_rate=party_rate),
        checkpoint_interval=checkpoint_interval,
        witness_urls=urls,
    )
    out(f"serving {service.roadmap.agreement.id!r} on http://{host}:{port}/\n")
    if not examples:
        run(service, host=host, port=port, examples=None)
        return
    with tempfile.TemporaryDirectory(prefix="cvid-examples-") as scratch:
        run(service, host=host, port=port, examples=Path(scratch))
