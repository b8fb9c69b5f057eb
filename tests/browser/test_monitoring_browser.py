"""The monitoring pages in a real browser (Debian's chromium driven by Playwright), on
the demo's agreement: three devices at Yongbyon, a camera's gap, a seal's tamper alarm,
a re-verification and a flagged material balance.

Each facility's page renders under the service's Content-Security-Policy, its charts
are drawn on the server (there with no script), it never scrolls sideways on a 390 px
phone, the charts' tick labels do not overlap, and axe-core finds no serious
accessibility violation. Screenshots go under ``$CVID_ARTEFACTS`` if set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from cvid import demo
from cvid._http import PAGE_POLICY, harden
from cvid.agreement import Agreement
from cvid.service.app import FrozenSource
from cvid.service.dashboard import dashboard_router
from tests.browser.test_dashboard_browser import _AXE_RUN, ARGS, AXE, CHROMIUM, REPORT_CSP
from tests.live import serving

WAIT_MS = 15_000
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
AT = demo.monitored(demo.MONITOR_HOURS + 2)  # the scenario two hours after monitoring
DURING = demo.monitored(demo.REVERIFIED_HOUR - 1).strftime("%Y-%m-%dT%H:%M:%SZ")
PAGES = {
    "radiochemical": "/monitoring/yongbyon-radiochemical-lab",
    "radiochemical-lost": f"/monitoring/yongbyon-radiochemical-lab?at={DURING}",
    "5mwe": "/monitoring/yongbyon-5mwe",
    "enrichment": "/monitoring/yongbyon-enrichment",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    demo.main(out, serve=False)
    with Agreement.open(out / "agreement") as agreement:
        app = FastAPI(title="cvid monitoring under test", docs_url=None, redoc_url=None)
        harden(app, policy=PAGE_POLICY)  # as the service does
        app.include_router(dashboard_router(FrozenSource(agreement, AT)))
        with serving(app) as url:
            yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    with sync_playwright() as p:
        launched = _launch(p)
        yield launched
        launched.close()


def _launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("CVID_ARTEFACTS")
    where = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    where.mkdir(parents=True, exist_ok=True)
    print(f"\nmonitoring screenshots: {where}")
    return where


def _open(browser: Browser, viewport: ViewportSize, url: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.add_init_script(REPORT_CSP)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.on(
        "response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    return page, errors


def _boxes(page: Page, selector: str) -> list[dict[str, float]]:
    boxes: list[dict[str, float]] = page.eval_on_selector_all(
        selector,
        "els => els.map(e => { const b = e.getBoundingClientRect();"
        " return {x: b.x, y: b.y, w: b.width, h: b.height}; })",
    )
    return boxes


def _no_overlap(boxes: list[dict[str, float]]) -> None:
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"] + 0.5
                or b["x"] + b["w"] <= a["x"] + 0.5
                or a["y"] + a["h"] <= b["y"] + 0.5
                or b["y"] + b["h"] <= a["y"] + 0.5
            )
            assert apart, (a, b)


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
def test_facility_page(
    browser: Browser,
    base_url: str,
    artefacts: Path,
    name: str,
    size: str,
    viewport: ViewportSize,
) -> None:
    page, errors = _open(browser, viewport, base_url + PAGES[name])
    try:
        assert page.locator("h1").count() == 1
        assert page.locator("figure[data-chart='coverage'] svg.chart-svg").count() == 1
        assert page.locator("table[data-table='coverage'] tbody tr").count() == 1
        status = page.locator("[data-status]").first.get_attribute("data-status")
        assert status == ("lost" if name.endswith("lost") else "maintained")
        if name.startswith("radiochemical"):
            marks = page.locator("figure[data-chart='coverage'] [data-mark]")
            assert marks.count() == 1
            assert "tamper alarm" in (marks.first.text_content() or "")
            assert "tamper alarm at" in page.locator("table[data-table='coverage']").inner_text()
        if name == "radiochemical":
            assert page.locator("figure[data-chart='balance'] [data-muf]").count() == 2
            assert page.locator("table[data-table='balance'] tbody tr").count() == 2
        if name == "5mwe":
            assert page.locator("figure[data-chart='coverage'] [data-gap]").count() >= 1
        if name == "radiochemical-lost":
            assert "tamper alarm on seal-radiochemical" in page.locator("[data-cause]").inner_text()
        for chart in page.locator("figure.chart").all():
            ticks = chart.locator("text[data-tick]")
            assert ticks.count() >= 2 or chart.get_attribute("data-chart") == "balance"
        _no_overlap(_boxes(page, "figure.chart text[data-tick]"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name} is {width}px wide at {size}"
        page.screenshot(path=str(artefacts / f"{size}-{name}.png"), full_page=True)
    finally:
        page.context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, csp
    assert not [e for e in errors if "404" not in e], errors


def test_the_monitoring_page_links_each_facility(browser: Browser, base_url: str) -> None:
    page, errors = _open(browser, LAPTOP, base_url + "/monitoring")
    try:
        page.locator("section[data-item='yongbyon-5mwe'] h2 a").click()
        page.wait_for_url("**/monitoring/yongbyon-5mwe")
        assert page.locator("figure[data-chart='coverage']").count() == 1
    finally:
        page.context.close()
    unexpected = [e for e in errors if "404" not in e]  # the favicon, as on every page
    assert not unexpected, unexpected


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
def test_no_serious_accessibility_violations(
    browser: Browser, base_url: str, name: str, size: str, viewport: ViewportSize
) -> None:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/provision.sh; these tests never skip")
    page, _ = _open(browser, viewport, base_url + PAGES[name])
    try:
        page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = page.evaluate(_AXE_RUN)
        assert violations == [], f"{name} at {size}: {violations}"
    finally:
        page.context.close()


def test_unknown_item_is_not_found(base_url: str) -> None:
    assert httpx.get(base_url + "/monitoring/no-such-item", timeout=10).status_code == 404
    moment = dt.datetime(2027, 1, 1, tzinfo=dt.UTC).date().isoformat()
    assert httpx.get(f"{base_url}/monitoring/yongbyon-5mwe?at={moment}", timeout=10).is_success
