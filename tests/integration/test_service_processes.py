"""Two service processes on one PostgreSQL log, both taking submissions."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import pytest

from cvid import agreement as ag
from cvid.events.envelope import sign_event
from tests.live import cvid_serve


def _now() -> dt.datetime:
    """Read at each use: events must be within the service's clock skew when sent."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_services_share_one_postgresql_log(tmp_path: Path, postgres_url: str) -> None:
    made = ag.create_from_template(
        tmp_path / "ag",
        "dprk-phased",
        adopt_at=_now() - dt.timedelta(days=1),
        database=postgres_url,
    )
    with made:
        tabled = {"draft": "endorse", "title": "Endorsement", "purpose": "endorse"}
        roles = {"council_permanent", "council_elected"}
        members = [p.id for p in made.roadmap.parties if roles & set(p.roles) and p.id != "usa"]
        first = sign_event(
            made.next_event("usa", "council.draft.tabled", tabled, time=_now()), made.signer("usa")
        ).to_bytes()
        votes = [
            sign_event(
                made.next_event(
                    m, "council.vote.cast", {"draft": "endorse", "vote": "yes"}, time=_now()
                ),
                made.signer(m),
            ).to_bytes()
            for m in members
        ]
        start = made.log.size()
        serving = ("--database", postgres_url, "--checkpoint-interval", "0.1")
        with (
            cvid_serve(made.directory, *serving) as a,
            cvid_serve(made.directory, *serving) as b,
        ):
            assert httpx.post(f"{a}/api/v1/events", content=first).status_code == 201
            indices = []
            for n, vote in enumerate(votes):  # alternate between the two processes
                answer = httpx.post(f"{(a, b)[n % 2]}/api/v1/events", content=vote, timeout=30)
                assert answer.status_code == 201, answer.text
                indices.append(answer.json()["index"])
            # a replay sent to the other process is refused there too
            again = httpx.post(f"{b}/api/v1/events", content=first)
            assert again.status_code == 409
            assert sorted(indices) == list(range(start + 1, start + 1 + len(votes)))
            total = start + 1 + len(votes)
            deadline = time.monotonic() + 30
            while True:  # each process picks up the other's entries
                sizes = [httpx.get(f"{u}/healthz").json()["checkpoint_size"] for u in (a, b)]
                if sizes == [total, total] or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert sizes == [total, total]
            states = [httpx.get(f"{u}/api/v1/state").json() for u in (a, b)]
            assert states[0]["drafts"] == states[1]["drafts"]
            assert len(states[0]["drafts"]["endorse"]["votes"]) == len(members)
        assert made.log.size() == total
