"""Tests for cvid.log.note: C2SP signed-note vectors, Go compatibility, strict parsing."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import KeyFormatError, NoteFormatError, SignatureError
from cvid.log.note import (
    MAX_SIGNATURES,
    Note,
    Signature,
    Signer,
    Verifier,
    compute_key_id,
    open_note,
    sign_note,
    verify_note,
)

# --- vectors (../shared/reference/tlog-vectors.md §2) -------------------------------

C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
    "FXmRKuwHjG1Yu72IneyaQM=\n"
).encode()

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIG_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
).encode()
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG_LINE = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
).encode()
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

DASH = "\u2014".encode()


def signer(name: str = "example.com/log", n: int = 1) -> Signer:
    return Signer.generate(name, seed=bytes([n]) * 32)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- golden vectors -------------------------------------------------------------------


def test_c2sp_example_note_verifies() -> None:
    verifier = Verifier.from_text(C2SP_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    opened = open_note(C2SP_NOTE, [verifier])
    assert opened.text == b"This is an example message.\n"
    assert [s.name for s in opened.verified] == ["example.com/foo"]
    assert opened.unverified == ()


def test_c2sp_example_key_id_formula() -> None:
    verifier = Verifier.from_text(C2SP_VKEY)
    digest = hashlib.sha256(b"example.com/foo\n\x01" + verifier.public_key).digest()
    assert digest[:4] == verifier.key_id == bytes.fromhex("530d903a")
    assert compute_key_id("example.com/foo", 1, verifier.public_key) == verifier.key_id


def test_go_signer_key_round_trip_and_verifier() -> None:
    s = Signer.from_text(GO_SKEY)
    assert s.name == "PeterNeumann"
    assert s.key_id.hex() == "c74f20a3"
    assert s.to_text() == GO_SKEY
    assert s.verifier.to_text() == GO_VKEY
    assert s.verifier == Verifier.from_text(GO_VKEY)


def test_go_deterministic_signature_line() -> None:
    s = Signer.from_text(GO_SKEY)
    assert s.sign(GO_TEXT) == GO_SIG_LINE
    assert sign_note(GO_TEXT, [s]) == GO_TEXT + b"\n" + GO_SIG_LINE


def test_go_example_opens() -> None:
    opened = open_note(GO_TEXT + b"\n" + GO_SIG_LINE, [Verifier.from_text(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert opened.verified[0].key_id == bytes.fromhex("c74f20a3")


def test_go_doubly_signed_example() -> None:
    msg = GO_TEXT + b"\n" + GO_SIG_LINE + ENOCH_SIG_LINE
    peter, enoch = Verifier.from_text(GO_VKEY), Verifier.from_text(ENOCH_VKEY)
    both = open_note(msg, [peter, enoch])
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    only_enoch = open_note(msg, [enoch])
    assert [s.name for s in only_enoch.verified] == ["EnochRoot"]
    assert [s.name for s in only_enoch.unverified] == ["PeterNeumann"]


def test_sumdb_key_id_with_plus_in_base64() -> None:
    verifier = Verifier.from_text(SUMDB_VKEY)
    assert verifier.name == "sum.golang.org"
    assert verifier.key_id.hex() == "033de0ae"
    assert compute_key_id(verifier.name, 1, verifier.public_key).hex() == "033de0ae"
    assert verifier.to_text() == SUMDB_VKEY


def test_note_round_trip_exact() -> None:
    for data in (C2SP_NOTE, GO_TEXT + b"\n" + GO_SIG_LINE + ENOCH_SIG_LINE):
        assert Note.from_bytes(data).to_bytes() == data


# --- keys -------------------------------------------------------------------------------


def _vkey(name: str, key: bytes, key_type: int = 1, key_id: str | None = None) -> str:
    kid = key_id or compute_key_id(name, key_type, key).hex()
    return f"{name}+{kid}+{b64(bytes([key_type]) + key)}"


PUB = Verifier.from_text(GO_VKEY).public_key


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("PeterNeumann+c74f20a3", id="two-parts"),
        pytest.param("+c74f20a3+" + b64(b"\x01" + PUB), id="empty-name"),
        pytest.param(_vkey("Peter Neumann", PUB), id="space-in-name"),
        pytest.param(_vkey("Peter\u00a0Neumann", PUB), id="nbsp-in-name"),
        pytest.param(_vkey("Peter\tNeumann", PUB), id="tab-in-name"),
        pytest.param(GO_VKEY.replace("c74f20a3", "C74F20A3"), id="uppercase-hex"),
        pytest.param(GO_VKEY.replace("c74f20a3", "c74f20a"), id="short-hex"),
        pytest.param(GO_VKEY.replace("c74f20a3", "c74f20a3a"), id="long-hex"),
        pytest.param(GO_VKEY.replace("c74f20a3", "c74f20g3"), id="non-hex"),
        pytest.param(GO_VKEY.replace("c74f20a3", "00000000"), id="wrong-key-id"),
        pytest.param(GO_VKEY + "=", id="bad-padding"),
        pytest.param(GO_VKEY[:-1], id="truncated-base64"),
        pytest.param(GO_VKEY.replace("ARpc", "ARp c"), id="space-in-base64"),
        pytest.param(GO_VKEY + "\n", id="trailing-newline"),
        pytest.param(_vkey("n", PUB[:31]), id="short-public-key"),
        pytest.param(_vkey("n", PUB + b"\x00"), id="long-public-key"),
        pytest.param(_vkey("n", b"", key_type=1), id="type-only"),
        pytest.param(_vkey("n", PUB, key_type=2), id="ecdsa-type"),
        pytest.param(COSIGNER_VKEY, id="cosigner-type-0x04"),
        pytest.param(_vkey("n", PUB, key_type=0xFF), id="unknown-type"),
    ],
)
def test_verifier_from_text_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError):
        Verifier.from_text(text)


def test_verifier_non_canonical_base64_rejected() -> None:
    # 2 key bytes encode to 4 chars with 2 unused bits: set them to make it non-canonical.
    name, raw = "n", b"\x01\x02"
    canonical = b64(raw)
    tweaked = canonical[:2] + chr(ord(canonical[2]) + 1) + canonical[3:]
    assert base64.b64decode(tweaked) == raw
    key_id = compute_key_id(name, 1, raw[1:]).hex()
    text = f"{name}+{key_id}+{tweaked}"
    with pytest.raises(KeyFormatError, match="canonical"):
        Verifier.from_text(text)


def test_unknown_type_error_is_clear() -> None:
    with pytest.raises(KeyFormatError, match="0x04"):
        Verifier.from_text(COSIGNER_VKEY)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(GO_SKEY[len("PRIVATE+KEY+") :], id="no-prefix"),
        pytest.param(GO_SKEY.replace("PRIVATE+KEY", "private+key"), id="lowercase-prefix"),
        pytest.param(GO_SKEY.replace("c74f20a3", "c74f20a4"), id="wrong-key-id"),
        pytest.param(GO_SKEY[:-4], id="short-seed"),
        pytest.param("PRIVATE+KEY+n+00000000+" + b64(b"\x04" + bytes(32)), id="type-0x04"),
        pytest.param("PRIVATE+KEY+n n+00000000+" + b64(b"\x01" + bytes(32)), id="bad-name"),
    ],
)
def test_signer_from_text_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        Signer.from_text(text)
    assert "AYEKFALV" not in str(info.value)  # the secret never leaks into messages


def test_signer_generate_and_repr() -> None:
    a, b = signer(n=7), signer(n=7)
    assert a == b
    assert a.seed not in repr(a).encode()
    assert "seed" not in repr(a)
    assert Signer.from_text(a.to_text()) == a
    fresh = Signer.generate("example.com/log")
    assert fresh != a
    assert len(fresh.seed) == 32


@pytest.mark.parametrize(
    ("name", "seed"),
    [("", bytes(32)), ("a+b", bytes(32)), ("a b", bytes(32)), ("ok", bytes(31)), ("ok", b"")],
)
def test_signer_constructor_rejects(name: str, seed: bytes) -> None:
    with pytest.raises(KeyFormatError):
        Signer(name, seed)


# --- malformed notes --------------------------------------------------------------------

GOOD = GO_TEXT + b"\n" + GO_SIG_LINE
BLOB = base64.b64decode(GO_SIG_LINE.split(b" ")[-1])


def _line(name: str, blob_b64: str) -> bytes:
    return DASH + f" {name} {blob_b64}\n".encode()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(GO_TEXT, id="no-signatures"),
        pytest.param(GO_TEXT + b"\n", id="blank-line-but-no-signatures"),
        pytest.param(GOOD[:-1], id="missing-final-newline"),
        pytest.param(GOOD + b"\n", id="trailing-blank-line"),
        pytest.param(GO_TEXT + GO_SIG_LINE, id="no-blank-line"),
        pytest.param(GOOD.replace(b"If you", b"If\tyou"), id="tab-in-text"),
        pytest.param(GOOD.replace(b"problem,\n", b"problem,\r\n"), id="crlf"),
        pytest.param(GOOD.replace(b"If", b"I\x00"), id="nul"),
        pytest.param(GOOD.replace(b"If", b"I\x1b"), id="escape"),
        pytest.param(GOOD.replace(b"If", b"I\xff"), id="invalid-utf8"),
        pytest.param(GOOD.replace(b"If", b"I\xed\xa0\x80"), id="utf8-surrogate"),
        pytest.param(GOOD.replace(b"If", b"I\xc0\xaf"), id="overlong-utf8"),
        pytest.param(GOOD.replace(DASH, b"-"), id="hyphen-not-em-dash"),
        pytest.param(GOOD.replace(DASH, "\u2013".encode()), id="en-dash"),
        pytest.param(GOOD.replace(DASH + b" ", DASH), id="no-space-after-dash"),
        pytest.param(GOOD.replace(DASH + b" ", DASH + b"  "), id="empty-name"),
        pytest.param(GOOD.replace(b"Neumann ", b"Neumann  "), id="double-space"),
        pytest.param(GOOD.replace(b"Peter", b"Pe+ter"), id="plus-in-name"),
        pytest.param(GOOD.replace(b"Peter", "Pe\u00a0ter".encode()), id="nbsp-in-name"),
        pytest.param(GOOD.replace(b"Peter", "Pe\u3000ter".encode()), id="ideographic-space"),
        pytest.param(GOOD.replace(b"nAM=", b"nAM"), id="missing-padding"),
        pytest.param(GOOD.replace(b"nAM=", b"nAM=="), id="extra-padding"),
        pytest.param(GOOD.replace(b"nAM=", b"nAN="), id="non-canonical-bits"),
        pytest.param(GOOD.replace(b"x08go", b"x08 go"), id="space-in-base64"),
        pytest.param(GOOD.replace(b"x08go/", b"x08go_"), id="urlsafe-base64"),
        pytest.param(GO_TEXT + b"\n" + _line("a", ""), id="empty-base64"),
        pytest.param(GO_TEXT + b"\n" + _line("a", b64(b"\x00" * 4)), id="four-byte-blob"),
        pytest.param(GO_TEXT + b"\n" + _line("a", "AAAA AAAA"), id="three-fields"),
        pytest.param(GOOD + b"not a signature\n", id="garbage-line"),
        pytest.param(GO_TEXT + b"\n" + GO_SIG_LINE * (MAX_SIGNATURES + 1), id="101-signatures"),
    ],
)
def test_note_from_bytes_rejects(data: bytes) -> None:
    assert data != GOOD  # the mutation really happened
    with pytest.raises(NoteFormatError):
        Note.from_bytes(data)
    with pytest.raises(NoteFormatError):
        open_note(data, [Verifier.from_text(GO_VKEY)])


def test_five_byte_blob_and_hundred_signatures_parse() -> None:
    five = GO_TEXT + b"\n" + _line("a", b64(b"\x00" * 5))
    assert Note.from_bytes(five).signatures[0].signature == b"\x00"
    hundred = GO_TEXT + b"\n" + GO_SIG_LINE * MAX_SIGNATURES
    assert len(Note.from_bytes(hundred).signatures) == MAX_SIGNATURES


def test_blank_line_inside_signatures_moves_the_split() -> None:
    # The last blank line separates text and signatures, so an extra blank line makes
    # the first signature part of the text, which its key did not sign.
    data = GOOD + b"\n" + ENOCH_SIG_LINE
    note = Note.from_bytes(data)
    assert note.text == GOOD
    assert [s.name for s in note.signatures] == ["EnochRoot"]
    with pytest.raises(SignatureError):
        open_note(data, [Verifier.from_text(GO_VKEY), Verifier.from_text(ENOCH_VKEY)])


@pytest.mark.parametrize(
    ("text", "signatures"),
    [
        (b"no newline", (Signature("a", b"abcd", b"x"),)),
        (b"ok\n", ()),
        (b"ok\n", (Signature("a", b"abcd", b"x"),) * (MAX_SIGNATURES + 1)),
    ],
)
def test_note_constructor_rejects(text: bytes, signatures: tuple[Signature, ...]) -> None:
    with pytest.raises(NoteFormatError):
        Note(text, signatures)


@pytest.mark.parametrize(
    ("name", "key_id", "sig"),
    [("", b"abcd", b"x"), ("a b", b"abcd", b"x"), ("a", b"abc", b"x"), ("a", b"abcd", b"")],
)
def test_signature_constructor_rejects(name: str, key_id: bytes, sig: bytes) -> None:
    with pytest.raises(NoteFormatError):
        Signature(name, key_id, sig)


# --- verification -----------------------------------------------------------------------


def test_every_bit_flip_of_signature_blob_is_rejected() -> None:
    verifier = Verifier.from_text(GO_VKEY)
    for bit in range(len(BLOB) * 8):
        blob = bytearray(BLOB)
        blob[bit // 8] ^= 1 << (bit % 8)
        data = GO_TEXT + b"\n" + _line("PeterNeumann", b64(bytes(blob)))
        with pytest.raises(SignatureError):
            open_note(data, [verifier])


def test_every_bit_flip_of_text_is_rejected() -> None:
    verifier = Verifier.from_text(GO_VKEY)
    for bit in range(len(GO_TEXT) * 8):
        text = bytearray(GO_TEXT)
        text[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises((SignatureError, NoteFormatError)):
            open_note(bytes(text) + b"\n" + GO_SIG_LINE, [verifier])


def test_wrong_key_lists_expected_keys() -> None:
    with pytest.raises(SignatureError, match=r"EnochRoot\+af0cfe78"):
        open_note(GOOD, [Verifier.from_text(ENOCH_VKEY)])


def test_no_verifiers() -> None:
    with pytest.raises(SignatureError, match="none given"):
        open_note(GOOD, [])


def test_same_name_other_key_id_is_unknown() -> None:
    impostor = Signer.generate("PeterNeumann", seed=bytes(32))
    assert impostor.key_id != Verifier.from_text(GO_VKEY).key_id
    forged = GO_TEXT + b"\n" + impostor.sign(GO_TEXT)
    with pytest.raises(SignatureError, match="not signed by any trusted key"):
        open_note(forged, [Verifier.from_text(GO_VKEY)])
    opened = open_note(GOOD + impostor.sign(GO_TEXT), [Verifier.from_text(GO_VKEY)])
    assert [s.key_id for s in opened.unverified] == [impostor.key_id]


def test_same_key_id_other_name_is_unknown() -> None:
    renamed = GOOD.replace(b"PeterNeumann", b"PeterNeumann2")
    with pytest.raises(SignatureError, match="not signed by any trusted key"):
        open_note(renamed, [Verifier.from_text(GO_VKEY)])


def test_known_key_bad_signature_rejects_even_with_other_good_signature() -> None:
    blob = bytearray(BLOB)
    blob[-1] ^= 1
    bad_peter = _line("PeterNeumann", b64(bytes(blob)))
    data = GO_TEXT + b"\n" + ENOCH_SIG_LINE + bad_peter
    verifiers = [Verifier.from_text(GO_VKEY), Verifier.from_text(ENOCH_VKEY)]
    with pytest.raises(SignatureError, match=r"invalid signature by key PeterNeumann\+c74f20a3"):
        open_note(data, verifiers)


def test_duplicate_signatures_follow_go() -> None:
    verifier = Verifier.from_text(GO_VKEY)
    blob = bytearray(BLOB)
    blob[-1] ^= 1
    bad = _line("PeterNeumann", b64(bytes(blob)))
    # Go's note.Open verifies the first signature of a known key and drops the rest.
    opened = open_note(GOOD + bad, [verifier])
    assert len(opened.verified) == 1
    with pytest.raises(SignatureError):
        open_note(GO_TEXT + b"\n" + bad + GO_SIG_LINE, [verifier])
    # Repeated identical unknown lines are reported once.
    twice = open_note(GOOD + ENOCH_SIG_LINE + ENOCH_SIG_LINE, [verifier])
    assert len(twice.unverified) == 1
    # Parsing keeps every line, so the bytes round-trip.
    assert len(Note.from_bytes(GOOD + bad).signatures) == 2


def test_ambiguous_verifiers() -> None:
    verifier = Verifier.from_text(GO_VKEY)
    assert open_note(GOOD, [verifier, Verifier.from_text(GO_VKEY)]).verified
    other = Signer.generate("PeterNeumann", seed=bytes(32)).verifier
    object.__setattr__(other, "key_id", verifier.key_id)  # a forged collision
    with pytest.raises(KeyFormatError, match="ambiguous"):
        open_note(GOOD, [verifier, other])


def test_sixteen_signatures_accepted() -> None:
    signers = [signer(f"example.com/k{i}", i) for i in range(16)]
    data = sign_note(b"hello\n", signers)
    opened = open_note(data, [s.verifier for s in signers])
    assert len(opened.verified) == 16


def test_text_with_blank_lines_signs_and_opens() -> None:
    text = b"first\n\n\nafter two blank lines\n\n"
    s = signer()
    opened = open_note(sign_note(text, [s]), [s.verifier])
    assert opened.text == text


def test_verify_note_on_parsed_note() -> None:
    assert verify_note(Note.from_bytes(GOOD), [Verifier.from_text(GO_VKEY)]).text == GO_TEXT


@pytest.mark.parametrize(
    "text",
    [b"", b"no newline", b"tab\there\n", b"cr\r\n", b"\xff\n", b"a\xc2\n"],
)
def test_sign_rejects_bad_text(text: bytes) -> None:
    with pytest.raises(NoteFormatError):
        sign_note(text, [signer()])
    with pytest.raises(NoteFormatError):
        signer().sign(text)


def test_sign_note_rejects_bad_signer_lists() -> None:
    with pytest.raises(NoteFormatError):
        sign_note(b"x\n", [])
    with pytest.raises(KeyFormatError, match="share"):
        sign_note(b"x\n", [signer(), signer()])


# --- properties -------------------------------------------------------------------------

note_texts = st.lists(
    st.text(
        alphabet=st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\n"),
        max_size=30,
    ),
    min_size=1,
    max_size=5,
).map(lambda lines: "".join(line + "\n" for line in lines).encode())

key_names = st.text(
    alphabet=st.characters(codec="utf-8", min_codepoint=0x21, exclude_characters="+"),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(c.isspace() for c in s))


@settings(deadline=None, max_examples=60)
@given(text=note_texts, name=key_names, seed=st.binary(min_size=32, max_size=32))
def test_property_sign_open_round_trip(text: bytes, name: str, seed: bytes) -> None:
    s = Signer.generate(name, seed=seed)
    data = sign_note(text, [s])
    assert Note.from_bytes(data).to_bytes() == data
    assert open_note(data, [Verifier.from_text(s.verifier.to_text())]).text == text
    assert Signer.from_text(s.to_text()) == s


@settings(deadline=None, max_examples=60)
@given(text=note_texts, junk=st.binary(min_size=1, max_size=80))
def test_property_unknown_signatures_round_trip(text: bytes, junk: bytes) -> None:
    data = text + b"\n" + GO_SIG_LINE + _line("someone.else", b64(b"\x00\x01\x02\x03" + junk))
    note = Note.from_bytes(data)
    assert note.to_bytes() == data
    assert note.signatures[-1].signature == junk


@pytest.mark.parametrize(
    ("name", "key"),
    [("", PUB), ("a+b", PUB), ("lone\ud800surrogate", PUB), ("ok", PUB[:31]), ("ok", b"")],
)
def test_verifier_constructor_rejects(name: str, key: bytes) -> None:
    with pytest.raises(KeyFormatError):
        Verifier(name, key)


def test_non_bytes_input_rejected() -> None:
    with pytest.raises(NoteFormatError, match="bytes"):
        Note.from_bytes(GOOD.decode())  # type: ignore[arg-type]
