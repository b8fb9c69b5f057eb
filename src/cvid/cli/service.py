"""``cvid serve``: run an agreement's service (API, tiles, dashboard) with uvicorn."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from cvid._limits import ConnectionLimits
from cvid.cli._app import handle_errors, out
from cvid.cli.agreement import Database, Dir
from cvid.errors import InputError, require_extra
from cvid.service.core import BURST_SECONDS, MIN_BURST, Limits, open_service

_CONNECTIONS = ConnectionLimits()


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
        float,
        typer.Option(
            help="Events per second one party may submit, sustained. Refused events count "
            "too: for the party that signed them, or else for the client's address."
        ),
    ] = Limits.party_rate,
    party_burst: Annotated[
        int | None,
        typer.Option(
            help=f"Events one party may submit at once before its rate applies "
            f"(default: {BURST_SECONDS:g} s of --party-rate, at least {MIN_BURST}). "
            "A batch with more of one party's events is refused.",
            min=1,
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes that parse submitted events and check their signatures before "
            "the writer admits them (default 0: the writer does it). They relieve the "
            "serving process for batches, but cost more CPU in all for single events.",
            min=0,
            show_default=False,
        ),
    ] = None,
    header_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a client has to send a request's headers, from connecting or "
            "from the request's first byte (then 408 and the connection is closed)."
        ),
    ] = _CONNECTIONS.header_timeout,
    body_timeout: Annotated[
        float,
        typer.Option(help="Seconds a client has to send a request's body (then 408, closed)."),
    ] = _CONNECTIONS.body_timeout,
    keep_alive: Annotated[
        int, typer.Option(help="Seconds an idle connection stays open between requests.", min=1)
    ] = _CONNECTIONS.keep_alive,
    connections_per_address: Annotated[
        int,
        typer.Option(
            help="Open connections one client address may hold (more are answered 503). "
            "Behind a proxy, every client has the proxy's address.",
            min=1,
        ),
    ] = _CONNECTIONS.per_address,
    max_connections: Annotated[
        int, typer.Option(help="Open connections in all (more requests are answered 503).", min=1)
    ] = _CONNECTIONS.max_connections,
    examples: Annotated[
        bool, typer.Option(help="Also show the Kazakhstan 1991-2014 worked example.")
    ] = True,
    reverify: Annotated[
        bool,
        typer.Option(
            "--reverify",
            help="Admit every logged entry again at start (signatures and all), "
            "without the snapshot.",
        ),
    ] = False,
) -> None:
    """Serve an agreement: submit events, read the log and proofs, see the dashboard.

    Each party's submissions are rate-limited (--party-rate, --party-burst), and
    each connection is bounded in time and number (--header-timeout, --body-timeout,
    --keep-alive, --connections-per-address, --max-connections).
    """
    require_extra("service", "cvid serve")
    from cvid.service.app import run

    if min(checkpoint_interval, party_rate, header_timeout, body_timeout) <= 0:
        raise InputError(
            "--checkpoint-interval, --party-rate, --header-timeout and --body-timeout "
            "must be positive"
        )
    connections = ConnectionLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive=keep_alive,
        per_address=connections_per_address,
        max_connections=max_connections,
    )
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
        limits=Limits(party_rate=party_rate, party_burst=party_burst, workers=workers),
        checkpoint_interval=checkpoint_interval,
        witness_urls=urls,
        reverify=reverify,
    )
    out(f"serving {service.roadmap.agreement.id!r} on http://{host}:{port}/\n")
    if not examples:
        run(service, host=host, port=port, examples=None, connections=connections)
        return
    with tempfile.TemporaryDirectory(prefix="cvid-examples-") as scratch:
        run(service, host=host, port=port, examples=Path(scratch), connections=connections)
