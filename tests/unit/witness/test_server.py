"""Tests for cvid.witness.server: every tlog-witness status, and refusals change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cvid.errors import ConfigError, StoreError
from cvid.log.checkpoint import Checkpoint, sign_checkpoint
from cvid.log.cosignature import Cosignature, CosignatureSigner
from cvid.log.merkle import EMPTY_ROOT
from cvid.log.note import Note, Signer, sign_note
from cvid.witness.protocol import SIZE_CONTENT_TYPE, AddCheckpointRequest
from cvid.witness.server import Reply, Witness, advancing_clock, create_witness_app
from cvid.witness.state import LogState, WitnessState
from tests.unit.witness.witnesses import (
    LOG_KEY,
    ORIGIN,
    OTHER_KEY,
    T0,
    AsgiClient,
    FakeClock,
    add_checkpoint,
    entries,
    make_log,
)

WITNESS = CosignatureSigner.generate("witness.example", seed=b"\x05" * 32)
SECOND_KEY = Signer.generate(ORIGIN, seed=b"\x03" * 32)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state_path(tmp_path: Path) -> str:
    return str(tmp_path / "witness.db")


@pytest.fixture
def client(state_path: str, clock: FakeClock) -> AsgiClient:
    app = create_witness_app(
        WITNESS, {ORIGIN: [LOG_KEY.verifier, SECOND_KEY.verifier]}, state_path, clock=clock
    )
    return AsgiClient(app)


def post(client: AsgiClient, body: bytes) -> tuple[int, str, bytes]:
    r = client.post("/add-checkpoint", content=body)
    return r.status_code, r.headers["content-type"], r.content


def stored(state_path: str) -> LogState:
    return WitnessState(state_path).get(ORIGIN)


def cosigned_at(client: AsgiClient, state_path: str, size: int) -> LogState:
    """Bring the witness to ``size`` of the honest log (from scratch)."""
    log = make_log(entries(size))
    status, _, _ = post(client, add_checkpoint(log, 0))
    assert status == 200
    return stored(state_path)


# --- 200 ----------------------------------------------------------------------------------


def test_first_checkpoint_is_cosigned_with_the_clock_time(
    client: AsgiClient, state_path: str
) -> None:
    log = make_log(entries(7))
    status, content_type, body = post(client, add_checkpoint(log, 0))
    assert (status, content_type) == (200, "text/plain; charset=utf-8")
    cosig = Cosignature.from_line(body)
    assert cosig.name == WITNESS.name
    assert cosig.timestamp == T0 + 1
    note = Note.from_bytes(log.checkpoint(LOG_KEY))
    assert WITNESS.verifier.verify(note.text, cosig.to_signature().signature)
    assert stored(state_path) == LogState(ORIGIN, 7, log.root(7), log.checkpoint(LOG_KEY))


def test_growth_is_cosigned_with_a_consistency_proof(client: AsgiClient, state_path: str) -> None:
    log = make_log(entries(7))
    assert post(client, add_checkpoint(log, 0))[0] == 200
    log.append(entries(6, start=7))
    status, _, body = post(client, add_checkpoint(log, 7))
    assert status == 200
    assert Cosignature.from_line(body).timestamp == T0 + 2
    assert stored(state_path).tree_size == 13


def test_the_same_checkpoint_again_is_cosigned_and_changes_nothing(
    client: AsgiClient, state_path: str
) -> None:
    before = cosigned_at(client, state_path, 4)
    log = make_log(entries(4))
    assert post(client, add_checkpoint(log, 4))[0] == 200
    assert stored(state_path).tree_size == before.tree_size
    assert stored(state_path).root_hash == before.root_hash


def test_a_checkpoint_signed_by_a_second_trusted_key_is_cosigned(client: AsgiClient) -> None:
    log = make_log(entries(3))
    assert post(client, add_checkpoint(log, 0, signer=SECOND_KEY))[0] == 200


def test_the_empty_tree_is_cosigned(client: AsgiClient, state_path: str) -> None:
    log = make_log([])
    assert post(client, add_checkpoint(log, 0))[0] == 200
    assert stored(state_path) == LogState(ORIGIN, 0, EMPTY_ROOT, log.checkpoint(LOG_KEY))


def test_signatures_from_unknown_keys_are_ignored(client: AsgiClient) -> None:
    log = make_log(entries(3))
    stranger = Signer.generate("stranger.example", seed=b"\x04" * 32)
    note = log.checkpoint(LOG_KEY)
    text = Note.from_bytes(note).text
    both = note + stranger.sign(text)
    body = AddCheckpointRequest(old_size=0, proof=(), checkpoint=both).to_bytes()
    assert post(client, body)[0] == 200


# --- refusals: each status, and the state never moves ---------------------------------------


def test_wrong_old_size_is_409_with_the_size_body(client: AsgiClient, state_path: str) -> None:
    before = cosigned_at(client, state_path, 10)
    log = make_log(entries(16))
    for old in (0, 8, 12):
        status, content_type, body = post(client, add_checkpoint(log, old))
        assert (status, content_type, body) == (409, SIZE_CONTENT_TYPE, b"10\n")
    assert stored(state_path) == before


def test_old_size_of_zero_learns_the_size(client: AsgiClient, state_path: str) -> None:
    cosigned_at(client, state_path, 5)
    status, content_type, body = post(client, add_checkpoint(make_log(entries(9)), 0))
    assert (status, content_type, body) == (409, SIZE_CONTENT_TYPE, b"5\n")


def test_old_size_beyond_the_checkpoint_is_400(client: AsgiClient, state_path: str) -> None:
    before = cosigned_at(client, state_path, 10)
    log = make_log(entries(10))
    body = AddCheckpointRequest(
        old_size=11, proof=(), checkpoint=log.checkpoint(LOG_KEY)
    ).to_bytes()
    status, _, text = post(client, body)
    assert status == 400
    assert b"old size 11 exceeds the checkpoint size 10" in text
    assert stored(state_path) == before


def test_a_rollback_is_refused(client: AsgiClient, state_path: str) -> None:
    before = cosigned_at(client, state_path, 10)
    log = make_log(entries(10))
    # Claiming the witness's own size for a smaller checkpoint: old size > size.
    smaller = log.checkpoint(LOG_KEY, tree_size=6)
    body = AddCheckpointRequest(old_size=10, proof=(), checkpoint=smaller).to_bytes()
    assert post(client, body)[0] == 400
    # Claiming the smaller checkpoint's size as old: not what the witness cosigned.
    assert post(client, add_checkpoint(log, 6, 6))[:3] == (409, SIZE_CONTENT_TYPE, b"10\n")
    assert post(client, add_checkpoint(log, 3, 6))[0] == 409
    assert stored(state_path) == before


def test_same_size_other_root_is_409_and_kept_as_evidence(
    client: AsgiClient, state_path: str
) -> None:
    before = cosigned_at(client, state_path, 10)
    fork = make_log([*entries(9), b"another last entry"])
    status, content_type, body = post(client, add_checkpoint(fork, 10))
    assert (status, content_type) == (409, "text/plain; charset=utf-8")
    assert b"forked" in body
    assert stored(state_path) == before
    (evidence,) = WitnessState(state_path).evidence(ORIGIN)
    assert evidence.status == 409
    assert evidence.request == add_checkpoint(fork, 10)


def test_a_rewritten_entry_fails_the_proof_with_422(client: AsgiClient, state_path: str) -> None:
    before = cosigned_at(client, state_path, 10)
    fork = make_log([*entries(3), b"rewritten", *entries(12, start=4)])
    status, content_type, body = post(client, add_checkpoint(fork, 10))
    assert (status, content_type) == (422, "text/plain; charset=utf-8")
    assert b"consistency proof from size 10 to 16 does not verify" in body
    assert stored(state_path) == before
    assert [e.status for e in WitnessState(state_path).evidence(ORIGIN)] == [422]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda proof: proof[:-1],
        lambda proof: (*proof, proof[0]),
        lambda proof: (hashlib.sha256(b"x").digest(), *proof[1:]),
        lambda proof: tuple(reversed(proof)),
        lambda _: (),
    ],
)
def test_a_tampered_proof_is_422(client: AsgiClient, state_path: str, tamper: object) -> None:
    before = cosigned_at(client, state_path, 10)
    log = make_log(entries(23))
    proof = log.consistency_proof(10, 23).proof
    assert callable(tamper)
    status, _, _ = post(client, add_checkpoint(log, 10, proof=tamper(proof)))
    assert status == 422
    assert stored(state_path) == before


def test_a_proof_from_size_zero_must_be_empty(client: AsgiClient, state_path: str) -> None:
    log = make_log(entries(8))
    body = add_checkpoint(log, 0, proof=(hashlib.sha256(b"x").digest(),))
    assert post(client, body)[0] == 422
    assert stored(state_path).tree_size == 0


def test_a_proof_between_equal_sizes_must_be_empty(client: AsgiClient, state_path: str) -> None:
    cosigned_at(client, state_path, 8)
    body = add_checkpoint(make_log(entries(8)), 8, proof=(hashlib.sha256(b"x").digest(),))
    assert post(client, body)[0] == 422


def test_an_empty_tree_with_another_root_is_409(client: AsgiClient, state_path: str) -> None:
    forged = sign_checkpoint(Checkpoint(ORIGIN, 0, hashlib.sha256(b"x").digest()), LOG_KEY)
    body = AddCheckpointRequest(old_size=0, proof=(), checkpoint=forged).to_bytes()
    assert post(client, body)[0] == 409
    assert stored(state_path).checkpoint is None


def test_unknown_origin_is_404(client: AsgiClient, state_path: str) -> None:
    other = Signer.generate("other.example/log", seed=b"\x06" * 32)
    log = make_log(entries(3), origin="other.example/log")
    status, _, body = post(client, add_checkpoint(log, 0, signer=other))
    assert status == 404
    assert b"other.example/log" in body
    assert WitnessState(state_path).origins() == []


def test_a_key_the_witness_does_not_trust_is_403(client: AsgiClient, state_path: str) -> None:
    log = make_log(entries(3))
    status, _, body = post(client, add_checkpoint(log, 0, signer=OTHER_KEY))
    assert status == 403
    assert b"not signed by any trusted key" in body
    assert stored(state_path).tree_size == 0


def test_an_invalid_signature_by_a_trusted_key_is_403(client: AsgiClient, state_path: str) -> None:
    log = make_log(entries(3))
    note = Note.from_bytes(log.checkpoint(LOG_KEY))
    # The log's signature over another text, moved onto this one.
    other_text = Checkpoint(ORIGIN, 3, hashlib.sha256(b"x").digest()).to_text()
    forged = note.text + b"\n" + sign_note(other_text, [LOG_KEY]).split(b"\n\n")[1]
    body = AddCheckpointRequest(old_size=0, proof=(), checkpoint=forged).to_bytes()
    status, _, text = post(client, body)
    assert status == 403
    assert b"invalid signature" in text
    assert stored(state_path).tree_size == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"old 0\n", b"old x\n\n", b"hello", b"old 0\n\nnot a note\n", "old 0\n\n\u00e9".encode()],
)
def test_malformed_bodies_are_400(client: AsgiClient, state_path: str, body: bytes) -> None:
    status, content_type, text = post(client, body)
    assert (status, content_type) == (400, "text/plain; charset=utf-8")
    assert text.startswith(b"malformed add-checkpoint request: ")
    assert stored(state_path).tree_size == 0


def test_an_oversized_body_is_413(client: AsgiClient) -> None:
    assert post(client, b"old 0\n\n" + b"x" * 70_000)[0] == 413


def test_an_oversized_stream_without_length_is_413(client: AsgiClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 8192

    assert client.post("/add-checkpoint", content=chunks()).status_code == 413


def test_other_methods_and_paths_are_not_served(client: AsgiClient) -> None:
    assert client.get("/add-checkpoint").status_code == 405
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_a_failing_store_is_500_and_cosigns_nothing(
    client: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = client.app.state.witness
    assert isinstance(witness, Witness)

    def broken(**_: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(witness.state, "advance", broken)
    status, _, body = post(client, add_checkpoint(make_log(entries(3)), 0))
    assert status == 500
    assert b"nothing was cosigned" in body


# --- the atomic update, and the clock ---------------------------------------------------------


def test_concurrent_requests_from_one_size_cosign_once(state_path: str, clock: FakeClock) -> None:
    witness = Witness(WITNESS, {ORIGIN: LOG_KEY.verifier}, WitnessState(state_path), clock=clock)
    log = make_log(entries(4))
    assert witness.add_checkpoint(add_checkpoint(log, 0)).status == 200
    log.append(entries(8, start=4))
    bodies = [add_checkpoint(log, 4, size) for size in (6, 8, 10, 12)]
    replies: list[Reply] = []
    barrier = threading.Barrier(len(bodies))

    def go(body: bytes) -> None:
        barrier.wait()
        replies.append(witness.add_checkpoint(body))

    threads = [threading.Thread(target=go, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [r for r in replies if r.status == 200]
    assert len(accepted) == 1
    size = witness.state.get(ORIGIN).tree_size
    assert size in (6, 8, 10, 12)
    assert all(
        r == Reply(409, SIZE_CONTENT_TYPE, b"%d\n" % size) for r in replies if r.status != 200
    )


def test_refusals_before_the_state_do_not_read_the_clock(
    client: AsgiClient, clock: FakeClock
) -> None:
    post(client, b"garbage")
    post(client, add_checkpoint(make_log(entries(2)), 0, signer=OTHER_KEY))
    assert clock.readings == 0


@pytest.mark.parametrize(
    "logs",
    [{ORIGIN: []}, {ORIGIN: [LOG_KEY.verifier, LOG_KEY.verifier]}, {"": LOG_KEY.verifier}],
)
def test_unusable_log_keys_are_config_errors(state_path: str, logs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        create_witness_app(WITNESS, logs, state_path, clock=FakeClock())  # type: ignore[arg-type]


def test_an_advancing_clock_starts_at_its_moment_and_keeps_pace() -> None:
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
    elapsed = iter([500.0, 500.0, 501.9, 600.5])  # seconds of some monotonic count
    clock = advancing_clock(start, lambda: next(elapsed))
    assert clock() == int(start.timestamp())
    assert clock() == int(start.timestamp()) + 1
    assert clock() == int(start.timestamp()) + 100
