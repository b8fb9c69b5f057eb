"""``cvid mirror``: follow a served agreement, verify every checkpoint, keep a copy."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cvid.cli._app import fail, handle_errors, out, read_public_key
from cvid.errors import AuditError, InputError, require_extra
from cvid.log.cosignature import CosignatureVerifier, WitnessPolicy
from cvid.log.note import Verifier

if TYPE_CHECKING:  # imported when a mirror runs: `cvid status` need not load them
    import uvicorn  # the dashboard (--serve) needs the service extra; imported on use

    from cvid.mirror import Mirror

if TYPE_CHECKING:  # the server is the service extra's: imported only to serve
    import uvicorn

FORK_EXIT = 6  # a fork or rollback: the alarm


@handle_errors
def mirror(
    url: Annotated[str, typer.Argument(help="The service's base URL.")],
    directory: Annotated[
        Path, typer.Argument(help="The mirror's directory (created on first use).")
    ],
    vkey: Annotated[
        str, typer.Option(help="The log's verifier key: key text or a file holding it.")
    ],
    witness_vkey: Annotated[
        list[str] | None,
        typer.Option(
            help="A witness's cosignature verifier key, text or file (repeatable): "
            "every checkpoint must carry --witness-threshold of their cosignatures."
        ),
    ] = None,
    witness_threshold: Annotated[
        int | None,
        typer.Option(help="Cosignatures required (default: every --witness-vkey).", min=1),
    ] = None,
    interval: Annotated[
        float, typer.Option(help="Seconds between rounds when following.", min=0.01)
    ] = 2.0,
    once: Annotated[
        bool, typer.Option(help="Do one round (catch up with the latest checkpoint), then exit.")
    ] = False,
    rounds: Annotated[int | None, typer.Option(help="Stop after this many rounds.", min=1)] = None,
    serve: Annotated[
        int | None,
        typer.Option(help="Also serve the mirror's own read-only dashboard on this port."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address the dashboard binds.")] = "127.0.0.1",
    timeout: Annotated[float, typer.Option(help="Seconds for each HTTP request.", min=0.1)] = 30.0,
) -> None:
    """Mirror a served agreement: verify each checkpoint against the last,
    re-admit new entries, keep the state; stop with an alarm (exit 6) on a
    fork or rollback.

    Without --once or --rounds it follows until interrupted, retrying rounds
    that fail to reach the service; any other refusal stops it (exit 3).

    Each round fetches the signed checkpoint, checks its cosignatures (with
    --witness-vkey), proves it consistent with the last checkpoint verified,
    fetches the new entries from the published tiles, recomputes the root and
    admits every entry under the road map's rules. A restart resumes from the
    last checkpoint verified.
    """
    if serve is not None:
        require_extra("service", "cvid mirror --serve")
    verifier = Verifier.from_text(read_public_key(vkey, "--vkey"))
    policy = None
    if witness_vkey:
        keys = tuple(
            CosignatureVerifier.from_text(read_public_key(k, "--witness-vkey"))
            for k in witness_vkey
        )
        policy = WitnessPolicy(threshold=witness_threshold or len(keys), witnesses=keys)
    elif witness_threshold is not None:
        raise InputError("--witness-threshold needs --witness-vkey")
    limit = 1 if once else rounds
    import httpx

    from cvid.mirror import Mirror

    with httpx.Client(timeout=timeout) as client:
        mirrored = Mirror.open(url, directory, verifier, client=client, policy=policy)
        server = None
        try:
            if serve is not None:
                server = _serve(mirrored, host, serve)
            _follow(mirrored, interval, limit)
            if server is not None and limit is not None:
                _wait(server)
        finally:
            if server is not None:
                server.should_exit = True
            mirrored.close()


def _follow(mirrored: Mirror, interval: float, limit: int | None) -> None:
    from cvid.mirror import ForkError, status_line

    done = 0
    while limit is None or done < limit:
        if done:
            time.sleep(interval)
        try:
            step = mirrored.follow()
        except ForkError as e:
            fail(f"ALARM: {e}")
            raise typer.Exit(FORK_EXIT) from e
        except AuditError as e:
            if limit is not None:
                raise
            # the service is unreachable or a file is missing for now: try again later
            warn(f"round failed, retrying in {interval:g} s: {e}")
            time.sleep(interval)
            continue
        done += 1
        if step.admitted or done == 1:
            out(status_line(mirrored, step) + "\n")


def warn(message: str) -> None:
    sys.stderr.write("cvid: warning: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()


def _serve(mirrored: Mirror, host: str, port: int) -> uvicorn.Server:
    import uvicorn

    from cvid.mirror import mirror_app

    config = uvicorn.Config(
        mirror_app(mirrored), host=host, port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="cvid-mirror-dashboard")
    thread.start()
    out(f"serving the mirror's dashboard on http://{host}:{port}/\n")
    return server


def _wait(server: uvicorn.Server) -> None:
    """With a bounded number of rounds and a dashboard: serve until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        while not server.should_exit:
            time.sleep(0.5)
