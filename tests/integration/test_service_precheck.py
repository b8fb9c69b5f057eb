"""Entries parsed and verified in worker processes: refused exactly as the writer refuses
them, never trusted beyond the key they were checked with, and stopped with the service."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cvid import agreement as ag
from cvid.errors import EventSignatureError
from cvid.events.envelope import SignedEvent, sign_event
from cvid.log.note import Signer
from cvid.service.app import create_app
from cvid.service.core import Limits, Service
from cvid.service.precheck import check_entries
from tests.live import serving

DRAFT = {"draft": "endorse", "title": "Endorsement", "purpose": "endorse"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def made(tmp_path: Path) -> Iterator[ag.Agreement]:
    agreement = ag.create_from_template(
        tmp_path / "ag", "dprk-phased", adopt_at=_now() - dt.timedelta(days=1)
    )
    yield agreement
    agreement.close()


def _entry(
    agreement: ag.Agreement,
    party: str,
    *,
    seq_ahead: int = 0,
    signer: Signer | None = None,
    draft: str = "endorse",
) -> bytes:
    body = {**DRAFT, "draft": draft}
    event = agreement.next_event(party, "council.draft.tabled", body, time=_now())
    if seq_ahead:
        event = dataclasses.replace(event, seq=event.seq + seq_ahead)
    return sign_event(event, signer or agreement.signer(party)).to_bytes()


def _bad_entries(made: ag.Agreement) -> list[bytes]:
    """Entries each refused for a different reason, all but the first two parseable."""
    good = _entry(made, "usa")
    forged = json.loads(good)
    forged["signature"]["value"] = base64.b64encode(bytes(64)).decode()
    spaced = json.dumps(json.loads(good), indent=1).encode()  # valid, but not canonical
    return [
        b"not json",
        spaced,
        json.dumps(forged, separators=(",", ":"), sort_keys=True).encode(),  # bad signature
        _entry(made, "usa", signer=Signer.generate("usa")),  # a key the road map lacks
        _entry(made, "usa", seq_ahead=3),  # a sequence gap, validly signed
    ]


def _problems(made: ag.Agreement, workers: int, entries: list[bytes]) -> list[dict[str, Any]]:
    """What a service with ``workers`` answers to each entry alone, then to all in a batch
    behind a good one (all or none: the good one is not kept)."""
    service = Service(ag.Agreement.open(made.directory), limits=Limits(workers=workers))
    answers: list[dict[str, Any]] = []
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = client.get("/healthz").json()["tree_size"]
        for entry in entries:
            answer = client.post("/api/v1/events", content=entry)
            answers.append({"status": answer.status_code, **answer.json()})
        for n in range(len(entries)):
            batch = b"\n".join([_entry(made, "usa"), entries[n]])
            answer = client.post("/api/v1/events/batch", content=batch)
            answers.append({"status": answer.status_code, **answer.json()})
        assert client.get("/healthz").json()["tree_size"] == size
    return answers


def test_the_pool_refuses_exactly_as_the_writer(made: ag.Agreement) -> None:
    entries = _bad_entries(made)
    by_writer = _problems(made, 0, entries)
    by_pool = _problems(made, 2, entries)
    assert by_pool == by_writer
    reasons = [a["reason"] for a in by_writer[: len(entries)]]
    assert reasons == [
        "bad-json",
        "not-canonical",
        "bad-signature",
        "unregistered-key",
        "sequence-gap",
    ]
    assert {a["status"] for a in by_writer[: len(entries)]} == {400, 403, 409}
    assert all(a["line"] == 1 for a in by_writer[len(entries) :])


def test_the_pool_admits_valid_entries(made: ag.Agreement) -> None:
    service = Service(ag.Agreement.open(made.directory), limits=Limits(workers=2))
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = client.get("/healthz").json()["tree_size"]
        first = client.post("/api/v1/events", content=_entry(made, "usa"))
        assert first.status_code == 201, first.text
        made.catch_up()
        batch = b"\n".join([_entry(made, "chn", draft="a"), _entry(made, "fra", draft="b")])
        answer = client.post("/api/v1/events/batch", content=batch)
        assert answer.status_code == 201, answer.text
        assert [a["index"] for a in answer.json()["accepted"]] == [size + 1, size + 2]
        assert client.get("/healthz").json()["tree_size"] == size + 3


def test_check_entries_parses_and_names_the_verifying_key(made: ag.Agreement) -> None:
    keys = made.gate.keys
    good, *bad = [_entry(made, "usa"), *_bad_entries(made)]
    checked = check_entries([good, *bad], keys, made.gate.max_size)
    assert checked[0] is not None
    assert checked[0].signed == SignedEvent.from_bytes(good)
    assert checked[0].key in keys["usa"]
    assert checked[1] is None
    assert checked[2] is None
    assert [c.key if c else "unparsed" for c in checked[3:5]] == [None, None]
    assert checked[5] is not None
    assert checked[5].key in keys["usa"]


def test_a_key_claimed_verified_is_trusted_only_if_it_is_the_one_registered(
    made: ag.Agreement,
) -> None:
    good = _entry(made, "usa")
    forged = json.loads(good)
    forged["signature"]["value"] = base64.b64encode(bytes(64)).decode()
    data = json.dumps(forged, separators=(",", ":"), sort_keys=True).encode()
    signed = SignedEvent.from_bytes(data)
    other = made.gate.keys["chn"][0]  # verified something, but is not usa's key
    with pytest.raises(EventSignatureError) as refused:
        made.gate.admit(data, made.history, now=_now(), parsed=signed, verified=other)
    assert refused.value.reason == "bad-signature"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_pool_stops_with_the_service(made: ag.Agreement) -> None:
    service = Service(ag.Agreement.open(made.directory), limits=Limits(workers=2))
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        assert client.post("/api/v1/events", content=_entry(made, "usa")).status_code == 201
        pids = service.worker_pids
        assert 1 <= len(pids) <= 2
        assert all(_running(pid) for pid in pids)
    assert not any(_running(pid) for pid in pids)


def test_no_pool_without_workers(made: ag.Agreement) -> None:
    service = Service(ag.Agreement.open(made.directory), limits=Limits(workers=0))
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        assert client.post("/api/v1/events", content=_entry(made, "usa")).status_code == 201
        assert service.worker_pids == []
