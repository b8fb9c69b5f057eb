"""A log one party filled with 20,000 events: every dashboard page and every API list
stays small, and paging through (dashboard links or API cursors) returns every event
exactly once, in log order. A bad cursor is a 400, never a 500."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid import agreement as ag
from cvid._when import parse_when
from cvid.report import state_to_dict
from cvid.service.api import api_router
from cvid.service.app import create_app
from cvid.service.core import Service
from cvid.service.dashboard import _Dashboard, dashboard_router
from tests.live import serving
from tests.service_support import build_agreement
from tests.signed import adopted_yesterday, tablings

FLOOD = 20_000
BOUND = 1 << 20  # bytes: no page or list may be larger
_NEXT = re.compile(r'<a href="([^"]*)" rel="next">')
_ROW = re.compile(r'aria-label="Ledger entry (\d+)"')


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A served agreement whose log holds 20,000 drafts tabled by one party (appended
    in bulk, then re-admitted entry by entry when the service opens it)."""
    directory = tmp_path_factory.mktemp("flood") / "ag"
    made = adopted_yesterday(directory)
    before = made.log.size()
    entries = tablings(made, "usa", FLOOD, tag="flood")
    made.log.append(entries, expected_size=before)
    made.close()
    service = Service(ag.Agreement.open(directory))
    assert service.size == before + FLOOD
    with serving(create_app(service, examples={})) as url:
        yield url, service.size


@pytest.fixture(scope="module")
def client(flooded: tuple[str, int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flooded[0], timeout=120.0) as c:
        yield c


PAGES = [
    "/",
    "/ledger",
    "/ledger?limit=500",
    "/ledger?party=usa&type=council.draft.tabled&q=flood-1999",
    "/parties/usa",
    "/parties/usa?limit=500",
    "/parties/dprk",
    "/steps/yongbyon-freeze",
    "/escrow",
    "/ledger/100",
    "/api/v1/entries?limit=1000",
    "/api/v1/entries?party=usa&limit=1000",
    "/api/v1/entries?type=council.draft.tabled&since=2000-01-01&limit=1000",
    "/api/v1/state",
    "/api/v1/state?drafts=1000",
    "/api/v1/state?keep=1000",
    "/api/v1/state/list?path=/drafts&limit=1000",
    "/api/v1/drafts?limit=1000",
    "/api/v1/escrow",
    "/api/v1/escrow?keep=1000",
    "/api/v1/monitoring",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_list_stays_small(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text[:500]
    assert len(answer.content) < BOUND, f"{path}: {len(answer.content)} bytes"


def test_the_api_pages_through_every_entry_once_in_order(
    client: httpx.Client, flooded: tuple[str, int]
) -> None:
    _, size = flooded
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 1000}
    for _ in range(size):
        page = client.get("/api/v1/entries", params=params).json()
        seen += [e["index"] for e in page["entries"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 1000, "cursor": page["next_cursor"]}
    assert seen == list(range(size))

    # filtered by party and type, backwards from the newest page: the same drafts
    params = {"party": "usa", "type": "council.draft.tabled", "limit": 1000}
    first = client.get("/api/v1/entries", params=params).json()
    drafts = [e for e in first["entries"] if e["event"]["type"] == "council.draft.tabled"]
    assert {e["event"]["party"] for e in drafts} == {"usa"}
    assert len(drafts) == len(first["entries"])


def test_the_state_keeps_the_newest_drafts_and_pages_through_all(
    client: httpx.Client, flooded: tuple[str, int]
) -> None:
    last = client.get(f"/api/v1/entries/{flooded[1] - 1}").json()["event"]["body"]["draft"]
    state = client.get("/api/v1/state").json()
    total = state["drafts_total"]
    assert total >= FLOOD
    assert list(state["drafts"])[-1] == last  # the newest, in tabling order
    assert len(state["drafts"]) == 100
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 1000}
    for _ in range(total):
        page = client.get("/api/v1/drafts", params=params).json()
        seen += list(page["drafts"])
        if page["next_cursor"] is None:
            break
        params = {"limit": 1000, "cursor": page["next_cursor"]}
    assert len(seen) == total
    assert len(set(seen)) == total
    assert seen[-100:] == list(state["drafts"])


def test_the_dashboard_pages_through_a_party_once_in_order(
    client: httpx.Client, flooded: tuple[str, int]
) -> None:
    _, size = flooded
    url: str | None = "/parties/usa?limit=500"
    seen: list[int] = []
    while url is not None:
        answer = client.get(url)
        assert answer.status_code == 200
        seen += [int(i) for i in _ROW.findall(answer.text)]
        found = _NEXT.search(answer.text)
        url = "/parties/" + unescape(found.group(1)).removeprefix("../parties/") if found else None
    assert seen == sorted(set(seen))
    assert len(seen) >= FLOOD  # every draft, and the party's own earlier events
    assert seen[-1] == size - 1


def test_a_text_search_finds_one_draft(client: httpx.Client) -> None:
    answer = client.get("/ledger", params={"q": "flood-12345", "type": "council.draft.tabled"})
    assert answer.status_code == 200
    assert len(_ROW.findall(answer.text)) == 1


@pytest.mark.parametrize(
    "cursor", ["x", "eyJ2IjoxLCJhdCI6OTk5OTk5OTk5fQ", "eyJ2IjoxfQ", "%00", "A" * 300]
)
def test_a_bad_cursor_is_a_400_problem(client: httpx.Client, cursor: str) -> None:
    api = client.get("/api/v1/entries", params={"cursor": cursor})
    assert api.status_code == 400
    assert api.headers["content-type"] == "application/problem+json"
    page = client.get("/ledger", params={"cursor": cursor})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/entries", {"limit": "5000"}),
        ("/api/v1/entries", {"since": "yesterday"}),
        ("/api/v1/entries", {"cursor": "eyJ2IjoxLCJhdCI6MX0", "start": "3"}),
        ("/api/v1/drafts", {"cursor": "nope"}),
        ("/api/v1/drafts", {"limit": "0"}),
        ("/api/v1/state", {"drafts": "-1"}),
        ("/api/v1/state", {"keep": "-1"}),
        ("/api/v1/state", {"keep": "1001"}),
        ("/api/v1/state", {"keep": "many"}),
        ("/api/v1/state/list", {}),
        ("/api/v1/state/list", {"path": "drafts"}),
        ("/api/v1/state/list", {"path": "/nothing"}),
        ("/api/v1/state/list", {"path": "/steps"}),
        ("/api/v1/state/list", {"path": "/at"}),
        ("/api/v1/state/list", {"path": "/alerts/x"}),
        ("/api/v1/state/list", {"path": "/" + "x/" * 400}),
        ("/api/v1/state/list", {"path": "/drafts", "cursor": "nope"}),
        ("/api/v1/state/list", {"path": "/drafts", "cursor": "eyJ2IjoxLCJhdCI6OTk5OTk5OTk5fQ"}),
        ("/api/v1/state/list", {"path": "/drafts", "limit": "0"}),
        ("/api/v1/state/list", {"path": "/drafts", "limit": "1001"}),
        ("/api/v1/state/list", {"path": "/drafts", "keep": "-1"}),
        ("/api/v1/state/list", {"path": "/drafts", "at": "soon"}),
        ("/ledger", {"limit": "5000"}),
        ("/parties/usa", {"until": "no"}),
        ("/escrow", {"q": "x" * 300}),
    ],
)
def test_bad_filters_are_400s(client: httpx.Client, path: str, params: dict[str, str]) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == 400, answer.text[:300]
    if path.startswith("/api/"):
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_cursor_past_the_last_draft_is_an_empty_page_not_a_crash(client: httpx.Client) -> None:
    far = "eyJ2IjoxLCJhdCI6OTk5OTk5OTk5fQ"  # at 999999999: beyond every draft's entry
    page = client.get("/api/v1/drafts", params={"cursor": far})
    assert page.status_code == 200
    assert page.json()["drafts"] == {}
    assert page.json()["next_cursor"] is None
    back = client.get("/api/v1/drafts", params={"cursor": page.json()["previous_cursor"]})
    assert len(back.json()["drafts"]) == 100  # the last page, from the end


def test_the_state_is_bounded_and_its_cut_lists_page_through_whole(
    client: httpx.Client, flooded: tuple[str, int]
) -> None:
    at = client.get("/api/v1/state").json()["at"]
    state = client.get("/api/v1/state", params={"at": at}).json()
    assert "/drafts" in state["cut"]
    assert len(state["drafts"]) == 100
    assert state["drafts_total"] >= FLOOD
    fewer = client.get("/api/v1/state", params={"at": at, "keep": 5, "drafts": 0}).json()
    assert fewer["drafts"] == {}
    assert fewer["drafts_total"] == state["drafts_total"]
    assert all(len(v) <= 5 for v in _lists(fewer))
    seen: list[str] = []
    params: dict[str, str | int] = {"path": "/drafts", "at": at, "limit": 1000}
    for _ in range(state["drafts_total"]):
        page = client.get("/api/v1/state/list", params=params).json()
        assert page["total"] == state["drafts_total"]
        assert page["path"] == "/drafts"
        seen += [d["id"] for d in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"path": "/drafts", "at": at, "limit": 1000, "cursor": page["next_cursor"]}
    assert len(seen) == len(set(seen)) == state["drafts_total"]
    assert seen[-100:] == list(state["drafts"])


def _lists(data: Any) -> Iterator[list[Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key != "cut":
                yield from _lists(value)
    elif isinstance(data, list):
        yield data
        for value in data:
            yield from _lists(value)


def test_openapi_documents_the_state_s_bounds_and_its_lists(client: httpx.Client) -> None:
    spec = client.get("/api/docs/openapi.json").json()
    state = {p["name"] for p in spec["paths"]["/api/v1/state"]["get"]["parameters"]}
    assert {"at", "keep", "drafts"} <= state
    listed = spec["paths"]["/api/v1/state/list"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {"path", "at", "cursor", "limit", "keep"}
    assert "400" in listed["responses"]


def test_openapi_documents_the_list_parameters(client: httpx.Client) -> None:
    spec = client.get("/api/docs/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"]}
    assert {"cursor", "limit", "party", "type", "step", "since", "until"} <= names


# --- any filter, any page size: exactly the filtered events, in order -----------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Service]]:
    """The realistic agreement of the dashboard's tests (many parties, types and steps),
    its API and dashboard served (the service's writer is not started: only reads)."""
    directory = tmp_path_factory.mktemp("mixed") / "ag"
    build_agreement(directory).agreement.close()
    service = Service(ag.Agreement.open(directory))
    app = FastAPI()
    app.include_router(api_router(service))
    app.include_router(dashboard_router(service))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        yield client, service
    asyncio.run(service.stop())


def _expected(service: Service, params: dict[str, str]) -> list[int]:
    types = set(params["type"].split(",")) if "type" in params else None
    since = parse_when(params["since"], "since") if "since" in params else None
    until = parse_when(params["until"], "until") if "until" in params else None
    return [
        e.index
        for e in service.events()
        if params.get("party", e.party) == e.party
        and (types is None or e.type in types)
        and ("step" not in params or getattr(e.body, "step", None) == params["step"])
        and (since is None or e.time >= since)
        and (until is None or e.time <= until)
    ]


@st.composite
def _filters(draw: st.DrawFn, service: Service) -> dict[str, str]:
    events = service.events()
    params: dict[str, str] = {}
    if draw(st.booleans()):
        params["party"] = draw(st.sampled_from(sorted({e.party for e in events})))
    if draw(st.booleans()):
        kinds = sorted({e.type for e in events})
        params["type"] = ",".join(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)))
    if draw(st.booleans()):
        steps = sorted({s for e in events if (s := getattr(e.body, "step", None))})
        params["step"] = draw(st.sampled_from(steps))
    days = sorted({e.time.date().isoformat() for e in events})
    if draw(st.booleans()):
        params["since"] = draw(st.sampled_from(days))
    if draw(st.booleans()):
        params["until"] = draw(st.sampled_from(days)) + "T23:59:59Z"
    return params


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), limit=st.integers(1, 12))
def test_any_filter_pages_to_exactly_its_events(
    mixed: tuple[httpx.Client, Service], data: st.DataObject, limit: int
) -> None:
    client, service = mixed
    params = data.draw(_filters(service))
    expected = _expected(service, params)

    pages: list[dict[str, Any]] = []
    query: dict[str, str | int] = {**params, "limit": limit}
    for _ in range(len(service.events()) + 1):
        answer = client.get("/api/v1/entries", params=query)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if pages[-1]["next_cursor"] is None:
            break
        query = {**params, "limit": limit, "cursor": pages[-1]["next_cursor"]}
    assert [e["index"] for p in pages for e in p["entries"]] == expected

    # back from the last page, through previous cursors: the same events
    back: list[int] = [e["index"] for e in pages[-1]["entries"]]
    cursor = pages[-1]["previous_cursor"]
    while cursor is not None:
        page = client.get("/api/v1/entries", params={**params, "limit": limit, "cursor": cursor})
        back = [e["index"] for e in page.json()["entries"]] + back
        cursor = page.json()["previous_cursor"]
    assert back == expected

    # the dashboard's ledger, through its "Later" links
    url: str | None = "/ledger?" + urlencode({**params, "limit": limit})
    seen: list[int] = []
    while url is not None:
        html = client.get(url).text
        seen += [int(i) for i in _ROW.findall(html)]
        found = _NEXT.search(html)
        url = "/ledger" + unescape(found.group(1)).removeprefix("./ledger") if found else None
    assert seen == expected


# --- every cut list of the state, paged: exactly the whole list -----------------------------


def _resolve(data: Any, pointer: str) -> Any:
    for escaped in pointer[1:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


def _resolve_whole(full: Any, pointer: str, keep: int) -> Any:
    """What ``pointer`` (an index in it counting in the document bounded by ``keep``)
    names in the whole document ``full``."""
    for escaped in pointer[1:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(full, list):
            full = full[int(token) + max(len(full) - keep, 0)]
        else:
            full = full[token]
    return full


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keep=st.integers(0, 3), limit=st.integers(1, 7), data=st.data())
def test_pages_of_every_cut_list_reassemble_exactly_the_whole_list(
    mixed: tuple[httpx.Client, Service], keep: int, limit: int, data: st.DataObject
) -> None:
    client, service = mixed
    at = service.events()[-1].time.isoformat().replace("+00:00", "Z")
    bounded = client.get("/api/v1/state", params={"at": at, "keep": keep}).json()
    assert bounded["cut"]
    full = state_to_dict(service.state(parse_when(at, "at")))
    pointer = data.draw(st.sampled_from(bounded["cut"]))
    kept = _resolve(bounded, pointer)
    pages: list[dict[str, Any]] = []
    query: dict[str, str | int] = {"path": pointer, "at": at, "limit": limit, "keep": keep}
    for _ in range(10_000):
        answer = client.get("/api/v1/state/list", params=query)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if pages[-1]["next_cursor"] is None:
            break
        query["cursor"] = pages[-1]["next_cursor"]
    items = [x for p in pages for x in p["items"]]
    assert all(len(p["items"]) <= limit for p in pages)
    assert pages[0]["total"] == len(items) > keep
    whole = _resolve_whole(full, pointer, keep)
    if isinstance(kept, dict):  # a collection: its values, in order, and its newest kept
        assert [x["id"] for x in items[len(items) - keep :]] == list(kept)
        assert [x["id"] for x in items] == list(whole)
    else:
        assert items == whole
    # and back, from the last page through the previous cursors
    back = pages[-1]["items"]
    cursor = pages[-1]["previous_cursor"]
    while cursor is not None:
        page = client.get("/api/v1/state/list", params={**query, "cursor": cursor}).json()
        back = page["items"] + back
        cursor = page["previous_cursor"]
    assert back == items


def test_the_state_s_bytes_are_kept_per_size_moment_and_bound(
    mixed: tuple[httpx.Client, Service],
) -> None:
    _, service = mixed
    at = service.events()[-1].time
    first, size = service.state_document(at, keep=100)
    assert size == service.size
    assert service.state_document(at, keep=100)[0] is first  # not serialized again
    assert service.state_document(at, keep=2)[0] is not first
    assert service.state_document(at, keep=100, keep_of={"drafts": 1})[0] is not first


def test_the_state_says_the_log_size_it_is_of(mixed: tuple[httpx.Client, Service]) -> None:
    client, service = mixed
    plain = client.get("/api/v1/state")
    assert plain.status_code == 200
    assert plain.headers["X-Cvid-Entries"] == str(service.size)
    assert plain.headers["X-Cvid-Log-Size"] == str(service.size)
    assert plain.json()["events_seen"] <= service.size
    fresh = client.get("/api/v1/state", headers={"Cache-Control": "no-cache"})
    assert fresh.headers["X-Cvid-Entries"] == str(service.size)
    assert fresh.json()["at"] >= plain.json()["at"]


def test_the_overview_is_rendered_once_per_state_shown(
    mixed: tuple[httpx.Client, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, service = mixed
    dash = _Dashboard(service)
    rendered: list[str | None] = []
    render = dash._overview

    def counting(state: Any, at: str | None, shown: Any) -> Any:
        rendered.append(at)
        return render(state, at, shown)

    monkeypatch.setattr(dash, "_overview", counting)
    day = service.events()[-1].time.date().isoformat()
    first = dash.overview(day)
    again = dash.overview(day)
    assert again.body == first.body
    assert rendered == [day]  # the same state, the same page: rendered once
    other = dash.overview(service.events()[0].time.isoformat())
    assert other.body != first.body
    assert len(rendered) == 2
