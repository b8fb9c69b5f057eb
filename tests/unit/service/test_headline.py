"""The overview's headline, computed from the state of a real agreement."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cvid.agreement import create_from_template
from cvid.report.names import Names
from cvid.service.app import FrozenSource
from cvid.service.dashboard import dashboard_router
from cvid.service.headline import HEADLINE_DEADLINES, headline
from tests.service_support import build_agreement, day


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_agreement(Path(tmp_path_factory.mktemp("headline")) / "agreement")
    yield built
    built.agreement.close()


def test_late_in_the_agreement(source: FrozenSource) -> None:
    state = source.state(source.now())
    h = headline(source.roadmap, state, Names.of(source.roadmap))
    assert h["phase"].id == "disablement"
    assert h["phase_number"] == 2
    assert h["counts"]["overdue"] == sum(s.status == "overdue" for s in state.steps.values())
    assert h["counts"]["overdue"] > 0
    awaiting = [s for s in state.steps.values() if s.status == "reported" and not s.done_at]
    assert h["counts"]["reported"] == len(awaiting)
    # nothing lies ahead: the most recently missed deadlines, with the days late
    assert 0 < len(h["deadlines"]) <= HEADLINE_DEADLINES
    assert all(d["days"] < 0 for d in h["deadlines"])
    assert [d["due"] for d in h["deadlines"]] == sorted(
        (d["due"] for d in h["deadlines"]), reverse=True
    )
    dprk = next(b for b in h["breaches"] if b["party"] == "dprk")
    assert dprk["name"] == "DPRK"
    assert ("overdue", "Disable the 5 MWe reactor") in dprk["grounds"]
    assert h["sanctions"]["sanction-reimposed"] == 1
    assert sum(h["sanctions"].values()) == len(state.measures)
    assert h["alerts"]
    assert h["alerts_total"] == len(state.alerts)
    assert "disablement-missed" not in " ".join(h["alerts"])  # names, not ids


def test_early_in_the_agreement(source: FrozenSource) -> None:
    state = source.state(day(6))
    h = headline(source.roadmap, state, Names.of(source.roadmap))
    assert h["counts"] == {"overdue": 0, "violated": 0, "reported": 0}
    deadlines = h["deadlines"]
    assert len(deadlines) == HEADLINE_DEADLINES
    assert all(d["days"] >= 0 for d in deadlines)
    assert [d["due"] for d in deadlines] == sorted(d["due"] for d in deadlines)
    first = deadlines[0]
    assert first["days"] == -(-(first["due"] - state.at) // dt.timedelta(days=1))
    assert h["breaches"] == []


def test_an_agreement_not_yet_in_force(tmp_path: Path) -> None:
    created = create_from_template(tmp_path / "pending", "dprk-phased", adopt_at=None)
    try:
        pending = FrozenSource(created, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        app = FastAPI()
        app.include_router(dashboard_router(pending))

        async def get(path: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.get(path)

        english = asyncio.run(get("/")).text
        assert "not in force (adopted by — so far)" in english
        assert "Phase 1 of 5" in english
        french = asyncio.run(get("/?lang=fr")).text
        assert "pas en vigueur (adopté jusqu'ici par —)" in french
    finally:
        created.close()
