"""``cvid mirror`` against real services on 127.0.0.1: follow from scratch, keep up as
events are submitted, resume after a restart; a fork or a rollback stops it with an
alarm naming both checkpoints; a road map whose digest is not the log's, a tampered
tile and missing witness cosignatures are refused."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from typer.testing import CliRunner

from cvid import agreement as ag
from cvid import mirror as mirror_module
from cvid import snapshot as snap
from cvid.cli import app as cli
from cvid.log.checkpoint import Checkpoint
from cvid.log.cosignature import CosignatureSigner, WitnessPolicy, add_cosignatures, cosign
from cvid.log.note import Note
from cvid.log.tiles import ENTRIES, decode_bundle, encode_bundle, parse_tile_path
from cvid.mirror import Mirror, MirrorError
from cvid.report import state_to_dict
from cvid.service import listing
from cvid.service.app import create_app
from cvid.service.core import Limits, Service
from tests.live import PROCESS_STARTUP_S, free_port, serving
from tests.signed import adopted_yesterday, tablings

WAIT_S = 30.0
runner = CliRunner()


def _service(directory: Path) -> Service:
    limits = Limits(party_rate=10_000.0)
    return Service(ag.Agreement.open(directory), limits=limits, checkpoint_interval=0.05)


@contextmanager
def _served(directory: Path) -> Iterator[tuple[str, httpx.Client]]:
    app = create_app(_service(directory), examples={})
    with serving(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        yield url, client


def _submit(client: httpx.Client, a: ag.Agreement, count: int, tag: str) -> int:
    """Submit ``count`` drafts by usa (numbered from the service's log); wait for the
    checkpoint that covers them; return the new size."""
    a.catch_up()
    lines = tablings(a, "usa", count, tag=tag)
    answer = client.post("/api/v1/events/batch", content=b"\n".join(lines))
    assert answer.status_code == 201, answer.text
    size: int = answer.json()["accepted"][-1]["index"] + 1
    deadline = time.monotonic() + WAIT_S
    while client.get("/healthz").json()["checkpoint_size"] != size:
        assert time.monotonic() < deadline, "no checkpoint"
        time.sleep(0.02)
    return size


@pytest.fixture
def made(tmp_path: Path) -> Iterator[ag.Agreement]:
    a = adopted_yesterday(tmp_path / "ag")
    yield a
    a.close()


def _follow_until(mirror: Mirror, size: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while mirror.verified is None or mirror.verified.tree_size < size:
        assert time.monotonic() < deadline, "the mirror did not catch up"
        mirror.follow()


def _same_as_service(mirror: Mirror, client: httpx.Client) -> None:
    at = "2100-01-01T00:00:00Z"
    served = client.get("/api/v1/state", params={"at": at, "keep": 1000}).json()
    mirrored = state_to_dict(mirror.state(dt.datetime(2100, 1, 1, tzinfo=dt.UTC)), 1000)
    assert served["cut"] == []  # nothing held back: the whole state on both sides
    assert mirrored == served
    entries = client.get("/api/v1/entries", params={"limit": 1000}).json()["entries"]
    assert [e["index"] for e in entries] == [e.index for e in mirror.events()]
    assert [mirror.entry(e["index"]) for e in entries] == [
        client.get(f"/api/v1/entries/{e['index']}/raw").content for e in entries
    ]


@pytest.mark.parametrize("chunk", [mirror_module.CHUNK, 7])
def test_follow_from_scratch_keep_up_and_resume(
    made: ag.Agreement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(mirror_module, "CHUNK", chunk)  # 7: rounds of many chunks
    key = made.log_signer().verifier
    where = tmp_path / "mirror"
    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        size = _submit(client, made, 5, "first")
        mirror = Mirror.open(url, where, key, client=http)
        done = mirror.follow()
        assert (done.old_size, done.new_size, done.admitted) == (0, size, size)
        _same_as_service(mirror, client)

        for n, count in enumerate((1, 40, 300)):  # keeps up, round after round
            size = _submit(client, made, count, f"more{n}")
            _follow_until(mirror, size)
        assert mirror.follow().admitted == 0  # nothing new: nothing done
        _same_as_service(mirror, client)
        mirror.close()

        # a restart resumes from the last verified checkpoint; the snapshot written on
        # close covers every entry held, so none is admitted again
        size = _submit(client, made, 7, "after")
        again = Mirror.open(url, where, key, client=http)
        assert again.size == mirror.size
        assert (again.snapshot_size, again.readmitted) == (mirror.size, 0)
        done = again.follow()
        assert (done.old_size, done.new_size, done.admitted) == (size - 7, size, 7)
        _same_as_service(again, client)

        # its own dashboard, read-only, pages like the service's
        from cvid.mirror import mirror_app

        with serving(mirror_app(again)) as mirror_url:
            page = httpx.get(mirror_url + "/ledger?limit=20", timeout=30.0)
            assert page.status_code == 200
            assert "Entries" in page.text
            assert 'rel="next"' in page.text
            assert httpx.post(mirror_url + "/api/v1/events", content=b"{}").status_code in (
                404,
                405,
            )
        again.close()

        # the snapshot (written on close) is a cache: a tampered one is reported and
        # ignored, every entry is admitted again, and the mirror is the same
        (snapshot,) = (where / "snapshots").glob("*.snapshot")
        data = bytearray(snapshot.read_bytes())
        data[-1] ^= 0x01
        snapshot.write_bytes(bytes(data))
        third = Mirror.open(url, where, key, client=http)
        assert (third.snapshot_size, third.readmitted) == (0, size)
        _same_as_service(third, client)
        third.close()
        fourth = Mirror.open(url, where, key, client=http)  # third wrote a good one
        assert (fourth.snapshot_size, fourth.readmitted) == (size, 0)
        _same_as_service(fourth, client)
        fourth.close()


def _fork(made: ag.Agreement, tmp_path: Path) -> Path:
    """A second agreement directory with the same keys and log so far."""
    made.close()
    twin = tmp_path / "twin"
    shutil.copytree(made.directory, twin)
    return twin


def _alarm(url: str, where: Path, key: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["mirror", url, str(where), "--vkey", key, "--once"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("ours", "theirs", "word"), [(3, 5, "fork"), (3, 3, "fork"), (3, 1, "rollback")]
)
def test_a_fork_or_rollback_stops_the_mirror_with_an_alarm(
    tmp_path: Path, ours: int, theirs: int, word: str
) -> None:
    made = adopted_yesterday(tmp_path / "ag")
    key_text = made.log_signer().verifier.to_text()
    where = tmp_path / "mirror"
    twin = _fork(made, tmp_path)
    with ExitStack() as stack:
        url_a, client_a = stack.enter_context(_served(made.directory))
        url_b, client_b = stack.enter_context(_served(twin))
        a = stack.enter_context(ag.Agreement.open(made.directory))
        b = stack.enter_context(ag.Agreement.open(twin))
        common = _submit(client_a, a, 2, "common")
        assert _submit(client_b, b, 2, "common") == common  # the same two entries
        code, output = _alarm(url_a, where, key_text)
        assert code == 0, output
        size_a = _submit(client_a, a, ours, "ours")
        code, output = _alarm(url_a, where, key_text)
        assert code == 0, output
        size_b = _submit(client_b, b, theirs, "theirs")

        # the mirror, pointed at the other history under the same key, raises the alarm
        code, output = _alarm(url_b, where, key_text)
        assert code == 6, output
        text = " ".join(output.split())
        assert "ALARM" in text
        assert word in text
        root_a = Checkpoint.from_text(Note.from_bytes(client_a.get("/checkpoint").content).text)
        root_b = Checkpoint.from_text(Note.from_bytes(client_b.get("/checkpoint").content).text)
        assert f"size {size_a}, root {root_a.root_hash.hex()}" in text
        assert f"size {size_b}, root {root_b.root_hash.hex()}" in text

        # nothing was written: it still follows the first history
        code, output = _alarm(url_a, where, key_text)
        assert code == 0, output


def _proxy(
    upstream: str,
    *,
    roadmap: bytes | None = None,
    digest: str | None = None,
    tile: Callable[[str, bytes], bytes] | None = None,
    checkpoint: Callable[[bytes], bytes] | None = None,
) -> FastAPI:
    """A server in front of a service that changes what it publishes."""
    app = FastAPI()
    client = httpx.Client(base_url=upstream, timeout=30.0)

    @app.get("/{path:path}")
    def forward(path: str, request: Request) -> Response:
        if path == "api/v1/roadmap" and roadmap is not None:
            return Response(roadmap, headers={"X-Roadmap-Digest": digest or ""})
        answer = client.get("/" + path)
        content = answer.content
        if answer.status_code == 200 and path.startswith("tile/") and tile is not None:
            content = tile(path, content)
        if answer.status_code == 200 and path == "checkpoint" and checkpoint is not None:
            content = checkpoint(content)
        headers = {k: v for k, v in answer.headers.items() if k.lower() == "x-roadmap-digest"}
        return Response(content, status_code=answer.status_code, headers=headers)

    return app


def test_a_roadmap_that_is_not_the_logs_is_refused(made: ag.Agreement, tmp_path: Path) -> None:
    other = adopted_yesterday(tmp_path / "other")  # the same template, other keys
    from cvid.roadmap.loader import digest, to_json

    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        _submit(client, made, 1, "x")
        fake = _proxy(url, roadmap=to_json(other.roadmap), digest=digest(other.roadmap))
        with serving(fake) as fake_url:
            with pytest.raises(MirrorError, match="refusing to mirror"):
                Mirror.open(
                    fake_url, tmp_path / "m1", made.log_signer().verifier, client=http
                ).follow()
            # a road map whose announced digest is not its own is refused at once
            lying = _proxy(url, roadmap=to_json(other.roadmap), digest=made.gate.digest)
            with serving(lying) as lying_url, pytest.raises(MirrorError, match="announces"):
                Mirror.open(lying_url, tmp_path / "m2", made.log_signer().verifier, client=http)
    other.close()


@pytest.mark.parametrize("chunk", [mirror_module.CHUNK, 2])
def test_a_tampered_tile_is_refused_and_nothing_unproven_is_kept(
    made: ag.Agreement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The newest entry is altered in every bundle served: the chunk holding it is
    refused; chunks before it, each proven a prefix of the signed tree, are kept."""

    def tamper(path: str, data: bytes) -> bytes:
        tile_id, _ = parse_tile_path(path)
        if tile_id.level != ENTRIES:
            return data
        entries = decode_bundle(data)
        entries[-1] = entries[-1].replace(b'"Load"', b'"Lead"')
        return encode_bundle(entries)

    monkeypatch.setattr(mirror_module, "CHUNK", chunk)
    key = made.log_signer().verifier
    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        size = _submit(client, made, 3, "t")
        with serving(_proxy(url, tile=tamper)) as bad_url:
            mirror = Mirror.open(bad_url, tmp_path / "m", key, client=http)
            with pytest.raises(MirrorError, match="not in the signed tree"):
                mirror.follow()
            kept = mirror.log.size()
            assert mirror.size == kept
            assert mirror.verified is None
            assert kept == (0 if chunk >= size else (size - 1) // chunk * chunk)
            mirror.close()
        good = Mirror.open(url, tmp_path / "m", key, client=http)  # the same directory
        assert good.size == kept
        done = good.follow()
        assert (done.new_size, done.admitted) == (size, size - kept)
        _same_as_service(good, client)
        good.close()


def test_witness_cosignatures_are_required_when_asked(made: ag.Agreement, tmp_path: Path) -> None:
    witness = CosignatureSigner.generate("witness.test.example")
    policy = WitnessPolicy(threshold=1, witnesses=(witness.verifier,))

    def cosigned(note: bytes) -> bytes:
        text = Note.from_bytes(note).text
        return add_cosignatures(note, [cosign(text, witness, at=int(time.time()))])

    key = made.log_signer().verifier
    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        _submit(client, made, 2, "w")
        bare = Mirror.open(url, tmp_path / "bare", key, client=http, policy=policy)
        with pytest.raises(MirrorError, match="0 of the 1 witness cosignatures"):
            bare.follow()
        bare.close()
        with serving(_proxy(url, checkpoint=cosigned)) as witnessed:
            mirror = Mirror.open(witnessed, tmp_path / "ok", key, client=http, policy=policy)
            assert mirror.follow().admitted > 0
            mirror.close()


def test_a_mirror_directory_follows_one_log(made: ag.Agreement, tmp_path: Path) -> None:
    from cvid.errors import ConfigError
    from cvid.log.note import Signer

    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        _submit(client, made, 1, "k")
        Mirror.open(url, tmp_path / "m", made.log_signer().verifier, client=http).close()
        stranger = Signer.generate(made.roadmap.agreement.origin).verifier
        with pytest.raises(ConfigError, match="mirrors the log of key"):
            Mirror.open(url, tmp_path / "m", stranger, client=http)
        with pytest.raises(MirrorError, match="key given is for"):
            Mirror.open(url, tmp_path / "n", Signer.generate("other.example").verifier, client=http)


def test_cvid_mirror_follows_and_serves_its_own_dashboard(
    made: ag.Agreement, tmp_path: Path
) -> None:
    """End to end: ``cvid mirror ... --serve PORT`` in its own process keeps up with the
    service and shows what it mirrored on its own dashboard; Ctrl-C stops it."""
    key_file = tmp_path / "log.vkey"
    key_file.write_text(made.log_signer().verifier.to_text() + "\n", encoding="utf-8")
    port = free_port()
    with _served(made.directory) as (url, client):
        size = _submit(client, made, 3, "e2e")
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from cvid.cli import main; main()",
                "mirror",
                url,
                str(tmp_path / "mirror"),
                "--vkey",
                str(key_file),
                "--interval",
                "0.1",
                "--serve",
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        try:
            mirror_url = f"http://127.0.0.1:{port}"
            for wanted in (size, _submit(client, made, 5, "e2e-more")):
                deadline = time.monotonic() + PROCESS_STARTUP_S
                while True:
                    assert process.poll() is None, process.communicate(timeout=10)
                    assert time.monotonic() < deadline, "the mirror's dashboard did not catch up"
                    try:
                        page = httpx.get(f"{mirror_url}/ledger/{wanted - 1}", timeout=10.0)
                    except httpx.HTTPError:
                        page = None
                    if page is not None and page.status_code == 200:
                        break
                    time.sleep(0.1)
            assert httpx.get(f"{mirror_url}/ledger/{wanted}", timeout=10.0).status_code == 404
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        assert b"mirrored" in out, err
        assert b"serving the mirror's dashboard" in out


def test_the_mirror_keeps_its_dashboards_listing_index_across_a_restart(
    made: ag.Agreement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept in a section of the mirror's snapshot: after a restart the dashboard's first
    filtered list indexes only the entries mirrored since, and lists the same rows."""
    from cvid.mirror import mirror_app

    monkeypatch.setattr(snap, "MIN_NEW", 1)  # a short log still writes sections
    key = made.log_signer().verifier
    where = tmp_path / "mirror"

    def rows(mirror: Mirror) -> list[str]:
        with serving(mirror_app(mirror)) as url:
            page = httpx.get(url + "/ledger?party=usa&limit=200", timeout=30.0)
        assert page.status_code == 200
        return re.findall(r'aria-label="Ledger entry (\d+)"', page.text)

    with _served(made.directory) as (url, client), httpx.Client(timeout=30.0) as http:
        size = _submit(client, made, 30, "first")
        mirror = Mirror.open(url, where, key, client=http)
        _follow_until(mirror, size)
        before = rows(mirror)
        first = listing.kept_index(mirror)
        assert first is not None
        assert first.restored == 0
        mirror.close()
        assert (where / "snapshots" / f"{size:012d}.{listing.SECTION}").is_file()

        grown = _submit(client, made, 5, "more")
        again = Mirror.open(url, where, key, client=http)
        _follow_until(again, grown)
        after = rows(again)
        index = listing.kept_index(again)
        assert index is not None
        assert index.restored == size
        fresh = listing.EventIndex(step_ids=index.step_ids)
        fresh.update(again.events())
        assert index.same(fresh)
        assert after == before + [str(i) for i in range(size, grown)]
        again.close()
