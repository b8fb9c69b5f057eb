"""The Kazakhstan 1991-2014 example: a road map with no sanctions measures, whose signed
log spans three decades long past; its pages propose dates from that span."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cvid.report import render_html
from cvid.service.app import FrozenSource, build_example
from cvid.service.dashboard import dashboard_router


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_example("kazakhstan-1991", Path(tmp_path_factory.mktemp("kz")) / "ag")
    yield built
    built.agreement.close()


def _get(source: FrozenSource, path: str) -> str:
    app = FastAPI()
    app.include_router(dashboard_router(source))

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cvid.test") as c:
            return await c.get(path)

    response = asyncio.run(go())
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize("path", ["/", "/escrow", "/monitoring", "/steps/lisbon-protocol"])
def test_the_time_travel_example_is_inside_the_signed_log(source: FrozenSource, path: str) -> None:
    html = _get(source, path)
    hint = re.search(r'<p id="at-help" class="hint">(.*?)</p>', html, re.S)
    assert hint is not None
    example = re.search(r"such as (\d{4})-\d\d-\d\dT12:00:00Z", hint[1])
    assert example is not None, hint[1]
    first = source.events()[0].time.year
    last = source.events()[-1].time.year
    assert (first, last) == (1991, 2022)
    assert first <= int(example[1]) <= last
    assert "The signed log runs from 1991-08-29 to 2022-08-31." in hint[1]


def test_no_empty_sanctions_table(source: FrozenSource) -> None:
    assert source.roadmap.measures == []
    overview = _get(source, "/")
    section = re.search(r'<section aria-labelledby="h-sanctions">(.*?)</section>', overview, re.S)
    assert section is not None
    assert "<table" not in section[1]
    assert "This road map lifts or re-imposes no sanctions measure." in section[1]
    report = render_html(source.roadmap, source.state(source.now()), digest=source.digest)
    part = re.search(r'<section aria-labelledby="sanctions">(.*?)</section>', report, re.S)
    assert part is not None
    assert "<table" not in part[1]
    assert "This road map lifts or re-imposes no sanctions measure." in part[1]
