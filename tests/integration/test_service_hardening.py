"""What a hostile or careless client cannot do to the service (found in review)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import httpx
import pytest

from cvid import _yaml
from cvid import agreement as ag
from cvid._when import parse_when
from cvid.errors import ConfigError, InputError
from cvid.events.envelope import MAX_EVENT_BYTES, sign_event
from cvid.log.cosignature import CosignatureSigner
from cvid.service.app import create_app
from cvid.service.core import Service, open_service
from cvid.witness.client import WitnessClient
from cvid.witness.state import MAX_EVIDENCE, WitnessState
from tests.live import serving

OUT_OF_RANGE = ["0001-01-01T00:00+01:00", "9999-12-31", "1899-12-31", "2027-01-01T00:00"]


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_moments_out_of_range_or_zone_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_when(text, "at")


def test_bad_moments_single_entries_and_witness_urls(tmp_path: Path) -> None:
    adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    made = ag.create_from_template(tmp_path / "ag", "dprk-phased", adopt_at=adopted)
    made.close()
    service = Service(ag.Agreement.open(made.directory), checkpoint_interval=0.2)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        for text in OUT_OF_RANGE:
            for path in ("/api/v1/state", "/", "/escrow"):
                answer = client.get(path, params={"at": text})
                assert answer.status_code == 400, (path, text, answer.text[:200])
        # one entry is at most MAX_EVENT_BYTES, whatever a batch may hold
        answer = client.post("/api/v1/events", content=b"x" * (MAX_EVENT_BYTES + 2))
        assert answer.status_code == 413
        assert answer.json()["reason"] == "too-large"
    with pytest.raises(ConfigError, match="port"):
        open_service(str(made.directory), witness_urls={"witness.kz.example": "http://h:99999"})
    key = CosignatureSigner.generate("w.example").verifier
    with pytest.raises(ConfigError, match="malformed"):
        WitnessClient("http://[::1", key)


def test_witness_evidence_is_kept_once_and_bounded(tmp_path: Path) -> None:
    state = WitnessState(str(tmp_path / "w.db"))
    for _ in range(3):
        state.record_evidence(origin="o", status=422, reason="bad", request=b"same", at=1)
    assert len(state.evidence("o")) == 1
    for n in range(MAX_EVIDENCE + 5):
        state.record_evidence(origin="p", status=422, reason="bad", request=b"%d" % n, at=1)
    assert len(state.evidence("p")) == MAX_EVIDENCE


def test_a_party_past_its_storage_quota_is_told_to_come_back_the_next_utc_day(
    tmp_path: Path,
) -> None:
    data = _yaml.load(ag.template_path("dprk-phased").read_text("utf-8"))
    data["agreement"]["storage_quota_bytes_per_day"] = 2048
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = ag.create(tmp_path / "ag", data, adopt_at=now - dt.timedelta(days=1))
    service = Service(ag.Agreement.open(made.directory), checkpoint_interval=0.2)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        for n in range(10):  # each draft's entry is some hundreds of bytes
            when = dt.datetime.now(dt.UTC).replace(microsecond=0)
            draft = {"draft": f"d-{n}", "title": f"Draft {n} " + "t" * 200, "purpose": "other"}
            event = made.next_event("usa", "council.draft.tabled", draft, time=when)
            entry = sign_event(event, made.signer("usa")).to_bytes()
            answer = client.post("/api/v1/events", content=entry)
            if answer.status_code != 201:
                break
            made.catch_up()
        else:
            raise AssertionError("the quota never refused an entry")
        assert answer.status_code == 429, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"] == "urn:cvid:problem:storage-quota"
        assert problem["reason"] == "storage-quota"
        next_day = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        wait = math.ceil((next_day - when).total_seconds())
        assert answer.headers["retry-after"] == str(wait)
        assert problem["retry_after"] == wait
        # another party's entries are its own to count
        vote = {"draft": "d-0", "vote": "yes"}
        other = made.next_event("fra", "council.vote.cast", vote, time=dt.datetime.now(dt.UTC))
        signed = sign_event(other, made.signer("fra")).to_bytes()
        assert client.post("/api/v1/events", content=signed).status_code == 201
    made.close()
