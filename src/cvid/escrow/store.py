"""The committer's escrow file: every record and salt, encrypted under a passphrase.

The file is one JSON object::

    {"format": "cvid-escrow-1",
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<base64>"},
     "nonce": "<base64>",
     "ciphertext": "<base64>"}

The key is scrypt(passphrase); the plaintext, the canonical JSON of the escrow
(partition, leaves with base64 salts, root in hex, size), is sealed with AES-256-GCM,
and the header (every member but ``ciphertext``, as canonical JSON) is its associated
data. The file must be exactly the canonical JSON that was written (a final newline
aside), so that no byte of it can change unnoticed. A file is created with mode
0600 and never overwritten. Loading recomputes the root from the leaves.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cvid._jcs import canonical, parse_json
from cvid.errors import DeclarationError, EscrowFileError, JSONFormatError
from cvid.escrow.commit import Escrow, Leaf, Partition, RandomBytes

FORMAT = "cvid-escrow-1"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
KDF_SALT_SIZE = 16
NONCE_SIZE = 12
KEY_SIZE = 32
MAX_SCRYPT_MEMORY = 2**30  # 128 * n * r bytes: refuse a header that asks for more

_ALTERED = "wrong passphrase, or the file was altered"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise EscrowFileError(f"{what} must be a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EscrowFileError(f"{what} is not base64") from None
    if _b64(data) != value:  # unused bits set: another spelling of the same bytes
        raise EscrowFileError(f"{what} is not in canonical base64")
    return data


def _exact(what: str, data: object, keys: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or set(data) != keys:
        raise EscrowFileError(f"{what} must be an object with exactly {', '.join(sorted(keys))}")
    return data


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise EscrowFileError("the passphrase must not be empty")
    try:
        secret = passphrase.encode("utf-8")
    except UnicodeEncodeError:
        raise EscrowFileError("the passphrase is not valid Unicode") from None
    return Scrypt(salt=salt, length=KEY_SIZE, n=n, r=r, p=p).derive(secret)


def _plaintext(escrow: Escrow) -> bytes:
    return canonical(
        {
            "partition": escrow.partition.to_dict(),
            "leaves": [{"record": record, "salt": _b64(salt)} for record, salt in escrow.leaves],
            "root": escrow.root.hex(),
            "size": escrow.size,
        }
    )


def save_escrow(
    path: str | os.PathLike[str], escrow: Escrow, passphrase: str, *, random_bytes: RandomBytes
) -> None:
    """Encrypt ``escrow`` into a new file at ``path`` (mode 0600; never overwritten).

    Raises:
        EscrowFileError: the file exists or cannot be written, or the passphrase is empty.
    """
    save_sealed(path, _plaintext(escrow), passphrase, random_bytes=random_bytes)


def save_sealed(
    path: str | os.PathLike[str],
    plaintext: bytes,
    passphrase: str,
    *,
    random_bytes: RandomBytes,
    file_format: str = FORMAT,
) -> None:
    """Encrypt ``plaintext`` into a new file at ``path`` in this module's format (scrypt,
    AES-256-GCM, header as associated data; mode 0600; never overwritten). Escrow files
    and device records (:mod:`cvid.monitor.store`) are both kept this way.

    Raises:
        EscrowFileError: the file exists or cannot be written, or the passphrase is empty.
    """
    salt, nonce = random_bytes(KDF_SALT_SIZE), random_bytes(NONCE_SIZE)
    if len(salt) != KDF_SALT_SIZE or len(nonce) != NONCE_SIZE:
        raise EscrowFileError("random_bytes returned a wrong size")
    header = {
        "format": file_format,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "nonce": _b64(nonce),
    }
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, plaintext, canonical(header))
    content = canonical({**header, "ciphertext": _b64(sealed)}) + b"\n"

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise EscrowFileError(
            f"{os.fspath(path)} exists; {_what(file_format)} is never overwritten"
        ) from None
    except OSError as e:
        raise EscrowFileError(f"cannot create {os.fspath(path)}: {e.strerror}") from None
    try:
        with open(fd, "wb", closefd=True) as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        Path(path).unlink(missing_ok=True)
        raise EscrowFileError(f"cannot write {os.fspath(path)}: {e.strerror}") from None


def _what(file_format: str) -> str:
    return "an escrow file" if file_format == FORMAT else f"a {file_format} file"


def _kdf(data: object) -> tuple[bytes, int, int, int]:
    kdf = _exact("kdf", data, {"name", "n", "r", "p", "salt"})
    if kdf["name"] != "scrypt":
        raise EscrowFileError(f"unknown key derivation {kdf['name']!r}")
    n, r, p = kdf["n"], kdf["r"], kdf["p"]
    if not all(type(v) is int and v >= 1 for v in (n, r, p)) or n < 2 or n & (n - 1):
        raise EscrowFileError("scrypt parameters must be positive integers, n a power of two")
    if 128 * n * r > MAX_SCRYPT_MEMORY or p > 16:
        raise EscrowFileError("scrypt parameters ask for more memory or time than allowed")
    salt = _unb64(kdf["salt"], "the kdf salt")
    if len(salt) < KDF_SALT_SIZE:
        raise EscrowFileError(f"the kdf salt is shorter than {KDF_SALT_SIZE} bytes")
    return salt, n, r, p


def load_escrow(path: str | os.PathLike[str], passphrase: str) -> Escrow:
    """Decrypt and check the escrow file at ``path``.

    Raises:
        EscrowFileError: it cannot be read, is not an escrow file, does not decrypt
            (a wrong passphrase, or a byte altered), or its leaves do not give its root.
    """
    return _escrow(os.fspath(path), load_sealed(path, passphrase))


def load_sealed(
    path: str | os.PathLike[str], passphrase: str, *, file_format: str = FORMAT
) -> bytes:
    """Decrypt a file written by :func:`save_sealed` and return its plaintext.

    Raises:
        EscrowFileError: it cannot be read, is not of ``file_format``, or does not
            decrypt (a wrong passphrase, or a byte altered).
    """
    name = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise EscrowFileError(f"cannot read {name}: {e.strerror}") from None
    try:
        data = parse_json(raw, what=name)
    except JSONFormatError as e:
        raise EscrowFileError(f"{name} is not {_what(file_format)}: {e}") from None
    if not isinstance(data, Mapping) or data.get("format") != file_format:
        raise EscrowFileError(f"{name} is not a {file_format} file")
    if raw.removesuffix(b"\n") != canonical(data):
        raise EscrowFileError(f"{name} is not in canonical form: {_ALTERED}")
    _exact(name, data, {"format", "kdf", "nonce", "ciphertext"})
    salt, n, r, p = _kdf(data["kdf"])
    nonce = _unb64(data["nonce"], "the nonce")
    if len(nonce) != NONCE_SIZE:
        raise EscrowFileError(f"the nonce is not {NONCE_SIZE} bytes")
    sealed = _unb64(data["ciphertext"], "the ciphertext")
    header = {k: v for k, v in data.items() if k != "ciphertext"}
    key = _key(passphrase, salt, n, r, p)
    try:
        return AESGCM(key).decrypt(nonce, sealed, canonical(header))
    except InvalidTag:
        raise EscrowFileError(f"cannot decrypt {name}: {_ALTERED}") from None


def _escrow(name: str, plaintext: bytes) -> Escrow:
    try:
        body = _exact("the escrow", parse_json(plaintext), {"partition", "leaves", "root", "size"})
        partition = Partition.from_dict(body["partition"])
        if not isinstance(body["leaves"], list):
            raise EscrowFileError("the escrow's leaves must be a list")
        leaves: list[Leaf] = []
        for n, leaf in enumerate(body["leaves"]):
            pair = _exact(f"leaf {n}", leaf, {"record", "salt"})
            leaves.append((pair["record"], _unb64(pair["salt"], f"leaf {n}'s salt")))
        escrow = Escrow.from_leaves(partition, leaves)
    except (JSONFormatError, DeclarationError, EscrowFileError) as e:
        raise EscrowFileError(f"{name} holds a malformed escrow: {e}") from None
    if body["root"] != escrow.root.hex() or body["size"] != escrow.size:
        raise EscrowFileError(f"{name}: the leaves do not give the escrow's root and size")
    return escrow
