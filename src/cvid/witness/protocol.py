"""The C2SP tlog-witness wire format (https://c2sp.org/tlog-witness), bytes in, bytes out.

An ``add-checkpoint`` request body is an old size line (``old <size>``), zero to 63
consistency proof lines (one base64 hash each), an empty line, then the signed
checkpoint note. A witness answers 200 with cosignature lines, or 409 with a
``text/x.tlog.size`` body (the size it last cosigned, in decimal, and a newline).

The parsers here are strict: anything the spec does not allow is an
:class:`~cvid.errors.InputError` whose message says what is wrong. What this module
does not do: verify signatures, proofs or the witness's state (see
:mod:`cvid.witness.server`), or talk HTTP.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cvid.errors import InputError
from cvid.log.checkpoint import MAX_TREE_SIZE, Checkpoint
from cvid.log.merkle import HASH_SIZE
from cvid.log.note import MAX_SIGNATURES, Note, Signature, decode_base64

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"  # tlog-witness "add-checkpoint": the 409 body
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
MAX_PROOF_LINES = 63  # tlog-witness: "The client MUST NOT send more than 63 ..."
# A checkpoint note with the most signatures a note may carry fits easily in this.
MAX_REQUEST_SIZE = 64 * 1024
MAX_RESPONSE_SIZE = 64 * 1024

_DECIMAL = re.compile(rb"0|[1-9][0-9]*")  # "no leading zeroes (unless the size is zero)"
_MAX_DIGITS = len(str(MAX_TREE_SIZE))


def _parse_size(text: bytes, what: str) -> int:
    # Bound the length before int(): sizes are 64-bit, as in every deployed log.
    if len(text) > _MAX_DIGITS or not _DECIMAL.fullmatch(text):
        shown = text[:40].decode("utf-8", "replace")
        raise InputError(f"{what} {shown!r} is not a decimal with no leading zeros")
    size = int(text)
    if size > MAX_TREE_SIZE:
        raise InputError(f"{what} {size} exceeds 2^64-1")
    return size


@dataclass(frozen=True)
class AddCheckpointRequest:
    """An ``add-checkpoint`` request: old size, consistency proof, signed checkpoint.

    ``checkpoint`` is the signed note exactly as sent; it is verified from these
    bytes, never from a re-serialization. Validated at construction: the note
    parses and its text is a checkpoint, but no signature is checked.

    Raises:
        InputError: a size that is not an int in ``[0, 2^64)``, more than 63 proof
            hashes or one that is not 32 bytes, or a note that is malformed (a
            :class:`~cvid.errors.NoteFormatError` or
            :class:`~cvid.errors.CheckpointFormatError`).
    """

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    def __post_init__(self) -> None:
        if type(self.old_size) is not int or not 0 <= self.old_size <= MAX_TREE_SIZE:
            raise InputError(f"old size {self.old_size!r} is not an int in [0, 2^64-1]")
        if not isinstance(self.proof, tuple):
            raise InputError("the consistency proof must be a tuple of hashes")
        if len(self.proof) > MAX_PROOF_LINES:
            raise InputError(
                f"{len(self.proof)} consistency proof lines; at most {MAX_PROOF_LINES} are allowed"
            )
        for i, element in enumerate(self.proof):
            if not isinstance(element, bytes) or len(element) != HASH_SIZE:
                raise InputError(f"consistency proof line {i + 1} is not a {HASH_SIZE}-byte hash")
        if not isinstance(self.checkpoint, bytes):
            raise InputError("the checkpoint must be bytes")
        Checkpoint.from_text(Note.from_bytes(self.checkpoint).text)

    @property
    def body(self) -> Checkpoint:
        """The parsed, unverified checkpoint body."""
        return Checkpoint.from_text(Note.from_bytes(self.checkpoint).text)

    @classmethod
    def from_bytes(cls, data: bytes) -> AddCheckpointRequest:
        """Parse a request body (tlog-witness "add-checkpoint").

        Raises:
            InputError: the body is not exactly an old size line, at most 63
                canonical base64 lines of 32-byte hashes, an empty line and a signed
                checkpoint note; the message says which part is wrong.
        """
        if not isinstance(data, bytes):
            raise InputError("request body must be bytes")
        if len(data) > MAX_REQUEST_SIZE:
            raise InputError(f"request body is longer than {MAX_REQUEST_SIZE} bytes")
        # "Each line MUST terminate in a newline character (U+000A)."
        first, sep, rest = data.partition(b"\n")
        if not sep:
            raise InputError("request body has no old size line ending in a newline")
        prefix, space, size = first.partition(b" ")
        if prefix != b"old" or not space:
            raise InputError("request body must start with 'old <size>'")
        old_size = _parse_size(size, "old size")
        proof: list[bytes] = []
        while True:
            line, sep, rest = rest.partition(b"\n")
            if not sep:
                raise InputError("request body has no empty line before the checkpoint")
            if not line:
                break
            if len(proof) == MAX_PROOF_LINES:
                raise InputError(f"more than {MAX_PROOF_LINES} consistency proof lines")
            try:
                text = line.decode("ascii")
            except UnicodeDecodeError as e:
                raise InputError(f"consistency proof line {len(proof) + 1} is not base64") from e
            element = decode_base64(
                text, what=f"consistency proof line {len(proof) + 1}", error=InputError
            )
            if len(element) != HASH_SIZE:
                raise InputError(
                    f"consistency proof line {len(proof) + 1} is {len(element)} bytes, "
                    f"not a {HASH_SIZE}-byte hash"
                )
            proof.append(element)
        if not rest:
            raise InputError("request body has no checkpoint after the empty line")
        return cls(old_size=old_size, proof=tuple(proof), checkpoint=rest)

    def to_bytes(self) -> bytes:
        """Format the request body (inverse of :meth:`from_bytes`)."""
        lines = [b"old %d\n" % self.old_size]
        lines.extend(base64.b64encode(p) + b"\n" for p in self.proof)
        return b"".join(lines) + b"\n" + self.checkpoint


def format_size(size: int) -> bytes:
    """Format a ``text/x.tlog.size`` body: the size in decimal and a newline.

    Raises:
        InputError: ``size`` is not an int in ``[0, 2^64)``.
    """
    if type(size) is not int or not 0 <= size <= MAX_TREE_SIZE:
        raise InputError(f"tree size {size!r} is not an int in [0, 2^64-1]")
    return b"%d\n" % size


def parse_size(data: bytes) -> int:
    """Parse a ``text/x.tlog.size`` body (inverse of :func:`format_size`).

    Raises:
        InputError: not exactly one decimal with no leading zeros and a newline.
    """
    if not isinstance(data, bytes) or not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise InputError("a size body is one decimal line ending in a newline")
    return _parse_size(data[:-1], "tree size")


def format_cosignatures(lines: Sequence[bytes]) -> bytes:
    """Format a 200 response body: one or more note signature lines.

    Raises:
        InputError: no lines, too many, or one that is not a signature line
            (:class:`~cvid.errors.NoteFormatError`).
    """
    if not 1 <= len(lines) <= MAX_SIGNATURES:
        raise InputError(f"a cosignature response has 1 to {MAX_SIGNATURES} lines")
    for line in lines:
        Signature.from_line(line)
    return b"".join(lines)


def parse_cosignatures(data: bytes) -> tuple[bytes, ...]:
    """Split a 200 response body into its signature lines (each newline-terminated).

    Every line must be a note signature line (``— <name> <base64>``); which of them
    are cosignatures by a known key is for the caller to check.

    Raises:
        InputError: empty, too long, not newline-terminated, more than
            ``MAX_SIGNATURES`` lines, or a line that is not a signature line.
    """
    if not isinstance(data, bytes) or not data:
        raise InputError("the cosignature response is empty")
    if len(data) > MAX_RESPONSE_SIZE:
        raise InputError(f"the cosignature response is longer than {MAX_RESPONSE_SIZE} bytes")
    if not data.endswith(b"\n"):
        raise InputError("the cosignature response does not end in a newline")
    lines = tuple(line + b"\n" for line in data[:-1].split(b"\n"))
    if len(lines) > MAX_SIGNATURES:
        raise InputError(f"the cosignature response has more than {MAX_SIGNATURES} lines")
    for line in lines:
        Signature.from_line(line)
    return lines
