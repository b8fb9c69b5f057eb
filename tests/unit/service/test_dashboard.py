"""The dashboard over HTTP (no browser): every page, links, errors, escaping, [U] marks."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from cvid.log import merkle
from cvid.log.checkpoint import Checkpoint
from cvid.log.note import Note
from cvid.log.proof import InclusionProof
from cvid.reference import cica, zones
from cvid.reference._facts import Fact
from cvid.service import dashboard
from cvid.service.app import FrozenSource
from cvid.service.dashboard import PROOF_TEXT, dashboard_router, parse_at
from tests.service_support import build_agreement, day

PREFIX = "/examples/second"
PAGES = (
    "/",
    "/?at=2027-01-10",
    "/steps/yongbyon-freeze",
    "/steps/disable-5mwe?at=2027-02-01T12:00:00Z",
    "/parties/dprk",
    "/parties/iaea?at=2027-01-20",
    "/ledger",
    "/ledger?start=40",
    "/ledger/0",
    "/ledger/20",
    "/ledger/50",
    "/escrow",
    "/escrow?at=2027-02-10",
    "/reference",
)


class Client:
    """A synchronous client for an ASGI app, over httpx's ASGI transport."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://cvid.test") as c:
                return await c.get(path)

        return asyncio.run(go())


def make_app(source: FrozenSource) -> FastAPI:
    app = FastAPI()
    app.include_router(dashboard_router(source))
    app.include_router(dashboard_router(source), prefix=PREFIX)
    return app


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_agreement(tmp_path_factory.mktemp("dashboard") / "agreement")
    yield built
    built.agreement.close()


@pytest.fixture(scope="module")
def client(source: FrozenSource) -> Client:
    return Client(make_app(source))


class Page(HTMLParser):
    """The parts of a page the tests look at: links, elements with attributes, text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        for name in ("href", "src"):
            if name in attributes:
                self.links.append(attributes[name])

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def rows(html: str, attribute: str) -> dict[str, str]:
    """The text of each ``<tr data-<attribute>="id">`` row, by id."""
    found = {}
    for match in re.finditer(rf'<tr data-{attribute}="([^"]+)">(.*?)</tr>', html, re.S):
        found[match[1]] = re.sub(r"<[^>]+>", " ", match[2])
    return found


# --- pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", PREFIX])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders(client: Client, prefix: str, path: str) -> None:
    response = client.get(prefix + path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert '<a class="skip" href="#main">' in html
    assert html.count('<main id="main"') == 1
    assert 'href="' in html
    assert "simulation" in html


@pytest.mark.parametrize("prefix", ["", PREFIX])
def test_every_link_resolves_under_its_mount(client: Client, prefix: str) -> None:
    seen: set[str] = set()
    for path in PAGES:
        url = f"http://cvid.test{prefix}{path}"
        for link in Page(client.get(prefix + path).text).links:
            target = urljoin(url, link)
            parts = urlsplit(target)
            if link.startswith("#"):
                continue
            assert parts.netloc == "cvid.test", f"{link} on {path} leaves the site"
            assert parts.path.startswith(prefix + "/"), f"{link} on {path} leaves {prefix or '/'}"
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local in seen:
                continue
            seen.add(local)
            response = client.get(local)
            assert response.status_code == 200, (
                f"{link} on {path} -> {local}: {response.status_code}"
            )
    assert len(seen) > 40


def test_overview_shows_the_state_without_script(client: Client, source: FrozenSource) -> None:
    html = client.get("/").text
    state = source.state(source.now())
    steps = rows(html, "step")
    assert set(steps) == set(state.steps)
    for sid, st in state.steps.items():
        assert st.status in steps[sid], sid
    assert "overdue" in steps["disable-5mwe"]
    measures = rows(html, "measure")
    # re-imposed by disablement-missed: not the green of good news
    assert "re-imposed" in measures["unsc-tranche-1"]
    assert re.search(r'data-measure="unsc-tranche-1">.*?status-sanction-reimposed', html)
    assert re.search(r'data-measure="unsc-tranche-2">.*?status-sanction-in-force', html)
    guarantees = rows(html, "guarantee")
    assert "suspended" in guarantees["g-nsa"]
    # the alert names the rule by its title, not its id
    assert "assurance suspended opens a Council procedure" in html
    assert "disablement-missed opens" not in html
    assert "<svg" in html
    assert "Timeline of the steps" in html
    assert "<script" not in html  # the overview needs no script at all


def test_time_travel(client: Client) -> None:
    early = client.get("/?at=2027-01-10").text
    assert "open" in rows(early, "step")["yongbyon-freeze"]
    assert "in force" in rows(early, "measure")["unsc-tranche-1"]
    later = client.get("/?at=2027-03-01T00:00:00Z").text
    assert "verified" in rows(later, "step")["yongbyon-freeze"]
    assert "suspended" in rows(later, "measure")["unsc-tranche-1"]  # tranche 1 relief
    # links keep the moment, so a step opened from the past shows the past
    assert 'href="./steps/yongbyon-freeze?at=2027-03-01T00%3A00%3A00Z"' in later
    step = client.get("/steps/yongbyon-freeze?at=2027-01-10").text
    assert re.search(r'data-step="yongbyon-freeze">Status on 2027-01-10: .*open', step)


def test_step_page_links_its_events(client: Client, source: FrozenSource) -> None:
    html = client.get("/steps/yongbyon-freeze").text
    st = source.state(source.now()).steps["yongbyon-freeze"]
    assert st.events
    for index in st.events:
        assert f'href="../ledger/{index}"' in html
    assert "International Atomic Energy Agency" in html  # verified by
    assert "first relief tranche" in html  # in return for
    assert "Democratic People&#39;s Republic of Korea" in html  # owed by


def test_step_page_says_what_follows_lateness(client: Client) -> None:
    html = client.get("/steps/disable-5mwe").text
    assert "If it is late" in html
    assert "Disablement overdue by 30 days" in html
    assert "30 days of grace" in html


def test_party_page(client: Client, source: FrozenSource) -> None:
    html = client.get("/parties/iaea").text
    assert "Steps it verifies" in html
    signed = [e.index for e in source.events() if e.party == "iaea"]
    for index in signed:
        assert f'href="../ledger/{index}"' in html
    assert client.get("/parties/usa").text.count("Negative security assurance") >= 1


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/steps/no-such-step",
        "/parties/nobody",
        "/ledger/999",
        "/ledger/abc",
        "/ledger/-1",
        "/ledger/007",
        "/static/nothing.js",
        "/static/..dashboard.css",
        f"{PREFIX}/steps/no-such-step",
    ],
)
def test_unknown_ids_are_404_pages(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in response.text
    assert "Go to the overview" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/?at=yesterday",
        "/?at=2027-13-01",
        "/?at=2027-02-01T10:00:00",
        "/?at=2027-02-01T25:00:00Z",
        "/?at=20270201",
        "/steps/yongbyon-freeze?at=soon",
        "/parties/dprk?at=1.5",
        "/escrow?at=2027-02-30",
        "/ledger?start=x",
    ],
)
def test_bad_moments_are_400_pages(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Go to the overview" in response.text


def test_unknown_step_is_404_even_with_a_bad_moment(client: Client) -> None:
    assert client.get("/steps/nope?at=bad").status_code == 404


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-02-01", "2027-02-01T00:00:00+00:00"),
        ("2027-02-01T12:30:00Z", "2027-02-01T12:30:00+00:00"),
        ("2027-02-01t12:30:00z", "2027-02-01T12:30:00+00:00"),
        ("2027-02-01T12:30:00+02:00", "2027-02-01T10:30:00+00:00"),
        (" 2027-02-01 ", "2027-02-01T00:00:00+00:00"),
    ],
)
def test_parse_at(text: str, expected: str) -> None:
    when, carried = parse_at(text, day(0))
    assert when.isoformat() == expected
    assert carried == text.strip()


def test_parse_at_defaults_to_the_clock() -> None:
    assert parse_at(None, day(3)) == (day(3), None)
    assert parse_at("", day(3)) == (day(3), None)


# --- ledger and proofs ------------------------------------------------------------------


def test_ledger_shows_checkpoint_and_cosignatures(client: Client) -> None:
    html = client.get("/ledger").text
    assert "Tree size</dt><dd>50 entries (1 newer entry awaits the next checkpoint)" in html
    assert "2 of 2 required witnesses cosigned" in html
    assert "<strong>final</strong>" in html
    witnesses = re.findall(
        r"<tr><td><code>(witness\.[a-z]+\.example)</code></td><td>(.*?)</td>", html
    )
    verdicts = {name: re.sub(r"<[^>]+>", "", cell) for name, cell in witnesses}
    assert "valid" in verdicts["witness.kz.example"]
    assert "valid" in verdicts["witness.ch.example"]
    assert "missing" in verdicts["witness.se.example"]
    assert "Log signature</dt><dd>valid" in html


def test_proof_json_is_what_a_verifier_needs(client: Client, source: FrozenSource) -> None:
    doc = client.get("/ledger/7/proof.json").json()
    assert set(doc) == {"leaf_index", "entry", "checkpoint", "log_key", "witnesses", "inclusion"}
    entry = base64.b64decode(doc["entry"])
    assert entry == source.entry(7)
    proof = InclusionProof.from_dict(doc["inclusion"])
    assert proof.leaf_hash == merkle.leaf_hash(entry)
    checkpoint = Checkpoint.from_text(Note.from_bytes(doc["checkpoint"].encode()).text)
    assert proof.root_hash == checkpoint.root_hash
    assert proof.tree_size == checkpoint.tree_size == 50
    proof.verify()
    assert doc["witnesses"]["threshold"] == 2
    assert len(doc["witnesses"]["keys"]) == 3
    assert doc["log_key"] == source.log_key


@pytest.mark.parametrize(
    ("index", "detail"),
    [("50", "newer than the latest checkpoint"), ("51", "no entry"), ("x", "no entry")],
)
def test_proof_json_errors(client: Client, index: str, detail: str) -> None:
    response = client.get(f"/ledger/{index}/proof.json")
    assert response.status_code == 404
    assert detail in response.json()["detail"]


def test_entry_page_lists_the_proof_for_readers_without_script(
    client: Client, source: FrozenSource
) -> None:
    html = client.get("/ledger/7").text
    proof = source.inclusion_proof(7, 50)
    for step in proof.proof:
        assert step.hex() in html
    assert proof.root_hash.hex() in html
    assert "<noscript>" in html
    # the proof's refusals come in the page's language; so does what the script writes
    assert 'data-proof-url="../ledger/7/proof.json?lang=en"' in html
    assert 'src="../static/proof.js"' in html
    (section,) = Page(html).find("section", id="proof")
    text = json.loads(section["data-text"])
    assert text["failed"] == "Proof check FAILED: %(reason)s"
    french = Page(client.get("/ledger/7?lang=fr").text)
    (section,) = french.find("section", id="proof")
    assert section["data-proof-url"] == "../ledger/7/proof.json?lang=fr"
    text = json.loads(section["data-text"])
    assert text["failed"] == "ÉCHEC de la vérification de la preuve : %(reason)s"
    assert set(text) == set(PROOF_TEXT)
    assert all(value != PROOF_TEXT[key] for key, value in text.items())


def test_entry_after_the_checkpoint_says_so(client: Client) -> None:
    html = client.get("/ledger/50").text
    assert "newer than the latest checkpoint (tree size 50)" in html
    assert "static/proof.js" not in html


# --- escrow -----------------------------------------------------------------------------


def test_escrow_page_reads_without_script(client: Client) -> None:
    html = client.get("/escrow").text
    assert "yongbyon, sohae" in html  # revealed
    assert "region-1, region-2, region-3" in html  # still escrowed
    assert "50.0 %" in html  # confidence now
    # beside the figure, in words, the prior it depends on (the road map's: uniform, 0 to 5)
    assert (
        '50.0 %</strong>, <span class="prior" data-prior="dprk-declaration">assuming the '
        "road map&#39;s prior: any number of falsified cells from 0 to 5, each equally likely"
    ) in html
    series = re.search(r'<table data-series="dprk-declaration">(.*?)</table>', html, re.S)
    assert series is not None
    assert series[1].count("<tr>") >= 3  # committed, revealed, inspected (and now)
    assert "Findings reported" in html
    # the chart is SVG drawn on the server: no script, no chart library
    chart = re.search(r'<figure class="chart" id="chart-dprk-declaration".*?</figure>', html, re.S)
    assert chart is not None
    assert "<svg" in chart[0]
    assert ">100 %<" in chart[0]  # the axis in percent
    assert "<script" not in html


def test_no_page_loads_anything_from_elsewhere(client: Client) -> None:
    assert client.get("/static/plotly.min.js").status_code == 404  # no chart library
    for path in PAGES:
        for link in Page(client.get(path).text).links:
            assert "//" not in link, f"{path} loads {link} from elsewhere"


# --- reference and [U] marks ------------------------------------------------------------


class FactSpans(HTMLParser):
    """Each ``<span class="fact">``: its confidence and its whole text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.spans: list[tuple[str, str]] = []
        self._open: list[list[Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for item in self._open:
            item[2] += 1 if tag == "span" else 0
        if tag == "span" and a.get("class") == "fact":
            self._open.append([a.get("data-confidence"), "", 0])

    def handle_endtag(self, tag: str) -> None:
        if tag != "span" or not self._open:
            return
        if self._open[-1][2] == 0:
            confidence, text, _ = self._open.pop()
            self.spans.append((confidence, " ".join(text.split())))
        else:
            self._open[-1][2] -= 1

    def handle_data(self, data: str) -> None:
        for item in self._open:
            item[1] += data


def unmarked(html: str, values: set[str]) -> list[str]:
    """Each occurrence of an unconfirmed value in the page's text not followed by [U]."""
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    text = text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    bad = []
    for value in values:
        for match in re.finditer(re.escape(value), text):
            if not text[match.end() :].startswith(" [U]"):
                bad.append(text[max(0, match.start() - 40) : match.end() + 10])
    return bad


def _sentinels(value: Any, counter: list[int]) -> Any:
    """``value`` with every unconfirmed fact's value replaced by a unique marker word."""
    if isinstance(value, Fact):
        if value.unconfirmed:
            counter[0] += 1
            return dataclasses.replace(value, value=f"unconfirmedvalue{counter[0]:03d}")
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _sentinels(getattr(value, f.name), counter) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_sentinels(v, counter) for v in value)
    return value


def test_every_unconfirmed_fact_carries_its_mark(client: Client) -> None:
    html = client.get("/reference").text
    spans = FactSpans(html).spans
    u_facts = [f for z in zones() for f in z.all_facts() if f.unconfirmed]
    u_facts += [f for f in cica().all_facts() if f.unconfirmed]
    assert u_facts, "the reference data has unconfirmed facts to show"
    marked = [text for confidence, text in spans if confidence == "U"]
    assert len(marked) >= len(u_facts)
    for text in marked:
        assert text.endswith("[U]"), text
    for confidence, text in spans:
        if confidence != "U":
            assert "[U]" not in text, text


def test_no_unconfirmed_value_is_rendered_without_its_mark(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = [0]
    patched_zones = _sentinels(zones(), counter)
    patched_cica = _sentinels(cica(), counter)
    monkeypatch.setattr(dashboard, "zones", lambda: patched_zones)
    monkeypatch.setattr(dashboard, "cica", lambda: patched_cica)
    html = client.get("/reference").text
    values = {f"unconfirmedvalue{n:03d}" for n in range(1, counter[0] + 1)}
    assert counter[0] > 5
    for value in values:
        assert value in html, f"{value} is not shown"
    assert unmarked(html, values) == []
    # the check finds a value shown without its mark
    doctored = html.replace("unconfirmedvalue001 <abbr", "unconfirmedvalue001 <b", 1)
    doctored = re.sub(r"(unconfirmedvalue001 <b[^>]*>)\[U\]", r"\1", doctored, count=1)
    assert unmarked(doctored, values)


def test_reference_shows_both_tables(client: Client) -> None:
    html = client.get("/reference").text
    for zone in zones():
        assert f'id="zone-{zone.id}"' in html
    assert "Membership over time" in html
    assert "Catalogue of confidence-building measures" in html


# --- escaping ---------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    source = build_agreement(tmp_path / "agreement", draft_title=HOSTILE)
    try:
        client = Client(make_app(source))
        overview = client.get("/").text
        assert "<script>alert" not in overview
        assert "<img src=x" not in overview
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;" in overview
        tabled = next(e.index for e in source.events() if e.type == "council.draft.tabled")
        entry = client.get(f"/ledger/{tabled}").text
        assert "<script>alert" not in entry
        assert "&lt;script&gt;alert" in entry
        ledger = client.get("/ledger").text
        assert "<script>alert" not in ledger
    finally:
        source.agreement.close()


def test_hostile_query_is_escaped_in_the_error(client: Client) -> None:
    response = client.get("/?at=%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)" in response.text


# --- accessibility basics ---------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_landmarks_labels_and_tables(client: Client, path: str) -> None:
    html = client.get(path).text
    page = Page(html)
    assert page.links[1] == "#main" or page.find("a", **{"class": "skip"})[0]["href"] == "#main"
    assert page.find("nav", aria_label="Dashboard")
    assert len(page.find("header")) >= 1
    assert len(page.find("footer")) >= 1
    assert len(page.find("h1")) == 1
    labels = {a.get("for") for t, a in page.elements if t == "label"}
    for tag, attrs in page.elements:
        if tag == "input":
            assert attrs.get("id") in labels, f"an input on {path} has no label"
        if tag == "th" and "scope" not in attrs:
            pytest.fail(f"a header cell on {path} has no scope")
    current = page.find("a", aria_current="page")
    assert len(current) <= 1
