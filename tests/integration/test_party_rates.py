"""A party's rate and burst, and what refused submissions cost, over real HTTP.

The refusals that matter: a batch of valid events spoiled by one bad entry, sent
again and again, must cost its signer as much as the accepted events would have;
entries nobody's signature covers cost the client's address instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cvid import agreement as ag
from cvid.errors import ConfigError
from cvid.service.app import create_app
from cvid.service.core import MIN_BURST, Limits, Service
from tests.live import serving
from tests.signed import adopted_yesterday, tablings

BATCH = "/api/v1/events/batch"
SINGLE = "/api/v1/events"


@pytest.fixture
def made(tmp_path: Path) -> Iterator[ag.Agreement]:
    """A dprk-phased agreement, adopted yesterday, opened as the parties' own view."""
    agreement = adopted_yesterday(tmp_path / "ag")
    yield agreement
    agreement.close()


@pytest.mark.parametrize(
    ("rate", "burst", "expected"),
    [(0.01, None, MIN_BURST), (1.0, None, MIN_BURST), (2000.0, None, 10_000), (1.0, 3, 3)],
)
def test_the_burst_is_a_few_seconds_of_the_rate(
    rate: float, burst: int | None, expected: int
) -> None:
    assert Limits(party_rate=rate, party_burst=burst).burst == expected


@pytest.mark.parametrize("limits", [{"party_rate": 0}, {"party_burst": 0}, {"max_batch": 0}])
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        Limits(**limits)  # type: ignore[arg-type]


def test_a_slow_rate_allows_only_its_burst(made: ag.Agreement) -> None:
    service = Service(ag.Agreement.open(made.directory), limits=Limits(party_rate=0.01))
    burst = service.limits.burst
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        events = tablings(made, "usa", burst + 2, tag="t")
        too_many = client.post(BATCH, content=b"\n".join(events[: burst + 1]))
        assert too_many.status_code == 400
        assert "burst" in too_many.json()["detail"]
        # refused for its size, the batch still cost what was admitted of it: its burst
        assert client.post(BATCH, content=b"\n".join(events[:burst])).status_code == 429


def test_a_batch_within_the_burst_then_the_rate(made: ag.Agreement) -> None:
    service = Service(ag.Agreement.open(made.directory), limits=Limits(party_rate=0.01))
    burst = service.limits.burst
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        events = tablings(made, "usa", burst + 1, tag="t")
        assert client.post(BATCH, content=b"\n".join(events[:burst])).status_code == 201
        answer = client.post(SINGLE, content=events[burst])
        assert answer.status_code == 429
        assert answer.json()["reason"] == "rate-limited"


def test_refused_batches_are_charged_to_their_signer(made: ag.Agreement) -> None:
    limits = Limits(party_rate=0.01, party_burst=30)
    service = Service(ag.Agreement.open(made.directory), limits=limits)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        valid = tablings(made, "usa", 19, tag="ok")
        replayed = tablings(made, "usa", 1, tag="again")  # signed, but its seq is taken
        poisoned = b"\n".join([*valid, *replayed])
        statuses = [client.post(BATCH, content=poisoned).status_code for _ in range(3)]
        # 20 charged: 10 left, not enough for another 20 (refused after one admission)
        assert statuses == [409, 429, 429]
        assert client.post(BATCH, content=b"\n".join(valid)).status_code == 429
        assert client.post(BATCH, content=b"\n".join(valid[:10])).status_code == 201
        other = tablings(made, "fra", 1, tag="fra")
        assert client.post(SINGLE, content=other[0]).status_code == 201


def test_unsigned_refusals_are_charged_to_the_client_address(made: ag.Agreement) -> None:
    limits = Limits(party_rate=0.01, party_burst=4)
    service = Service(ag.Agreement.open(made.directory), limits=limits)
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with (
        serving(create_app(service, examples={})) as url,
        httpx.Client(base_url=url) as client,
        httpx.Client(base_url=url, transport=elsewhere) as neighbour,
    ):
        (valid,) = tablings(made, "usa", 1, tag="ok")
        forged = valid.replace(b'"party":"usa"', b'"party":"fra"')  # fra's key did not sign it
        garbage = [b"not json", forged, b'{"party":"nobody"}', forged]
        assert [client.post(SINGLE, content=g).status_code for g in garbage] == [400, 403, 400, 403]
        refused = client.post(SINGLE, content=valid)
        assert refused.status_code == 429
        assert "127.0.0.1" in refused.json()["detail"]
        assert neighbour.post(SINGLE, content=valid).status_code == 201
