"""Feeds and webhooks end to end: the Atom feeds of a real agreement read by an XML
parser against Atom's required elements, and ``cvid notify`` delivering signed webhooks
to a receiver on 127.0.0.1 that checks every signature as the Standard Webhooks scheme
defines it."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from cvid.cli import app as cli
from cvid.errors import InputError
from cvid.report.feeds import ATOM, notices
from cvid.service import webhooks
from cvid.service.app import FrozenSource
from cvid.service.dashboard import dashboard_router
from tests.service_support import build_agreement

A = f"{{{ATOM}}}"
SECRET = "whsec_" + base64.b64encode(b"a test secret of thirty-two byte").decode()
OTHER = "whsec_" + base64.b64encode(b"another secret of 32 bytes, too.").decode()
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FrozenSource, Path]]:
    directory = tmp_path_factory.mktemp("feeds") / "agreement"
    source = build_agreement(directory)
    yield source, directory
    source.agreement.close()


def _get(app: FastAPI, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cvid.test") as c:
            return await c.get(path)

    return asyncio.run(go())


def _check_atom(xml: bytes) -> ET.Element:
    """Atom's required elements (RFC 4287 §4.1.1, §4.1.2), checked one by one."""
    feed = ET.fromstring(xml)
    assert feed.tag == A + "feed"
    for required in ("id", "title", "updated"):
        assert len(feed.findall(A + required)) == 1, required
    assert feed.findall(A + "author"), "a feed without author needs one on every entry"
    assert feed.find(A + "author/" + A + "name") is not None
    assert any(link.get("rel") == "self" for link in feed.findall(A + "link"))
    ids = set()
    for entry in feed.findall(A + "entry"):
        for required in ("id", "title", "updated"):
            assert len(entry.findall(A + required)) == 1, required
        ident = entry.findtext(A + "id") or ""
        assert ident.startswith("urn:uuid:")
        assert ident not in ids
        ids.add(ident)
        # no content element: then an alternate link is required, and a summary
        assert entry.find(A + "content") is None
        assert any(link.get("rel") == "alternate" for link in entry.findall(A + "link"))
        assert entry.findtext(A + "summary")
        stamp = entry.findtext(A + "updated") or ""
        assert dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    return feed


def test_the_agreement_feed_is_valid_atom(built: tuple[FrozenSource, Path]) -> None:
    source, _ = built
    app = FastAPI()
    app.include_router(dashboard_router(source))
    response = _get(app, "/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = _check_atom(response.content)
    entries = feed.findall(A + "entry")
    kinds = {e.find(A + "category").get("term") for e in entries}  # type: ignore[union-attr]
    assert {"alert", "overdue"} <= kinds
    titles = [e.findtext(A + "title") or "" for e in entries]
    assert any("Disable the 5 MWe reactor" in t for t in titles)  # names, not ids
    assert not any("disable-5mwe" in t for t in titles)
    # the same state gives the same feed: ids are stable
    assert _get(app, "/feed.atom").content == response.content


def test_a_party_feed_holds_only_what_concerns_it(built: tuple[FrozenSource, Path]) -> None:
    source, _ = built
    app = FastAPI()
    app.include_router(dashboard_router(source))
    whole = _check_atom(_get(app, "/feed.atom").content)
    dprk = _check_atom(_get(app, "/parties/dprk/feed.atom").content)
    iaea = _check_atom(_get(app, "/parties/iaea/feed.atom").content)
    assert dprk.findtext(A + "id") != whole.findtext(A + "id")
    n_dprk, n_iaea = len(dprk.findall(A + "entry")), len(iaea.findall(A + "entry"))
    assert 0 < n_dprk < len(whole.findall(A + "entry"))
    assert 0 < n_iaea < n_dprk
    for entry in iaea.findall(A + "entry"):
        assert "IAEA" in (entry.findtext(A + "title") or "")
    assert _get(app, "/parties/nobody/feed.atom").status_code == 404


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    answer: int

    def do_POST(self) -> None:  # the name http.server calls
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        self.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
        self.send_response(self.answer)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        del format, args


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Receiver,), {"received": received, "answer": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of the scheme, written from its definition."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(sig, expected)
        for version, _, sig in (s.partition(",") for s in headers["webhook-signature"].split())
    )


def test_cvid_notify_delivers_signed_webhooks_once(
    built: tuple[FrozenSource, Path],
    receiver: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    source, directory = built
    url, received = receiver
    config = tmp_path / "hooks.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - url: {url}/all\n    secret: {SECRET}\n"
        f"  - url: {url}/iaea\n    secret: {OTHER}\n    party: iaea\n    kinds: [overdue]\n",
        encoding="utf-8",
    )
    at = "2027-10-31T09:00:00Z"
    result = runner.invoke(cli, ["notify", str(directory), "--webhooks", str(config), "--at", at])
    assert result.exit_code == 0, result.output
    state = source.state(dt.datetime(2027, 10, 31, 9, tzinfo=dt.UTC))
    expected = notices(source.roadmap, state)
    to_all = [r for r in received if r["path"] == "/all"]
    to_iaea = [r for r in received if r["path"] == "/iaea"]
    assert {r["headers"]["webhook-id"] for r in to_all} == {n.id for n in expected}
    assert to_iaea
    assert all("iaea" in json.loads(r["body"])["data"]["parties"] for r in to_iaea)
    assert all(json.loads(r["body"])["type"] == "cvid.overdue" for r in to_iaea)
    for r in to_all:
        assert _verify(SECRET, r["headers"], r["body"])
        assert not _verify(OTHER, r["headers"], r["body"])  # another key does not verify
        payload = json.loads(r["body"])
        assert payload["data"]["agreement"] == "dprk-phased"
        assert payload["type"] in ("cvid.alert", "cvid.deadline", "cvid.overdue")
        assert (
            abs(int(r["headers"]["webhook-timestamp"]) - int(dt.datetime.now().timestamp())) < 600
        )
    for r in to_iaea:
        assert _verify(OTHER, r["headers"], r["body"])
    # a tampered body or id fails the check
    first = to_all[0]
    assert not _verify(SECRET, first["headers"], first["body"] + b" ")
    forged = {**first["headers"], "webhook-id": "msg_other"}
    assert not _verify(SECRET, forged, first["body"])
    # run again: nothing new, nothing sent
    before = len(received)
    again = runner.invoke(cli, ["notify", str(directory), "--webhooks", str(config), "--at", at])
    assert again.exit_code == 0, again.output
    assert len(received) == before
    assert "delivered 0 of 0 notices" in again.output


def test_a_refused_delivery_is_tried_again(
    built: tuple[FrozenSource, Path], tmp_path: Path
) -> None:
    source, _ = built
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Receiver,), {"received": received, "answer": 500})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        config = webhooks.Config(endpoints=(webhooks.Endpoint(url=url, secret=SECRET),))
        sent: dict[str, list[str]] = {}
        state = source.state(source.now())
        with httpx.Client(timeout=10) as client:
            first = webhooks.deliver(
                config, source.roadmap, state, sent=sent, now=lambda: 1_800_000_000, client=client
            )
            assert first
            assert all(d.status == 500 for d in first)
            assert sent == {url: []}
            handler.answer = 200  # type: ignore[attr-defined]
            second = webhooks.deliver(
                config, source.roadmap, state, sent=sent, now=lambda: 1_800_000_000, client=client
            )
        assert [d.id for d in second] == [d.id for d in first]
        assert sorted(sent[url]) == sorted(d.id for d in first)
        for r in received:
            assert r["headers"]["webhook-timestamp"] == "1800000000"
            assert _verify(SECRET, r["headers"], r["body"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("endpoints: []\n", "endpoints"),
        (f"endpoints:\n  - url: ftp://x\n    secret: {SECRET}\n", "http or https"),
        ("endpoints:\n  - url: http://127.0.0.1/\n    secret: nope\n", "whsec_"),
        ("endpoints:\n  - url: http://127.0.0.1/\n    secret: whsec_AAAA\n", "24 bytes"),
        (f"endpoints:\n  - url: http://127.0.0.1/\n    secret: {SECRET}\n    x: 1\n", "x"),
        ("endpoints: [\n", "not YAML"),
    ],
)
def test_a_bad_configuration_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "hooks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        webhooks.load_config(path)


def test_the_signature_is_the_standard_webhooks_one() -> None:
    # Recomputed here from the definition, on fixed values.
    key = os.urandom(32)
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b'{"type":"cvid.alert"}'
    mac = hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert webhooks.sign(secret, "msg_1", 1_700_000_000, body) == "v1," + base64.b64encode(
        mac
    ).decode("ascii")
