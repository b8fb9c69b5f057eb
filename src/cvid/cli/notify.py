"""``cvid notify``: deliver new alerts and deadlines to signed webhooks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cvid.cli._app import handle_errors, out
from cvid.cli.agreement import Database, Dir, _state


@handle_errors
def notify(
    directory: Dir,
    config: Annotated[
        Path,
        typer.Option(
            "--webhooks", help="The webhook configuration (YAML or JSON): endpoints, secrets."
        ),
    ],
    at: Annotated[str | None, typer.Option("--at", help="Notify as of this time.")] = None,
    sent: Annotated[
        Path | None,
        typer.Option("--sent", help="Where deliveries are remembered (default: CONFIG.sent.json)."),
    ] = None,
    database: Database = None,
) -> None:
    """POST each new alert, deadline and overdue step to the configured endpoints,
    signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).
    Run it from a scheduler: what was delivered is not sent again."""
    import httpx  # here: other commands (cvid status) need not load the HTTP client

    from cvid.service import webhooks

    settings = webhooks.load_config(config)
    record = sent or config.with_name(config.name + ".sent.json")
    delivered = webhooks.read_sent(record)
    agreement, state = _state(directory, at, database)
    with agreement, httpx.Client(timeout=webhooks.TIMEOUT_S) as client:
        results = webhooks.deliver(
            settings,
            agreement.roadmap,
            state,
            sent=delivered,
            now=lambda: int(time.time()),
            client=client,
        )
    webhooks.write_sent(record, delivered)
    for r in results:
        answer = str(r.status) if r.status is not None else f"no answer ({r.error})"
        out(f"{r.url} {r.id}: {answer}\n")
    ok = sum(1 for r in results if r.status is not None and 200 <= r.status < 300)
    out(f"delivered {ok} of {len(results)} notices\n")
    if ok < len(results):
        raise typer.Exit(1)
