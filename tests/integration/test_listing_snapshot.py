"""The listing index kept in a snapshot section (``cvid.service.listing``, ADR 0014).

A service that starts again restores the index of party, type and step positions
from its section and indexes only the entries after it; the index restored and
grown equals one built from the first entry, whatever the cut point; a section that
does not verify (a changed byte, another root, other steps, another size) is
reported on the ``cvid.snapshot`` logger and ignored, the snapshot itself still
used; and every page, API or dashboard, is the same after a restart as one built
from scratch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid import agreement as ag
from cvid import snapshot as snap
from cvid.events.envelope import Event, sign_event
from cvid.service import listing
from cvid.service.api import api_router
from cvid.service.core import Service
from cvid.service.dashboard import dashboard_router
from tests.live import serving
from tests.service_support import build_agreement

AT = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_ROW = re.compile(r'aria-label="Ledger entry (\d+)"')
_NEXT = re.compile(r'<a href="([^"]*)" rel="next">')
ADDED = 40  # drafts appended after the first service stopped

API: list[dict[str, str | int]] = [
    {"party": "usa", "limit": 3},
    {"party": "dprk", "limit": 1000},
    {"type": "step.reported,step.verified", "limit": 2},
    {"type": "council.draft.tabled", "limit": 7},
    {"step": "yongbyon-freeze", "limit": 1000},
    {"party": "iaea", "type": "step.verified"},
]
PAGES = [
    "/ledger?type=council.draft.tabled&limit=5",
    "/ledger?party=dprk",
    "/ledger?step=test-moratorium",
    "/parties/usa?limit=5",
    "/parties/dprk",
    "/steps/yongbyon-freeze",
    "/escrow",
]


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard's realistic agreement, with a snapshot of it all; sections are
    written from one new entry on (its history is short)."""
    monkeypatch.setattr(snap, "MIN_NEW", 1)
    where = tmp_path / "ag"
    made = build_agreement(where).agreement
    assert made.save_snapshot(force=True) is not None
    made.close()
    return where


@pytest.fixture
def started() -> Iterator[list[Service]]:
    """Services made by a test, stopped at its end (the stop writes the section)."""
    made: list[Service] = []
    yield made
    for service in made:
        asyncio.run(service.stop())


def _open(directory: Path, started: list[Service], *, reverify: bool = False) -> Service:
    service = Service(ag.Agreement.open(directory, reverify=reverify), clock=lambda: AT)
    started.append(service)
    return service


def _stop(service: Service, started: list[Service]) -> None:
    started.remove(service)
    asyncio.run(service.stop())


def _pages(service: Service) -> dict[str, Any]:
    """Every list of API and PAGES, paged through to its end: the entries' indices, the
    cursors, and each dashboard page's rows and its next link."""
    app = FastAPI()
    app.include_router(api_router(service))
    app.include_router(dashboard_router(service))
    seen: dict[str, Any] = {}
    with serving(app) as url, httpx.Client(base_url=url, timeout=60.0) as client:
        for params in API:
            query: dict[str, Any] = dict(params)
            chunks = []
            while True:
                answer = client.get("/api/v1/entries", params=query)
                assert answer.status_code == 200, answer.text
                body = answer.json()
                chunks.append(([e["index"] for e in body["entries"]], body["next_cursor"]))
                if body["next_cursor"] is None:
                    break
                query = {**params, "cursor": body["next_cursor"]}
            seen[repr(params)] = chunks
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[:500]
            found = _NEXT.search(answer.text)
            seen[path] = (_ROW.findall(answer.text), found.group(1) if found else None)
    return seen


def _index(service: Service) -> listing.EventIndex:
    index = listing.kept_index(service)
    assert index is not None
    return index


def _section(directory: Path) -> Path:
    (path,) = (directory / snap.SNAPSHOTS_DIR).glob(f"*.{listing.SECTION}")
    return path


def _append(directory: Path, count: int) -> int:
    """Append ``count`` drafts signed by usa, dated after the last event, to the log
    (admitted when it is next opened)."""
    with ag.Agreement.open(directory) as a:
        size, seq = a.log.size(), a.history.seq.get("usa", 0)
        when = a.events[-1].time + dt.timedelta(days=1)
        entries = [
            sign_event(
                Event(
                    agreement=a.roadmap.agreement.id,
                    roadmap=a.gate.digest,
                    type="council.draft.tabled",
                    party="usa",
                    seq=seq + 1 + i,
                    time=when,
                    body={"draft": f"later-{i}", "title": "Later", "purpose": "other"},
                ),
                a.signer("usa"),
            ).to_bytes()
            for i in range(count)
        ]
        a.log.append(entries, expected_size=size)
        return size + count


def test_a_restart_restores_the_index_and_every_page_is_the_same(
    directory: Path, started: list[Service]
) -> None:
    first = _open(directory, started)
    size = first.size
    before = _pages(first)
    assert _index(first).restored == 0  # built from the first entry: no section yet
    assert _index(first).step_ids == listing.step_ids(first.roadmap)  # the API's too
    _stop(first, started)
    assert _section(directory).name == f"{size:012d}.{listing.SECTION}"

    again = _open(directory, started)
    assert _pages(again) == before
    assert _index(again).restored == size  # nothing indexed again
    _stop(again, started)

    # entries after the section are indexed on the first list, and only they
    grown = _append(directory, ADDED)
    later = _open(directory, started)
    scratch = _open(directory, started, reverify=True)
    assert later.size == scratch.size == grown
    assert _pages(later) == _pages(scratch)
    assert (_index(later).restored, _index(scratch).restored) == (size, 0)
    assert _index(later).same(_index(scratch))
    assert _index(later).by_party["usa"][-ADDED:].tolist() == list(range(size, grown))


def _tamper(directory: Path, how: str) -> None:
    path = _section(directory)
    keys = directory / ag.KEYS_DIR
    header, data = snap.read_section(path, keys)
    size, root, digest = header["size"], bytes.fromhex(header["root"]), header["roadmap"]
    if how == "byte":
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 1
        path.write_bytes(bytes(raw))
        return
    if how == "root":  # authenticated, bound to another root
        root = bytes(32)
    elif how == "steps":  # authenticated, an index kept for other steps
        index = listing.EventIndex.decode(data)
        index.step_ids = frozenset({"another-step"})
        data = index.encode()
    elif how == "size":  # authenticated, bound to the log, but holding a longer index
        path.unlink()
        with ag.Agreement.open(directory) as a:
            root = a.log.root(size - 1)
        size -= 1
    elif how == "format":  # authenticated, bytes of another format
        data = data[:-8]
    snap.write_section(
        directory, keys, listing.SECTION, size=size, root=root, digest=digest, data=data
    )


@pytest.mark.parametrize("how", ["byte", "root", "steps", "size", "format"])
def test_a_section_that_does_not_match_is_reported_and_ignored(
    directory: Path, started: list[Service], how: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = _open(directory, started)
    before = _pages(first)
    _stop(first, started)
    _tamper(directory, how)
    with caplog.at_level(logging.WARNING, logger="cvid.snapshot"):
        again = _open(directory, started)
        assert again.agreement.snapshot_size == again.size  # the snapshot itself is used
        assert _pages(again) == before
    assert _index(again).restored == 0  # built again from the first entry
    assert any("snapshot section ignored" in r.getMessage() for r in caplog.records)
    _stop(again, started)
    rewritten = snap.read_section(_section(directory), directory / ag.KEYS_DIR)[1]
    assert listing.EventIndex.decode(rewritten).same(_index(again))  # a good one again


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_index_restored_at_any_cut_and_grown_is_the_index_built_at_once(
    directory: Path, data: st.DataObject
) -> None:
    """On the log itself: the index of the first ``cut`` entries, kept in a section,
    restored and brought up to the log, is the one built in one pass."""
    with ag.Agreement.open(directory) as a:
        events = a.events.view(len(a.events))  # the old ones read from the log's tiles
        steps = listing.step_ids(a.roadmap)
        whole = listing.EventIndex(step_ids=steps)
        whole.update(events)
        keys = directory / ag.KEYS_DIR
        cut = data.draw(st.integers(1, len(events)), label="cut")
        part = listing.EventIndex(step_ids=steps)
        saved = listing.save(
            part,
            a.events.view(cut),
            directory,
            keys,
            digest=a.gate.digest,
            root=a.log.root,
            since=0,
        )
        assert saved == part.size == cut
        restored = listing.restore(
            directory, keys, len(events), digest=a.gate.digest, root=a.log.root, step_ids=steps
        )
        assert restored is not None
        assert restored.restored == cut
        assert restored.same(part)
        assert cut == len(events) or not restored.same(whole)
        restored.update(events)
        assert restored.same(whole)
        assert restored.size == len(events)
