"""Tests for cvid.log.checkpoint: C2SP tlog-checkpoint parsing, signing and opening."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import CheckpointFormatError, NoteFormatError, SignatureError
from cvid.log.checkpoint import MAX_TREE_SIZE, Checkpoint, open_checkpoint, sign_checkpoint
from cvid.log.note import Note, Signer, sign_note

SUMDB_TREE = b"go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
C2SP_BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT)
ORIGIN = "example.com/log"


def log_signer(name: str = ORIGIN, n: int = 1) -> Signer:
    return Signer.generate(name, seed=bytes([n]) * 32)


# --- golden vectors ---------------------------------------------------------------------


def test_go_sumdb_tree_note_parses() -> None:
    cp = Checkpoint.from_text(SUMDB_TREE)
    assert cp.origin == "go.sum database tree"
    assert cp.tree_size == 123456789012
    assert cp.root_hash == hashlib.sha256(b"\x00hello world").digest()
    assert cp.extensions == ()
    assert cp.to_text() == SUMDB_TREE


def test_c2sp_example_body_parses() -> None:
    cp = Checkpoint.from_text(C2SP_BODY)
    assert (cp.origin, cp.tree_size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.to_text() == C2SP_BODY


def test_empty_tree_and_extensions_round_trip() -> None:
    empty = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    assert empty.to_text() == b"example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    ext = Checkpoint(ORIGIN, 5, ROOT, ("ext one", "\u00e9xt\u00e9nsion \u2014 two"))
    text = ext.to_text()
    assert text.endswith("\u00e9xt\u00e9nsion \u2014 two\n".encode())
    assert Checkpoint.from_text(text) == ext


def test_max_tree_size() -> None:
    cp = Checkpoint(ORIGIN, MAX_TREE_SIZE, ROOT)
    assert Checkpoint.from_text(cp.to_text()).tree_size == 2**64 - 1


# --- malformed bodies -------------------------------------------------------------------


def body(*lines: bytes) -> bytes:
    return b"".join(line + b"\n" for line in lines)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"", id="empty"),
        pytest.param(SUMDB_TREE[:-1], id="missing-final-newline"),
        pytest.param(body(b"origin", b"1"), id="two-lines"),
        pytest.param(body(b"", b"1", ROOT_B64), id="empty-origin"),
        pytest.param(body(b"o", b"", ROOT_B64), id="empty-size"),
        pytest.param(body(b"o", b"01", ROOT_B64), id="leading-zero"),
        pytest.param(body(b"o", b"00", ROOT_B64), id="double-zero"),
        pytest.param(body(b"o", b"+1", ROOT_B64), id="plus-sign"),
        pytest.param(body(b"o", b"-1", ROOT_B64), id="negative"),
        pytest.param(body(b"o", b" 1", ROOT_B64), id="leading-space"),
        pytest.param(body(b"o", b"1 ", ROOT_B64), id="trailing-space"),
        pytest.param(body(b"o", b"1_000", ROOT_B64), id="underscore"),
        pytest.param(body(b"o", b"0x10", ROOT_B64), id="hex"),
        pytest.param(body(b"o", "\u0661".encode(), ROOT_B64), id="arabic-indic-digit"),
        pytest.param(body(b"o", "\uff11".encode(), ROOT_B64), id="fullwidth-digit"),
        pytest.param(body(b"o", str(2**64).encode(), ROOT_B64), id="size-over-u64"),
        pytest.param(body(b"o", b"9" * 5000, ROOT_B64), id="5000-digit-size"),
        pytest.param(body(b"o", b"1", b""), id="empty-root"),
        pytest.param(body(b"o", b"1", ROOT_B64[:-1]), id="root-missing-padding"),
        pytest.param(body(b"o", b"1", ROOT_B64 + b"="), id="root-extra-padding"),
        pytest.param(body(b"o", b"1", b" " + ROOT_B64), id="root-leading-space"),
        pytest.param(body(b"o", b"1", base64.b64encode(ROOT[:31])), id="root-31-bytes"),
        pytest.param(body(b"o", b"1", base64.b64encode(ROOT + b"x")), id="root-33-bytes"),
        pytest.param(body(b"o", b"1", base64.urlsafe_b64encode(b"\xff" * 32)), id="urlsafe"),
        pytest.param(body(b"o", b"1", b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV="), id="bits"),
        pytest.param(body(b"o", b"1", ROOT_B64, b""), id="empty-extension"),
        pytest.param(SUMDB_TREE + b"\n", id="trailing-blank-line"),
        pytest.param(b"\n" + SUMDB_TREE, id="leading-blank-line"),
        pytest.param(SUMDB_TREE.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(SUMDB_TREE.replace(b"go.sum", b"go\tsum"), id="tab-in-origin"),
        pytest.param(SUMDB_TREE.replace(b"go.sum", b"go\x00sum"), id="nul-in-origin"),
        pytest.param(body(b"o", b"1", ROOT_B64, b"e\x1bx"), id="escape-in-extension"),
        pytest.param(SUMDB_TREE.replace(b"go.sum", b"go\xffsum"), id="invalid-utf8"),
    ],
)
def test_from_text_rejects(text: bytes) -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint.from_text(text)


def test_from_text_rejects_non_bytes() -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint.from_text(SUMDB_TREE.decode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        pytest.param("", 1, ROOT, (), id="empty-origin"),
        pytest.param("a\nb", 1, ROOT, (), id="newline-in-origin"),
        pytest.param("a\tb", 1, ROOT, (), id="tab-in-origin"),
        pytest.param("a\ud800", 1, ROOT, (), id="lone-surrogate"),
        pytest.param(ORIGIN, -1, ROOT, (), id="negative-size"),
        pytest.param(ORIGIN, 2**64, ROOT, (), id="huge-size"),
        pytest.param(ORIGIN, True, ROOT, (), id="bool-size"),
        pytest.param(ORIGIN, 1.0, ROOT, (), id="float-size"),
        pytest.param(ORIGIN, 1, ROOT[:31], (), id="short-root"),
        pytest.param(ORIGIN, 1, ROOT.hex(), (), id="str-root"),
        pytest.param(ORIGIN, 1, ROOT, ("",), id="empty-extension"),
        pytest.param(ORIGIN, 1, ROOT, ("a\nb",), id="multiline-extension"),
        pytest.param(ORIGIN, 1, ROOT, ["ext"], id="list-extensions"),
        pytest.param(ORIGIN, 1, ROOT, (b"ext",), id="bytes-extension"),
        pytest.param(b"origin", 1, ROOT, (), id="bytes-origin"),
    ],
)
def test_constructor_rejects(
    origin: object, size: object, root: object, extensions: object
) -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint(origin, size, root, extensions)  # type: ignore[arg-type]


# --- signing and opening ----------------------------------------------------------------


def test_sign_and_open() -> None:
    signer = log_signer()
    cp = Checkpoint(ORIGIN, 42, ROOT)
    data = sign_checkpoint(cp, signer)
    assert data.startswith(cp.to_text() + "\n\u2014 example.com/log ".encode())
    opened, note = open_checkpoint(data, signer.verifier)
    assert opened == cp
    assert note == Note.from_bytes(data)


def test_open_ignores_other_signatures() -> None:
    log, other = log_signer(), log_signer("witness.example/w", 2)
    cp = Checkpoint(ORIGIN, 7, ROOT)
    data = sign_note(cp.to_text(), [other, log])
    opened, note = open_checkpoint(data, log.verifier)
    assert opened == cp
    assert len(note.signatures) == 2


def test_open_with_wrong_key() -> None:
    data = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), log_signer())
    with pytest.raises(SignatureError):
        open_checkpoint(data, log_signer(n=2).verifier)


def test_origin_must_match_key_name_by_default() -> None:
    signer = log_signer("example.com/other")
    data = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), signer)
    with pytest.raises(SignatureError, match="origin"):
        open_checkpoint(data, signer.verifier)
    cp, _ = open_checkpoint(data, signer.verifier, origin=ORIGIN)
    assert cp.origin == ORIGIN
    with pytest.raises(SignatureError, match="origin"):
        open_checkpoint(data, signer.verifier, origin="example.com/third")


def test_sumdb_style_origin_with_spaces() -> None:
    signer = log_signer("sum.golang.org")
    data = sign_checkpoint(Checkpoint.from_text(SUMDB_TREE), signer)
    cp, _ = open_checkpoint(data, signer.verifier, origin="go.sum database tree")
    assert cp.tree_size == 123456789012


def test_signed_non_checkpoint_rejected() -> None:
    signer = log_signer()
    data = sign_note(b"example.com/log\n1\n", [signer])
    with pytest.raises(CheckpointFormatError):
        open_checkpoint(data, signer.verifier)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d[:-1], id="missing-final-newline"),
        pytest.param(lambda d: d + b"\n", id="extra-blank-line-at-end"),
        pytest.param(lambda d: d.replace(b"\n\n", b"\n\n\n", 1), id="extra-blank-line-before-sigs"),
        pytest.param(lambda d: d.replace(b"\n42\n", b"\n042\n"), id="leading-zero"),
        pytest.param(lambda d: d.replace(b"\n42\n", b"\n43\n"), id="other-size"),
        pytest.param(lambda d: d.replace(b"log\n", b"log\t\n", 1), id="control-char"),
    ],
)
def test_tampered_signed_checkpoint_rejected(mutate: Callable[[bytes], bytes]) -> None:
    signer = log_signer()
    data = sign_checkpoint(Checkpoint(ORIGIN, 42, ROOT), signer)
    tampered = mutate(data)
    assert tampered != data
    with pytest.raises((NoteFormatError, SignatureError, CheckpointFormatError)):
        open_checkpoint(tampered, signer.verifier)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _witnessed_note() -> tuple[Checkpoint, bytes, Signer]:
    log, witness = log_signer(), log_signer("witness.example/w", 9)
    cp = Checkpoint(ORIGIN, 1234, ROOT, ("ext",))
    return cp, sign_note(cp.to_text(), [log, witness]), log


def test_every_single_bit_flip_rejected_or_same_body() -> None:
    cp, data, log = _witnessed_note()
    accepted = 0
    for bit in range(len(data) * 8):
        try:
            opened, _ = open_checkpoint(_flip(data, bit), log.verifier)
        except (NoteFormatError, SignatureError, CheckpointFormatError):
            continue
        accepted += 1
        assert opened == cp
    # Only flips inside the witness's (unknown to the log key) line can be accepted.
    assert 0 < accepted < 8 * len(data.split(b"\n")[-2])


# --- properties -------------------------------------------------------------------------

line_text = st.text(
    alphabet=st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\n"),
    min_size=1,
    max_size=40,
)
checkpoints = st.builds(
    Checkpoint,
    origin=line_text,
    tree_size=st.integers(min_value=0, max_value=MAX_TREE_SIZE),
    root_hash=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text, max_size=3).map(tuple),
)


@given(cp=checkpoints)
def test_property_text_round_trip(cp: Checkpoint) -> None:
    text = cp.to_text()
    assert Checkpoint.from_text(text) == cp
    assert Checkpoint.from_text(text).to_text() == text
    assert text.count(b"\n") == 3 + len(cp.extensions)


@given(size=st.integers(min_value=0, max_value=MAX_TREE_SIZE))
def test_property_size_is_canonical_decimal(size: int) -> None:
    text = body(b"o", str(size).encode(), ROOT_B64)
    assert Checkpoint.from_text(text).tree_size == size
    with pytest.raises(CheckpointFormatError):
        Checkpoint.from_text(body(b"o", b"0" + str(size).encode(), ROOT_B64))


@settings(deadline=None, max_examples=200)
@given(cp=checkpoints, data=st.data())
def test_property_bit_flip_never_verifies_a_different_body(
    cp: Checkpoint, data: st.DataObject
) -> None:
    log, witness = log_signer(), log_signer("witness.example/w", 9)
    signed = sign_note(cp.to_text(), [log, witness])
    bit = data.draw(st.integers(min_value=0, max_value=len(signed) * 8 - 1))
    try:
        opened, _ = open_checkpoint(_flip(signed, bit), log.verifier, origin=cp.origin)
    except (NoteFormatError, SignatureError, CheckpointFormatError):
        return  # any other exception (cvid's or not) fails the test
    assert opened == cp
