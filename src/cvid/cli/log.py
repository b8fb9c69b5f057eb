"""``cvid log …``: keys, the log, checkpoints, proofs, audits and tiles.

Command names, options and JSON fields here are a public contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cvid.cli._app import (
    SECRET_KEY_HELP,
    handle_errors,
    out,
    progress_bar,
    read_public_key,
    read_secret_key,
    write_new_key,
)
from cvid.errors import InputError
from cvid.log.audit import audit_log, verify_published, verify_tiles
from cvid.log.note import Signer, Verifier, open_note
from cvid.log.publish import export_tiles
from cvid.log.store import open_store
from cvid.log.tlog import Log

app = typer.Typer(help="The transparency log.", no_args_is_help=True)

Db = Annotated[str, typer.Option("--db", help="SQLite file, or a postgresql:// URL.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
VKey = Annotated[str, typer.Option("--vkey", help="Verifier key text, or a file holding it.")]

BULK = 10_000  # entries above which append shows a progress bar


def _open(db: str) -> Log:
    return Log(open_store(db))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e


def _signer(keyfile: Path) -> Signer:
    return Signer.from_text(read_secret_key(keyfile, "--key"))


def _verifier(vkey: str) -> Verifier:
    return Verifier.from_text(read_public_key(vkey, "verifier key"))


@app.command()
@handle_errors
def keygen(
    name: Annotated[str, typer.Argument(help="Key name: the log's origin for a log key.")],
    keyfile: Annotated[Path, typer.Option("--out", help="Where to write the secret key.")],
) -> None:
    """Write a new Ed25519 signer key to KEYFILE (mode 0600) and print its verifier key."""
    signer = Signer.generate(name)
    write_new_key(keyfile, signer.to_text())
    out(signer.verifier.to_text() + "\n")


@app.command()
@handle_errors
def vkey(
    keyfile: Annotated[Path, typer.Argument(help=f"A signer key: {SECRET_KEY_HELP}.")],
) -> None:
    """Print the verifier key of a signer key (a log's: what auditors and witnesses need)."""
    out(_signer(keyfile).verifier.to_text() + "\n")


@app.command()
@handle_errors
def init(db: Db, origin: Annotated[str, typer.Option(help="The log's origin line.")]) -> None:
    """Create an empty log."""
    Log.check_origin(origin)  # before the store exists: a bad origin creates no file
    with Log.create(open_store(db, create=True), origin) as log:
        out(f"initialised log {log.origin!r} in {log.store.url}\n")


@app.command()
@handle_errors
def append(
    db: Db,
    files: Annotated[list[Path] | None, typer.Argument(help="One entry per file.")] = None,
) -> None:
    """Append entries: each FILE's bytes, or else each line of standard input."""
    if files:
        entries = [_read_bytes(path) for path in files]  # all read before anything is written
    else:
        entries = sys.stdin.buffer.read().split(b"\n")
        if entries and entries[-1] == b"":
            entries.pop()  # the final newline ends the last line, it does not start one
    with _open(db) as log:
        if len(entries) > BULK:
            with progress_bar("appending", None) as _:
                indices = log.append(entries)
        else:
            indices = log.append(entries)
    out("".join(f"{i}\n" for i in indices))


@app.command()
@handle_errors
def checkpoint(
    db: Db,
    key: Annotated[Path, typer.Option("--key", help=f"The log's signer key: {SECRET_KEY_HELP}.")],
) -> None:
    """Sign, keep and print the checkpoint note for the current size."""
    with _open(db) as log:
        out(log.checkpoint(_signer(key)).decode())


@app.command("prove-inclusion")
@handle_errors
def prove_inclusion(
    db: Db,
    index: Annotated[int, typer.Option("--index", help="Leaf index.")],
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size (default: current).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the inclusion proof of entry INDEX in the tree of SIZE."""
    with _open(db) as log:
        proof = log.inclusion_proof(index, size).to_dict()
    _print(proof, as_json)


@app.command("prove-consistency")
@handle_errors
def prove_consistency(
    db: Db,
    old: Annotated[int, typer.Option("--old", help="Old tree size.")],
    new: Annotated[
        int | None, typer.Option("--new", help="New tree size (default: current).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the consistency proof from size OLD to size NEW."""
    with _open(db) as log:
        proof = log.consistency_proof(old, new).to_dict()
    _print(proof, as_json)


def _print(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        out(json.dumps(data, indent=2) + "\n")
        return
    for key, value in data.items():
        if isinstance(value, list):
            out(f"{key}:\n" + "".join(f"  {item}\n" for item in value))
        else:
            out(f"{key}: {value}\n")


@app.command("verify-note")
@handle_errors
def verify_note(
    vkey: VKey, note: Annotated[Path, typer.Argument(help="The signed note file.")]
) -> None:
    """Verify a signed note with VKEY and print its text."""
    opened = open_note(_read_bytes(note), [_verifier(vkey)])
    names = ", ".join(sorted({s.name for s in opened.verified}))
    typer.echo(f"verified: signed by {names}", err=True)
    out(opened.text.decode())


@app.command()
@handle_errors
def verify(
    db: Db,
    vkey: Annotated[
        str | None, typer.Option("--vkey", help="Also check kept checkpoints' signatures.")
    ] = None,
) -> None:
    """Audit the whole log: every entry, tile and kept checkpoint."""
    with _open(db) as log, progress_bar("auditing", log.size()) as advance:
        report = audit_log(log, verifier=_verifier(vkey) if vkey else None, progress=advance)
    out(
        f"log {report.origin!r} verified: {report.tree_size} entries, "
        f"{report.tiles_checked} tiles, {report.node_rows_checked} node-cache rows, "
        f"{report.checkpoints_checked} checkpoints; root {report.root_hash.hex()}\n"
    )


@app.command("export-tiles")
@handle_errors
def export(
    db: Db,
    out_dir: Annotated[Path, typer.Option("--out", help="The tile directory.")],
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help=f"Sign a new checkpoint first with the log's key: {SECRET_KEY_HELP}."
        ),
    ] = None,
) -> None:
    """Publish the log as C2SP tlog-tiles (only new or grown tiles are written)."""
    with _open(db) as log:
        if key is not None:
            note = log.checkpoint(_signer(key))
        else:
            latest = log.latest_checkpoint()
            if latest is None:
                raise InputError("the log has no checkpoint yet: pass --key to sign one")
            note = latest[1]
        with progress_bar("exporting", None) as advance:
            report = export_tiles(log, out_dir, note, progress=advance)
    out(
        f"exported size {report.tree_size} to {out_dir}: {report.written} files written, "
        f"{report.unchanged} unchanged\n"
    )


@app.command("verify-tiles")
@handle_errors
def verify_tiles_command(
    source: Annotated[str, typer.Argument(help="A tlog-tiles directory or http(s) URL.")],
    vkey: VKey,
) -> None:
    """Verify a published log (a tile directory or URL) with only the log's verifier key."""
    verifier = _verifier(vkey)
    with progress_bar("verifying", None) as advance:
        if source.startswith(("http://", "https://")):
            import httpx  # only for a URL (heavy to import)

            from cvid.log.remote import http_fetch

            with httpx.Client(timeout=30.0, follow_redirects=False) as client:
                report = verify_published(http_fetch(source, client), verifier, progress=advance)
        else:
            if not Path(source).is_dir():
                raise InputError(f"{source} is not a directory or an http(s) URL")
            report = verify_tiles(Path(source), verifier, progress=advance)
    out(
        f"tiles of {report.origin!r} verified: {report.tree_size} entries, "
        f"{report.tiles_checked} tiles; root {report.root_hash.hex()}\n"
    )
