"""``cvid witness …``: a party's node as a C2SP tlog-witness.

Command names and options here are a public contract.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cvid._when import parse_when
from cvid.cli._app import (
    SECRET_KEY_HELP,
    handle_errors,
    out,
    read_public_key,
    read_secret_key,
    write_new_key,
)
from cvid.errors import ConfigError, require_extra
from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import NoteVerifier, Verifier

witness_app = typer.Typer(
    help="Run a witness that cosigns consistent checkpoints.", no_args_is_help=True
)


@witness_app.command()
@handle_errors
def keygen(
    name: Annotated[str, typer.Argument(help="The witness's key name, e.g. witness.ch.example.")],
    keyfile: Annotated[Path, typer.Option("--out", help="Where to write the secret key.")],
) -> None:
    """Write a new cosigning key to KEYFILE (mode 0600) and print its verifier key."""
    signer = CosignatureSigner.generate(name)
    write_new_key(keyfile, signer.to_text())
    out(signer.verifier.to_text() + "\n")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    sock.listen(128)
    return sock


@witness_app.command()
@handle_errors
def serve(
    key: Annotated[
        Path, typer.Option("--key", help=f"The witness's cosigning key: {SECRET_KEY_HELP}.")
    ],
    log_keys: Annotated[
        list[str],
        typer.Option(
            "--log-key",
            help="A log's verifier key (text or file); its name is the log's origin. Repeatable.",
        ),
    ],
    state: Annotated[Path, typer.Option("--state", help="SQLite file of the witness's state.")],
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Beyond loopback, put the witness behind TLS.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8080,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="What the witness's clock reads when it starts (a date, or an RFC 3339 "
            "time with offset); it advances in real time from there. For a witness of a "
            "replayed or demo history, so that its cosignatures are dated on the "
            "history's clock. By default the machine's clock.",
        ),
    ] = None,
) -> None:
    """Serve POST /add-checkpoint until interrupted.

    Prints one line, ``listening on http://HOST:PORT``, once connections are accepted.
    Connections are bounded as the service's are by default: headers within 10 s,
    a body within 20 s, 5 s idle, 64 per client address, 4096 in all. Log lines on
    standard error are dated in UTC on the witness's clock (see ``--now``).
    """
    # Imported here: the web stack is not loaded for every other command.
    require_extra("service", "cvid witness serve")
    from cvid.witness.server import Clock, advancing_clock, create_witness_app
    from cvid.witness.server import serve as serve_witness

    clock: Clock = lambda: int(time.time())  # noqa: E731
    if now is not None:
        clock = advancing_clock(parse_when(now, "--now"), time.monotonic)

    signer = CosignatureSigner.from_text(read_secret_key(key, "--key"))
    logs: dict[str, list[NoteVerifier]] = {}
    for text in log_keys:
        verifier = Verifier.from_text(read_public_key(text, "log verifier key"))
        logs.setdefault(verifier.name, []).append(verifier)
    if not logs:
        raise ConfigError("give at least one --log-key")
    _log_on(offset=0.0 if now is None else clock() - time.time())
    app = create_witness_app(signer, logs, str(state), clock=clock)
    sock = _listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    out(f"listening on http://{shown}:{bound_port}\n")
    serve_witness(app, sock)


def _log_on(*, offset: float) -> None:
    """Log to standard error, each line dated in UTC, ``offset`` seconds from the
    machine's clock (as the witness's clock reads)."""
    formatter = logging.Formatter("%(asctime)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = lambda seconds: time.gmtime((seconds or 0) + offset)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
