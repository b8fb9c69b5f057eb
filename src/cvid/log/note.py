"""C2SP signed notes (https://c2sp.org/signed-note), compatible with Go's sumdb/note.

A signed note is a UTF-8 text ending in a newline, a blank line, and one or more
signature lines ``— <key name> <base64(key ID || signature)>``. This module parses
and serialises notes byte-exactly, signs them with Ed25519 (signature type 0x01)
and verifies them against a caller-chosen set of trusted keys, following the
acceptance rules of the spec's "Signatures" section and of Go's ``note.Open``.

What this module does not do: it signs and verifies only Ed25519 (type 0x01) keys
itself (other types plug in through :class:`NoteVerifier`, as the cosignature
module does); it does not support ECDSA, RFC 6962 or ML-DSA keys; it never decides
which keys to trust, does no I/O and reads no clock. It is deliberately stricter
than Go in one place: base64 must be canonical (Go accepts non-zero padding bits).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from cvid.errors import InputError, KeyFormatError, NoteFormatError, SignatureError

ED25519_TYPE = 0x01  # signed-note "Signature types": Ed25519
KEY_ID_SIZE = 4
SEED_SIZE = 32
PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
# signed-note "Format": verifiers MUST accept at least 16 signatures; Go's note.Open
# rejects notes with more than 100, and so do we.
MAX_SIGNATURES = 100
SIGNATURE_PREFIX = "\u2014 ".encode()  # em dash U+2014, space U+0020
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"

_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


# --- key names, key IDs and base64 ----------------------------------------------------


def is_valid_key_name(name: str) -> bool:
    """Report whether ``name`` is a valid key name (signed-note "Format").

    A key name is non-empty UTF-8 with no Unicode spaces and no ``+``. ASCII control
    characters are also refused, since a note may not contain them.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(name) and "+" not in name and not any(c.isspace() or ord(c) < 0x20 for c in name)


def compute_key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """Return ``SHA-256(name || 0x0A || key_type || public_key)[:4]`` (signed-note "Signatures")."""
    data = name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key
    return hashlib.sha256(data).digest()[:KEY_ID_SIZE]


def decode_base64(text: str, *, what: str, error: type[InputError]) -> bytes:
    """Decode standard (RFC 4648 §4) base64, accepting only the canonical encoding.

    Raises:
        error: ``text`` has characters outside the alphabet, wrong padding, or is not
            exactly what re-encoding the decoded bytes gives (non-zero padding bits).
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        raise error(f"{what} is not valid base64") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    return raw


def encode_key_text(name: str, key_id: bytes, key_type: int, material: bytes) -> str:
    """Return ``<name>+<hex key ID>+<base64(key_type || material)>``."""
    b64 = base64.b64encode(bytes([key_type]) + material).decode("ascii")
    return f"{name}+{key_id.hex()}+{b64}"


def split_key_text(text: str, *, what: str, private: bool = False) -> tuple[str, bytes, int, bytes]:
    """Split ``[PRIVATE+KEY+]<name>+<hex key ID>+<base64(type || key)>`` into 4 parts.

    Only the first two ``+`` after the optional prefix separate fields: base64 may
    contain ``+``. The key ID must be 8 lowercase hex digits; it is *not* checked
    against the key here. Error messages never include the key material.

    Raises:
        KeyFormatError: the ``PRIVATE+KEY+`` prefix is missing (``private``) or any
            part is malformed.
    """
    if private:
        if not text.startswith(PRIVATE_KEY_PREFIX):
            raise KeyFormatError(f"{what} must start with {PRIVATE_KEY_PREFIX!r}")
        text = text[len(PRIVATE_KEY_PREFIX) :]
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"{what} must have the form <name>+<key id>+<base64 key>")
    name, hex_id, b64 = parts
    if not is_valid_key_name(name):
        raise KeyFormatError(f"{what} has an invalid key name {name!r}")
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise KeyFormatError(f"{what} key id must be 8 lowercase hex digits")
    raw = decode_base64(b64, what=f"{what} key", error=KeyFormatError)
    if len(raw) < 2:
        raise KeyFormatError(f"{what} key is empty")
    return name, bytes.fromhex(hex_id), raw[0], raw[1:]


def ed25519_key_pair(seed: bytes, *, what: str) -> tuple[Ed25519PrivateKey, bytes]:
    """Return the Ed25519 private key and raw public key for a 32-byte seed.

    Raises:
        KeyFormatError: ``seed`` is not 32 bytes.
    """
    if not isinstance(seed, bytes) or len(seed) != SEED_SIZE:
        raise KeyFormatError(f"{what} seed must be {SEED_SIZE} bytes")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private, private.public_key().public_bytes_raw()


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Report whether ``signature`` is a valid RFC 8032 Ed25519 signature of ``message``."""
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- keys -----------------------------------------------------------------------------


class NoteVerifier(Protocol):
    """A key that verifies note signatures (Ed25519 :class:`Verifier`, cosigners, ...).

    ``verify(msg, sig)`` gets the note text and the signature without its key ID.
    """

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class NoteSigner(Protocol):
    """A key that signs a note text; ``sign(text)`` returns one signature line."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 (type 0x01) note verifier key; its key ID is derived from the key."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != PUBLIC_KEY_SIZE:
            raise KeyFormatError(f"Ed25519 public key must be {PUBLIC_KEY_SIZE} bytes")
        object.__setattr__(self, "key_id", compute_key_id(self.name, ED25519_TYPE, self.public_key))

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        """Parse a verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``.

        Raises:
            KeyFormatError: malformed text, a key type other than Ed25519 (0x01), a
                public key that is not 32 bytes, or a key ID that does not match.
        """
        name, key_id, key_type, material = split_key_text(text, what="verifier key")
        if key_type != ED25519_TYPE:
            raise KeyFormatError(
                f"verifier key type 0x{key_type:02x} is not supported here: only Ed25519 "
                f"note keys (0x01); cosigner keys (0x04) are CosignatureVerifier keys"
            )
        verifier = cls(name, material)
        if verifier.key_id != key_id:
            raise KeyFormatError(f"verifier key id {key_id.hex()} does not match the key")
        return verifier

    def to_text(self) -> str:
        """Return the verifier key text (inverse of :meth:`from_text`)."""
        return encode_key_text(self.name, self.key_id, ED25519_TYPE, self.public_key)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Report whether ``sig`` is a valid Ed25519 signature of ``msg`` by this key."""
        return ed25519_verify(self.public_key, msg, sig)


@dataclass(frozen=True)
class Signer:
    """An Ed25519 (type 0x01) note signer key. The seed is secret and not in ``repr``."""

    name: str
    seed: bytes = field(repr=False)
    key_id: bytes = field(init=False)
    public_key: bytes = field(init=False)
    _private: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        private, public = ed25519_key_pair(self.seed, what="signer")
        object.__setattr__(self, "_private", private)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", compute_key_id(self.name, ED25519_TYPE, public))

    @classmethod
    def generate(cls, name: str, *, seed: bytes | None = None) -> Signer:
        """Return a signer named ``name`` with ``seed``, or a fresh random seed if None.

        Raises:
            KeyFormatError: invalid name, or a seed that is not 32 bytes.
        """
        return cls(name, os.urandom(SEED_SIZE) if seed is None else seed)

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``.

        Raises:
            KeyFormatError: malformed text, a key type other than 0x01, a seed that is
                not 32 bytes, or a key ID that does not match the derived public key.
        """
        name, key_id, key_type, seed = split_key_text(text, what="signer key", private=True)
        if key_type != ED25519_TYPE:
            raise KeyFormatError(f"signer key type 0x{key_type:02x} is not Ed25519 (0x01)")
        signer = cls(name, seed)
        if signer.key_id != key_id:
            raise KeyFormatError(f"signer key id {key_id.hex()} does not match the key")
        return signer

    def to_text(self) -> str:
        """Return the secret signer key text (inverse of :meth:`from_text`)."""
        return PRIVATE_KEY_PREFIX + encode_key_text(self.name, self.key_id, ED25519_TYPE, self.seed)

    @property
    def verifier(self) -> Verifier:
        """The matching public :class:`Verifier`."""
        return Verifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        """Sign a note text and return its newline-terminated signature line.

        Raises:
            NoteFormatError: ``text`` is not a valid note text.
        """
        check_text(text)
        return Signature(self.name, self.key_id, self._private.sign(text)).to_line()

    def sign_message(self, message: bytes) -> bytes:
        """Return the bare 64-byte Ed25519 signature of ``message``.

        For signatures that are not note signatures (signed events): the caller
        must put a domain prefix in ``message`` so that it can never be a note text.
        """
        return self._private.sign(message)


# --- notes ----------------------------------------------------------------------------


def check_text(text: bytes) -> None:
    """Check a note text: UTF-8, ends in a newline, no control character but newline.

    Raises:
        NoteFormatError: the text breaks one of these rules (signed-note "Format").
    """
    if not isinstance(text, bytes):
        raise NoteFormatError("note text must be bytes")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NoteFormatError("note is not valid UTF-8") from e
    if not decoded.endswith("\n"):
        raise NoteFormatError("note text must end with a newline")
    bad = next((c for c in decoded if c < " " and c != "\n"), None)
    if bad is not None:
        raise NoteFormatError(f"note contains control character U+{ord(bad):04X}")


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key ID and the signature proper."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise NoteFormatError(f"invalid key name {self.name!r} in signature")
        if not isinstance(self.key_id, bytes) or len(self.key_id) != KEY_ID_SIZE:
            raise NoteFormatError("signature key id must be 4 bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise NoteFormatError("signature must be at least 5 bytes with the key id")

    @classmethod
    def from_line(cls, line: bytes) -> Signature:
        """Parse one newline-terminated line ``— <name> <base64(key ID || sig)>\\n``.

        Raises:
            NoteFormatError: any deviation from that form, non-canonical base64, or a
                decoded signature shorter than 5 bytes.
        """
        check_text(line)
        if line.count(b"\n") != 1 or not line.startswith(SIGNATURE_PREFIX):
            raise NoteFormatError("signature line must be '\u2014 <name> <base64>' + newline")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) : -1].decode("utf-8").partition(" ")
        if not sep or not b64:
            raise NoteFormatError("signature line has no signature")
        blob = decode_base64(b64, what="signature", error=NoteFormatError)
        if len(blob) <= KEY_ID_SIZE:
            raise NoteFormatError("signature must be at least 5 bytes with the key id")
        return cls(name, blob[:KEY_ID_SIZE], blob[KEY_ID_SIZE:])

    def to_line(self) -> bytes:
        """Return the newline-terminated signature line."""
        b64 = base64.b64encode(self.key_id + self.signature)
        return SIGNATURE_PREFIX + self.name.encode("utf-8") + b" " + b64 + b"\n"


@dataclass(frozen=True)
class Note:
    """A parsed, not yet verified, signed note: the signed text and its signatures."""

    text: bytes
    signatures: tuple[Signature, ...]

    def __post_init__(self) -> None:
        check_text(self.text)
        if not self.signatures:
            raise NoteFormatError("a signed note needs at least one signature")
        if len(self.signatures) > MAX_SIGNATURES:
            raise NoteFormatError(f"note has more than {MAX_SIGNATURES} signatures")

    @classmethod
    def from_bytes(cls, data: bytes) -> Note:
        """Parse a signed note. ``to_bytes`` of the result gives back ``data`` exactly.

        The text is separated from the signatures by the last blank line (signed-note
        "Format"). Nothing is verified here: see :func:`open_note`.

        Raises:
            NoteFormatError: the note is malformed in any way.
        """
        check_text(data)
        split = data.rfind(b"\n\n")
        if split < 0:
            raise NoteFormatError("note has no blank line before the signatures")
        text, block = data[: split + 1], data[split + 2 :]
        if not block:
            raise NoteFormatError("note has no signature lines")
        lines = block.split(b"\n")[:-1]  # block ends in "\n" (check_text)
        if len(lines) > MAX_SIGNATURES:
            raise NoteFormatError(f"note has more than {MAX_SIGNATURES} signatures")
        return cls(text, tuple(Signature.from_line(line + b"\n") for line in lines))

    def to_bytes(self) -> bytes:
        """Serialise the note: text, blank line, signature lines."""
        return self.text + b"\n" + b"".join(s.to_line() for s in self.signatures)


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text was verified by at least one trusted key."""

    text: bytes
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def sign_note(text: bytes, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``text`` with every signer and return the encoded signed note.

    Raises:
        NoteFormatError: ``text`` is not a valid note text, or there are no signers
            or too many.
        KeyFormatError: two signers share a key name and key ID.
    """
    check_text(text)
    if not 1 <= len(signers) <= MAX_SIGNATURES:
        raise NoteFormatError(f"need between 1 and {MAX_SIGNATURES} signers")
    ids = {(s.name, s.key_id) for s in signers}
    if len(ids) != len(signers):
        raise KeyFormatError("two signers share a key name and key id")
    return text + b"\n" + b"".join(s.sign(text) for s in signers)


def verify_note(note: Note, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Verify a parsed note against trusted keys (signed-note "Signatures").

    A signature whose (name, key ID) matches no verifier is kept as unverified. The
    first signature from a known key is verified; later ones from the same key are
    dropped unverified, as Go's ``note.Open`` does.

    Raises:
        KeyFormatError: two different verifiers share a key name and key ID.
        SignatureError: a signature from a known key does not verify, or no known key
            signed the note.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        previous = known.setdefault((v.name, v.key_id), v)
        if previous is not v and previous != v:
            raise KeyFormatError(f"ambiguous verifiers for key {v.name}+{v.key_id.hex()}")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in note.signatures:
        key = (sig.name, sig.key_id)
        verifier = known.get(key)
        if verifier is None:
            if sig not in unverified:  # Go drops repeated identical unknown lines
                unverified.append(sig)
            continue
        if key in seen:
            continue
        seen.add(key)
        if not verifier.verify(note.text, sig.signature):
            raise SignatureError(f"invalid signature by key {sig.name}+{sig.key_id.hex()}")
        verified.append(sig)
    if not verified:
        expected = ", ".join(f"{n}+{i.hex()}" for n, i in known) or "none given"
        raise SignatureError(f"note is not signed by any trusted key (expected: {expected})")
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def open_note(data: bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse and verify a signed note; see :meth:`Note.from_bytes` and :func:`verify_note`.

    Raises:
        NoteFormatError: the note is malformed.
        KeyFormatError: two different verifiers share a key name and key ID.
        SignatureError: a known key's signature is invalid, or no known key signed.
    """
    return verify_note(Note.from_bytes(data), verifiers)
