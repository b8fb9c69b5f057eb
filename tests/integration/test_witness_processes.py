"""Three ``cvid witness serve`` processes on loopback cosign a log, and refuse its forks.

The log is a real one: the dprk-phased agreement's entries, signed with its log key;
the witnesses are the ones its road map names (2 of 3 make a checkpoint final), each
a separate process with its own state file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cvid.agreement import Agreement, create_from_template
from cvid.errors import WitnessError
from cvid.log.checkpoint import open_checkpoint
from cvid.log.cosignature import Cosignature, CosignatureSigner, CosignatureVerifier
from cvid.log.note import Note, Signer
from cvid.log.store import MemoryStore
from cvid.log.tlog import Log
from cvid.witness.client import CosigningResult, Outcome, WitnessClient, cosign_checkpoint
from cvid.witness.state import LogState, WitnessState

pytestmark = pytest.mark.slow

CVID = Path(sys.executable).parent / "cvid"
ADOPTED = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
READY_TIMEOUT = 20.0
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass
class WitnessProcess:
    name: str
    process: subprocess.Popen[str]
    state: Path
    url: str = ""


def wait_until_listening(witness: WitnessProcess) -> None:
    """Read the process's first stdout line within a bounded time."""
    assert witness.process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if witness.process.poll() is not None:
            pytest.fail(f"witness {witness.name} exited with {witness.process.returncode}")
        ready, _, _ = select.select([witness.process.stdout], [], [], 0.2)
        if ready:
            line = witness.process.stdout.readline()
            match = LISTENING.search(line)
            assert match, f"unexpected first line from {witness.name}: {line!r}"
            witness.url = match.group(1)
            return
    pytest.fail(f"witness {witness.name} did not start listening in {READY_TIMEOUT} s")


def stop(witness: WitnessProcess) -> str:
    """Terminate the process (kill it if it lingers); return its stderr."""
    if witness.process.poll() is None:
        witness.process.send_signal(signal.SIGTERM)
    try:
        _, err = witness.process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        witness.process.kill()
        _, err = witness.process.communicate(timeout=10)
    return err


@pytest.fixture
def agreement(tmp_path: Path) -> Iterator[Agreement]:
    with create_from_template(tmp_path / "agreement", "dprk-phased", adopt_at=ADOPTED) as a:
        yield a


@pytest.fixture
def witnesses(tmp_path: Path, agreement: Agreement) -> Iterator[list[WitnessProcess]]:
    log_vkey = tmp_path / "log.vkey"
    log_vkey.write_text(agreement.log_signer().verifier.to_text() + "\n", encoding="utf-8")
    policy = agreement.witness_policy()
    assert policy is not None
    started: list[WitnessProcess] = []
    try:
        for verifier in policy.witnesses:
            key = agreement.directory / "keys" / "witnesses" / f"{verifier.name}.key"
            state = tmp_path / f"{verifier.name}.db"
            command = [str(CVID), "witness", "serve", "--key", str(key)]
            command += ["--log-key", str(log_vkey), "--state", str(state), "--port", "0"]
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            started.append(WitnessProcess(verifier.name, process, state))
        for witness in started:
            wait_until_listening(witness)
        yield started
    finally:
        for witness in started:
            stop(witness)


def copy_log(origin: str, entries: list[bytes]) -> Log:
    log = Log.create(MemoryStore(), origin)
    log.append(entries)
    return log


def ask(
    log: Log,
    signer: Signer,
    clients: list[WitnessClient],
    old_sizes: dict[str, int] | None = None,
) -> CosigningResult:
    size = log.size()
    return cosign_checkpoint(
        log.checkpoint(signer),
        witnesses=clients,
        proof_for=lambda old: list(log.consistency_proof(old, size).proof),
        old_sizes=old_sizes,
    )


def states(witnesses: list[WitnessProcess], origin: str) -> list[LogState]:
    return [WitnessState(w.state).get(origin) for w in witnesses]


def test_three_witnesses_cosign_and_refuse_forks(
    agreement: Agreement, witnesses: list[WitnessProcess]
) -> None:
    started = time.monotonic()
    policy = agreement.witness_policy()
    assert policy is not None
    assert (policy.threshold, len(policy.witnesses)) == (2, 3)
    signer = agreement.log_signer()
    origin = agreement.log.origin
    keys = {v.name: v for v in policy.witnesses}
    clients = [WitnessClient(w.url, keys[w.name], timeout=10) for w in witnesses]
    adopted = list(agreement.log.entries())
    assert adopted, "the agreement's adoption is on its log"

    # The honest log: the agreement's entries, then more. All three witnesses cosign.
    honest = copy_log(origin, adopted)
    first = ask(honest, signer, clients)
    assert first.cosigned == tuple(w.name for w in witnesses), first.outcomes
    open_checkpoint(first.checkpoint, signer.verifier)
    assert policy.verify(first.checkpoint).signed == first.cosigned

    honest.append([b"entry %d" % i for i in range(12)])
    second = ask(honest, signer, clients, first.witness_sizes())
    assert second.verify(policy).satisfied
    assert all(o.attempts == 1 for o in second.outcomes)
    final = states(witnesses, origin)
    assert final == [LogState(origin, honest.size(), honest.root(), final[0].checkpoint)] * 3

    # Fork 1: the same origin and key, the same size, another last entry (another root).
    same_size = copy_log(origin, [*adopted, *(b"entry %d" % i for i in range(11)), b"forged"])
    assert same_size.size() == honest.size()
    assert same_size.root() != honest.root()
    refused = ask(same_size, signer, clients)  # old size 0: learns the size, then 409 again
    assert refused.cosigned == ()
    for outcome in refused.outcomes:
        assert (outcome.outcome, outcome.status, outcome.attempts) == (Outcome.REFUSED, 409, 2)
        assert "forked" in outcome.body
    with pytest.raises(WitnessError, match="0 of 2 required witness cosignatures"):
        refused.verify(policy)
    assert states(witnesses, origin) == final

    # Fork 2: an earlier entry rewritten, the log grown past the cosigned size.
    rewritten = [*adopted, *(b"entry %d" % i for i in range(12))]
    rewritten[1] = b"a rewritten entry"
    rewritten.extend(b"later %d" % i for i in range(5))
    fork = copy_log(origin, rewritten)
    refused = ask(fork, signer, clients, second.witness_sizes())
    assert [(o.outcome, o.status) for o in refused.outcomes] == [(Outcome.REFUSED, 422)] * 3
    assert all("does not verify" in o.body for o in refused.outcomes)
    assert not refused.check(policy).satisfied
    assert states(witnesses, origin) == final

    # The honest log goes on being cosigned from where the witnesses stand.
    honest.append([b"after the forks"])
    third = ask(honest, signer, clients, second.witness_sizes())
    assert third.verify(policy).signed == tuple(w.name for w in witnesses)
    for witness in witnesses:
        kept = WitnessState(witness.state)
        assert (kept.get(origin).tree_size, kept.get(origin).root_hash) == (
            honest.size(),
            honest.root(),
        )
        # Each witness kept both signed forks as evidence of the log's misbehaviour.
        assert [e.status for e in kept.evidence(origin)] == [409, 422]
    logs = {w.name: stop(w) for w in witnesses}
    for name, err in logs.items():
        assert err.count("refused") >= 2, f"{name} did not log its refusals: {err}"
    assert time.monotonic() - started < 60


def test_keygen_writes_a_private_key_and_prints_the_verifier(tmp_path: Path) -> None:
    keyfile = tmp_path / "w.key"
    done = subprocess.run(
        [str(CVID), "witness", "keygen", "witness.example", "--out", str(keyfile)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    verifier = CosignatureVerifier.from_text(done.stdout.strip())
    assert verifier.name == "witness.example"
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    again = subprocess.run(
        [str(CVID), "witness", "keygen", "witness.example", "--out", str(keyfile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr


def test_serve_refuses_a_bad_log_key(tmp_path: Path) -> None:
    keyfile = tmp_path / "w.key"
    keyfile.write_text(CosignatureSigner.generate("w.example").to_text() + "\n", encoding="utf-8")
    command = [str(CVID), "witness", "serve", "--key", str(keyfile), "--log-key", "nonsense+key"]
    command += ["--state", str(tmp_path / "s.db"), "--port", "0"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("cvid: error: ")


def test_a_witness_given_now_dates_its_cosignatures_and_logs_on_that_clock(
    tmp_path: Path, agreement: Agreement
) -> None:
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
    log_vkey = tmp_path / "log.vkey"
    log_vkey.write_text(agreement.log_signer().verifier.to_text() + "\n", encoding="utf-8")
    policy = agreement.witness_policy()
    assert policy is not None
    verifier = policy.witnesses[0]
    key = agreement.directory / "keys" / "witnesses" / f"{verifier.name}.key"
    command = [str(CVID), "witness", "serve", "--key", str(key), "--log-key", str(log_vkey)]
    command += ["--state", str(tmp_path / "w.db"), "--port", "0", "--now", "2027-03-10T09:00Z"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    witness = WitnessProcess(verifier.name, process, tmp_path / "w.db")
    began = time.monotonic()
    try:
        wait_until_listening(witness)
        log = copy_log(agreement.log.origin, list(agreement.log.entries()))
        result = ask(log, agreement.log_signer(), [WitnessClient(witness.url, verifier)])
        assert result.cosigned == (verifier.name,), result.outcomes
    finally:
        err = stop(witness)
    bound = int(time.monotonic() - began) + 1  # the clock advanced at most this much
    (stamp,) = [
        Cosignature.from_signature(s).timestamp
        for s in Note.from_bytes(result.checkpoint).signatures
        if s.name == verifier.name
    ]
    assert start.timestamp() <= stamp <= start.timestamp() + bound, stamp
    (line,) = [line for line in err.splitlines() if " cosigned " in line]
    when = _utc(stamp)
    assert line.startswith("2027-03-10T09:"), line
    assert line.endswith(f"cosigned {agreement.log.origin} size {log.size()} at {when}"), line


def test_serve_refuses_a_now_that_is_not_a_time(tmp_path: Path) -> None:
    keyfile = tmp_path / "w.key"
    keyfile.write_text(CosignatureSigner.generate("w.example").to_text() + "\n", encoding="utf-8")
    vkey = Signer.generate("log.example").verifier.to_text()
    command = [str(CVID), "witness", "serve", "--key", str(keyfile), "--log-key", vkey]
    command += ["--state", str(tmp_path / "s.db"), "--port", "0", "--now", "10/03/2027"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode != 0
    assert "--now '10/03/2027' is not a date or an RFC 3339 time" in done.stderr
    assert "listening" not in done.stdout


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
