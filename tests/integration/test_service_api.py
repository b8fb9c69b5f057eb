"""The service over real HTTP: submissions, refusals, group commit, proofs and tiles."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cvid import agreement as ag
from cvid.events.envelope import sign_event
from cvid.log import merkle
from cvid.log.audit import verify_published
from cvid.log.checkpoint import open_checkpoint
from cvid.log.proof import ConsistencyProof, InclusionProof
from cvid.log.remote import http_fetch
from cvid.service.app import create_app
from cvid.service.core import Limits, Service
from tests.live import serving


def _now() -> dt.datetime:
    """Read at each use: events must be within the service's clock skew when sent."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


COUNCIL_DRAFT = {"draft": "endorse", "title": "Endorsement", "purpose": "endorse"}


def _council(agreement: ag.Agreement) -> list[str]:
    roles = {"council_permanent", "council_elected"}
    # the draft's sponsor (usa) tables it; the other members vote in these tests
    return [p.id for p in agreement.roadmap.parties if roles & set(p.roles) and p.id != "usa"]


def _entry(agreement: ag.Agreement, party: str, kind: str, body: dict[str, Any]) -> bytes:
    """``party``'s next event, signed (the test's own view of the log decides its seq)."""
    event = agreement.next_event(party, kind, body, time=_now())
    return sign_event(event, agreement.signer(party)).to_bytes()


@pytest.fixture
def made(tmp_path: Path) -> Iterator[ag.Agreement]:
    """A dprk-phased agreement, adopted yesterday, opened as the parties' own view."""
    agreement = ag.create_from_template(
        tmp_path / "ag", "dprk-phased", adopt_at=_now() - dt.timedelta(days=1)
    )
    yield agreement
    agreement.close()


def _service(made: ag.Agreement, limits: Limits | None = None) -> Service:
    return Service(ag.Agreement.open(made.directory), limits=limits, checkpoint_interval=0.05)


def _wait_checkpoint(client: httpx.Client, size: int) -> bytes:
    for _ in range(200):
        health = client.get("/healthz").json()
        if health["checkpoint_size"] == size:
            return client.get("/checkpoint").content
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint of size {size}")


def test_submit_read_prove_and_publish(made: ag.Agreement) -> None:
    service = _service(made)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = client.get("/healthz").json()["tree_size"]
        entry = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
        answer = client.post("/api/v1/events", content=entry)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["index"] == size
        assert body["leaf_hash"] == base64.b64encode(merkle.leaf_hash(entry)).decode()
        assert answer.headers["location"] == f"/api/v1/entries/{size}"
        assert client.get(f"/api/v1/entries/{size}/raw").content == entry
        assert (
            client.get(f"/api/v1/entries/{size}").json()["event"]["type"] == "council.draft.tabled"
        )

        # the same entry again is a replay: refused, problem document, nothing appended
        again = client.post("/api/v1/events", content=entry)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["reason"] == "replayed-sequence"
        assert client.get("/healthz").json()["tree_size"] == size + 1

        # a checkpoint is published; proofs verify against it
        note = _wait_checkpoint(client, size + 1)
        checkpoint, _ = open_checkpoint(note, made.log_signer().verifier)
        proof = InclusionProof.from_dict(
            client.get(
                "/api/v1/proofs/inclusion",
                params={"leaf_hash": body["leaf_hash"], "tree_size": checkpoint.tree_size},
            ).json()
        )
        proof.verify()
        assert proof.root_hash == checkpoint.root_hash
        assert proof.leaf_index == size
        consistency = ConsistencyProof.from_dict(
            client.get("/api/v1/proofs/consistency", params={"old": 3, "new": size + 1}).json()
        )
        consistency.verify()

        # the state shows the draft; the tiles verify with only the log's key
        state = client.get("/api/v1/state").json()
        assert "endorse" in state["drafts"]
        report = verify_published(http_fetch(url, client), made.log_signer().verifier)
        assert report.tree_size == size + 1
        assert report.root_hash == checkpoint.root_hash
        full = client.get("/tile/entries/000.p/1")
        assert full.status_code == 200
        assert full.headers["cache-control"] == "no-cache"
        assert client.get("/tile/entries/000").status_code == 404  # not full yet
        assert client.get("/tile/0/x999/000").status_code == 404


def test_refusals_name_their_reason_and_change_nothing(made: ag.Agreement) -> None:
    service = _service(made, Limits(max_request_bytes=4096))
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = client.get("/healthz").json()["tree_size"]
        good = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
        forged = json.loads(good)
        forged["signature"] = base64.b64encode(bytes(64)).decode()
        cases = [
            (b"not json", 400, "bad-json"),
            (b'{"event": {}}', 403, "missing-signature"),
            (json.dumps(forged, separators=(",", ":"), sort_keys=True).encode(), 403, None),
            (b"x" * 5000, 413, "too-large"),
            (
                _entry(
                    made,
                    "dprk",
                    "step.verified",
                    {"step": "test-moratorium", "outcome": "confirmed"},
                ),
                403,
                None,
            ),
        ]
        for data, status, reason in cases:
            answer = client.post("/api/v1/events", content=data)
            assert answer.status_code == status, (data[:40], answer.text)
            problem = answer.json()
            assert problem["status"] == status
            assert problem["type"].startswith("urn:cvid:problem:")
            assert problem["detail"]
            if reason:
                assert problem["reason"] == reason
        assert client.get("/healthz").json()["tree_size"] == size
        assert client.get("/api/v1/entries/99999").status_code == 404
        assert client.get("/api/v1/state", params={"at": "yesterday"}).status_code == 400
        assert client.get("/api/v1/entries", params={"limit": 0}).status_code == 400


def test_a_batch_is_all_or_nothing(made: ag.Agreement) -> None:
    service = _service(made)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = client.get("/healthz").json()["tree_size"]
        tabled = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
        bad = _entry(
            made, "dprk", "step.verified", {"step": "test-moratorium", "outcome": "confirmed"}
        )
        answer = client.post("/api/v1/events/batch", content=tabled + b"\n" + bad + b"\n")
        assert answer.status_code == 403
        assert answer.json()["line"] == 1
        spaced = client.post("/api/v1/events/batch", content=b"\n" + tabled + b"\n\n" + bad)
        assert spaced.json()["line"] == 3  # the line of the body, blank lines counted
        assert client.get("/healthz").json()["tree_size"] == size
        # the same first event alone, with every member's vote: all accepted, in order
        made.catch_up()
        lines = [tabled]
        votes = [
            sign_event(
                made.next_event(
                    m, "council.vote.cast", {"draft": "endorse", "vote": "yes"}, time=_now()
                ),
                made.signer(m),
            ).to_bytes()
            for m in _council(made)
        ]
        answer = client.post("/api/v1/events/batch", content=b"\n".join(lines + votes))
        assert answer.status_code == 201, answer.text
        indices = [a["index"] for a in answer.json()["accepted"]]
        assert indices == list(range(size, size + 1 + len(votes)))


def test_concurrent_submissions_are_group_committed(made: ag.Agreement) -> None:
    service = _service(made)
    council = _council(made)
    tabled = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
    votes = [
        sign_event(
            made.next_event(
                m, "council.vote.cast", {"draft": "endorse", "vote": "yes"}, time=_now()
            ),
            made.signer(m),
        ).to_bytes()
        for m in council
    ]
    commit = service._commit
    held = threading.Event()

    def held_commit(group: Any) -> Any:
        # Hold the first vote's transaction until the other votes wait in the queue,
        # so what the test sees does not depend on how fast the client sends.
        if held.is_set():
            deadline = time.monotonic() + 20
            taken = sum(len(p.entries) for p in group)
            while service.queued + taken < len(votes) and time.monotonic() < deadline:
                time.sleep(0.005)
            held.clear()
        return commit(group)

    service._commit = held_commit  # type: ignore[method-assign]
    with serving(create_app(service, examples={})) as url:

        async def run() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url) as client:
                first = await client.post("/api/v1/events", content=tabled)
                assert first.status_code == 201
                before = service.groups
                held.set()
                answers = await asyncio.gather(
                    *(client.post("/api/v1/events", content=v) for v in votes)
                )
                assert service.groups - before == 2  # the held group, then all the others
                return answers

        answers = asyncio.run(run())
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
        assert len({a.json()["index"] for a in answers}) == len(votes)
        state = httpx.get(f"{url}/api/v1/state").json()
        assert len(state["drafts"]["endorse"]["votes"]) == len(council)


def test_a_party_over_its_rate_is_refused(made: ag.Agreement) -> None:
    service = _service(made, Limits(party_rate=0.001, party_burst=1))
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        first = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
        assert client.post("/api/v1/events", content=first).status_code == 201
        made.catch_up()
        second = _entry(made, "usa", "council.vote.cast", {"draft": "endorse", "vote": "yes"})
        answer = client.post("/api/v1/events", content=second)
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["reason"] == "rate-limited"
        other = _entry(made, "fra", "council.vote.cast", {"draft": "endorse", "vote": "yes"})
        assert client.post("/api/v1/events", content=other).status_code == 201


def test_the_events_held_do_not_grow_with_the_log(
    made: ag.Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that stays up lets old events go (read from its log again when asked
    for): with 3 held, after a dozen submissions the state, the entries and a refused
    batch's undo are as a freshly opened agreement sees them."""
    from cvid import logged
    from cvid.report import state_to_dict

    monkeypatch.setattr(logged, "HELD", 3)
    service = _service(made)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        tabled = _entry(made, "usa", "council.draft.tabled", COUNCIL_DRAFT)
        assert client.post("/api/v1/events", content=tabled).status_code == 201
        made.catch_up()
        for member in _council(made):
            vote = _entry(made, member, "council.vote.cast", {"draft": "endorse", "vote": "yes"})
            assert client.post("/api/v1/events", content=vote).status_code == 201, member
            made.catch_up()
        events = service.agreement.events
        assert events.base > 0
        assert len(events) - events.base < 6
        # a batch refused at its second entry undoes the first, over events let go
        note = _entry(made, "usa", "council.draft.tabled", {**COUNCIL_DRAFT, "draft": "x"})
        bad = _entry(
            made, "dprk", "step.verified", {"step": "test-moratorium", "outcome": "confirmed"}
        )
        assert client.post("/api/v1/events/batch", content=note + b"\n" + bad).status_code == 403
        at = "2100-01-01T00:00:00Z"
        served = client.get("/api/v1/state", params={"at": at, "keep": 1000}).json()
        entries = client.get("/api/v1/entries", params={"limit": 1000}).json()["entries"]
    with ag.Agreement.open(made.directory, reverify=True) as fresh:
        moment = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        assert served == state_to_dict(fresh.state(at=moment), 1000)
        assert [e["index"] for e in entries] == [e.index for e in fresh.events]
        assert [e["event"]["type"] for e in entries] == [e.type for e in fresh.events]
