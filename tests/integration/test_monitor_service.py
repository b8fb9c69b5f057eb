"""The service serves continuous monitoring: device data submitted as signed events,
refused device data as a problem document, continuity at /api/v1/monitoring."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import httpx

from cvid import agreement as ag
from cvid.events.envelope import sign_event
from cvid.events.monitoring_bodies import device_message
from cvid.monitor.records import commit_period, time_text
from cvid.service.app import create_app
from cvid.service.core import Service
from tests.live import serving
from tests.monitor_kit import monitoring_data


def test_device_data_through_the_service(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(seconds=60)  # within the 300 s the road map allows
    data = monitoring_data()
    for device in data["monitoring"]["devices"]:
        del device["key"]
    made = ag.create(tmp_path / "agr", data, adopt_at=start - dt.timedelta(seconds=30))
    made.act(made.signer("iaea"), "device.installed", {"device": "cam-1"}, time=start)

    def entry(device_key: str, period_start: dt.datetime) -> bytes:
        period = commit_period(
            "cam-1",
            period_start,
            period_start + dt.timedelta(seconds=50),
            [{"time": time_text(period_start), "frame": 1}],
            random_bytes=lambda n: hashlib.sha256(str(period_start).encode()).digest()[:n],
        )
        body = period.commitment()
        message = device_message(made.roadmap.agreement.id, "records.committed", body)
        body["signature"] = made.device_signer(device_key).sign_message(message).hex()
        event = made.next_event("north", "records.committed", body, time=now)
        return sign_event(event, made.signer("north")).to_bytes()

    service = Service(ag.Agreement.open(made.directory), checkpoint_interval=0.05)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        wrong = client.post("/api/v1/events", content=entry("seal-1", start))
        assert wrong.status_code == 403, wrong.text
        assert wrong.json()["reason"] == "device-key"
        answer = client.post("/api/v1/events", content=entry("cam-1", start))
        assert answer.status_code == 201, answer.text
        view = client.get("/api/v1/monitoring", params={"at": time_text(now)}).json()
        assert set(view) == {"at", "continuity", "devices", "balances", "cut"}
        assert view["cut"] == []  # nothing longer than the default keep
        assert view["continuity"]["reactor-a"]["status"] == "maintained"
        assert view["devices"]["cam-1"]["periods"] == 1
        assert client.get("/api/v1/monitoring", params={"at": "soon"}).status_code == 400
    made.close()


def test_reveals_listed_and_records_verified_off_the_log(tmp_path: Path) -> None:
    """GET /api/v1/monitoring/reveals lists logged reveals with their verdict; POST
    /api/v1/monitoring/verify checks records handed over off the log, logging nothing."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(seconds=60)
    data = monitoring_data()
    for device in data["monitoring"]["devices"]:
        del device["key"]
    made = ag.create(tmp_path / "agr", data, adopt_at=start - dt.timedelta(seconds=30))
    made.act(made.signer("iaea"), "device.installed", {"device": "cam-1"}, time=start)
    rows = [{"time": time_text(start + dt.timedelta(seconds=k)), "frame": k} for k in range(5)]
    period = commit_period(
        "cam-1", start, start + dt.timedelta(seconds=50), rows, random_bytes=os.urandom
    )
    body = period.commitment()
    message = device_message(made.roadmap.agreement.id, "records.committed", body)
    body["signature"] = made.device_signer("cam-1").sign_message(message).hex()
    made.act(made.signer("north"), "records.committed", body, time=now)
    made.act(made.signer("north"), "records.revealed", period.reveal(0, 2), time=now)
    made.close()

    service = Service(ag.Agreement.open(made.directory), checkpoint_interval=0.05)
    with serving(create_app(service, examples={})) as url, httpx.Client(base_url=url) as client:
        size = service.size
        listed = client.get("/api/v1/monitoring/reveals").json()["reveals"]
        assert [(r["device"], r["records"], r["matched"]) for r in listed] == [("cam-1", 2, True)]
        assert listed[0]["root"] == period.root.hex()
        assert client.get("/api/v1/monitoring/reveals", params={"device": "seal-1"}).json() == {
            "reveals": []
        }
        assert client.get("/api/v1/monitoring/reveals", params={"device": "x"}).status_code == 404

        good = client.post("/api/v1/monitoring/verify", json=period.reveal(2, 5))
        assert good.status_code == 200, good.text
        assert good.json()["matched"] is True
        assert good.json()["records"] == 3
        altered = period.reveal(2, 5)
        altered["records"][0]["record"]["frame"] = 99
        bad = client.post("/api/v1/monitoring/verify", json=altered).json()
        assert bad["matched"] is False
        assert "do not match the commitment" in bad["reason"]
        miscounted = {**period.reveal(0, 1), "count": 4}
        refused = client.post("/api/v1/monitoring/verify", json=miscounted)
        assert refused.status_code == 422
        assert refused.json()["reason"] == "count-mismatch"
        unknown = client.post("/api/v1/monitoring/verify", json={**period.reveal(), "device": "x"})
        assert unknown.status_code == 422
        assert unknown.json()["reason"] == "unknown-device"
        malformed = client.post("/api/v1/monitoring/verify", content=b'{"device": 1}')
        assert malformed.status_code == 400
        # nothing was logged by the checks
        assert service.size == size
