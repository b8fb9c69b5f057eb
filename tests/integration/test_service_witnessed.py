"""The service and the road map's witnesses: checkpoints become final, audits from a URL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from cvid import agreement as ag
from cvid.events.envelope import sign_event
from cvid.service.app import create_app
from cvid.service.core import open_service
from cvid.witness.server import create_witness_app
from tests.live import serving

CVID = Path(sys.executable).parent / "cvid"


def test_checkpoints_are_cosigned_until_final_and_audited_from_the_url(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = ag.create_from_template(tmp_path / "ag", "dprk-phased", adopt_at=now - dt.timedelta(1))
    policy = made.witness_policy()
    assert policy is not None
    log_key = made.log_signer().verifier
    with made, ExitStack() as stack:
        urls = {
            w.name: stack.enter_context(
                serving(
                    create_witness_app(
                        made.witness_signer(w.name),
                        {log_key.name: log_key},
                        str(tmp_path / f"{w.name}.db"),
                        clock=lambda: int(time.time()),
                    )
                )
            )
            for w in policy.witnesses[:2]  # the third witness is down: 2 of 3 suffice
        }
        urls[policy.witnesses[2].name] = "http://127.0.0.1:9"  # nothing listens there
        service = open_service(str(made.directory), witness_urls=urls, checkpoint_interval=0.1)
        url = stack.enter_context(serving(create_app(service, examples={})))
        entry = sign_event(
            made.next_event(
                "usa",
                "council.draft.tabled",
                {"draft": "endorse", "title": "Endorsement", "purpose": "endorse"},
                time=dt.datetime.now(dt.UTC).replace(microsecond=0),
            ),
            made.signer("usa"),
        ).to_bytes()
        assert httpx.post(f"{url}/api/v1/events", content=entry).status_code == 201
        size = made.log.size()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            published = httpx.get(f"{url}/api/v1/checkpoint").json()
            if published["tree_size"] == size and published["witnesses"]["final"]:
                break
            time.sleep(0.1)
        witnesses = published["witnesses"]
        assert witnesses["final"], published
        assert sorted(witnesses["signed"]) == sorted(w.name for w in policy.witnesses[:2])
        outcomes = {o["witness"]: o["outcome"] for o in witnesses["last_round"]}
        assert outcomes[policy.witnesses[2].name] == "unreachable"  # visible, not hidden
        note = httpx.get(f"{url}/checkpoint").content
        assert policy.verify(note).satisfied
        # an auditor with only the URL and the log's key
        audit = subprocess.run(
            [str(CVID), "log", "verify-tiles", url, "--vkey", log_key.to_text()],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert audit.returncode == 0, audit.stderr
        assert f"{size} entries" in audit.stdout
