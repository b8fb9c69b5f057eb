"""The service's HTTP surface over real HTTP: security headers on every response, the
API docs served from the package, absurd tile paths refused (never a 500), HEAD and
OPTIONS on every route, and ``cvid event sign``'s output accepted byte for byte."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid import agreement as ag
from cvid._http import NO_CONTENT_POLICY, PAGE_POLICY
from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import Signer
from cvid.service.app import create_app
from cvid.service.core import Service
from cvid.service.docs import ASSETS
from cvid.witness.server import create_witness_app
from tests.live import serving

CVID = Path(sys.executable).parent / "cvid"
SECURITY = {
    "content-security-policy": PAGE_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
# A value for each path parameter of the app's routes, to reach every route.
SAMPLES = {
    "index": "0",
    "path": "entries/000.p/1",
    "step_id": "yongbyon-freeze",
    "party_id": "usa",
    "name": "dashboard.css",
    "item": "yongbyon-5mwe",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("surface") / "ag"
    made = ag.create_from_template(where, "dprk-phased", adopt_at=_now() - dt.timedelta(days=1))
    made.close()
    return where


@pytest.fixture(scope="module")
def served(directory: Path) -> Iterator[tuple[str, object]]:
    app = create_app(Service(ag.Agreement.open(directory)), examples={})
    with serving(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def client(served: tuple[str, object]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=30.0) as c:
        yield c


def _get_paths(app: object) -> list[tuple[str, set[str]]]:
    paths: dict[str, set[str]] = {}
    for route in iter_route_contexts(getattr(app, "routes", [])):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m.group(1)], route.path or "")
        paths.setdefault(path, set()).update(route.methods or set())
    return sorted(paths.items())


def _assert_secured(response: httpx.Response, policy: str = PAGE_POLICY) -> None:
    for name, value in {**SECURITY, "content-security-policy": policy}.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_every_response_carries_the_security_headers(
    client: httpx.Client, served: tuple[str, object]
) -> None:
    paths = _get_paths(served[1])
    assert len(paths) > 15
    for path, methods in paths:
        method = "GET" if "GET" in methods else "POST"
        response = client.request(method, path, content=b"{}" if method == "POST" else None)
        assert response.status_code < 500, (path, response.text)
        _assert_secured(response)
    for path in ("/no/such/page", "/api/v1/entries/notanumber", "/tile/0/x"):
        _assert_secured(client.get(path))
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_the_witness_sends_the_headers_too(tmp_path: Path) -> None:
    signer = CosignatureSigner.generate("witness.example", seed=b"\x07" * 32)
    log_key = Signer.generate("example.org/log", seed=b"\x08" * 32).verifier
    app = create_witness_app(
        signer, {"example.org/log": [log_key]}, str(tmp_path / "w.db"), clock=lambda: 0
    )
    with serving(app) as url, httpx.Client(base_url=url) as c:
        for response in (c.post("/add-checkpoint", content=b"junk"), c.get("/nothing")):
            _assert_secured(response, NO_CONTENT_POLICY)
        options = c.options("/add-checkpoint")
        assert options.status_code == 204
        assert options.headers["allow"] == "OPTIONS, POST"


def test_api_docs_use_only_local_assets(client: httpx.Client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    _assert_secured(page)
    html = page.text
    assert "<script>" not in html  # nothing inline
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        if url.startswith("/api/docs/assets/"):
            asset = client.get(url)
            assert asset.status_code == 200, url
            name = url.rsplit("/", 1)[1]
            assert asset.content == ASSETS[name][0].read_bytes()
            assert asset.headers["content-type"].startswith(ASSETS[name][1])
    loaded = {u.rsplit("/", 1)[1] for u in urls}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"} <= loaded
    assert client.get("/api/docs/assets/../app.py").status_code == 404
    assert client.get("/api/docs/assets/index.html").status_code == 404
    # the document the page reads is the API's, in the OpenAPI version it renders
    document = client.get("/api/docs/openapi.json").json()
    assert document["openapi"] == "3.0.3"
    assert document["paths"].keys() == client.get("/api/v1/openapi.json").json()["paths"].keys()
    assert '"type": "null"' not in page.text + str(document).replace("'", '"')


def test_a_tile_path_of_2000_components_is_refused_not_a_crash(client: httpx.Client) -> None:
    response = client.get("/tile/0/" + "x001/" * 2000 + "000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) < 1000  # the path is not echoed back whole
    wide = client.get("/tile/0/000.p/" + "9" * 5000)
    assert wide.status_code == 404


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"x?[0-9]{1,6}", fullmatch=True),
            st.sampled_from(["entries", "0", "1", "63", "000.p", "255", "x000", "..", ""]),
            st.integers(min_value=1, max_value=2500).map(lambda n: "/".join(["x123"] * n)),
            st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=12),
        ),
        min_size=0,
        max_size=40,
    ).map("/".join)
)
def test_any_path_under_tile_answers_below_500(client: httpx.Client, tail: str) -> None:
    response = client.get("/tile/" + quote(tail, safe="/"))
    assert response.status_code < 500, (tail, response.text)


def test_head_and_options_on_every_route(client: httpx.Client, served: tuple[str, object]) -> None:
    for path, methods in _get_paths(served[1]):
        options = client.options(path)
        assert options.status_code == 204, path
        expected = set(methods) | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        assert set(options.headers["allow"].split(", ")) == expected, path
        _assert_secured(options)
        if "GET" in methods:
            get = client.get(path)
            head = client.head(path)
            assert head.status_code == get.status_code, path
            assert head.content == b"", path
            assert head.headers["content-type"] == get.headers["content-type"], path
        else:
            head = client.head(path)
            assert head.status_code == 405, path
            assert set(head.headers["allow"].split(", ")) == expected, path
    assert client.head("/static/dashboard.css").headers["content-length"] == str(
        len(client.get("/static/dashboard.css").content)
    )
    wrong = client.put("/api/v1/events", content=b"")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "OPTIONS, POST"


def test_what_event_sign_writes_is_accepted_byte_for_byte(tmp_path: Path) -> None:
    first = tmp_path / "first"
    made = ag.create_from_template(first, "dprk-phased", adopt_at=_now() - dt.timedelta(days=1))
    body = '{"draft": "endorse", "title": "Endorsement", "purpose": "endorse"}'
    seq = made.next_event("usa", "council.draft.tabled", {}, time=_now()).seq
    made.close()
    second = tmp_path / "second"
    shutil.copytree(first, second)
    entry = tmp_path / "entry.json"
    with entry.open("wb") as f:
        signed = subprocess.run(
            [str(CVID), "event", "sign", "--roadmap", first / "roadmap.yaml",
             "--key", first / "keys" / "usa.key", "--type", "council.draft.tabled",
             "--seq", str(seq), "--body", body],
            stdout=f, stderr=subprocess.PIPE, timeout=120, check=False,
        )  # fmt: skip
    assert signed.returncode == 0, signed.stderr.decode()
    data = entry.read_bytes()
    assert not data.endswith(b"\n")

    with (
        serving(create_app(Service(ag.Agreement.open(first)), examples={})) as url,
        httpx.Client(base_url=url) as c,
    ):
        answer = c.post("/api/v1/events", content=data)
        assert answer.status_code == 201, answer.text
        index = answer.json()["index"]
        assert c.get(f"/api/v1/entries/{index}/raw").content == data

    submitted = subprocess.run(
        [str(CVID), "event", "submit", str(second), "--entry", str(entry)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert f"logged council.draft.tabled by usa (seq {seq})" in submitted.stdout
