"""Several writer processes at once, and writers killed at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cvid.log import merkle
from cvid.log.store import open_store
from cvid.log.tlog import Log
from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = str(tmp_path / "log.db")
        Log.create(open_store(path, create=True), "example.org/log").close()
        return path
    url: str = request.getfixturevalue("postgres_url")
    Log.create(open_store(url), "example.org/log").close()
    return url


def _writer(location: str, name: str, count: int, batch: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.writer", location, name, str(count), str(batch)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def _acknowledged(output: str) -> dict[int, bytes]:
    acked: dict[int, bytes] = {}
    for line in output.split("\n")[:-1]:  # a line cut short by SIGKILL acknowledges nothing
        index, entry = line.split(" ", 1)
        assert int(index) not in acked, f"index {index} acknowledged twice"
        acked[int(index)] = entry.encode()
    return acked


def _check_log(location: str, acked: dict[int, bytes]) -> list[bytes]:
    with Log(open_store(location)) as log:
        entries = list(log.entries())
        assert len(entries) == log.size()
        for index, entry in acked.items():
            assert entries[index] == entry
        leaves = merkle.LeafHashes([merkle.leaf_hash(e) for e in entries])
        assert log.root() == merkle.tree_root(len(entries), leaves)
        for size in sorted({1, len(entries) // 3, len(entries) - 1}):
            assert log.root(size) == merkle.tree_root(size, leaves)
            log.consistency_proof(size).verify()
    return entries


def test_concurrent_writers_get_consecutive_indices(location: str) -> None:
    writers = {f"w{n}": _writer(location, f"w{n}", 150, 1 + 7 * n) for n in range(4)}
    acked: dict[int, bytes] = {}
    for proc in writers.values():
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        acked.update(_acknowledged(out))
    assert sorted(acked) == list(range(600)), "indices have a gap or a duplicate"
    entries = _check_log(location, acked)
    for name in writers:  # each writer's entries appear in its own order
        mine = [e for e in entries if e.startswith(f"{name}:".encode())]
        assert mine == [f"{name}:{i}".encode() for i in range(150)]


def test_killed_writers_lose_no_acknowledged_entry(location: str) -> None:
    rng = random.Random(20261128)
    acked: dict[int, bytes] = {}
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 20:
        assert time.monotonic() < deadline, "crash test ran out of time"
        proc = _writer(location, f"k{kills}", 100_000, rng.choice([1, 3, 50, 300]))
        time.sleep(rng.uniform(0.3, 0.8))  # start-up is ~0.2 s: most kills land mid-append
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        acked.update(_acknowledged(out))
        kills += 1
    assert len(acked) > 20, "the writers were killed before appending anything"
    entries = _check_log(location, acked)
    # No partial batch: a writer's entries form a prefix of what it meant to write.
    for k in range(kills):
        mine = [e for e in entries if e.startswith(f"k{k}:".encode())]
        assert mine == [f"k{k}:{i}".encode() for i in range(len(mine))]
