"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is the text of a signed note: the log's origin line, the tree size in
decimal, the base64 RFC 6962 root hash, then optional extension lines. This module
parses and formats that text byte-exactly, signs it as a note and opens a signed
checkpoint with the log's key.

What this module does not do: it does not check that a checkpoint is consistent
with an earlier one (that needs a consistency proof, see :mod:`cvid.log.merkle`),
does not interpret extension lines, does not check witness cosignatures (see
:mod:`cvid.log.cosignature`) and keeps no state: rejecting a rollback to an older
checkpoint is the caller's job.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cvid.errors import CheckpointFormatError, SignatureError
from cvid.log.note import (
    Note,
    NoteSigner,
    NoteVerifier,
    decode_base64,
    sign_note,
    verify_note,
)

HASH_SIZE = 32
# The spec puts no bound on the size; Go and every deployed log use 64-bit sizes.
MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # tlog-checkpoint "Note text" 2: no leading zeros


def _check_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointFormatError(f"checkpoint {what} must not be empty")
    bad = next((c for c in line if c < " "), None)
    if bad is not None:
        raise CheckpointFormatError(f"checkpoint {what} contains U+{ord(bad):04X}")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CheckpointFormatError(f"checkpoint {what} is not valid UTF-8") from e


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed tree head: origin, tree size, root hash, extension lines.

    Validated at construction; an instance always formats to a valid checkpoint.

    Raises:
        CheckpointFormatError: empty or multi-line origin or extension line, a tree
            size that is not an int in ``[0, 2**64)``, or a root hash that is not 32
            bytes.
    """

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # tlog-checkpoint "Note text" 1: origin is non-empty (one line, no controls).
        if not isinstance(self.origin, str):
            raise CheckpointFormatError("checkpoint origin must be a str")
        _check_line(self.origin, "origin")
        if type(self.tree_size) is not int or not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise CheckpointFormatError(f"invalid checkpoint tree size {self.tree_size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointFormatError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointFormatError("checkpoint extensions must be a tuple")
        for ext in self.extensions:
            # "Note text" 4: extension lines, if any, MUST be non-empty.
            if not isinstance(ext, str):
                raise CheckpointFormatError("checkpoint extension lines must be str")
            _check_line(ext, "extension line")

    @classmethod
    def from_text(cls, text: bytes) -> Checkpoint:
        """Parse a checkpoint body (the note text, final newline included).

        Raises:
            CheckpointFormatError: not UTF-8, not newline-terminated, fewer than three
                lines, an empty line, a size with a sign, leading zeros or non-ASCII
                digits, or a root that is not canonical base64 of 32 bytes.
        """
        if not isinstance(text, bytes):
            raise CheckpointFormatError("checkpoint text must be bytes")
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CheckpointFormatError("checkpoint is not valid UTF-8") from e
        if not decoded.endswith("\n"):
            raise CheckpointFormatError("checkpoint must end with a newline")
        lines = decoded[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointFormatError("checkpoint needs origin, size and root hash lines")
        origin, size, root, *extensions = lines
        # Bound the length before int(): Python refuses to convert > 4300 digits.
        if len(size) > len(str(MAX_TREE_SIZE)) or not _DECIMAL.fullmatch(size):
            raise CheckpointFormatError(f"invalid checkpoint tree size {size!r}")
        root_hash = decode_base64(root, what="checkpoint root hash", error=CheckpointFormatError)
        return cls(origin, int(size), root_hash, tuple(extensions))

    def to_text(self) -> bytes:
        """Return the checkpoint body, every line newline-terminated."""
        lines = [
            self.origin,
            str(self.tree_size),
            base64.b64encode(self.root_hash).decode("ascii"),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """Return ``checkpoint`` as a signed note carrying ``signer``'s signature.

    tlog-checkpoint "Signatures": the key name SHOULD match the origin; this is not
    enforced here, but :func:`open_checkpoint` expects it unless told the origin.
    A valid :class:`Checkpoint` is always a valid note text, so this cannot fail
    on the checkpoint's account.
    """
    return sign_note(checkpoint.to_text(), [signer])


def open_checkpoint(
    data: bytes, verifier: NoteVerifier, *, origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint with the log's key and parse its body.

    Signatures by other keys (witness cosignatures, rotated log keys) are ignored,
    as signed-note requires; they stay in the returned :class:`Note`.

    Args:
        data: the signed note.
        verifier: the log's public key.
        origin: the expected origin line. If None, the origin must equal the key
            name (tlog-checkpoint "Signatures": the key name SHOULD match the origin);
            pass it explicitly for logs whose key name differs from their origin.

    Raises:
        NoteFormatError: the note is malformed.
        SignatureError: the log's signature is missing or invalid, or the checkpoint
            is for another origin than expected.
        CheckpointFormatError: the verified text is not a valid checkpoint.
    """
    note = Note.from_bytes(data)
    verify_note(note, [verifier])
    checkpoint = Checkpoint.from_text(note.text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise SignatureError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {expected!r}"
        )
    return checkpoint, note
