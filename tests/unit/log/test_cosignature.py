"""Tests for cvid.log.cosignature: C2SP tlog-cosignature (Ed25519 cosignature/v1) and policy."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import (
    CheckpointFormatError,
    ConfigError,
    KeyFormatError,
    NoteFormatError,
    SignatureError,
    WitnessPolicyError,
)
from cvid.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from cvid.log.cosignature import (
    COSIGNATURE_SIZE,
    MAX_TIMESTAMP,
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    WitnessPolicy,
    add_cosignatures,
    cosign,
    cosigned_message,
)
from cvid.log.note import Note, Signature, Signer, Verifier, compute_key_id, sign_note

REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REMORA_BLOB = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFi"
    "EBYJXORmnFBOBA=="
)
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
C2SP_BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
DASH = "\u2014".encode()
ORIGIN = "example.com/log"
CP = Checkpoint(ORIGIN, 99, hashlib.sha256(b"root").digest())
T0 = 1_700_000_000


def witness(n: int, name: str | None = None) -> CosignatureSigner:
    return CosignatureSigner.generate(name or f"witness{n}.example", seed=bytes([n]) * 32)


LOG = Signer.generate(ORIGIN, seed=b"\x01" * 32)
W1, W2, W3 = witness(1), witness(2), witness(3)


def checkpoint_note(*lines: bytes) -> bytes:
    """The log-signed CP with the given signature lines appended as they are."""
    return sign_checkpoint(CP, LOG) + b"".join(lines)


def line(name: str, blob: bytes) -> bytes:
    return DASH + f" {name} {base64.b64encode(blob).decode()}\n".encode()


# --- golden vectors ---------------------------------------------------------------------


def test_remora_key_id_recomputes() -> None:
    verifier = CosignatureVerifier.from_text(REMORA_VKEY)
    assert verifier.name == "remora.n621.de"
    assert verifier.key_id.hex() == "da77ade7"
    assert compute_key_id(verifier.name, 0x04, verifier.public_key).hex() == "da77ade7"
    assert compute_key_id(verifier.name, 0x01, verifier.public_key).hex() != "da77ade7"
    assert verifier.to_text() == REMORA_VKEY


def test_remora_blob_parses() -> None:
    blob = base64.b64decode(REMORA_BLOB)
    assert len(blob) == COSIGNATURE_SIZE == 76
    cosig = Cosignature.from_line(line("remora.n621.de", blob))
    assert cosig.key_id.hex() == "646846b9"
    assert cosig.timestamp == 1727964367
    assert cosig.signature == blob[12:]
    assert cosig.to_signature().to_line() == line("remora.n621.de", blob)


def test_spec_signed_message_layout() -> None:
    # tlog-cosignature "Ed25519 signed message" example.
    assert cosigned_message(C2SP_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert cosigned_message(C2SP_BODY, 0).startswith(b"cosignature/v1\ntime 0\n")


def test_cosign_blob_layout_and_raw_signature() -> None:
    text = CP.to_text()
    sig_line = cosign(text, W1, at=T0)
    assert sig_line == W1.cosign(text, at=T0)  # deterministic (RFC 8032)
    name, b64 = sig_line[len(DASH) + 1 : -1].decode().split(" ")
    blob = base64.b64decode(b64)
    assert name == W1.name
    assert len(blob) == 76
    assert blob[:4] == W1.key_id
    assert blob[4:12] == T0.to_bytes(8, "big")
    message = b"cosignature/v1\ntime %d\n" % T0 + text
    Ed25519PublicKey.from_public_bytes(W1.public_key).verify(blob[12:], message)
    assert W1.verifier.verify(text, blob[4:])


# --- keys -------------------------------------------------------------------------------


def test_signer_text_round_trip_and_repr() -> None:
    assert CosignatureSigner.from_text(W1.to_text()) == W1
    assert W1.to_text().startswith(f"PRIVATE+KEY+{W1.name}+{W1.key_id.hex()}+BA")
    assert CosignatureVerifier.from_text(W1.verifier.to_text()) == W1.verifier
    assert "seed" not in repr(W1)
    assert len(CosignatureSigner.generate("w.example").seed) == 32


def _vkey(name: str, key: bytes, key_type: int = 4, key_id: str | None = None) -> str:
    kid = key_id or compute_key_id(name, key_type, key).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([key_type]) + key).decode()}"


PUB = CosignatureVerifier.from_text(REMORA_VKEY).public_key


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(GO_VKEY, id="note-key-type-0x01"),
        pytest.param(_vkey("w", PUB, key_type=6), id="mldsa-type"),
        pytest.param(REMORA_VKEY.replace("da77ade7", "da77ade8"), id="wrong-key-id"),
        pytest.param(REMORA_VKEY.replace("remora", "Remora"), id="renamed"),
        pytest.param(_vkey("w", PUB[:31]), id="short-key"),
        pytest.param(_vkey("w w", PUB), id="space-in-name"),
        pytest.param(REMORA_VKEY[:-1], id="truncated-base64"),
        pytest.param("remora.n621.de+da77ade7", id="two-parts"),
    ],
)
def test_verifier_from_text_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError):
        CosignatureVerifier.from_text(text)


def test_cosigner_key_is_not_a_note_key() -> None:
    with pytest.raises(KeyFormatError, match="0x04"):
        Verifier.from_text(REMORA_VKEY)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(Signer.generate("w", seed=bytes(32)).to_text(), id="type-0x01"),
        pytest.param(W1.to_text().replace(W1.key_id.hex(), "00000000"), id="wrong-key-id"),
        pytest.param(W1.to_text()[len("PRIVATE+KEY+") :], id="no-prefix"),
    ],
)
def test_signer_from_text_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError):
        CosignatureSigner.from_text(text)


@pytest.mark.parametrize(("name", "seed"), [("", bytes(32)), ("a+b", bytes(32)), ("w", b"x")])
def test_signer_constructor_rejects(name: str, seed: bytes) -> None:
    with pytest.raises(KeyFormatError):
        CosignatureSigner(name, seed)


# --- cosigning and assembling -----------------------------------------------------------


@pytest.mark.parametrize("at", [-1, MAX_TIMESTAMP + 1, True, 1.5])
def test_cosign_rejects_bad_time(at: object) -> None:
    with pytest.raises(NoteFormatError):
        cosign(CP.to_text(), W1, at=at)  # type: ignore[arg-type]


@pytest.mark.parametrize("at", [0, MAX_TIMESTAMP])
def test_cosign_time_bounds(at: int) -> None:
    cosig = Cosignature.from_line(cosign(CP.to_text(), W1, at=at))
    assert cosig.timestamp == at


@pytest.mark.parametrize("text", [b"not\na checkpoint\n", CP.to_text()[:-1], b""])
def test_cosign_rejects_non_checkpoint(text: bytes) -> None:
    with pytest.raises(CheckpointFormatError):
        cosign(text, W1, at=T0)


def test_add_cosignatures_keeps_log_signature() -> None:
    lines = [cosign(CP.to_text(), W1, at=T0), cosign(CP.to_text(), W2, at=T0)]
    data = add_cosignatures(sign_checkpoint(CP, LOG), lines)
    assert data == checkpoint_note(*lines)
    note = Note.from_bytes(data)
    assert [s.name for s in note.signatures] == [ORIGIN, W1.name, W2.name]
    cp, _ = open_checkpoint(data, LOG.verifier)
    assert cp == CP


def test_add_cosignatures_replaces_same_key() -> None:
    first = checkpoint_note(cosign(CP.to_text(), W1, at=T0))
    newer = add_cosignatures(first, [cosign(CP.to_text(), W1, at=T0 + 5)])
    sigs = Note.from_bytes(newer).signatures
    assert len(sigs) == 2
    assert Cosignature.from_signature(sigs[1]).timestamp == T0 + 5


def test_add_cosignatures_rejects() -> None:
    base = checkpoint_note()
    w1 = cosign(CP.to_text(), W1, at=T0)
    with pytest.raises(NoteFormatError, match="same key"):
        add_cosignatures(base, [w1, cosign(CP.to_text(), W1, at=T0 + 1)])
    with pytest.raises(NoteFormatError):
        add_cosignatures(base, [LOG.sign(CP.to_text())])  # a 68-byte note signature
    with pytest.raises(NoteFormatError):
        add_cosignatures(base, [w1[:-1]])
    with pytest.raises(NoteFormatError):
        add_cosignatures(base, [w1 + w1])
    with pytest.raises(CheckpointFormatError):
        add_cosignatures(sign_note(b"hello\n", [LOG]), [w1])
    stamped = line(W1.name, W1.key_id + (2**63).to_bytes(8, "big") + bytes(64))
    with pytest.raises(NoteFormatError, match="timestamp"):
        add_cosignatures(base, [stamped])


# --- witness policy ---------------------------------------------------------------------


def test_policy_two_of_three() -> None:
    policy = WitnessPolicy(2, (W1.verifier, W2.verifier, W3.verifier))
    data = checkpoint_note(cosign(CP.to_text(), W3, at=T0 + 3), cosign(CP.to_text(), W1, at=T0))
    result = policy.verify(data)
    assert result.satisfied
    assert result.signed == (W1.name, W3.name)  # policy order
    assert result.missing == (W2.name,)
    assert result.invalid == ()
    assert result.threshold == 2
    assert [c.timestamp for c in result.cosignatures] == [T0, T0 + 3]


def test_policy_not_satisfied() -> None:
    policy = WitnessPolicy(2, (W1.verifier, W2.verifier, W3.verifier))
    data = checkpoint_note(cosign(CP.to_text(), W2, at=T0))
    result = policy.check(data)
    assert not result.satisfied
    assert result.signed == (W2.name,)
    assert result.missing == (W1.name, W3.name)
    with pytest.raises(WitnessPolicyError, match=re.escape(W1.name)):
        policy.verify(data)


def test_policy_invalid_cosignature_reported_and_rejected() -> None:
    policy = WitnessPolicy(1, (W1.verifier, W2.verifier))
    good = cosign(CP.to_text(), W2, at=T0)
    blob = bytearray(base64.b64decode(cosign(CP.to_text(), W1, at=T0).split(b" ")[-1]))
    blob[-1] ^= 0x80
    data = checkpoint_note(line(W1.name, bytes(blob)), good)
    result = policy.check(data)
    assert result.invalid == (W1.name,)
    assert result.signed == (W2.name,)
    assert result.missing == ()
    assert result.satisfied
    with pytest.raises(SignatureError, match=re.escape(W1.name)):
        policy.verify(data)


def test_every_bit_flip_of_cosignature_is_invalid() -> None:
    policy = WitnessPolicy(1, (W1.verifier,))
    blob = base64.b64decode(cosign(CP.to_text(), W1, at=T0).split(b" ")[-1])
    for bit in range(32, len(blob) * 8):  # timestamp and signature bits
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        result = policy.check(checkpoint_note(line(W1.name, bytes(flipped))))
        assert result.invalid == (W1.name,)
        assert not result.satisfied


def test_cosignature_of_other_checkpoint_is_invalid() -> None:
    policy = WitnessPolicy(1, (W1.verifier,))
    other = Checkpoint(ORIGIN, 100, CP.root_hash)
    data = checkpoint_note(cosign(other.to_text(), W1, at=T0))
    assert policy.check(data).invalid == (W1.name,)


def test_changed_timestamp_is_invalid() -> None:
    cosig = Cosignature.from_line(cosign(CP.to_text(), W1, at=T0))
    moved = Cosignature(cosig.name, cosig.key_id, T0 + 1, cosig.signature)
    result = WitnessPolicy(1, (W1.verifier,)).check(checkpoint_note(moved.to_signature().to_line()))
    assert result.invalid == (W1.name,)


def test_same_name_other_key_is_ignored() -> None:
    impostor = witness(42, name=W1.name)
    assert impostor.key_id != W1.key_id
    policy = WitnessPolicy(1, (W1.verifier,))
    result = policy.check(checkpoint_note(cosign(CP.to_text(), impostor, at=T0)))
    assert result.missing == (W1.name,)
    assert result.invalid == ()
    with pytest.raises(WitnessPolicyError):
        policy.verify(checkpoint_note(cosign(CP.to_text(), impostor, at=T0)))


def test_note_signature_by_same_key_is_not_a_cosignature() -> None:
    # A plain Ed25519 note signature (type 0x01) by the witness's key has another key
    # ID, so it is not counted (domain separation by type byte and message prefix).
    as_note_signer = Signer(W1.name, W1.seed)
    data = sign_note(CP.to_text(), [LOG, as_note_signer])
    result = WitnessPolicy(1, (W1.verifier,)).check(data)
    assert result.missing == (W1.name,)


def test_duplicate_cosignature_lines_first_decides() -> None:
    policy = WitnessPolicy(1, (W1.verifier,))
    good = cosign(CP.to_text(), W1, at=T0)
    bad = line(W1.name, W1.key_id + T0.to_bytes(8, "big") + bytes(64))
    base = sign_checkpoint(CP, LOG)
    assert policy.check(base + good + bad).signed == (W1.name,)
    assert policy.check(base + bad + good).invalid == (W1.name,)


def test_verifier_rejects_non_checkpoint_and_bad_lengths() -> None:
    text = CP.to_text()
    sig = base64.b64decode(cosign(text, W1, at=T0).split(b" ")[-1])[4:]
    assert W1.verifier.verify(text, sig)
    assert not W1.verifier.verify(text, sig[:-1])
    assert not W1.verifier.verify(text, sig + b"\x00")
    assert not W1.verifier.verify(b"hello\n", sig)
    huge = (2**63).to_bytes(8, "big") + sig[8:]
    assert not W1.verifier.verify(text, huge)


def test_policy_rejects_non_checkpoint_note() -> None:
    policy = WitnessPolicy(1, (W1.verifier,))
    with pytest.raises(CheckpointFormatError):
        policy.check(sign_note(b"hello\n", [LOG]))
    with pytest.raises(NoteFormatError):
        policy.check(CP.to_text())


def _twin() -> CosignatureVerifier:
    return CosignatureVerifier("another.example", W1.public_key)


@pytest.mark.parametrize(
    ("threshold", "witnesses"),
    [
        pytest.param(0, (W1.verifier,), id="zero-threshold"),
        pytest.param(2, (W1.verifier,), id="threshold-above-count"),
        pytest.param(1, (), id="no-witnesses"),
        pytest.param(True, (W1.verifier,), id="bool-threshold"),
        pytest.param(1, [W1.verifier], id="list-not-tuple"),
        pytest.param(1, (W1.verifier, W1.verifier), id="duplicate-key"),
        pytest.param(1, (W1.verifier, witness(7, name=W1.name).verifier), id="duplicate-name"),
        pytest.param(1, (W1.verifier, _twin()), id="same-public-key-two-names"),
        pytest.param(1, (Verifier.from_text(GO_VKEY),), id="note-verifier"),
    ],
)
def test_policy_constructor_rejects(threshold: object, witnesses: object) -> None:
    with pytest.raises(ConfigError):
        WitnessPolicy(threshold, witnesses)  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------------


@settings(deadline=None, max_examples=50)
@given(
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    at=st.integers(min_value=0, max_value=MAX_TIMESTAMP),
    extensions=st.lists(st.sampled_from(["ext", "x y", "\u00e9"]), max_size=2),
)
def test_property_cosign_verify(size: int, root: bytes, at: int, extensions: list[str]) -> None:
    cp = Checkpoint(ORIGIN, size, root, tuple(extensions))
    data = add_cosignatures(sign_checkpoint(cp, LOG), [cosign(cp.to_text(), W2, at=at)])
    result = WitnessPolicy(1, (W1.verifier, W2.verifier)).verify(data)
    assert result.signed == (W2.name,)
    assert result.cosignatures[0].timestamp == at
    assert open_checkpoint(data, LOG.verifier)[0] == cp


@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_property_bit_flip_never_adds_a_cosignature(data: st.DataObject) -> None:
    signed = checkpoint_note(cosign(CP.to_text(), W1, at=T0))
    bit = data.draw(st.integers(min_value=0, max_value=len(signed) * 8 - 1))
    flipped = bytearray(signed)
    flipped[bit // 8] ^= 1 << (bit % 8)
    policy = WitnessPolicy(1, (W1.verifier, W2.verifier))
    try:
        result = policy.check(bytes(flipped))
        cp, _ = open_checkpoint(bytes(flipped), LOG.verifier)
    except (NoteFormatError, CheckpointFormatError, SignatureError):
        return
    assert cp == CP
    assert result.signed in ((), (W1.name,))
    assert W2.name not in result.signed


def test_signature_dataclass_rejects_short_cosignature() -> None:
    sig = Signature(W1.name, W1.key_id, bytes(71))
    with pytest.raises(NoteFormatError, match="76"):
        Cosignature.from_signature(sig)


@pytest.mark.parametrize(("name", "key"), [("", PUB), ("a b", PUB), ("ok", PUB + b"x")])
def test_verifier_constructor_rejects(name: str, key: bytes) -> None:
    with pytest.raises(KeyFormatError):
        CosignatureVerifier(name, key)
