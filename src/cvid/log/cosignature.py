"""C2SP witness cosignatures (https://c2sp.org/tlog-cosignature), Ed25519 cosignature/v1.

A witness cosigns a checkpoint by signing ``cosignature/v1\\ntime <T>\\n`` followed by
the checkpoint body, and appends a note signature line whose blob is
``key ID (4) || u64 big-endian timestamp T || Ed25519 signature (64)``. Cosigner keys
have signature type 0x04. A :class:`WitnessPolicy` counts the valid cosignatures of
trusted witnesses against a threshold.

What this module does not do: ML-DSA-44 (``subtree/v1``) cosignatures; reading the
clock (timestamps are parameters, so cosignatures dated in the future are not
rejected here); verifying the log's own signature (call
:func:`cvid.log.checkpoint.open_checkpoint` first); checking that the witnesses saw
a consistent log (that is the witnesses' job, and the reason to trust them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cvid.errors import (
    CheckpointFormatError,
    ConfigError,
    KeyFormatError,
    NoteFormatError,
    SignatureError,
    WitnessPolicyError,
)
from cvid.log.checkpoint import Checkpoint
from cvid.log.note import (
    ED25519_SIGNATURE_SIZE,
    KEY_ID_SIZE,
    PRIVATE_KEY_PREFIX,
    PUBLIC_KEY_SIZE,
    SEED_SIZE,
    Note,
    Signature,
    compute_key_id,
    ed25519_key_pair,
    ed25519_verify,
    encode_key_text,
    is_valid_key_name,
    split_key_text,
)

COSIGNATURE_TYPE = 0x04  # signed-note "Signature types": timestamped Ed25519 cosignature
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature "Format": timestamp MUST NOT exceed 2^63 - 1
COSIGNATURE_SIZE = KEY_ID_SIZE + TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE  # 76 bytes


def _check_timestamp(at: int) -> None:
    if type(at) is not int or not 0 <= at <= MAX_TIMESTAMP:
        raise NoteFormatError(f"cosignature timestamp must be an int in [0, 2^63-1], not {at!r}")


def cosigned_message(checkpoint_text: bytes, timestamp: int) -> bytes:
    """Return the cosignature/v1 signed message (tlog-cosignature "Ed25519 signed message").

    The header line, the ``time`` line with the decimal timestamp (no leading zeros),
    then the whole checkpoint body including its final newline.

    Raises:
        NoteFormatError: ``timestamp`` is out of range.
    """
    _check_timestamp(timestamp)
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint_text


@dataclass(frozen=True)
class Cosignature:
    """A parsed (not verified) cosignature line: cosigner, key ID, timestamp, signature."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    @classmethod
    def from_signature(cls, sig: Signature) -> Cosignature:
        """Interpret a note signature as an Ed25519 cosignature/v1.

        Raises:
            NoteFormatError: the blob is not 76 bytes, or the timestamp exceeds 2^63-1.
        """
        blob = sig.key_id + sig.signature
        if len(blob) != COSIGNATURE_SIZE:
            raise NoteFormatError(f"a cosignature is {COSIGNATURE_SIZE} bytes, not {len(blob)}")
        timestamp = int.from_bytes(sig.signature[:TIMESTAMP_SIZE], "big")
        _check_timestamp(timestamp)
        return cls(sig.name, sig.key_id, timestamp, sig.signature[TIMESTAMP_SIZE:])

    @classmethod
    def from_line(cls, line: bytes) -> Cosignature:
        """Parse one newline-terminated cosignature line.

        Raises:
            NoteFormatError: not a signature line, or not a cosignature/v1 blob.
        """
        return cls.from_signature(Signature.from_line(line))

    def to_signature(self) -> Signature:
        """Return the note signature carrying this cosignature."""
        return Signature(
            self.name, self.key_id, self.timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self.signature
        )


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's Ed25519 cosigner public key (type 0x04); a :class:`NoteVerifier`."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != PUBLIC_KEY_SIZE:
            raise KeyFormatError(f"Ed25519 public key must be {PUBLIC_KEY_SIZE} bytes")
        key_id = compute_key_id(self.name, COSIGNATURE_TYPE, self.public_key)
        object.__setattr__(self, "key_id", key_id)

    @classmethod
    def from_text(cls, text: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x04 || 32-byte public key)>``.

        Raises:
            KeyFormatError: malformed text, a type byte other than 0x04, a public key
                that is not 32 bytes, or a key ID that does not match.
        """
        name, key_id, key_type, material = split_key_text(text, what="cosigner key")
        if key_type != COSIGNATURE_TYPE:
            raise KeyFormatError(
                f"cosigner key type 0x{key_type:02x} is not an Ed25519 cosignature key (0x04)"
            )
        verifier = cls(name, material)
        if verifier.key_id != key_id:
            raise KeyFormatError(f"cosigner key id {key_id.hex()} does not match the key")
        return verifier

    def to_text(self) -> str:
        """Return the verifier key text (inverse of :meth:`from_text`)."""
        return encode_key_text(self.name, self.key_id, COSIGNATURE_TYPE, self.public_key)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Report whether ``sig`` (timestamp || signature) cosigns checkpoint body ``msg``.

        False if ``msg`` is not a checkpoint body or the timestamp is out of range.
        """
        if len(sig) != TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(sig[:TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            Checkpoint.from_text(msg)
        except CheckpointFormatError:
            return False
        message = cosigned_message(msg, timestamp)
        return ed25519_verify(self.public_key, message, sig[TIMESTAMP_SIZE:])


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's Ed25519 cosigner key (type 0x04). The seed is not in ``repr``."""

    name: str
    seed: bytes = field(repr=False)
    key_id: bytes = field(init=False)
    public_key: bytes = field(init=False)
    _private: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        private, public = ed25519_key_pair(self.seed, what="cosigner")
        object.__setattr__(self, "_private", private)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", compute_key_id(self.name, COSIGNATURE_TYPE, public))

    @classmethod
    def generate(cls, name: str, *, seed: bytes | None = None) -> CosignatureSigner:
        """Return a cosigner named ``name`` with ``seed``, or a fresh random seed if None.

        Raises:
            KeyFormatError: invalid name, or a seed that is not 32 bytes.
        """
        return cls(name, os.urandom(SEED_SIZE) if seed is None else seed)

    @classmethod
    def from_text(cls, text: str) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || 32-byte seed)>``.

        Raises:
            KeyFormatError: malformed text, a type byte other than 0x04, or a key ID
                that does not match the derived public key.
        """
        name, key_id, key_type, seed = split_key_text(text, what="cosigner key", private=True)
        if key_type != COSIGNATURE_TYPE:
            raise KeyFormatError(f"cosigner key type 0x{key_type:02x} is not 0x04")
        signer = cls(name, seed)
        if signer.key_id != key_id:
            raise KeyFormatError(f"cosigner key id {key_id.hex()} does not match the key")
        return signer

    def to_text(self) -> str:
        """Return the secret key text (inverse of :meth:`from_text`)."""
        return PRIVATE_KEY_PREFIX + encode_key_text(
            self.name, self.key_id, COSIGNATURE_TYPE, self.seed
        )

    @property
    def verifier(self) -> CosignatureVerifier:
        """The matching public :class:`CosignatureVerifier`."""
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, checkpoint_text: bytes, *, at: int) -> bytes:
        """Cosign a checkpoint body at POSIX time ``at``; return the signature line.

        Raises:
            CheckpointFormatError: ``checkpoint_text`` is not a checkpoint body.
            NoteFormatError: ``at`` is not in ``[0, 2^63-1]``.
        """
        Checkpoint.from_text(checkpoint_text)
        signature = self._private.sign(cosigned_message(checkpoint_text, at))
        return Cosignature(self.name, self.key_id, at, signature).to_signature().to_line()


def cosign(checkpoint_text: bytes, signer: CosignatureSigner, *, at: int) -> bytes:
    """Return ``signer``'s cosignature line for a checkpoint body at time ``at``.

    Raises:
        CheckpointFormatError: ``checkpoint_text`` is not a checkpoint body.
        NoteFormatError: ``at`` is not in ``[0, 2^63-1]``.
    """
    return signer.cosign(checkpoint_text, at=at)


def add_cosignatures(data: bytes, lines: Sequence[bytes]) -> bytes:
    """Append cosignature lines to a signed checkpoint note (no verification).

    A new line replaces an existing signature with the same key name and key ID, as
    Go's ``note.Sign`` does.

    Raises:
        NoteFormatError: the note or a line is malformed, two lines are from the same
            key, or the result would have too many signatures.
        CheckpointFormatError: the note text is not a checkpoint.
    """
    note = Note.from_bytes(data)
    Checkpoint.from_text(note.text)
    new = [Cosignature.from_line(line).to_signature() for line in lines]
    keys = {(s.name, s.key_id) for s in new}
    if len(keys) != len(new):
        raise NoteFormatError("two cosignature lines are from the same key")
    kept = [s for s in note.signatures if (s.name, s.key_id) not in keys]
    return Note(note.text, (*kept, *new)).to_bytes()


@dataclass(frozen=True)
class PolicyResult:
    """Which trusted witnesses validly cosigned a checkpoint note.

    ``signed``, ``invalid`` and ``missing`` partition the policy's witness names (in
    policy order): a valid cosignature, a cosignature line that does not verify, no
    cosignature line at all. ``cosignatures`` holds the valid ones, with timestamps.
    """

    threshold: int
    signed: tuple[str, ...]
    invalid: tuple[str, ...]
    missing: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...]

    @property
    def satisfied(self) -> bool:
        """Whether at least ``threshold`` witnesses validly cosigned."""
        return len(self.signed) >= self.threshold


@dataclass(frozen=True)
class WitnessPolicy:
    """Trust a checkpoint once ``threshold`` of ``witnesses`` cosigned it.

    Raises:
        ConfigError: ``threshold`` is not in ``[1, len(witnesses)]``, or two witnesses
            share a name or a public key (cosignature/v1 does not commit to the name,
            so one key under two names would be counted twice).
    """

    threshold: int
    witnesses: tuple[CosignatureVerifier, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.witnesses, tuple) or not all(
            isinstance(w, CosignatureVerifier) for w in self.witnesses
        ):
            raise ConfigError("witnesses must be a tuple of CosignatureVerifier")
        n = len(self.witnesses)
        if type(self.threshold) is not int or not 1 <= self.threshold <= n:
            raise ConfigError(f"witness threshold {self.threshold!r} is not in [1, {n}]")
        if len({w.name for w in self.witnesses}) != n:
            raise ConfigError("two witnesses in the policy share a name")
        if len({w.public_key for w in self.witnesses}) != n:
            raise ConfigError("two witnesses in the policy share a public key")

    def check(self, data: bytes) -> PolicyResult:
        """Count valid cosignatures from the policy's witnesses; never raises on them.

        Lines from unknown keys are ignored; for a witness with several lines, the
        first decides (as in Go's ``note.Open``). The log's signature is not checked.

        Raises:
            NoteFormatError: the note is malformed.
            CheckpointFormatError: the note text is not a checkpoint.
        """
        note = Note.from_bytes(data)
        Checkpoint.from_text(note.text)
        by_key = {(w.name, w.key_id): w for w in self.witnesses}
        valid: dict[str, Cosignature] = {}
        bad: set[str] = set()
        for sig in note.signatures:
            witness = by_key.get((sig.name, sig.key_id))
            if witness is None or witness.name in valid or witness.name in bad:
                continue
            if witness.verify(note.text, sig.signature):
                valid[witness.name] = Cosignature.from_signature(sig)
            else:
                bad.add(witness.name)
        names = [w.name for w in self.witnesses]
        return PolicyResult(
            threshold=self.threshold,
            signed=tuple(n for n in names if n in valid),
            invalid=tuple(n for n in names if n in bad),
            missing=tuple(n for n in names if n not in valid and n not in bad),
            cosignatures=tuple(valid[n] for n in names if n in valid),
        )

    def verify(self, data: bytes) -> PolicyResult:
        """Like :meth:`check`, but raise unless the policy is satisfied.

        Raises:
            NoteFormatError: the note is malformed.
            CheckpointFormatError: the note text is not a checkpoint.
            SignatureError: a trusted witness's cosignature line does not verify
                (signed-note "Signatures": a known key's bad signature rejects the note).
            WitnessPolicyError: fewer than ``threshold`` witnesses validly cosigned.
        """
        result = self.check(data)
        if result.invalid:
            raise SignatureError(f"invalid cosignature from {', '.join(result.invalid)}")
        if not result.satisfied:
            raise WitnessPolicyError(
                f"{len(result.signed)} of {self.threshold} required witness cosignatures "
                f"(missing: {', '.join(result.missing)})"
            )
        return result
