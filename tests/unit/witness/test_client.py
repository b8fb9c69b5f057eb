"""Tests for cvid.witness.client: asking witnesses, verifying and reporting every answer."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from cvid.errors import ConfigError, InputError, TreeSizeError, WitnessError
from cvid.log.cosignature import CosignatureSigner, WitnessPolicy
from cvid.log.note import Note
from cvid.log.tlog import Log
from cvid.witness.client import (
    CosigningResult,
    Outcome,
    WitnessClient,
    collect_cosignatures,
    cosign_checkpoint,
)
from cvid.witness.protocol import SIZE_CONTENT_TYPE, AddCheckpointRequest
from cvid.witness.server import create_witness_app
from cvid.witness.state import WitnessState
from tests.unit.witness.witnesses import LOG_KEY, ORIGIN, FakeClock, entries, make_log

SIGNERS = [
    CosignatureSigner.generate(f"w{n}.example", seed=bytes([n + 10]) * 32) for n in (1, 2, 3)
]
POLICY = WitnessPolicy(2, tuple(s.verifier for s in SIGNERS))


class Router(httpx.AsyncBaseTransport):
    """Send each host to its own transport; hosts with none refuse the connection."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, AddCheckpointRequest]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self.routes.get(request.url.host)
        if route is None:
            raise httpx.ConnectError("connection refused", request=request)
        body = await request.aread()
        self.requests.append((request.url.host, AddCheckpointRequest.from_bytes(body)))
        return await route.handle_async_request(request)


class Setup:
    """Three witness apps (w1, w2, w3), their clients, and a router to them."""

    def __init__(self, tmp_path: Path) -> None:
        self.states = [WitnessState(tmp_path / f"w{n}.db") for n in (1, 2, 3)]
        self.router = Router(
            {
                f"w{n}": httpx.ASGITransport(
                    app=create_witness_app(
                        signer, {ORIGIN: LOG_KEY.verifier}, str(state.path), clock=FakeClock()
                    )
                )
                for n, (signer, state) in enumerate(zip(SIGNERS, self.states, strict=True), 1)
            }
        )
        self.clients = [WitnessClient(f"http://w{n}", s.verifier) for n, s in enumerate(SIGNERS, 1)]
        self.proof_calls: list[int] = []

    def cosign(self, log: Log, old_sizes: dict[str, int] | None = None) -> CosigningResult:
        size = log.size()

        def proof_for(old: int) -> list[bytes]:
            self.proof_calls.append(old)
            return list(log.consistency_proof(old, size).proof)

        return cosign_checkpoint(
            log.checkpoint(LOG_KEY),
            witnesses=self.clients,
            proof_for=proof_for,
            old_sizes=old_sizes,
            transport=self.router,
        )


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def test_all_witnesses_cosign_and_the_policy_is_met(setup: Setup) -> None:
    log = make_log(entries(5))
    result = setup.cosign(log)
    assert result.cosigned == ("w1.example", "w2.example", "w3.example")
    assert result.refused == ()
    assert result.check(POLICY).signed == result.cosigned
    assert result.verify(POLICY).satisfied
    assert Note.from_bytes(result.checkpoint).text == Note.from_bytes(log.checkpoint(LOG_KEY)).text
    assert result.witness_sizes() == dict.fromkeys(result.cosigned, 5)
    assert all(o.attempts == 1 and o.status == 200 for o in result.outcomes)
    assert setup.proof_calls == []  # from size 0 there is nothing to prove


def test_a_409_is_retried_once_from_the_reported_size(setup: Setup) -> None:
    log = make_log(entries(5))
    setup.cosign(log)
    log.append(entries(9, start=5))
    result = setup.cosign(log)  # old size 0 for every witness
    assert len(result.cosigned) == 3
    assert all(o.attempts == 2 and o.old_size == 5 for o in result.outcomes)
    assert setup.proof_calls == [5]  # one proof, shared by the three witnesses
    assert [r.old_size for _, r in setup.router.requests[-3:]] == [5, 5, 5]


def test_known_sizes_save_the_round_trip(setup: Setup) -> None:
    log = make_log(entries(5))
    first = setup.cosign(log)
    log.append(entries(3, start=5))
    result = setup.cosign(log, first.witness_sizes())
    assert all(o.attempts == 1 for o in result.outcomes)
    assert len(result.cosigned) == 3


def test_existing_cosignatures_are_kept_and_replaced(setup: Setup) -> None:
    log = make_log(entries(4))
    once = setup.cosign(log)
    again = cosign_checkpoint(
        once.checkpoint,
        witnesses=setup.clients,
        proof_for=lambda _: [],
        old_sizes=once.witness_sizes(),
        transport=setup.router,
    )
    assert len(Note.from_bytes(again.checkpoint).signatures) == 4  # log + three witnesses
    assert again.verify(POLICY).satisfied


def test_a_fork_is_refused_by_every_witness_and_reported(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    honest = make_log(entries(10))
    setup.cosign(honest)
    same_size = make_log([*entries(9), b"other"])
    with caplog.at_level(logging.WARNING, logger="cvid.witness.client"):
        result = setup.cosign(same_size, dict.fromkeys((s.name for s in SIGNERS), 10))
    assert result.cosigned == ()
    assert [(o.outcome, o.status) for o in result.refused] == [(Outcome.REFUSED, 409)] * 3
    assert all("forked" in o.body for o in result.refused)
    assert result.checkpoint == same_size.checkpoint(LOG_KEY)
    assert len([r for r in caplog.records if "refused HTTP 409" in r.getMessage()]) == 3
    with pytest.raises(WitnessError, match=r"0 of 2 .*w1.example refused HTTP 409"):
        result.verify(POLICY)
    rewritten = make_log([*entries(2), b"rewritten", *entries(12, start=3)])
    result = setup.cosign(rewritten)  # learns size 10 by a 409, then proves from it: 422
    assert [(o.status, o.attempts) for o in result.refused] == [(422, 2)] * 3
    assert all(state.get(ORIGIN).root_hash == honest.root(10) for state in setup.states)


def test_an_unreachable_witness_is_reported_and_the_rest_suffice(setup: Setup) -> None:
    del setup.router.routes["w2"]
    result = setup.cosign(make_log(entries(3)))
    assert result.cosigned == ("w1.example", "w3.example")
    (silent,) = result.refused
    assert (silent.witness, silent.outcome, silent.status) == (
        "w2.example",
        Outcome.UNREACHABLE,
        None,
    )
    assert "ConnectError" in silent.detail
    assert result.verify(POLICY).missing == ("w2.example",)
    assert silent.describe().startswith("w2.example unreachable (ConnectError")


def scripted(status: int, body: bytes, content_type: str = "text/plain") -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda _: httpx.Response(status, content=body, headers={"content-type": content_type})
    )


def ask_one(transport: httpx.AsyncBaseTransport, *, size: int = 6) -> CosigningResult:
    log = make_log(entries(size))
    client = WitnessClient("http://w1", SIGNERS[0].verifier, timeout=2)
    return cosign_checkpoint(
        log.checkpoint(LOG_KEY),
        witnesses=[client],
        proof_for=lambda old: list(log.consistency_proof(old, size).proof),
        transport=Router({"w1": transport}),
    )


def test_a_cosignature_by_another_key_is_invalid() -> None:
    log = make_log(entries(6))
    impostor = CosignatureSigner.generate("w1.example", seed=b"\x63" * 32)
    text = Note.from_bytes(log.checkpoint(LOG_KEY)).text
    (outcome,) = ask_one(scripted(200, impostor.cosign(text, at=1))).outcomes
    assert outcome.outcome is Outcome.INVALID
    assert "no cosignature by key w1.example+" in outcome.detail


def test_a_bad_cosignature_by_the_right_key_is_invalid() -> None:
    log = make_log(entries(6))
    other_text = Note.from_bytes(make_log(entries(7)).checkpoint(LOG_KEY)).text
    line = SIGNERS[0].cosign(other_text, at=1)
    result = ask_one(scripted(200, line))
    (outcome,) = result.outcomes
    assert (outcome.outcome, outcome.detail) == (
        Outcome.INVALID,
        "the cosignature by the witness's key does not verify",
    )
    assert result.checkpoint == log.checkpoint(LOG_KEY)


def test_a_garbled_200_is_invalid() -> None:
    (outcome,) = ask_one(scripted(200, b"hello\n")).outcomes
    assert outcome.outcome is Outcome.INVALID
    assert outcome.detail.startswith("malformed cosignature response")


def test_a_409_without_the_size_type_is_not_retried() -> None:
    (outcome,) = ask_one(scripted(409, b"3\n")).outcomes
    assert (outcome.outcome, outcome.attempts, outcome.body) == (Outcome.REFUSED, 1, "3\n")


def test_a_malformed_size_body_is_a_refusal() -> None:
    (outcome,) = ask_one(scripted(409, b"03\n", SIZE_CONTENT_TYPE)).outcomes
    assert outcome.outcome is Outcome.REFUSED
    assert outcome.detail.startswith("bad size body")


def test_a_witness_ahead_of_the_checkpoint_is_not_retried() -> None:
    (outcome,) = ask_one(scripted(409, b"9\n", SIZE_CONTENT_TYPE)).outcomes
    assert (outcome.attempts, outcome.witness_size) == (1, 9)
    assert "beyond this checkpoint" in outcome.detail


def test_a_witness_that_keeps_moving_gets_one_retry() -> None:
    sizes = iter([b"2\n", b"4\n"])
    transport = httpx.MockTransport(
        lambda _: httpx.Response(
            409, content=next(sizes), headers={"content-type": SIZE_CONTENT_TYPE}
        )
    )
    (outcome,) = ask_one(transport).outcomes
    assert (outcome.outcome, outcome.attempts, outcome.old_size, outcome.witness_size) == (
        Outcome.REFUSED,
        2,
        2,
        4,
    )


def test_a_proof_the_log_cannot_give_is_reported() -> None:
    log = make_log(entries(6))

    def no_proof(old: int) -> list[bytes]:
        raise TreeSizeError(f"no tree of size {old}")

    result = cosign_checkpoint(
        log.checkpoint(LOG_KEY),
        witnesses=[WitnessClient("http://w1", SIGNERS[0].verifier)],
        proof_for=no_proof,
        transport=Router({"w1": scripted(409, b"3\n", SIZE_CONTENT_TYPE)}),
    )
    (outcome,) = result.outcomes
    assert (outcome.outcome, outcome.status, outcome.attempts) == (Outcome.REFUSED, 409, 1)
    assert outcome.detail == "cannot prove consistency from size 3: no tree of size 3"


def test_an_oversized_answer_is_cut_and_invalid() -> None:
    (outcome,) = ask_one(scripted(200, b"x" * 200_000)).outcomes
    assert outcome.outcome is Outcome.INVALID
    assert len(outcome.body) <= 64 * 1024 + 1


def test_bad_arguments_are_refused(setup: Setup) -> None:
    with pytest.raises(ConfigError):
        WitnessClient("ftp://w1", SIGNERS[0].verifier)
    with pytest.raises(ConfigError):
        WitnessClient("http://w1", SIGNERS[0].verifier, timeout=0)
    twice = [setup.clients[0], WitnessClient("http://w9", SIGNERS[0].verifier)]
    with pytest.raises(ConfigError, match="share a name"):
        cosign_checkpoint(
            make_log(entries(1)).checkpoint(LOG_KEY), witnesses=twice, proof_for=lambda _: []
        )
    with pytest.raises(InputError):
        cosign_checkpoint(b"not a note\n", witnesses=setup.clients, proof_for=lambda _: [])


def test_no_witnesses_leaves_the_checkpoint_as_it_was() -> None:
    note = make_log(entries(2)).checkpoint(LOG_KEY)
    result = cosign_checkpoint(note, witnesses=[], proof_for=lambda _: [])
    assert (result.checkpoint, result.outcomes) == (note, ())


def test_the_async_form_serves_callers_inside_an_event_loop(setup: Setup) -> None:
    log = make_log(entries(4))

    async def inside_a_service() -> CosigningResult:
        return await collect_cosignatures(
            log.checkpoint(LOG_KEY),
            witnesses=setup.clients,
            proof_for=lambda old: list(log.consistency_proof(old).proof),
            transport=setup.router,
        )

    assert len(asyncio.run(inside_a_service()).cosigned) == 3
