"""What a hostile or careless client cannot do to the service (found in review)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from cvid import agreement as ag
from cvid._when import parse_when
from cvid.errors import ConfigError, InputError
from cvid.events.envelope import MAX_EVENT_BYTES
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
