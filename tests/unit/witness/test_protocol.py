"""Tests for cvid.witness.protocol: the C2SP tlog-witness add-checkpoint wire format."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import InputError
from cvid.log.checkpoint import MAX_TREE_SIZE, Checkpoint, sign_checkpoint
from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import Signer
from cvid.witness.protocol import (
    MAX_PROOF_LINES,
    MAX_REQUEST_SIZE,
    AddCheckpointRequest,
    format_cosignatures,
    format_size,
    parse_cosignatures,
    parse_size,
)

DASH = "\u2014"
# The example request body of tlog-witness "add-checkpoint", verbatim.
SPEC_EXAMPLE = f"""old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

{DASH} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
{DASH} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
""".encode()  # noqa: E501
# The example response body of tlog-witness "add-checkpoint", verbatim.
SPEC_RESPONSE = f"""{DASH} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
{DASH} witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
{DASH} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
""".encode()  # noqa: E501

LOG = Signer.generate("example.org/log", seed=b"\x07" * 32)
NOTE = sign_checkpoint(Checkpoint("example.org/log", 5, hashlib.sha256(b"r").digest()), LOG)
H = [hashlib.sha256(bytes([i])).digest() for i in range(64)]


def body(*lines: bytes, note: bytes = NOTE) -> bytes:
    return b"".join(line + b"\n" for line in lines) + b"\n" + note


def b64(h: bytes) -> bytes:
    return base64.b64encode(h)


# --- the spec's examples ----------------------------------------------------------------


def test_spec_example_request_parses_and_round_trips() -> None:
    request = AddCheckpointRequest.from_bytes(SPEC_EXAMPLE)
    assert request.old_size == 20852014
    assert len(request.proof) == 4
    assert request.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert request.body.origin == "example.com/behind-the-sofa"
    assert request.body.tree_size == 20852163
    assert request.checkpoint.startswith(b"example.com/behind-the-sofa\n")
    assert request.to_bytes() == SPEC_EXAMPLE


def test_spec_example_response_parses() -> None:
    lines = parse_cosignatures(SPEC_RESPONSE)
    assert len(lines) == 3
    assert all(line.startswith(DASH.encode() + b" witness.example/w") for line in lines)
    assert format_cosignatures(lines) == SPEC_RESPONSE


def test_request_without_proof_round_trips() -> None:
    data = body(b"old 0")
    request = AddCheckpointRequest.from_bytes(data)
    assert (request.old_size, request.proof, request.checkpoint) == (0, (), NOTE)
    assert request.to_bytes() == data


def test_sixty_three_proof_lines_are_allowed() -> None:
    data = body(b"old 1", *(b64(h) for h in H[:MAX_PROOF_LINES]))
    assert len(AddCheckpointRequest.from_bytes(data).proof) == MAX_PROOF_LINES


# --- strict parsing: every deviation names what is wrong ---------------------------------

MALFORMED = [
    (b"", "no old size line"),
    (b"old 5", "no old size line"),
    (body(b"new 5"), "must start with 'old <size>'"),
    (body(b"old"), "must start with 'old <size>'"),
    (body(b"old5"), "must start with 'old <size>'"),
    (body(b"OLD 5"), "must start with 'old <size>'"),
    (body(b"old 05"), "no leading zeros"),
    (body(b"old -1"), "no leading zeros"),
    (body(b"old +1"), "no leading zeros"),
    (body(b"old 5 "), "no leading zeros"),
    (body(b"old  5"), "no leading zeros"),
    (body(b"old 0x5"), "no leading zeros"),
    (body(b"old \xd9\xa5"), "no leading zeros"),  # ARABIC-INDIC DIGIT FIVE
    (body(b"old 18446744073709551616"), r"exceeds 2\^64-1"),
    (body(b"old " + b"9" * 5000), "no leading zeros"),
    (b"old 5\r\n\r\n" + NOTE, "no leading zeros"),
    (body(b"old 1", b"not base64!"), "proof line 1 is not valid base64"),
    (body(b"old 1", b64(H[0])[:-1]), "proof line 1 is not valid base64"),
    (body(b"old 1", b64(H[0]) + b" "), "proof line 1 is not valid base64"),
    (body(b"old 1", b64(H[0]), b64(b"short")), "proof line 2 is 5 bytes"),
    (body(b"old 1", b"\xff\xfe"), "proof line 1 is not base64"),
    (body(b"old 1", *(b64(h) for h in H)), "more than 63 consistency proof lines"),
    (b"old 1\n" + b64(H[0]) + b"\n", "no empty line"),
    (b"old 1\n\n", "no checkpoint after the empty line"),
    (body(b"old 1", note=b"example.org/log\n5\n"), "note"),
    (body(b"old 1", note=NOTE.replace(b"\n\n", b"\n")), "note"),
    (body(b"old 1", note=NOTE[:-1]), "newline"),
    (body(b"old 1", note=b"not a checkpoint\n\n" + NOTE.split(b"\n\n")[1]), "checkpoint"),
    (b"old 1\n\n" + b"x" * MAX_REQUEST_SIZE, "longer than"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_requests_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        AddCheckpointRequest.from_bytes(data)


def test_non_canonical_base64_proof_line_is_refused() -> None:
    # The last character's unused low bits must be zero in canonical base64.
    good = b64(H[0])
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = good[-2:-1]
    bumped = alphabet[(alphabet.index(last) ^ 1)]
    data = body(b"old 1", good[:-2] + bytes([bumped]) + b"=")
    with pytest.raises(InputError, match="canonical"):
        AddCheckpointRequest.from_bytes(data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"old_size": -1}, "old size"),
        ({"old_size": MAX_TREE_SIZE + 1}, "old size"),
        ({"old_size": True}, "old size"),
        ({"proof": [H[0]]}, "tuple"),
        ({"proof": (b"x" * 31,)}, "32-byte"),
        ({"proof": tuple(H)}, "at most 63"),
        ({"checkpoint": "text"}, "bytes"),
        ({"checkpoint": b"garbage\n"}, "note"),
    ],
)
def test_requests_validate_at_construction(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"old_size": 1, "proof": (), "checkpoint": NOTE} | kwargs
    with pytest.raises(InputError, match=message):
        AddCheckpointRequest(**fields)  # type: ignore[arg-type]


# --- the size body and the cosignature body ----------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 20852163, MAX_TREE_SIZE])
def test_size_body_round_trips(size: int) -> None:
    assert format_size(size) == str(size).encode() + b"\n"
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize(
    "data", [b"", b"5", b"05\n", b"5\n\n", b"-5\n", b" 5\n", b"5 \n", b"18446744073709551616\n"]
)
def test_malformed_size_bodies_are_refused(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_size(data)


@pytest.mark.parametrize("size", [-1, MAX_TREE_SIZE + 1, 1.5])
def test_out_of_range_sizes_are_not_formatted(size: int) -> None:
    with pytest.raises(InputError):
        format_size(size)


def test_cosignature_body_round_trips() -> None:
    w = CosignatureSigner.generate("w.example", seed=b"\x02" * 32)
    lines = [w.cosign(NOTE.split(b"\n\n")[0] + b"\n", at=t) for t in (1, 2)]
    data = format_cosignatures(lines)
    assert parse_cosignatures(data) == tuple(lines)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"not a signature\n",
        SPEC_RESPONSE[:-1],
        SPEC_RESPONSE + b"\n",
        SPEC_RESPONSE.replace(b"\n", b"\r\n"),
        SPEC_RESPONSE * 40,
    ],
)
def test_malformed_cosignature_bodies_are_refused(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_cosignatures(data)


def test_cosignature_body_needs_lines() -> None:
    with pytest.raises(InputError):
        format_cosignatures([])
    with pytest.raises(InputError):
        format_cosignatures([b"no\n"])


# --- properties ---------------------------------------------------------------------------

hashes = st.binary(min_size=32, max_size=32)


@st.composite
def requests(draw: st.DrawFn) -> AddCheckpointRequest:
    size = draw(st.integers(0, MAX_TREE_SIZE))
    root = draw(hashes)
    origin = draw(st.from_regex(r"[a-z0-9.]{1,20}/[a-z0-9]{1,10}", fullmatch=True))
    extensions = tuple(draw(st.lists(st.from_regex(r"[ -~]{1,30}", fullmatch=True), max_size=2)))
    signer = Signer.generate(origin, seed=b"\x09" * 32)
    note = sign_checkpoint(Checkpoint(origin, size, root, extensions), signer)
    return AddCheckpointRequest(
        old_size=draw(st.integers(0, MAX_TREE_SIZE)),
        proof=tuple(draw(st.lists(hashes, max_size=MAX_PROOF_LINES))),
        checkpoint=note,
    )


@settings(max_examples=150, deadline=None)
@given(requests())
def test_property_requests_round_trip(request: AddCheckpointRequest) -> None:
    assert AddCheckpointRequest.from_bytes(request.to_bytes()) == request


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_property_arbitrary_bytes_parse_or_raise_input_error(data: bytes) -> None:
    try:
        request = AddCheckpointRequest.from_bytes(data)
    except InputError:
        return
    assert request.to_bytes() == data


@settings(max_examples=200, deadline=None)
@given(requests(), st.data())
def test_property_mutated_requests_parse_or_raise_input_error(
    request: AddCheckpointRequest, data: st.DataObject
) -> None:
    raw = bytearray(request.to_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    try:
        parsed = AddCheckpointRequest.from_bytes(bytes(raw))
    except InputError:
        return
    # Whatever parses formats back to exactly the bytes received.
    assert parsed.to_bytes() == bytes(raw)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, MAX_TREE_SIZE))
def test_property_sizes_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_property_size_bodies_parse_or_raise_input_error(data: bytes) -> None:
    try:
        size = parse_size(data)
    except InputError:
        return
    assert format_size(size) == data
