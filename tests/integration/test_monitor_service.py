"""The service serves continuous monitoring: device data submitted as signed events,
refused device data as a problem document, continuity at /api/v1/monitoring."""

from __future__ import annotations

import datetime as dt
import hashlib
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
        assert set(view) == {"at", "continuity", "devices", "balances"}
        assert view["continuity"]["reactor-a"]["status"] == "maintained"
        assert view["devices"]["cam-1"]["periods"] == 1
        assert client.get("/api/v1/monitoring", params={"at": "soon"}).status_code == 400
    made.close()
