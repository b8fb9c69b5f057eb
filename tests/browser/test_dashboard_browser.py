"""The dashboard in a real browser: Debian's chromium driven by Playwright.

A real uvicorn server serves the dashboard of a real agreement (mounted twice, at
``/`` and under a prefix). The browser loads every page, follows a step to the
events behind it and an entry to its proof, which it checks itself with WebCrypto;
a tampered proof must be reported as failing; with JavaScript off the statuses must
still be there. Every page is served under the service's Content-Security-Policy, and
any violation the browser reports fails the test. Screenshots are saved under
``$CVID_ARTEFACTS`` if set, else under a pytest temporary directory; the path is printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    Route,
    ViewportSize,
    sync_playwright,
)

from cvid._http import PAGE_POLICY, harden
from cvid.report import render_html
from cvid.service.app import FrozenSource, build_example
from cvid.service.dashboard import dashboard_router
from cvid.service.docs import docs_router
from tests.browser.conftest import ARTEFACTS
from tests.live import serving
from tests.service_support import build_agreement

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PREFIX = "/examples/second"
KZ = "/examples/kazakhstan-1991"
FREEZE = "Freeze the Yongbyon facilities under IAEA monitoring"
FREEZE_FR = "Geler les installations de Yongbyon sous la surveillance de l'AIEA"
WAIT_MS = 15_000
DOCS_TITLE = "API docs under test"
# axe-core, installed by scripts/provision.sh into a cache outside the package; the
# tests inject it into each page (cvid never serves it).
AXE = (
    Path(os.environ.get("CVID_AXE_DIR") or Path.home() / ".cache" / "cvid" / "axe")
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
_AXE_RUN = """
async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", "));
}
"""
# Reports a violation of the page's Content-Security-Policy on the console, which the
# page fixture watches (the browser reports most of them there itself, too).
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " " + e.blockedURI);
});
"""
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
WIDE: ViewportSize = {"width": 1366, "height": 768}  # the laptop the headline must fit
PHONE: ViewportSize = {"width": 390, "height": 844}
PAGES = {
    "overview": "/",
    "overview-past": "/?at=2027-01-10",
    "step": "/steps/yongbyon-freeze",
    "party": "/parties/dprk",
    "ledger": "/ledger",
    "entry": "/ledger/7",
    "entry-uncovered": "/ledger/50",
    "escrow": "/escrow",
    "monitoring": "/monitoring",
    "reference": "/reference",
    "not-found": "/steps/no-such-step",
    "bad-moment": "/?at=yesterday",
    "simulation": "/simulation",
    "kazakhstan": KZ + "/",
    "kazakhstan-step": KZ + "/steps/lisbon-protocol",
    "kazakhstan-ledger": KZ + "/ledger",
    "overview-fr": "/?lang=fr",
    "ledger-fr": "/ledger?lang=fr",
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_agreement(tmp_path_factory.mktemp("browser") / "agreement")
    yield built
    built.agreement.close()


@pytest.fixture(scope="module")
def kazakhstan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_example("kazakhstan-1991", tmp_path_factory.mktemp("kz") / "agreement")
    yield built
    built.agreement.close()


@pytest.fixture(scope="module")
def base_url(source: FrozenSource, kazakhstan: FrozenSource) -> Iterator[str]:
    """A uvicorn server on 127.0.0.1 and a free port, in a background thread."""
    app = FastAPI(title="cvid dashboard under test", docs_url=None, redoc_url=None)
    harden(app, policy=PAGE_POLICY)  # as the service does
    app.include_router(docs_router(title=DOCS_TITLE))

    @app.get("/api/v1/sample", tags=["read"])
    def sample(start: int | None = None) -> dict[str, int | None]:
        """An operation for the docs page to show."""
        return {"start": start}

    app.include_router(dashboard_router(source))
    app.include_router(dashboard_router(source), prefix=PREFIX)
    app.include_router(dashboard_router(kazakhstan), prefix=KZ)
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium); they never skip"
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def artefacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("CVID_ARTEFACTS")
    where = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    where.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTEFACTS] = where  # listed, file by file, in the test summary
    return where


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.add_init_script(REPORT_CSP)
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, f"the page broke its Content-Security-Policy: {csp}"
    unexpected = [e for e in errors if "404" not in e and "400" not in e]
    assert not unexpected, f"errors in the browser: {unexpected}"


def _verdict(page: Page) -> tuple[str, str]:
    """Wait (bounded) until the browser's proof check settles; return result and text."""
    page.wait_for_function(
        "() => document.getElementById('proof-verdict').dataset.result !== 'pending'",
        timeout=WAIT_MS,
    )
    verdict = page.locator("#proof-verdict")
    return verdict.get_attribute("data-result") or "", verdict.inner_text()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads(page: Page, base_url: str, artefacts: Path, name: str) -> None:
    response = page.goto(base_url + PAGES[name])
    assert response is not None
    expected = {"not-found": 404, "bad-moment": 400}.get(name, 200)
    assert response.status == expected
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, policy
    assert "frame-ancestors 'none'" in policy, policy
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert page.locator("html").get_attribute("lang") == ("fr" if name.endswith("-fr") else "en")
    assert page.locator("main#main").count() == 1
    assert page.locator("h1").count() == 1
    assert page.title()
    if name == "entry":
        assert _verdict(page)[0] == "verified"
    if name == "escrow":  # the chart is drawn on the server: there with no script
        assert page.locator("figure.chart svg.chart-svg").count() >= 1
    page.screenshot(path=str(artefacts / f"laptop-{name}.png"), full_page=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_readable_on_a_phone(browser: Browser, base_url: str, artefacts: Path, name: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(base_url + PAGES[name])
        if name == "entry":
            assert _verdict(page)[0] == "verified"
        # the page itself never scrolls sideways: tables become cards, long values wrap
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name} is {width}px wide on a phone"
        page.screenshot(path=str(artefacts / f"phone-{name}.png"), full_page=True)
    finally:
        context.close()


HEADLINE_PARTS = (
    ".hl-phase",
    "[data-count='overdue']",
    "[data-count='violated']",
    "[data-count='reported']",
    ".hl-deadlines",
    ".hl-breaches",
    ".hl-sanctions",
    ".hl-alerts",
)


@pytest.mark.parametrize(
    ("size", "viewport"), [("laptop", WIDE), ("phone", PHONE)], ids=["1366x768", "390px"]
)
def test_the_headline_is_above_the_fold(
    browser: Browser, base_url: str, artefacts: Path, size: str, viewport: ViewportSize
) -> None:
    context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        assert page.evaluate("window.scrollY") == 0
        for part in HEADLINE_PARTS:
            box = page.locator(f"#headline {part}").first.bounding_box()
            assert box is not None, part
            assert box["y"] >= 0
            assert box["y"] + box["height"] <= viewport["height"], f"{part} is below the fold"
            assert box["x"] + box["width"] <= viewport["width"] + 1, f"{part} is cut off"
        text = page.locator("#headline").inner_text()
        assert "Phase 2 of 5" in text
        assert "Reduction: disablement of Yongbyon" in text
        overdue = page.locator("#headline [data-count='overdue'] strong").inner_text()
        assert int(overdue) >= 1
        deadlines = page.locator("#headline .hl-deadlines li")
        assert 1 <= deadlines.count() <= 5
        assert "late" in deadlines.first.inner_text() or "left" in deadlines.first.inner_text()
        breach = page.locator("#headline .hl-breaches li[data-party='dprk']").inner_text()
        assert breach.startswith("DPRK:"), breach  # the short name
        assert "overdue" in breach
        assert "re-imposed" in page.locator("#headline .hl-sanctions").inner_text()
        assert page.locator("#headline .hl-alerts li").count() >= 1
        page.screenshot(path=str(artefacts / f"{size}-headline.png"))
    finally:
        context.close()


def test_the_headline_before_the_agreement_runs_late(page: Page, base_url: str) -> None:
    page.goto(base_url + "/?at=2027-01-10")
    upcoming = page.locator("#headline .hl-deadlines li")
    assert upcoming.count() == 5
    texts = upcoming.all_inner_texts()
    assert all("left" in t or "today" in t for t in texts), texts
    days = [int(t.split(" ")[0]) for t in texts if "left" in t]
    assert days == sorted(days)  # the nearest first
    assert page.locator("#headline [data-count='overdue'] strong").inner_text() == "0"


_LABEL_BOXES = """
(svg) => Array.from(svg.querySelectorAll("text")).map((t) => {
  const r = t.getBoundingClientRect();
  return {text: t.textContent, x: r.x, y: r.y, w: r.width, h: r.height};
})
"""


def _overlaps(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            ):
                out.append((a["text"], b["text"]))
    return out


def _check_timeline(page: Page) -> list[dict[str, Any]]:
    svg = page.locator(".timeline svg")
    frame = svg.bounding_box()
    assert frame is not None
    boxes: list[dict[str, Any]] = svg.evaluate(_LABEL_BOXES)
    assert boxes
    assert _overlaps(boxes) == []
    for b in boxes:  # nothing cut at the edges
        assert b["x"] >= frame["x"] - 0.5, b
        assert b["x"] + b["w"] <= frame["x"] + frame["width"] + 0.5, b
    return boxes


@pytest.mark.parametrize("where", ["/", "/?at=2027-01-10", KZ + "/"])
def test_timeline_labels_do_not_overlap(
    page: Page, base_url: str, artefacts: Path, where: str
) -> None:
    page.goto(base_url + where)
    boxes = _check_timeline(page)
    texts = [b["text"] for b in boxes]
    ticks = page.locator(".timeline svg text.tl-tick").all_text_contents()
    assert len(ticks) >= 3
    assert any(t.startswith(("now: ", "shown: ")) for t in texts)
    assert not any("-" in t and " " not in t and ":" not in t for t in texts), texts  # no ids
    assert page.locator("#timeline-legend").is_visible()
    assert "deadline" in page.locator("#timeline-legend").inner_text()
    if where.startswith(KZ):
        assert ticks[0] >= "1991", ticks
        assert ticks[-1] <= "2023", ticks
        assert all(len(t) == 4 for t in ticks), ticks  # whole years, none cut
        assert "Sign the Lisbon Protocol to START I" in texts
    name = where.strip("/").replace("/", "-").replace("?at=", "at-") or "dprk"
    page.locator("section[aria-labelledby='h-timeline']").screenshot(
        path=str(artefacts / f"timeline-{name}.png")
    )


def test_timeline_is_a_vertical_list_on_a_phone(
    browser: Browser, base_url: str, artefacts: Path
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(base_url + KZ + "/")
        assert not page.locator(".timeline svg").is_visible()
        listed = page.locator("ol.timeline-list")
        assert listed.is_visible()
        assert "Sign the Lisbon Protocol to START I" in listed.inner_text()
        listed.screenshot(path=str(artefacts / "phone-timeline-list.png"))
    finally:
        context.close()


def test_report_timeline_is_the_same_component(
    page: Page, kazakhstan: FrozenSource, tmp_path: Path, artefacts: Path
) -> None:
    state = kazakhstan.state(kazakhstan.now())
    report = tmp_path / "report.html"
    html = render_html(kazakhstan.roadmap, state, digest=kazakhstan.digest)
    report.write_text(html, encoding="utf-8")
    page.goto(report.as_uri())
    boxes = _check_timeline(page)
    assert "Sign the Lisbon Protocol to START I" in [b["text"] for b in boxes]
    page.screenshot(path=str(artefacts / "report-kazakhstan.png"), full_page=True)


def test_status_colours_carry_words_and_reimposed_sanctions_are_not_green(
    page: Page, base_url: str
) -> None:
    page.goto(base_url + "/")
    colour = "(e) => getComputedStyle(e).backgroundColor"
    reimposed = page.locator("tr[data-measure='unsc-tranche-1'] .badge")
    assert "re-imposed" in reimposed.inner_text()
    verified = page.locator("tr[data-step='yongbyon-freeze'] .badge")
    assert reimposed.evaluate(colour) != verified.evaluate(colour)
    red, green, _blue = (int(c) for c in reimposed.evaluate(colour)[4:-1].split(","))
    assert red > green  # not green
    for badge in page.locator("main .badge").all()[:60]:  # words beside every colour
        assert badge.inner_text().strip().split(" ", 1)[-1].strip(), "a badge without words"


def test_the_overview_prints_as_an_a4_brief(
    page: Page, base_url: str, source: FrozenSource, artefacts: Path
) -> None:
    page.goto(base_url + "/")
    page.emulate_media(media="print")
    assert not page.locator("header.site nav").is_visible()
    assert not page.locator("form.when").is_visible()
    stamp = page.locator(".print-stamp")
    assert stamp.is_visible()
    text = stamp.inner_text()
    assert "the state on 2027-10-31" in text
    cp = source.checkpoint()
    assert cp is not None
    size = cp.decode().split("\n")[1]
    assert f"checkpoint covers {size} entries" in text
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    (artefacts / "overview-brief.pdf").write_bytes(pdf)


@pytest.mark.parametrize("where", ["/reference", "/steps/yongbyon-freeze"])
def test_sources_are_footnotes_on_screen_and_paper(page: Page, base_url: str, where: str) -> None:
    page.goto(base_url + where)
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        notes = page.locator(".footnotes ol.sources li")
        assert notes.count() >= 1
        assert notes.first.is_visible()
        first = page.locator("sup.fn-ref a").first
        assert first.is_visible()
        target = first.get_attribute("href")
        assert target is not None
        assert page.locator(target).count() == 1


def test_follow_a_step_to_its_events_and_a_proof(
    page: Page, base_url: str, artefacts: Path, source: FrozenSource
) -> None:
    page.goto(base_url + "/")
    page.locator("tr[data-step='yongbyon-freeze']").get_by_role("link", name=FREEZE).click()
    page.wait_for_url("**/steps/yongbyon-freeze")
    assert "verified" in page.locator("p.status-line").inner_text()
    events = page.locator("section[aria-labelledby='h-events'] tbody a[aria-label^='Ledger entry']")
    verified_by = source.state(source.now()).steps["yongbyon-freeze"].events[-1]
    assert events.count() >= 2
    page.get_by_role("link", name=f"Ledger entry {verified_by}", exact=True).click()
    page.wait_for_url(f"**/ledger/{verified_by}")
    result, text = _verdict(page)
    assert result == "verified", text
    assert "verified by your browser" in text
    assert f"entry {verified_by} is in the log's signed tree of 50 entries" in text
    assert "2 witnesses cosigned it (2 needed)" in text
    steps = page.locator("#proof-steps li").all_inner_texts()
    assert steps[0].startswith("leaf hash = SHA-256(0x00 ‖ entry of")
    assert any("SHA-256(0x01 ‖" in s for s in steps)
    assert any("computed root = checkpoint root" in s for s in steps)
    assert any("the log's Ed25519 signature on the checkpoint is valid" in s for s in steps)
    assert sum("cosignature valid" in s for s in steps) == 2
    assert any("witness.se.example: no cosignature" in s for s in steps)
    page.screenshot(path=str(artefacts / "proof-verified.png"), full_page=True)


def _flip(text: str) -> str:
    """Change one base64 character (keeping the encoding valid)."""
    return ("B" if text[0] == "A" else "A") + text[1:]


def _tamper_path(doc: dict[str, object]) -> None:
    inclusion = doc["inclusion"]
    assert isinstance(inclusion, dict)
    inclusion["proof"][0] = _flip(inclusion["proof"][0])


def _tamper_entry(doc: dict[str, object]) -> None:
    entry = doc["entry"]
    assert isinstance(entry, str)
    doc["entry"] = entry[:40] + ("A" if entry[40] != "A" else "B") + entry[41:]


def _tamper_log_signature(doc: dict[str, object]) -> None:
    note = doc["checkpoint"]
    assert isinstance(note, str)
    text, _, signatures = note.rpartition("\n\n")
    first, *rest = signatures.split("\n")
    name, _, blob = first.rpartition(" ")
    doc["checkpoint"] = text + "\n\n" + "\n".join([f"{name} {blob[:20]}{_flip(blob[20:])}", *rest])


def _drop_a_cosignature(doc: dict[str, object]) -> None:
    note = doc["checkpoint"]
    assert isinstance(note, str)
    doc["checkpoint"] = "\n".join(
        line for line in note.split("\n") if not line.startswith("\u2014 witness.kz.example ")
    )


def _tamper_root(doc: dict[str, object]) -> None:
    note = doc["checkpoint"]
    assert isinstance(note, str)
    origin, size, root, rest = note.split("\n", 3)
    doc["checkpoint"] = "\n".join([origin, size, _flip(root), rest])


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_tamper_path, "is not the checkpoint's root"),
        (_tamper_entry, "is not the checkpoint's root"),
        (_tamper_root, "is not the checkpoint's root"),
        (_tamper_log_signature, "the log's Ed25519 signature on the checkpoint is invalid"),
        (_drop_a_cosignature, "1 of 2 required witnesses cosigned the checkpoint"),
    ],
    ids=["path", "entry", "root", "log-signature", "cosignature"],
)
def test_a_tampered_proof_fails(
    page: Page,
    base_url: str,
    artefacts: Path,
    tamper: Callable[[dict[str, object]], None],
    reason: str,
) -> None:
    def serve_tampered(route: Route) -> None:
        response = route.fetch()
        doc = response.json()
        tamper(doc)
        route.fulfill(response=response, body=json.dumps(doc))

    page.route("**/ledger/*/proof.json*", serve_tampered)  # the query names the language
    page.goto(base_url + "/ledger/7")
    result, text = _verdict(page)
    assert result == "failed", text
    assert "FAILED" in text
    assert reason in text
    assert page.locator("#proof-steps li.bad").count() == 1
    name = tamper.__name__.strip("_").replace("_", "-")
    page.screenshot(path=str(artefacts / f"proof-tampered-{name}.png"), full_page=True)


def test_the_proof_check_in_french(
    page: Page, base_url: str, artefacts: Path, source: FrozenSource
) -> None:
    """On a French page the browser's check writes its verdict and every step in French."""
    verified_by = source.state(source.now()).steps["yongbyon-freeze"].events[-1]
    page.goto(f"{base_url}/ledger/{verified_by}?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    result, text = _verdict(page)
    assert result == "verified", text
    assert text.startswith("Preuve vérifiée par votre navigateur : ")
    assert f"l'entrée {verified_by} figure dans l'arbre signé du journal, de 50 entrées" in text
    assert "témoins ayant cosigné : 2 (2 requis)" in text
    steps = page.locator("#proof-steps li").all_inner_texts()
    assert steps[0].startswith("hachage de la feuille = SHA-256(0x00 ‖ entrée de ")
    assert any("est le nœud frère de" in s for s in steps)
    assert any(s.startswith("racine calculée = racine du point de contrôle") for s in steps)
    assert any(
        "la signature Ed25519 du journal sur le point de contrôle est valide" in s for s in steps
    )
    assert sum("cosignature valide" in s for s in steps) == 2
    assert "témoin witness.se.example : aucune cosignature" in steps
    english = (" the ", " is ", "verified", "valid (", "sibling", "no cosignature")
    assert [s for s in [text, *steps] if any(w in s for w in english)] == []
    page.screenshot(path=str(artefacts / "proof-verified-fr.png"), full_page=True)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_tamper_root, "n'est pas celle du point de contrôle"),
        (_drop_a_cosignature, "témoins requis ayant cosigné le point de contrôle : 1 sur 2"),
    ],
    ids=["root", "cosignature"],
)
def test_a_tampered_proof_fails_in_french(
    page: Page,
    base_url: str,
    artefacts: Path,
    tamper: Callable[[dict[str, object]], None],
    reason: str,
) -> None:
    def serve_tampered(route: Route) -> None:
        response = route.fetch()
        doc = response.json()
        tamper(doc)
        route.fulfill(response=response, body=json.dumps(doc))

    page.route("**/ledger/*/proof.json*", serve_tampered)
    page.goto(base_url + "/ledger/7?lang=fr")
    result, text = _verdict(page)
    assert result == "failed", text
    assert text.startswith("ÉCHEC de la vérification de la preuve : ")
    assert reason in text
    assert page.locator("#proof-steps li.bad").inner_text() in text
    name = tamper.__name__.strip("_").replace("_", "-")
    page.screenshot(path=str(artefacts / f"proof-tampered-{name}-fr.png"), full_page=True)


def test_mounted_under_a_prefix(page: Page, base_url: str) -> None:
    page.goto(base_url + PREFIX + "/")
    page.get_by_role("link", name="Ledger", exact=True).click()
    page.wait_for_url(f"**{PREFIX}/ledger")
    page.get_by_role("link", name="Ledger entry 3", exact=True).click()
    page.wait_for_url(f"**{PREFIX}/ledger/3")
    assert _verdict(page)[0] == "verified"


def test_with_javascript_off(browser: Browser, base_url: str, artefacts: Path) -> None:
    context = browser.new_context(viewport=LAPTOP, java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        row = page.locator("tr[data-step='yongbyon-freeze']")
        assert "verified" in row.inner_text()
        assert "overdue" in page.locator("tr[data-step='disable-5mwe']").inner_text()
        assert "re-imposed" in page.locator("tr[data-measure='unsc-tranche-1']").inner_text()
        page.screenshot(path=str(artefacts / "nojs-overview.png"), full_page=True)
        # the time control is a plain form
        page.get_by_label("Show the state at").fill("2027-01-10")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/?at=2027-01-10")
        assert "open" in page.locator("tr[data-step='yongbyon-freeze']").inner_text()
        page.locator("tr[data-step='yongbyon-freeze']").get_by_role("link", name=FREEZE).click()
        page.wait_for_url("**/steps/yongbyon-freeze?at=2027-01-10")
        assert "open" in page.locator("p.status-line").inner_text()
        page.goto(base_url + "/steps/yongbyon-freeze")
        assert "verified" in page.locator("p.status-line").inner_text()
        page.screenshot(path=str(artefacts / "nojs-step.png"), full_page=True)
        page.goto(base_url + "/ledger/7")
        assert "JavaScript is off" in page.locator("#proof").inner_text()
        assert page.locator("#proof-verdict").get_attribute("data-result") == "pending"
        page.goto(base_url + "/escrow")
        assert "50.0 %" in page.locator("table[data-series='dprk-declaration']").inner_text()
    finally:
        context.close()


def test_simulation_charts_are_drawn_on_the_server(
    page: Page, base_url: str, artefacts: Path
) -> None:
    page.goto(base_url + PREFIX + "/simulation")
    page.get_by_label("Runs").fill("50")
    page.get_by_label("Seed").fill("3")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/simulation?scenario=dprk-phased-hide&runs=50&seed=3")
    assert page.locator("h1").inner_text() == "Simulation"
    assert "Results of 50 runs with seed 3" in page.locator("#h-results").inner_text()
    assert page.locator("#sim-summary tr[data-measure='detected'] td").inner_text().endswith("%")
    for div_id in ("completion", "detection", "undetected", "trajectories"):
        chart = page.locator(f"figure#figure-{div_id} svg.chart-svg")
        assert chart.is_visible()
        boxes = chart.evaluate(_LABEL_BOXES)
        assert _overlaps(boxes) == [], div_id  # axis labels never collide
    assert page.locator("script").count() == 0  # no chart library, no script at all
    assert page.locator("table svg").count() == 0  # the tables stay tables
    detection = page.locator("figure#figure-detection").inner_text()
    assert "before the phase starts" in detection
    assert page.locator("#sim-undetected tbody tr").count() == 11
    # the scenario keeps 3 items back from the outset: the series starts there, not at 0
    first = page.locator("#sim-undetected tbody tr").first.locator("td")
    assert (first.nth(0).inner_text(), first.nth(1).inner_text()) == ("0", "3.00")
    for field in ("scenario", "runs", "seed"):  # each label on the line of its input
        label = page.locator(f"label[for='{field}']").bounding_box()
        control = page.locator(f"#{field}").bounding_box()
        assert label is not None
        assert control is not None
        middle = label["y"] + label["height"] / 2
        assert control["y"] <= middle <= control["y"] + control["height"], field
    footer = page.locator("footer.site").inner_text()
    assert "reads no log" in footer
    assert "signed, append-only log alone" not in footer  # this page does not read it
    page.screenshot(path=str(artefacts / "laptop-simulation-run.png"), full_page=True)


def test_keyboard_skip_link(page: Page, base_url: str) -> None:
    page.goto(base_url + "/ledger")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_api_docs_render_offline_under_the_policy(
    page: Page, base_url: str, artefacts: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    response = page.goto(base_url + "/api/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    page.wait_for_selector(".swagger-ui .info .title", timeout=WAIT_MS)
    assert "cvid dashboard under test" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.title() == DOCS_TITLE
    page.wait_for_selector('.opblock-summary-path[data-path="/api/v1/sample"]', timeout=WAIT_MS)
    outside = [url for url in requested if not url.startswith(base_url)]
    assert not outside, f"the docs page fetched from elsewhere: {outside}"
    page.screenshot(path=str(artefacts / "laptop-api-docs.png"), full_page=True)


def test_the_language_switch_changes_the_page(
    browser: Browser, base_url: str, artefacts: Path
) -> None:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        assert page.locator("#h-timeline").inner_text() == "Phase timeline"
        page.get_by_role("link", name="Français").click()
        page.wait_for_url("**/?lang=fr")
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator("#h-timeline").inner_text() == "Chronologie des phases"
        assert "Prochaines échéances" in page.locator("#headline").inner_text()
        page.screenshot(path=str(artefacts / "laptop-overview-fr.png"))
        # the choice is remembered (a cookie) as the reader moves on
        # the road map's own French titles, as its translations give them
        page.locator("tr[data-step='yongbyon-freeze']").get_by_role("link", name=FREEZE_FR).click()
        page.wait_for_url("**/steps/yongbyon-freeze")
        assert page.locator("#h-events").inner_text() == "Les événements qui l'attestent"
        assert page.locator("h1").inner_text().startswith(FREEZE_FR)
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/steps/yongbyon-freeze?lang=en")
        assert page.locator("#h-events").inner_text() == "The events that prove it"
        assert page.locator("h1").inner_text().startswith(FREEZE)
    finally:
        context.close()
    # a browser that asks for French gets French
    french = browser.new_context(viewport=LAPTOP, locale="fr-FR")
    try:
        page = french.new_page()
        page.goto(base_url + "/")
        assert page.locator("html").get_attribute("lang") == "fr"
    finally:
        french.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run scripts/provision.sh (it installs axe-core from the "
            "npm registry into a test cache); the accessibility tests never skip"
        )
    return AXE.read_text(encoding="utf-8")


AXE_PAGES = {**PAGES, "simulation-run": "/simulation?runs=50&seed=3", "overview-fr": "/?lang=fr"}


@pytest.mark.parametrize("name", list(AXE_PAGES))
@pytest.mark.parametrize(("size", "viewport"), [("laptop", WIDE), ("phone", PHONE)])
def test_no_serious_accessibility_violations(
    browser: Browser,
    base_url: str,
    axe_source: str,
    name: str,
    size: str,
    viewport: ViewportSize,
) -> None:
    context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(base_url + AXE_PAGES[name])
        # injected through the browser's debugging protocol: the page's CSP stays as it is
        page.evaluate(axe_source)
        violations = page.evaluate(_AXE_RUN)
        assert violations == [], f"{name} at {size}: {violations}"
    finally:
        context.close()
