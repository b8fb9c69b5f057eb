"""`make demo` as a user sees it: the service and two witnesses answer, Ctrl-C stops all."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cvid import demo as demo_module
from cvid.log.cosignature import Cosignature
from cvid.log.note import Note
from tests.live import free_port

pytestmark = pytest.mark.slow
WAIT_S = 180.0


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_the_demo_serves_a_final_checkpoint_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "cvid.demo", "--port", str(port)],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        published = None
        while time.monotonic() < deadline:
            assert demo.poll() is None, log.read_text(errors="replace")
            try:
                published = httpx.get(f"{url}/api/v1/checkpoint", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                published = None
            if published and published.get("witnesses", {}).get("final"):
                break
            time.sleep(0.5)
        assert published is not None, log.read_text(errors="replace")
        assert published["witnesses"]["final"], published
        assert sorted(published["witnesses"]["signed"]) == [
            "witness.ch.example",
            "witness.kz.example",
        ]
        state = httpx.get(f"{url}/api/v1/state").json()
        assert state["snapbacks"][-1]["outcome"] == "open"  # the procedure under way
        assert state["rules"]["disablement-missed"]["fired_at"] is not None
        lost_at = demo_module.monitored(demo_module.TAMPER_HOUR + 1).strftime("%Y-%m-%dT%H:%M:%SZ")
        back_at = demo_module.monitored(demo_module.REVERIFIED_HOUR + 1).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        lost = httpx.get(f"{url}/api/v1/monitoring", params={"at": lost_at}).json()
        back = httpx.get(f"{url}/api/v1/monitoring", params={"at": back_at}).json()
        lab = "yongbyon-radiochemical-lab"
        assert lost["continuity"][lab]["status"] == "lost"
        assert "tamper alarm on seal-radiochemical" in lost["continuity"][lab]["cause"]
        assert back["continuity"][lab]["status"] == "maintained"
        assert back["continuity"][lab]["baseline_by"] == "iaea"
        reveals = httpx.get(f"{url}/api/v1/monitoring/reveals").json()["reveals"]
        assert [(r["device"], r["matched"]) for r in reveals] == [("cam-5mwe", True)]
        for page in ("/", "/ledger", "/escrow", "/examples/kazakhstan-1991/", f"/monitoring/{lab}"):
            assert httpx.get(url + page, timeout=30).status_code == 200, page
        said = log.read_text(errors="replace")
        assert "14. Serving" in said
        _cosigned_on_the_scenarios_clock(url, log, port)
        assert _listening(port + 1)
        assert _listening(port + 2)
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, log.read_text(errors="replace")
    assert not any(_listening(p) for p in (port, port + 1, port + 2))


def _cosigned_on_the_scenarios_clock(url: str, log: Path, port: int) -> None:
    """The served checkpoint's cosignatures, and each witness's log line saying so (under
    its name), are dated on the scenario's clock that the service shows."""
    said = log.read_text(errors="replace")
    shown = re.search(r"the clock reads (\d{4}-\d{2}-\d{2})", said)
    assert shown, said
    today = dt.date.fromisoformat(shown.group(1))
    days = {today, today + dt.timedelta(days=1)}  # the clock may pass midnight meanwhile
    note = Note.from_bytes(httpx.get(f"{url}/checkpoint", timeout=30).content)
    stamps = {
        s.name: Cosignature.from_signature(s).timestamp
        for s in note.signatures
        if s.name.startswith("witness.")
    }
    assert len(stamps) == 2, stamps
    assert {dt.datetime.fromtimestamp(t, dt.UTC).date() for t in stamps.values()} <= days
    line = re.compile(
        r"^   (\S+) \(port (\d+)\): (\S+) cvid\.witness\.server cosigned \S+ size \d+ at (\S+)$"
    )
    for _ in range(100):  # the relay copies each witness's lines as they come
        found = [m for m in map(line.match, log.read_text(errors="replace").splitlines()) if m]
        if len({m.group(1) for m in found}) == 2:
            break
        time.sleep(0.1)
    assert {int(m.group(2)) for m in found} == {port + 1, port + 2}, found
    for m in found:
        logged, cosigned = (dt.datetime.fromisoformat(m.group(i)) for i in (3, 4))
        assert {logged.date(), cosigned.date()} <= days, m.group(0)
