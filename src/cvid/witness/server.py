"""A C2SP tlog-witness (https://c2sp.org/tlog-witness): ``POST /add-checkpoint``.

:class:`Witness` holds the rules, in the order the spec states them; it answers
every request with a :class:`Reply` (status, content type, body), so that refusals
are values to show, not exceptions to lose. :func:`create_witness_app` is the thin
FastAPI adapter around it.

Status codes (tlog-witness "add-checkpoint"):

* 200, ``text/plain``: the witness's cosignature line.
* 400: the body is malformed, or the old size exceeds the checkpoint size.
* 403: no signature on the checkpoint verifies with a key trusted for its origin
  (or a trusted key's signature is invalid).
* 404: the checkpoint's origin is not a log this witness knows.
* 409, ``text/x.tlog.size``: the old size is not the size last cosigned; the body
  is that size and a newline.
* 409, ``text/plain``: same size as last cosigned, but another root hash (a fork).
* 413: the body is longer than the protocol needs.
* 422: the consistency proof does not verify.
* 500: the state store failed; nothing was cosigned.

:func:`serve` runs the application within the connection limits the service also has
(:mod:`cvid._connections`). What this module does not do: TLS or a bastion (run it
behind one to expose it), the monitoring API, or reading the clock itself (``clock``
is a parameter).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cvid._asgi import read_body
from cvid._http import NO_CONTENT_POLICY, harden
from cvid.errors import (
    CheckpointFormatError,
    ConfigError,
    InputError,
    ProofError,
    RequestTooLargeError,
    SignatureError,
    StoreError,
)
from cvid.log.checkpoint import Checkpoint
from cvid.log.cosignature import CosignatureSigner
from cvid.log.merkle import EMPTY_ROOT, verify_consistency
from cvid.log.note import Note, NoteVerifier, verify_note
from cvid.witness.protocol import (
    ADD_CHECKPOINT_PATH,
    MAX_REQUEST_SIZE,
    SIZE_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    AddCheckpointRequest,
    format_cosignatures,
    format_size,
)
from cvid.witness.state import LogState, WitnessState

if TYPE_CHECKING:
    from cvid._connections import ConnectionLimits

logger = logging.getLogger(__name__)

Clock = Callable[[], int]
LogKeys = Mapping[str, NoteVerifier | Sequence[NoteVerifier]]


def advancing_clock(start: dt.datetime, elapsed: Callable[[], float]) -> Clock:
    """A :data:`Clock` that reads ``start`` now and then advances as ``elapsed`` does.

    ``elapsed`` is any monotonic count of seconds (``time.monotonic``); what it reads
    when this is called is the moment ``start``. For a witness of a replayed or demo
    history, whose cosignatures must be dated on the history's clock, not the machine's.
    """
    origin = elapsed()
    base = start.timestamp()
    return lambda: int(base + (elapsed() - origin))


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status code, content type and body."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def text(cls, status: int, message: str) -> Reply:
        """A plain-text answer: the message and a newline."""
        return cls(status, TEXT_CONTENT_TYPE, message.encode("utf-8") + b"\n")


def _key_lists(logs: LogKeys) -> dict[str, tuple[NoteVerifier, ...]]:
    keys: dict[str, tuple[NoteVerifier, ...]] = {}
    for origin, value in logs.items():
        verifiers = tuple(value) if isinstance(value, Sequence) else (value,)
        if not verifiers:
            raise ConfigError(f"log {origin!r} has no verifier key")
        try:
            Checkpoint(origin=origin, tree_size=0, root_hash=EMPTY_ROOT)
        except CheckpointFormatError as e:
            raise ConfigError(f"log origin {origin!r} cannot head a checkpoint: {e}") from e
        ids = {(v.name, v.key_id) for v in verifiers}
        if len(ids) != len(verifiers):
            raise ConfigError(f"log {origin!r} has two keys with one name and key ID")
        keys[origin] = verifiers
    return keys


class Witness:
    """The witness's rules over its key, the logs it trusts and its state.

    Args:
        signer: the witness's cosigning key.
        logs: for each log origin, the key (or keys) its checkpoints are signed with.
        state: where the latest cosigned checkpoint of each log is kept.
        clock: returns the POSIX time, in seconds, to put in cosignatures.

    Raises:
        ConfigError: a log with no key, two keys with one name and key ID, or an
            origin that cannot head a checkpoint.
    """

    def __init__(
        self, signer: CosignatureSigner, logs: LogKeys, state: WitnessState, *, clock: Clock
    ) -> None:
        self.signer = signer
        self.logs = _key_lists(logs)
        self.state = state
        self.clock = clock

    def add_checkpoint(self, data: bytes) -> Reply:
        """Answer one ``add-checkpoint`` request body; never raises on its content.

        Raises:
            StoreError: the state store failed (the adapter answers 500).
        """
        # The body must be the spec's sequence (lines, empty line, checkpoint note).
        try:
            request = AddCheckpointRequest.from_bytes(data)
            checkpoint = request.body
        except InputError as e:
            return Reply.text(400, f"malformed add-checkpoint request: {e}")
        origin = checkpoint.origin
        # "If the checkpoint origin is unknown, the witness MUST respond with 404."
        keys = self.logs.get(origin)
        if keys is None:
            return Reply.text(404, f"unknown log origin {origin!r}")
        # "MUST verify the checkpoint signature against the public key(s) it trusts
        # for the checkpoint origin, and it MUST ignore signatures from unknown keys."
        try:
            verify_note(Note.from_bytes(request.checkpoint), keys)
        except SignatureError as e:
            return Reply.text(403, f"checkpoint signature does not verify: {e}")
        # "The old size MUST be equal to or lower than the checkpoint size."
        if request.old_size > checkpoint.tree_size:
            return Reply.text(
                400,
                f"old size {request.old_size} exceeds the checkpoint size {checkpoint.tree_size}",
            )
        return self._check_and_cosign(request, checkpoint, data)

    def _check_and_cosign(
        self, request: AddCheckpointRequest, checkpoint: Checkpoint, data: bytes
    ) -> Reply:
        known = self.state.get(checkpoint.origin)
        refusal = self._check_consistency(request, checkpoint, known)
        if refusal is not None:
            if refusal.status in (409, 422) and refusal.content_type != SIZE_CONTENT_TYPE:
                # Signed and inconsistent with what this witness cosigned: evidence.
                self.state.record_evidence(
                    origin=checkpoint.origin,
                    status=refusal.status,
                    reason=refusal.body.decode("utf-8").strip(),
                    request=data,
                    at=self.clock(),
                )
                logger.warning(
                    "refused %s size %d: %s",
                    checkpoint.origin,
                    checkpoint.tree_size,
                    refusal.body.decode("utf-8").strip(),
                )
            return refusal
        at = self.clock()
        # Check and persist atomically (the spec's race: A checks N, B checks N+K,
        # B stores N+K, A stores N and rolls K leaves back).
        result = self.state.advance(
            expected=known,
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash,
            checkpoint=request.checkpoint,
            at=at,
        )
        if not result.advanced:
            return Reply(409, SIZE_CONTENT_TYPE, format_size(result.current.tree_size))
        # "MUST persist the new checkpoint before responding": advance() committed.
        line = self.signer.cosign(Note.from_bytes(request.checkpoint).text, at=at)
        logger.info("cosigned %s size %d at %s", checkpoint.origin, checkpoint.tree_size, _utc(at))
        return Reply(200, TEXT_CONTENT_TYPE, format_cosignatures([line]))

    @staticmethod
    def _check_consistency(
        request: AddCheckpointRequest, checkpoint: Checkpoint, known: LogState
    ) -> Reply | None:
        # "The witness MUST check that the old size matches the size of the latest
        # checkpoint it cosigned ... If it doesn't match ... 409 Conflict", size body.
        if request.old_size != known.tree_size:
            return Reply(409, SIZE_CONTENT_TYPE, format_size(known.tree_size))
        if request.old_size == checkpoint.tree_size:
            # "If the old size matches the checkpoint size, the witness MUST check that
            # the root hashes are also identical. If they don't match ... 409."
            if checkpoint.root_hash != known.root_hash:
                return Reply.text(
                    409,
                    f"checkpoint root hash differs from the one cosigned at size "
                    f"{known.tree_size}: the log has forked",
                )
            if request.proof:
                return Reply.text(422, "the consistency proof between equal sizes must be empty")
            return None
        if request.old_size == 0:
            # "The proof MUST be empty if the old size is zero."
            if request.proof:
                return Reply.text(422, "the consistency proof from size 0 must be empty")
            return None
        # RFC 6962 §2.1.2 (RFC 9162 §2.1.4.2) consistency from the cosigned tree.
        try:
            verify_consistency(
                old_size=known.tree_size,
                new_size=checkpoint.tree_size,
                old_root=known.root_hash,
                new_root=checkpoint.root_hash,
                proof=request.proof,
            )
        except ProofError as e:
            return Reply.text(
                422,
                f"consistency proof from size {known.tree_size} to {checkpoint.tree_size} "
                f"does not verify: {e}",
            )
        return None


def create_witness_app(
    signer: CosignatureSigner,
    logs: LogKeys,
    state_path: str,
    *,
    clock: Clock,
) -> FastAPI:
    """Return the witness's HTTP application: ``POST /add-checkpoint``.

    Args:
        signer: the witness's cosigning key.
        logs: for each log origin, its verifier key or keys.
        state_path: the SQLite file of the witness's state (created if missing).
        clock: returns the POSIX time in seconds for cosignature timestamps.

    Raises:
        ConfigError: the log keys are unusable (see :class:`Witness`).
        StoreError: the state file cannot be opened.
    """
    witness = Witness(signer, logs, WitnessState(state_path), clock=clock)
    app = FastAPI(
        title=f"cvid witness {signer.name}", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.witness = witness
    harden(app, policy=NO_CONTENT_POLICY)

    @app.post(ADD_CHECKPOINT_PATH)
    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_REQUEST_SIZE)
        except RequestTooLargeError:
            return _response(Reply.text(413, f"request body exceeds {MAX_REQUEST_SIZE} bytes"))
        except InputError as e:  # the client went away, or was cut off for being slow
            return _response(Reply.text(400, str(e)))
        try:
            reply = await run_in_threadpool(witness.add_checkpoint, body)
        except StoreError:
            logger.exception("witness state failed")
            reply = Reply.text(500, "the witness state is unavailable; nothing was cosigned")
        return _response(reply)

    return app


def serve(app: FastAPI, sock: socket.socket, *, limits: ConnectionLimits | None = None) -> None:
    """Serve the witness's ``app`` on the listening ``sock`` until interrupted.

    Within ``limits`` (by default :class:`cvid._connections.ConnectionLimits`'s):
    headers and bodies that arrive too slowly, idle connections, and more than a
    share of connections from one address are cut off, as for the service.
    """
    # Imported here: importing the witness (its client, its rules) starts no server.
    import uvicorn

    from cvid._connections import ConnectionLimits, server_config

    config = server_config(app, limits or ConnectionLimits(), lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _response(reply: Reply) -> Response:
    if reply.status != 200:
        logger.info(
            "add-checkpoint %d: %s", reply.status, reply.body[:200].decode("utf-8", "replace")
        )
    # The content type goes in as a header: given as media_type, Starlette would add
    # a charset to text/x.tlog.size, which the spec's clients compare exactly.
    return Response(
        content=reply.body, status_code=reply.status, headers={"content-type": reply.content_type}
    )
