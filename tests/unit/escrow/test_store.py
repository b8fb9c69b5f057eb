"""The escrow file: round trip, mode 0600, no overwrite; any change or a wrong passphrase fails."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cvid._jcs import canonical, parse_json
from cvid.errors import EscrowFileError
from cvid.escrow import load_escrow, reveal_cells, save_escrow, verify_reveal
from cvid.escrow.commit import Escrow, Item, Partition, commit
from tests.unit.escrow.strategies import seeded

PASSPHRASE = "correct horse battery staple"
ALTERED = "wrong passphrase, or the file was altered"
PARTITION = Partition.from_dict({"grid": {"rows": 2, "cols": 2}})
ESCROW = commit(
    [
        Item("w-1", "warhead", "r1-c2", {"mass": 4.5, "site": "tunnel ✓"}),
        Item("w-2", "warhead", "r1-c2", {"count": 3, "tiny": 1e-7, "big": 1e300}),
        Item("r-1", "reactor", "r2-c2", {"whole": 2.0}),
    ],
    PARTITION,
    random_bytes=seeded(),
)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "decl.escrow"
    save_escrow(path, ESCROW, PASSPHRASE, random_bytes=seeded(5))
    return path


def _fields(path: Path) -> dict[str, Any]:
    data = parse_json(path.read_bytes())
    assert isinstance(data, dict)
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.unlink()
    path.write_bytes(canonical(data))


def test_round_trip(saved: Path) -> None:
    loaded = load_escrow(saved, PASSPHRASE)
    assert loaded == ESCROW
    assert loaded.tree.root() == ESCROW.root
    for reveal in reveal_cells(loaded, PARTITION.cells):
        verify_reveal(reveal, root=ESCROW.root, size=ESCROW.size, partition=PARTITION)


def test_file_format(saved: Path) -> None:
    data = _fields(saved)
    assert set(data) == {"format", "kdf", "nonce", "ciphertext"}
    assert data["format"] == "cvid-escrow-1"
    assert data["kdf"]["name"] == "scrypt"
    assert (data["kdf"]["n"], data["kdf"]["r"], data["kdf"]["p"]) == (2**15, 8, 1)
    assert len(base64.b64decode(data["kdf"]["salt"])) == 16
    assert len(base64.b64decode(data["nonce"])) == 12
    for clear in (b'"w-1"', b"r1-c2", b"warhead", b"tunnel"):
        assert clear not in saved.read_bytes()  # nothing in clear


def test_plaintext_is_the_canonical_escrow(saved: Path) -> None:
    data = _fields(saved)
    key = Scrypt(base64.b64decode(data["kdf"]["salt"]), 32, 2**15, 8, 1).derive(PASSPHRASE.encode())
    header = {k: v for k, v in data.items() if k != "ciphertext"}
    plain = AESGCM(key).decrypt(
        base64.b64decode(data["nonce"]), base64.b64decode(data["ciphertext"]), canonical(header)
    )
    body = parse_json(plain)
    assert plain == canonical(body)
    assert set(body) == {"partition", "leaves", "root", "size"}
    assert body["partition"] == {"cells": list(PARTITION.cells)}
    assert body["root"] == ESCROW.root.hex()
    assert body["size"] == ESCROW.size
    assert [base64.b64decode(leaf["salt"]) for leaf in body["leaves"]] == [
        s for _, s in ESCROW.leaves
    ]


def test_mode_0600_and_never_overwritten(saved: Path) -> None:
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    content = saved.read_bytes()
    with pytest.raises(EscrowFileError, match="exists; an escrow file is never overwritten"):
        save_escrow(saved, ESCROW, PASSPHRASE, random_bytes=seeded())
    assert saved.read_bytes() == content


def test_umask_cannot_widen_the_mode(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_escrow(tmp_path / "e", ESCROW, PASSPHRASE, random_bytes=seeded())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "e").stat().st_mode) == 0o600


def test_bad_saves(tmp_path: Path) -> None:
    with pytest.raises(EscrowFileError, match="must not be empty"):
        save_escrow(tmp_path / "a", ESCROW, "", random_bytes=seeded())
    with pytest.raises(EscrowFileError, match="cannot create"):
        save_escrow(tmp_path / "no" / "such" / "dir", ESCROW, PASSPHRASE, random_bytes=seeded())
    with pytest.raises(EscrowFileError, match="wrong size"):
        save_escrow(tmp_path / "b", ESCROW, PASSPHRASE, random_bytes=lambda n: bytes(n + 1))
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_wrong_passphrase(saved: Path) -> None:
    with pytest.raises(EscrowFileError, match=ALTERED):
        load_escrow(saved, PASSPHRASE + " ")
    with pytest.raises(EscrowFileError, match="must not be empty"):
        load_escrow(saved, "")


def test_every_tampered_ciphertext_byte_is_caught(saved: Path) -> None:
    data = _fields(saved)
    sealed = base64.b64decode(data["ciphertext"])
    for position in sorted({0, 1, len(sealed) // 2, len(sealed) - 17, len(sealed) - 1}):
        changed = bytearray(sealed)
        changed[position] ^= 0x01
        _write(saved, {**data, "ciphertext": base64.b64encode(bytes(changed)).decode()})
        with pytest.raises(EscrowFileError, match=ALTERED):
            load_escrow(saved, PASSPHRASE)


def test_tampered_file_bytes_are_caught(saved: Path) -> None:
    content = saved.read_bytes()
    for position in range(0, len(content), max(1, len(content) // 23)):
        changed = bytearray(content)
        changed[position] ^= 0x04
        saved.unlink()
        saved.write_bytes(bytes(changed))
        with pytest.raises(EscrowFileError):
            load_escrow(saved, PASSPHRASE)


def test_other_spellings_of_the_same_file_are_refused(saved: Path) -> None:
    content = saved.read_bytes()
    data = _fields(saved)
    sealed = data["ciphertext"]
    cases = [
        content.replace(b'","', b'", "', 1),  # the same JSON, with a space
        content.rstrip(b"\n") + b"\n\n",
        b" " + content,
    ]
    # The last character of padded base64 has unused bits: flipping one spells the same
    # bytes another way (the fixture's ciphertext is padded).
    assert sealed.endswith("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    head = sealed.rstrip("=")
    spelled = head[:-1] + alphabet[alphabet.index(head[-1]) ^ 1] + sealed[len(head) :]
    assert base64.b64decode(spelled) == base64.b64decode(sealed)
    cases.append(canonical({**data, "ciphertext": spelled}))
    for case in cases:
        saved.unlink()
        saved.write_bytes(case)
        with pytest.raises(EscrowFileError):
            load_escrow(saved, PASSPHRASE)
    saved.unlink()
    saved.write_bytes(content.rstrip(b"\n"))  # without the final newline: still read
    assert load_escrow(saved, PASSPHRASE) == ESCROW


def test_truncated_files_are_caught(saved: Path) -> None:
    content = saved.read_bytes()
    data = _fields(saved)
    for length in (0, 1, len(content) // 3, len(content) - 3):
        saved.unlink()
        saved.write_bytes(content[:length])
        with pytest.raises(EscrowFileError, match="not an escrow file"):
            load_escrow(saved, PASSPHRASE)
    sealed = base64.b64decode(data["ciphertext"])
    for cut in (1, 16, len(sealed) - 1):
        _write(saved, {**data, "ciphertext": base64.b64encode(sealed[:-cut]).decode()})
        with pytest.raises(EscrowFileError, match=ALTERED):
            load_escrow(saved, PASSPHRASE)


def _kdf(change: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: {**d, "kdf": {**d["kdf"], **change}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_kdf({"n": 2**14}), ALTERED),
        (_kdf({"n": 2**16}), ALTERED),
        (_kdf({"r": 9}), ALTERED),
        (_kdf({"p": 2}), ALTERED),
        (_kdf({"salt": base64.b64encode(bytes(16)).decode()}), ALTERED),
        (lambda d: {**d, "nonce": base64.b64encode(bytes(12)).decode()}, ALTERED),
        (_kdf({"n": 3}), "power of two"),
        (_kdf({"n": 2**24}), "more memory"),
        (_kdf({"r": True}), "positive integers"),
        (_kdf({"name": "argon2id"}), "unknown key derivation"),
        (_kdf({"salt": base64.b64encode(bytes(4)).decode()}), "shorter than 16"),
        (_kdf({"extra": 1}), "kdf must be an object with exactly"),
        (lambda d: {**d, "nonce": base64.b64encode(bytes(8)).decode()}, "nonce is not 12"),
        (lambda d: {**d, "nonce": "*"}, "nonce is not base64"),
        (lambda d: {**d, "format": "cvid-escrow-2"}, "not a cvid-escrow-1 file"),
        (lambda d: {**d, "comment": "x"}, "exactly ciphertext, format, kdf, nonce"),
        (lambda d: {k: v for k, v in d.items() if k != "nonce"}, "exactly"),
    ],
)
def test_changed_header_fields_are_caught(
    saved: Path, change: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    _write(saved, change(_fields(saved)))
    with pytest.raises(EscrowFileError, match=message):
        load_escrow(saved, PASSPHRASE)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EscrowFileError, match="cannot read"):
        load_escrow(tmp_path / "absent", PASSPHRASE)


def _sealed(path: Path, body: Any) -> None:
    """An escrow file whose plaintext is ``body``: what its owner could write by hand."""
    salt, nonce = bytes(range(16)), bytes(range(12))
    header = {
        "format": "cvid-escrow-1",
        "kdf": {
            "name": "scrypt",
            "n": 2**15,
            "r": 8,
            "p": 1,
            "salt": base64.b64encode(salt).decode(),
        },
        "nonce": base64.b64encode(nonce).decode(),
    }
    key = Scrypt(salt, 32, 2**15, 8, 1).derive(PASSPHRASE.encode())
    sealed = AESGCM(key).encrypt(nonce, canonical(body), canonical(header))
    path.write_bytes(canonical({**header, "ciphertext": base64.b64encode(sealed).decode()}))


def _body(escrow: Escrow) -> dict[str, Any]:
    return {
        "partition": escrow.partition.to_dict(),
        "leaves": [{"record": r, "salt": base64.b64encode(s).decode()} for r, s in escrow.leaves],
        "root": escrow.root.hex(),
        "size": escrow.size,
    }


def test_a_decrypted_escrow_is_still_checked(tmp_path: Path) -> None:
    good = _body(ESCROW)
    _sealed(tmp_path / "good", good)
    assert load_escrow(tmp_path / "good", PASSPHRASE) == ESCROW
    cases: list[tuple[Any, str]] = [
        ({**good, "root": "00" * 32}, "do not give the escrow's root and size"),
        ({**good, "size": ESCROW.size + 1}, "do not give the escrow's root and size"),
        ({**good, "leaves": good["leaves"][::-1]}, "malformed escrow"),
        ({**good, "leaves": good["leaves"][1:]}, "malformed escrow: leaf 0"),
        ({**good, "leaves": "x"}, "leaves must be a list"),
        ({**good, "extra": 1}, "malformed escrow"),
        ({**good, "partition": {"cells": []}}, "at least one cell"),
        ([], "malformed escrow"),
    ]
    for n, (body, message) in enumerate(cases):
        path = tmp_path / f"bad-{n}"
        _sealed(path, body)
        with pytest.raises(EscrowFileError, match=message):
            load_escrow(path, PASSPHRASE)
