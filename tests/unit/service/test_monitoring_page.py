"""The dashboard's monitoring page: continuity per facility with its cause, a coverage
timeline with the gaps marked, the devices in a table, material balances."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from cvid import agreement as ag
from cvid.events.monitoring_bodies import device_message
from cvid.monitor.records import commit_period, time_text
from cvid.service.app import FrozenSource
from cvid.service.dashboard import dashboard_router
from tests.monitor_kit import T0, H, monitoring_data
from tests.unit.service.test_dashboard import Client, Page


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    data = monitoring_data()
    for device in data["monitoring"]["devices"]:
        del device["key"]
    a = ag.create(tmp_path_factory.mktemp("monitoring") / "agr", data, adopt_at=T0)
    iaea, north = a.signer("iaea"), a.signer("north")
    for device in ("cam-1", "seal-1"):
        a.act(iaea, "device.installed", {"device": device}, time=T0 + H)
    for hour in (1, 2, 7):  # cam-1 silent from 03:00 to 07:00: past its 3 h at-risk tolerance
        start = T0 + hour * H
        period = commit_period(
            "cam-1", start, start + H, [{"time": time_text(start)}], random_bytes=bytes
        )
        body = period.commitment()
        message = device_message("mini", "records.committed", body)
        body["signature"] = a.device_signer("cam-1").sign_message(message).hex()
        a.act(north, "records.committed", body, time=period.end)
    a.act(north, "device.removed", {"device": "seal-1", "reason": "ours"}, time=T0 + 8 * H)
    balance = {"area": "mba-1", "period": "2027-01-10", "pb": 10, "x": 0, "y": 0, "pe": 7}
    a.act(iaea, "balance.reported", balance | {"sigma": 0.5}, time=T0 + 9 * H)
    app = FastAPI()
    app.include_router(dashboard_router(FrozenSource(a, T0 + 10 * H)))
    yield Client(app)
    a.close()


def test_the_page_shows_continuity_its_cause_and_the_coverage(client: Client) -> None:
    response = client.get("/monitoring")
    assert response.status_code == 200, response.text
    html = response.text
    page = Page(html)
    (stock,) = page.find("section", data_item="stock-1")
    assert stock
    assert 'data-status="lost"' in html
    assert "seal-1 removed by north: ours (by its host, on 2027-01-10 08:00 UTC)" in html
    assert page.find("rect", data_gap="at-risk")  # cam-1's silence from 03:00 to 07:00
    assert "2027-01-10 03:00 UTC to 2027-01-10 07:00 UTC (continuity at risk)" in html
    assert page.find("table", data_area="mba-1")
    assert "<strong>flagged</strong>: |MUF| 3 vs 3 sigma(MUF) = 1.5 kg" in html
    assert page.find("a", href="./monitoring", aria_current="page")


def test_the_page_travels_in_time(client: Client) -> None:
    html = client.get("/monitoring?at=2027-01-10T02:30:00Z").text
    assert 'data-status="lost"' not in html
    assert 'data-status="maintained"' in html
    assert client.get("/monitoring?at=someday").status_code == 400
