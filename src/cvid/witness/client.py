"""Ask witnesses to cosign a checkpoint (the log's side of C2SP tlog-witness).

:func:`collect_cosignatures` sends the checkpoint to every witness at once, with a
consistency proof from the size each witness last cosigned. A witness that answers
409 with its size gets one more request, proved from that size. Each returned
cosignature line is verified against that witness's key before it is added to the
note; lines from other keys are ignored, as the spec requires.

Every witness gets a :class:`WitnessOutcome` (cosigned, refused, unreachable, or
an invalid answer), returned and logged: a refusal may be the only sign that the
log forked, so none is dropped. Whether enough witnesses cosigned is the road
map's :class:`~cvid.log.cosignature.WitnessPolicy`'s call
(:meth:`CosigningResult.verify`).

What this module does not do: verify the log's own signature (the caller signed
the checkpoint), retry more than once, or reach witnesses through proxies from the
environment.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from cvid.errors import ConfigError, Error, InputError, WitnessError
from cvid.log.checkpoint import Checkpoint
from cvid.log.cosignature import (
    CosignatureVerifier,
    PolicyResult,
    WitnessPolicy,
    add_cosignatures,
)
from cvid.log.note import Note, Signature
from cvid.witness.protocol import (
    ADD_CHECKPOINT_PATH,
    MAX_RESPONSE_SIZE,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    parse_cosignatures,
    parse_size,
)

logger = logging.getLogger(__name__)

ProofSource = Callable[[int], Sequence[bytes]]
DEFAULT_TIMEOUT = 10.0


class Outcome(enum.Enum):
    """What came of asking one witness."""

    COSIGNED = "cosigned"
    REFUSED = "refused"  # the witness answered with an error status
    UNREACHABLE = "unreachable"  # no answer: connection refused, timeout, reset
    INVALID = "invalid"  # a 200 without a valid cosignature by the witness's key


@dataclass(frozen=True)
class WitnessClient:
    """One witness: its submission prefix URL and its cosigning key.

    Raises:
        ConfigError: the URL is not http(s), or the timeout is not positive.
    """

    url: str
    verifier: CosignatureVerifier
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"witness URL {self.url!r} is not http:// or https://")
        try:
            port = httpx.URL(self.url).port
        except httpx.InvalidURL as e:
            raise ConfigError(f"witness URL {self.url!r} is malformed: {e}") from e
        if port is not None and not 0 < port < 65536:
            raise ConfigError(f"witness URL {self.url!r} has no valid port")
        if not self.timeout > 0:
            raise ConfigError(f"witness timeout {self.timeout!r} is not positive")

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self.verifier.name

    @property
    def endpoint(self) -> str:
        """The ``add-checkpoint`` URL under the submission prefix."""
        return self.url.rstrip("/") + ADD_CHECKPOINT_PATH


@dataclass(frozen=True)
class WitnessOutcome:
    """One witness's answer to one checkpoint.

    ``status`` and ``body`` are the last HTTP answer (None and empty if there was
    none); ``detail`` says what the client made of it. ``witness_size`` is the size
    the witness now holds, when known (the checkpoint's size once cosigned, the
    reported size after a 409), to pass as the next old size.
    """

    witness: str
    url: str
    outcome: Outcome
    old_size: int
    attempts: int
    status: int | None = None
    body: str = ""
    detail: str = ""
    witness_size: int | None = None
    cosignature: bytes | None = field(default=None, repr=False)

    def describe(self) -> str:
        """One line for logs and reports."""
        status = "" if self.status is None else f" HTTP {self.status}"
        text = " ".join(self.body.split())
        answer = f": {text}" if text and self.outcome is not Outcome.COSIGNED else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.witness} {self.outcome.value}{status}{answer}{detail}"


@dataclass(frozen=True)
class CosigningResult:
    """The checkpoint with every valid cosignature added, and each witness's outcome."""

    checkpoint: bytes
    outcomes: tuple[WitnessOutcome, ...]

    def named(self, outcome: Outcome) -> tuple[str, ...]:
        """The witnesses with ``outcome``, in request order."""
        return tuple(o.witness for o in self.outcomes if o.outcome is outcome)

    @property
    def cosigned(self) -> tuple[str, ...]:
        """The witnesses whose valid cosignature was added."""
        return self.named(Outcome.COSIGNED)

    @property
    def refused(self) -> tuple[WitnessOutcome, ...]:
        """Every outcome but a cosignature: refusals, silences and invalid answers."""
        return tuple(o for o in self.outcomes if o.outcome is not Outcome.COSIGNED)

    def witness_sizes(self) -> dict[str, int]:
        """Each witness's size where known: the old sizes for the next checkpoint."""
        return {o.witness: o.witness_size for o in self.outcomes if o.witness_size is not None}

    def check(self, policy: WitnessPolicy) -> PolicyResult:
        """Count the policy's witnesses that validly cosigned (never raises on them)."""
        return policy.check(self.checkpoint)

    def verify(self, policy: WitnessPolicy) -> PolicyResult:
        """Like :meth:`check`, but raise unless the checkpoint is final under ``policy``.

        Raises:
            WitnessError: fewer than the threshold cosigned; the message lists every
                witness that did not, with its answer.
        """
        result = self.check(policy)
        if not result.satisfied:
            reasons = "; ".join(o.describe() for o in self.refused) or "no refusals"
            raise WitnessError(
                f"{len(result.signed)} of {policy.threshold} required witness "
                f"cosignatures: {reasons}"
            )
        return result


class _Proofs:
    """Consistency proofs by old size, each asked of the log once."""

    def __init__(self, proof_for: ProofSource, tree_size: int) -> None:
        self._proof_for = proof_for
        self._tree_size = tree_size
        self._cache: dict[int, tuple[bytes, ...]] = {}

    def __call__(self, old_size: int) -> tuple[bytes, ...]:
        # tlog-witness: "The proof MUST be empty if the old size is zero"; between
        # equal sizes there is nothing to prove.
        if old_size in (0, self._tree_size):
            return ()
        if old_size not in self._cache:
            self._cache[old_size] = tuple(self._proof_for(old_size))
        return self._cache[old_size]


async def _post(
    http: httpx.AsyncClient, witness: WitnessClient, body: bytes
) -> tuple[int, str, bytes]:
    async with http.stream(
        "POST",
        witness.endpoint,
        content=body,
        headers={"content-type": "text/plain; charset=utf-8"},
        timeout=witness.timeout,
    ) as response:
        data = b""
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > MAX_RESPONSE_SIZE:
                break
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return response.status_code, media, data[: MAX_RESPONSE_SIZE + 1]


def _verify_cosignature(
    witness: WitnessClient, note_text: bytes, body: bytes
) -> tuple[bytes | None, str]:
    """The witness's valid cosignature line from a 200 body, or None and why not."""
    try:
        lines = parse_cosignatures(body)
    except InputError as e:
        return None, f"malformed cosignature response: {e}"
    key = (witness.verifier.name, witness.verifier.key_id)
    for line in lines:
        sig = Signature.from_line(line)
        if (sig.name, sig.key_id) != key:
            continue  # "The client MUST ignore any cosignatures from unknown keys."
        if witness.verifier.verify(note_text, sig.signature):
            return line, ""
        return None, "the cosignature by the witness's key does not verify"
    return None, f"no cosignature by key {witness.verifier.to_text()}"


async def _ask(
    http: httpx.AsyncClient,
    witness: WitnessClient,
    *,
    checkpoint: bytes,
    head: Checkpoint,
    note_text: bytes,
    proofs: _Proofs,
    old_size: int,
) -> WitnessOutcome:
    def outcome(
        kind: Outcome,
        attempts: int,
        *,
        status: int | None = None,
        body: str = "",
        detail: str = "",
        witness_size: int | None = None,
        cosignature: bytes | None = None,
    ) -> WitnessOutcome:
        return WitnessOutcome(
            witness.name,
            witness.url,
            kind,
            old_size=old_size,
            attempts=attempts,
            status=status,
            body=body,
            detail=detail,
            witness_size=witness_size,
            cosignature=cosignature,
        )

    status: int | None = None
    text = ""
    for attempt in (1, 2):
        try:
            request = AddCheckpointRequest(
                old_size=old_size, proof=proofs(old_size), checkpoint=checkpoint
            )
        except Error as e:
            return outcome(
                Outcome.REFUSED,
                attempt - 1,
                status=status,
                body=text,
                detail=f"cannot prove consistency from size {old_size}: {e}",
            )
        try:
            status, media, data = await _post(http, witness, request.to_bytes())
        except (httpx.HTTPError, OSError, ValueError) as e:  # a bad port is an OverflowError
            return outcome(Outcome.UNREACHABLE, attempt, detail=f"{type(e).__name__}: {e}")
        text = data.decode("utf-8", "replace")
        if status == 200:
            line, why = _verify_cosignature(witness, note_text, data)
            if line is None:
                return outcome(Outcome.INVALID, attempt, status=status, body=text, detail=why)
            return outcome(
                Outcome.COSIGNED,
                attempt,
                status=status,
                witness_size=head.tree_size,
                cosignature=line,
            )
        if status != 409 or media != SIZE_CONTENT_TYPE:
            return outcome(Outcome.REFUSED, attempt, status=status, body=text)
        try:
            reported = parse_size(data)
        except InputError as e:
            return outcome(
                Outcome.REFUSED, attempt, status=status, body=text, detail=f"bad size body: {e}"
            )
        if attempt == 2 or reported == old_size or reported > head.tree_size:
            why = (
                f"the witness has cosigned size {reported}, beyond this checkpoint"
                if reported > head.tree_size
                else f"the witness still reports size {reported}"
            )
            return outcome(
                Outcome.REFUSED,
                attempt,
                status=status,
                body=text,
                detail=why,
                witness_size=reported,
            )
        old_size = reported  # retry once, from the size the witness reports
    raise AssertionError("unreachable")  # pragma: no cover


async def collect_cosignatures(
    checkpoint: bytes,
    *,
    witnesses: Sequence[WitnessClient],
    proof_for: ProofSource,
    old_sizes: Mapping[str, int] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CosigningResult:
    """Ask every witness, concurrently, to cosign a signed checkpoint.

    Args:
        checkpoint: the log's signed checkpoint note.
        witnesses: whom to ask; names (key names) must be distinct.
        proof_for: returns the consistency proof (a list of hashes) from an old
            size to the checkpoint's size, as ``Log.consistency_proof(old,
            size).proof``. Called in the caller's thread; never for old size 0 or
            the checkpoint's own size.
        old_sizes: the size each witness last cosigned, by name, if known (see
            :meth:`CosigningResult.witness_sizes`); 0 otherwise, which costs one
            409 round trip for a witness that has cosigned before.
        transport: an httpx transport, for tests (ASGI); default: the network.

    Returns:
        The checkpoint with every verified cosignature added, and one outcome per
        witness in ``witnesses`` order. Refusals are logged as warnings.

    Raises:
        InputError: ``checkpoint`` is not a checkpoint note.
        ConfigError: two witnesses share a name.
    """
    note = Note.from_bytes(checkpoint)
    body = Checkpoint.from_text(note.text)
    names = [w.name for w in witnesses]
    if len(set(names)) != len(names):
        raise ConfigError("two witnesses share a name")
    sizes = dict(old_sizes or {})
    proofs = _Proofs(proof_for, body.tree_size)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as http:
        outcomes = await asyncio.gather(
            *(
                _ask(
                    http,
                    w,
                    checkpoint=checkpoint,
                    head=body,
                    note_text=note.text,
                    proofs=proofs,
                    old_size=min(sizes.get(w.name, 0), body.tree_size),
                )
                for w in witnesses
            )
        )
    lines = [o.cosignature for o in outcomes if o.cosignature is not None]
    cosigned = add_cosignatures(checkpoint, lines) if lines else checkpoint
    for o in outcomes:
        if o.outcome is Outcome.COSIGNED:
            logger.info("%s size %d: %s", body.origin, body.tree_size, o.describe())
        else:
            logger.warning("%s size %d: %s", body.origin, body.tree_size, o.describe())
    return CosigningResult(cosigned, tuple(outcomes))


def cosign_checkpoint(
    checkpoint: bytes,
    *,
    witnesses: Sequence[WitnessClient],
    proof_for: ProofSource,
    old_sizes: Mapping[str, int] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CosigningResult:
    """:func:`collect_cosignatures` for synchronous callers (not inside an event loop).

    Raises:
        InputError: ``checkpoint`` is not a checkpoint note.
        ConfigError: two witnesses share a name.
    """
    return asyncio.run(
        collect_cosignatures(
            checkpoint,
            witnesses=witnesses,
            proof_for=proof_for,
            old_sizes=old_sizes,
            transport=transport,
        )
    )
