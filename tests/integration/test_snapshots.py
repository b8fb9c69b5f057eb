"""Verified snapshots (``cvid.snapshot``): a cache that changes nothing but speed.

On SQLite and on PostgreSQL, with the shipped templates' dated histories: an agreement
opened from its snapshot has the same events, admission history and state as one that
admits every entry again; deleting the snapshot changes nothing; events logged after
it are admitted as usual; a snapshot that does not match (a byte changed, another
agreement's, a root that is not the log's, another road map) is reported on the
``cvid.snapshot`` logger and ignored; ``--reverify`` neither reads nor writes one.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cvid import snapshot as snap
from cvid.agreement import Agreement, create_from_template
from cvid.errors import EventRejectedError
from cvid.report import state_to_dict
from cvid.service.core import Limits, Service, open_service
from tests.signed import adopted_yesterday, tablings

CVID = Path(sys.executable).parent / "cvid"
AT = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
TEMPLATES = ["jcpoa-2231", "kazakhstan-1991"]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str | None:
    """None for the directory's own SQLite log, or a fresh PostgreSQL schema's URL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


def make(tmp_path: Path, template: str, database: str | None) -> Path:
    """An agreement from a template, its history replayed, with a snapshot of it all."""
    directory = tmp_path / template
    with create_from_template(directory, template, adopt_at=None, database=database) as a:
        a.state(at=AT)
        assert a.save_snapshot(force=True) is not None
    return directory


def opened(directory: Path, database: str | None, **options: bool) -> Agreement:
    return Agreement.open(directory, database=database, **options)


def status(agreement: Agreement) -> str:
    return json.dumps(state_to_dict(agreement.state(at=AT)), sort_keys=True)


def snapshot_file(directory: Path) -> Path:
    (path,) = (directory / snap.SNAPSHOTS_DIR).glob("*.snapshot")
    return path


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_snapshot_opens_to_the_same_agreement(
    tmp_path: Path, template: str, database: str | None
) -> None:
    directory = make(tmp_path, template, database)
    with opened(directory, database, reverify=True) as full:
        expected_events, expected_history = list(full.events), full.history
        expected = status(full)
    with opened(directory, database) as fast:
        assert fast.snapshot_size == len(expected_events)
        assert list(fast.events) == expected_events  # read from the log on demand
        assert fast.history == expected_history
        assert status(fast) == expected
    shutil.rmtree(directory / snap.SNAPSHOTS_DIR)
    with opened(directory, database) as again:
        assert again.snapshot_size == 0
        assert status(again) == expected


def test_events_logged_after_the_snapshot_are_admitted(
    tmp_path: Path, database: str | None
) -> None:
    directory = make(tmp_path, "jcpoa-2231", database)
    with opened(directory, database) as a:
        size = a.snapshot_size
        when = a.events[-1].time + dt.timedelta(days=1)
        measured = [e for e in a.events if e.type == "quantity.measured"][-1]  # once more
        body = measured.signed.event.body
        a.act(a.signer(measured.party), "quantity.measured", body, time=when)
    with opened(directory, database) as a:
        assert a.snapshot_size == size  # fewer than MIN_NEW new entries: not rewritten
        assert len(a.events) == size + 1
        fast = status(a)
    with opened(directory, database, reverify=True) as full:
        assert status(full) == fast


def tampered(directory: Path, how: str) -> None:
    path = snapshot_file(directory)
    keys = directory / "keys"
    if how == "byte":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 1
        path.write_bytes(bytes(data))
    elif how == "root":  # authenticated, but bound to another root
        found = snap.read(path, keys)
        snap.write(directory, keys, dataclasses.replace(found, root=bytes(32)))
    elif how == "roadmap":
        found = snap.read(path, keys)
        snap.write(directory, keys, dataclasses.replace(found, roadmap="sha256:" + "0" * 64))
    elif how == "history":  # authenticated, a history of another size
        found = snap.read(path, keys)
        history = dataclasses.replace(found.history, size=found.size - 1)
        snap.write(directory, keys, dataclasses.replace(found, history=history))
    else:  # the snapshot key replaced: the file is not authenticated by it
        (keys / snap.KEY_FILE).write_text(os.urandom(32).hex() + "\n")


@pytest.mark.parametrize("how", ["byte", "root", "roadmap", "history", "key"])
def test_a_snapshot_that_does_not_match_is_reported_and_ignored(
    tmp_path: Path, database: str | None, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    directory = make(tmp_path, "jcpoa-2231", database)
    with opened(directory, database, reverify=True) as full:
        expected = status(full)
        events = list(full.events)
    tampered(directory, how)
    with (
        caplog.at_level(logging.WARNING, logger="cvid.snapshot"),
        opened(directory, database) as a,
    ):
        assert a.snapshot_size == 0  # every entry was admitted again
        assert list(a.events) == events
        assert status(a) == expected
    assert any("snapshot ignored" in r.getMessage() for r in caplog.records)


def test_another_agreements_snapshot_is_refused(tmp_path: Path) -> None:
    """Two agreements from one template: same road-map text, other keys, other log."""
    first = make(tmp_path / "a", "jcpoa-2231", None)
    second = make(tmp_path / "b", "jcpoa-2231", None)
    with opened(second, None, reverify=True) as full:
        expected = status(full)
    snapshot_file(second).unlink()
    shutil.copy(snapshot_file(first), second / snap.SNAPSHOTS_DIR)
    with opened(second, None) as a:
        assert a.snapshot_size == 0
        assert status(a) == expected


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [str(CVID), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_cli_reports_a_bad_snapshot_and_reverify_skips_it(tmp_path: Path) -> None:
    directory = make(tmp_path, "jcpoa-2231", None)
    at = AT.isoformat()
    clean = run("status", directory, "--at", at, "--json")
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr == ""
    tampered(directory, "byte")
    before = snapshot_file(directory).read_bytes()
    reported = run("status", directory, "--at", at, "--json")
    assert reported.returncode == 0, reported.stderr
    assert "snapshot ignored" in reported.stderr
    assert reported.stdout == clean.stdout
    again = run("status", directory, "--at", at, "--json", "--reverify")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # not read
    assert again.stdout == clean.stdout
    assert snapshot_file(directory).read_bytes() == before  # nor written


def test_the_snapshot_key_is_private(tmp_path: Path) -> None:
    directory = make(tmp_path, "jcpoa-2231", None)
    mode = (directory / "keys" / snap.KEY_FILE).stat().st_mode & 0o777
    assert mode == 0o600


def test_the_service_starts_from_the_snapshot_unless_told_to_reverify(
    tmp_path: Path, database: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    directory = make(tmp_path, "jcpoa-2231", database)
    with opened(directory, database, reverify=True) as full:
        expected = status(full)
        size = len(full.events)
    service = open_service(str(directory), database=database, clock=lambda: AT)
    try:
        assert service.agreement.snapshot_size == size
        assert json.dumps(state_to_dict(service.state(AT)), sort_keys=True) == expected
    finally:
        asyncio.run(service.stop())
    tampered(directory, "byte")
    with caplog.at_level(logging.WARNING, logger="cvid.snapshot"):
        service = open_service(str(directory), database=database, reverify=True, clock=lambda: AT)
        try:
            assert service.agreement.snapshot_size == 0
            assert json.dumps(state_to_dict(service.state(AT)), sort_keys=True) == expected
        finally:
            asyncio.run(service.stop())
    assert not caplog.records  # --reverify does not even read it


def test_a_refused_batch_after_starting_from_a_snapshot_undoes_only_its_records(
    tmp_path: Path,
) -> None:
    """The service undoes a refused batch's tentative records from the snapshot's
    history (its events are not in memory), and the history is as it was."""
    directory = tmp_path / "ag"
    with adopted_yesterday(directory) as a:
        assert a.save_snapshot(force=True) is not None
        size = len(a.events)

    async def scenario() -> None:
        service = Service(Agreement.open(directory), limits=Limits(party_rate=10_000.0))
        await service.start()
        try:
            agreement = service.agreement
            assert agreement.snapshot_size == size
            before = copy.deepcopy(agreement.history)
            first, second = tablings(agreement, "usa", 2, tag="t")
            with pytest.raises(EventRejectedError):
                await service.submit([first, first])  # the second reuses a sequence number
            assert agreement.history == before
            accepted = await service.submit([first, second])
            assert [e.index for e in accepted] == [size, size + 1]
        finally:
            await service.stop()

    asyncio.run(scenario())
    with opened(directory, None, reverify=True) as full, opened(directory, None) as fast:
        assert fast.history == full.history
        assert status(fast) == status(full)


def test_older_snapshots_are_kept_thinned() -> None:
    older = [Path(f"{n:012d}.snapshot") for n in (900, 500, 400, 250, 100, 60, 10)]
    assert [int(p.stem) for p in snap.kept(older, 1000)] == [900, 400, 100]
    assert [int(p.stem) for p in snap.kept(older, 15)] == [10]
    assert snap.kept(older, 10) == []


def test_time_travel_before_the_latest_fold_starts_from_an_older_snapshot(
    tmp_path: Path, database: str | None
) -> None:
    directory = tmp_path / "jcpoa-2231"
    with create_from_template(directory, "jcpoa-2231", adopt_at=None, database=database) as a:
        times = sorted(e.time for e in a.events)
        middle = times[len(times) // 2]
        a.state(at=middle)  # the fold: the events up to the middle of the history
        assert a.save_snapshot(force=True) is not None
        first = a.snapshot_size
        measured = [e for e in a.events if e.type == "quantity.measured"][-1]
        body = measured.signed.event.body
        for k in range(5):  # a few more events: a newer snapshot, the first one kept
            a.act(a.signer(measured.party), "quantity.measured", body, time=AT + k * MINUTE)
        a.state(at=AT + 10 * MINUTE)  # every event folded in
        assert a.save_snapshot(force=True) is not None
    kept = sorted(int(p.stem) for p in (directory / snap.SNAPSHOTS_DIR).glob("*.snapshot"))
    assert kept == [first, first + 5]
    moment = middle + dt.timedelta(days=1)  # before the latest fold's clock
    with opened(directory, database) as fast:
        at_moment = json.dumps(state_to_dict(fast.state(at=moment)), sort_keys=True)
        assert fast.evaluator(fast.roadmap).from_older == 1
    with opened(directory, database, reverify=True) as full:
        assert json.dumps(state_to_dict(full.state(at=moment)), sort_keys=True) == at_moment
    (directory / snap.SNAPSHOTS_DIR / f"{first:012d}.snapshot").unlink()
    with opened(directory, database) as slow:  # without it: from the start, the same state
        assert json.dumps(state_to_dict(slow.state(at=moment)), sort_keys=True) == at_moment
        assert slow.evaluator(slow.roadmap).from_older == 0
