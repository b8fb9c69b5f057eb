"""``make demo``: the DPRK road map run as a signed log, saying what it does.

Creates the ``dprk-phased`` agreement in ``demo-out/agreement`` (keys for every
party, the SQLite log, the road map, the adoption events), then plays a short
history: the Council endorses the road map, the freeze is reported and verified,
the first relief tranche and the P5 negative security assurance follow, an event
that breaks the rules is refused, three monitoring devices at Yongbyon commit their
records hourly (a camera's gap puts continuity at risk, a seal's tamper alarm loses
it, the IAEA's re-verification re-establishes it; a period is revealed and
verified; a material balance is flagged), the disablement deadline is missed and its
consequence fires. It shows the state at several dates (time travel), writes the
HTML report, then proves it all from the log: a checkpoint cosigned by two of three
witnesses, an inclusion proof for one event, a full audit, and the log published as
tiles and verified from the files and the public key alone. Everything shown is
checked, not just printed.

Then it serves what it built (unless ``--no-serve``): the snapback procedure is
opened and two of the P5 sign the non-aggression assurance, two of the road map's
three witnesses start as processes of their own, and the service (API, published
tiles, dashboard, with the Kazakhstan 1991-2014 example beside it) answers on
127.0.0.1 with its clock set to the scenario's date. Ctrl-C stops everything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cvid import agreement as ag
from cvid.cli._render import inert, plain
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import EventRejectedError
from cvid.escrow import Escrow, Item, Partition, commit, reveal_cells, save_escrow
from cvid.events.authz_escrow import population, round_output
from cvid.events.monitoring_bodies import device_message
from cvid.log.audit import audit_log, verify_tiles
from cvid.log.checkpoint import open_checkpoint
from cvid.log.cosignature import add_cosignatures, cosign
from cvid.log.publish import export_tiles
from cvid.monitor.records import Period, commit_period, time_text
from cvid.monitor.store import save_period
from cvid.report import render_html
from cvid.verification.beacon import draw, secret_commitment

TEMPLATE = "dprk-phased"
P5 = ("chn", "fra", "rus", "gbr", "usa")
ADOPTED = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def _seed(label: str) -> bytes:
    # Demo witness keys come from fixed labels so the run is repeatable; never do this
    # for real keys (`cvid log keygen` uses the OS's random source).
    return hashlib.sha256(f"cvid demo key: {label}".encode()).digest()


def day(n: int) -> dt.datetime:
    """``n`` days after adoption."""
    return ADOPTED + dt.timedelta(days=n)


def _steps_table(state: AgreementState, title: str) -> Table:
    table = Table("step", "actor", "status", "why", title=title, title_justify="left")
    for step in state.steps.values():
        if step.status != "blocked":
            table.add_row(inert(step.id), inert(step.actor), inert(step.status), inert(step.reason))
    return table


def _play(a: ag.Agreement, out: Path) -> Escrow:
    """The history: endorsement, declaration in escrow, freeze, relief, assurance."""
    council = [
        p.id for p in a.roadmap.parties if {"council_permanent", "council_elected"} & set(p.roles)
    ]
    a.act(a.signer("usa"), "council.draft.tabled", {
        "draft": "endorse-roadmap", "title": "Endorsement of the road map", "purpose": "endorse",
    }, time=day(2))  # fmt: skip
    for member in council:
        a.act(
            a.signer(member),
            "council.vote.cast",
            {"draft": "endorse-roadmap", "vote": "yes"},
            time=day(3),
        )
    a.act(a.signer("usa"), "council.vote.closed", {"draft": "endorse-roadmap"}, time=day(3))
    escrow = _commit(a, out)
    for step in ("test-moratorium", "yongbyon-freeze", "complete-declaration"):
        a.act(a.signer("dprk"), "step.reported", {"step": step}, time=day(20))
    for party in ("usa", "rok"):
        a.act(
            a.signer(party), "step.reported", {"step": f"exercises-suspended-{party}"}, time=day(21)
        )
    for step in ("test-moratorium", "yongbyon-freeze", "complete-declaration"):
        a.act(
            a.signer("iaea"), "step.verified", {"step": step, "outcome": "confirmed"}, time=day(28)
        )
    for party in P5:
        a.act(a.signer(party), "guarantee.signed", {"guarantee": "g-nsa"}, time=day(35))
    return escrow


# An illustrative declaration: the Yongbyon and Sohae items are the facilities in the
# facts file (Chosun 2018; Pyongyang Declaration 2018); the other regions and their
# contents are placeholders for what a real declaration would hold.
DECLARATION = [
    Item("yongbyon-5mwe", "reactor", "yongbyon", {"power_mwe": 5}),
    Item("yongbyon-radiochemical-lab", "reprocessing", "yongbyon", {"spent_fuel_kg_per_day": 500}),
    Item("yongbyon-enrichment", "enrichment", "yongbyon", {"centrifuges": 2000}),
    Item("sohae-engine-test-site", "missile-test-site", "sohae"),
    Item("sohae-launch-platform", "missile-test-site", "sohae"),
    Item("base-1", "missile-base", "region-1", {"launchers": 4}),
    Item("store-1", "warhead-store", "region-3", {"warheads": 50}),
]
CELLS = ("yongbyon", "sohae", "region-1", "region-2", "region-3")
PASSPHRASE = "demo passphrase: never use a printed passphrase"


def _commit(a: ag.Agreement, out: Path) -> Escrow:
    """The complete declaration committed in escrow at the outset (before the freeze)."""
    escrow = commit(DECLARATION, Partition(CELLS), random_bytes=os.urandom)
    save_escrow(out / "dprk-declaration.escrow", escrow, PASSPHRASE, random_bytes=os.urandom)
    body = {"declaration": "dprk-declaration", "root": escrow.root.hex(), "size": escrow.size}
    a.act(a.signer("dprk"), "declaration.committed", {**body, "cells": list(CELLS)}, time=day(15))
    return escrow


def _declaration(a: ag.Agreement, console: Console, out: Path, escrow: Escrow) -> None:
    """Step 3: two cells revealed with proofs, a beacon round, an inspection of them."""
    for reveal in reveal_cells(escrow, ["yongbyon", "sohae"]):
        body = {"declaration": "dprk-declaration", "reveal": reveal.to_dict()}
        a.act(a.signer("dprk"), "declaration.revealed", body, time=day(40))
    secrets = {p: os.urandom(32) for p in ("dprk", "usa", "chn", "iaea")}
    for party, secret in secrets.items():
        commitment = secret_commitment("r1", party, secret).hex()
        a.act(
            a.signer(party),
            "beacon.committed",
            {"round": "r1", "commitment": commitment},
            time=day(45),
        )
    for party, secret in secrets.items():
        a.act(
            a.signer(party),
            "beacon.revealed",
            {"round": "r1", "secret": secret.hex()},
            time=day(45),
        )
    record = a.history.escrow.declarations["dprk-declaration"]
    output = round_output(a.roadmap, a.history.escrow, "r1", a.log.root)
    cells = draw(output, population(record, "revealed"), 2)
    plan = {"inspection": "i1", "declaration": "dprk-declaration", "round": "r1", "cells": cells}
    a.act(a.signer("iaea"), "inspection.planned", plan, time=day(46))
    items = a.history.escrow.declarations["dprk-declaration"].tracker.items()
    findings = [
        {"cell": c, "confirmed": sorted(i for i, v in items.items() if v[0] == c)} for c in cells
    ]
    a.act(
        a.signer("iaea"),
        "inspection.reported",
        {"inspection": "i1", "findings": findings},
        time=day(50),
    )
    state = a.state(at=day(50))
    decl = state.declarations["dprk-declaration"]
    assert state.steps["reveal-yongbyon-sohae"].status == "verified"
    console.print(
        f"[bold]3. Declaration[/] committed in escrow ({escrow.size} salted leaves, root "
        f"{escrow.root.hex()[:16]}…; items kept encrypted in "
        f"{out / 'dprk-declaration.escrow'}); revealed with proofs: "
        f"{', '.join(decl.revealed)}; still escrowed: {', '.join(decl.escrowed)}"
    )
    console.print(
        f"   beacon round r1 (dprk, usa, chn, iaea) drew {', '.join(cells)}; the IAEA found "
        f"them as declared; confidence nothing is hidden: {decl.confidence:.0%} "
        "(uniform prior, up to 5 cells)"
    )


# Continuous monitoring at Yongbyon (step 5): three devices of the road map, hourly
# commitments over three days from MONITORED, with a camera gap, a tamper alarm on the
# seal and a re-verification. Hours after MONITORED:
MONITORED = ADOPTED + dt.timedelta(days=52)
MONITOR_HOURS = 72
CAMERA_GAP = range(20, 25)  # the camera's periods not reported: at risk, not lost
TAMPER_HOUR = 30  # the seal's tamper alarm (15 minutes past): continuity lost
REVERIFIED_HOUR = 48  # the IAEA re-verifies the laboratory: a new baseline
DEVICES = ("cam-5mwe", "seal-radiochemical", "olem-enrichment")


def monitored(hours: float) -> dt.datetime:
    """``hours`` after monitoring began at Yongbyon."""
    return MONITORED + dt.timedelta(hours=hours)


def _device_records(device: str, start: dt.datetime, rng: random.Random) -> list[dict[str, Any]]:
    """A period's records, one every 5 minutes: what each kind of device reports."""
    rows: list[dict[str, Any]] = []
    for k in range(12):
        row: dict[str, Any] = {"time": time_text(start + dt.timedelta(minutes=5 * k))}
        if device.startswith("cam"):
            row["frame"] = rng.randbytes(16).hex()
        elif device.startswith("seal"):
            row["state"] = "closed"
        else:
            row["u235_percent"] = round(rng.gauss(0.72, 0.005), 4)
        rows.append(row)
    return rows


def _monitor(a: ag.Agreement, console: Console) -> None:
    """Step 5: devices installed, hourly commitments, a gap, a tamper, continuity lost and
    re-established; a period's records revealed and verified; material balances."""
    rng = random.Random(14)
    for device in DEVICES:
        a.act(a.signer("iaea"), "device.installed", {"device": device}, time=monitored(0))
        a.act(a.signer("dprk"), "device.acknowledged", {"device": device, "act": "installed"},
              time=monitored(0.25))  # fmt: skip
    agreement_id = a.roadmap.agreement.id
    kept: dict[tuple[str, int], Period] = {}

    def device_signed(device: str, kind: str, body: dict[str, Any], when: dt.datetime) -> None:
        message = device_message(agreement_id, kind, body)
        body["signature"] = a.device_signer(device).sign_message(message).hex()
        a.act(a.signer("dprk"), kind, body, time=when)

    for hour in range(MONITOR_HOURS):
        if hour == TAMPER_HOUR:
            at = monitored(hour + 0.25)
            device_signed("seal-radiochemical", "seal.tampered",
                          {"device": "seal-radiochemical", "at": time_text(at)}, at)  # fmt: skip
        if hour == REVERIFIED_HOUR:
            a.act(a.signer("iaea"), "continuity.reverified", {
                "items": ["yongbyon-radiochemical-lab"],
                "note": "seal replaced; the laboratory's inventory re-verified",
            }, time=monitored(hour))  # fmt: skip
        for device in DEVICES:
            if device == "cam-5mwe" and hour in CAMERA_GAP:
                continue
            if device == "seal-radiochemical" and hour == TAMPER_HOUR:
                continue  # the seal reported its alarm instead
            start = monitored(hour)
            period = commit_period(device, start, monitored(hour + 1),
                                   _device_records(device, start, rng),
                                   random_bytes=os.urandom)  # fmt: skip
            kept[device, hour] = period
            device_signed(device, "records.committed", period.commitment(), period.end)
    held = kept["cam-5mwe", 2]  # kept where `cvid monitor reveal` looks for it
    records = a.directory / "records" / "cam-5mwe"
    records.mkdir(parents=True)
    save_period(records / f"{held.start.strftime('%Y%m%dT%H%M%SZ')}.records", held,
                PASSPHRASE, random_bytes=os.urandom)  # fmt: skip
    a.act(a.signer("dprk"), "records.revealed", held.reveal(0, 6), time=monitored(MONITOR_HOURS))
    for ending, (pb, x, y, pe) in {
        "2027-02-28": (38.0, 0.0, 0.0, 37.9),
        "2027-03-31": (37.9, 0.0, 0.0, 36.2),
    }.items():
        a.act(a.signer("dprk"), "balance.reported", {
            "area": "mba-radiochemical", "period": ending, "pb": pb, "x": x, "y": y, "pe": pe,
            "sigma": 0.3,
        }, time=monitored(MONITOR_HOURS + 1))  # fmt: skip
    gap = a.state(at=monitored(CAMERA_GAP.stop - 0.5))
    lost = a.state(at=monitored(REVERIFIED_HOUR - 1))
    back = a.state(at=monitored(MONITOR_HOURS + 1))
    assert gap.continuity["yongbyon-5mwe"].status == "at-risk"
    assert lost.continuity["yongbyon-radiochemical-lab"].status == "lost"
    assert back.continuity["yongbyon-radiochemical-lab"].status == "maintained"
    assert back.continuity["yongbyon-5mwe"].status == "maintained"
    assert back.devices["cam-5mwe"].records_revealed == 6
    assert back.balances["mba-radiochemical"].flagged
    say = console.print
    say(f"[bold]5. Monitoring[/] at Yongbyon from {moment_text(MONITORED)}: "
        f"{', '.join(DEVICES)} installed by the IAEA and acknowledged by the DPRK; "
        f"{back.devices['cam-5mwe'].periods + back.devices['seal-radiochemical'].periods + back.devices['olem-enrichment'].periods} "  # noqa: E501
        "hourly commitments signed by the devices (records held off the log)")  # fmt: skip
    cam = gap.continuity["yongbyon-5mwe"]
    say(Text.assemble(f"   camera gap: yongbyon-5mwe {cam.status} on "
                      f"{moment_text(gap.at)} (", inert(cam.cause), ")"))  # fmt: skip
    lab = lost.continuity["yongbyon-radiochemical-lab"]
    say(Text.assemble(f"   tamper alarm: yongbyon-radiochemical-lab {lab.status} since "
                      f"{moment_text(lab.since)} (", inert(lab.cause), ")"))  # fmt: skip
    now = back.continuity["yongbyon-radiochemical-lab"]
    say(f"   re-verified by {now.baseline_by} on {moment_text(now.baseline_at)}: continuity "
        f"{now.status}; 6 records of {held.count} revealed with a range proof and verified "
        f"(the period kept encrypted in {records}); balance mba-radiochemical flagged: "
        f"MUF {back.balances['mba-radiochemical'].periods[-1].muf:.1f} kg > 3 sigma")  # fmt: skip


def main(out: Path = Path("demo-out"), *, serve: bool = True, port: int = 8000) -> None:
    """Run the walkthrough in ``out`` (recreated), then serve it unless ``serve`` is False."""
    console = Console(highlight=False, soft_wrap=True, width=150)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    directory = out / "agreement"
    with ag.create_from_template(directory, TEMPLATE, adopt_at=ADOPTED) as a:
        late = _walk(a, console, out)
        _prove(a, console, out)
        if serve:
            scenario_now = _procedure_under_way(a, console)
    console.print(
        f"Try: .venv/bin/cvid status {directory} --at {late.at.date()}   "
        "(the state when the disablement was a month late)",
        markup=False,
    )
    if serve:
        _serve(directory, out, console, scenario_now, port)


def _procedure_under_way(a: ag.Agreement, console: Console) -> dt.datetime:
    """Step 13: snapback notified after the missed deadline; an assurance partly signed."""
    due = a.state(at=a.events[-1].time).steps["disable-5mwe"].due
    assert due is not None
    notified = due + dt.timedelta(days=35)
    a.act(a.signer("usa"), "snapback.notified", {"reason": "disable-5mwe not done"}, time=notified)
    for party in ("gbr", "fra"):
        a.act(a.signer(party), "guarantee.signed", {"guarantee": "g-non-aggression"},
              time=notified + dt.timedelta(days=1))  # fmt: skip
    now = notified + dt.timedelta(days=3)
    state = a.state(at=now)
    window = state.snapbacks[-1]
    assert not state.guarantees["g-non-aggression"].in_force
    console.print(f"[bold]13. Under way[/] snapback notified {notified.date()} (window closes "
                  f"{moment_text(window.closes_at)}); g-non-aggression signed by "
                  f"{', '.join(state.guarantees['g-non-aggression'].signed_by)}")  # fmt: skip
    return now


def _serve(
    directory: Path, out: Path, console: Console, scenario_now: dt.datetime, port: int
) -> None:
    """Start two witnesses and the service; block until Ctrl-C, then stop them all."""
    from cvid.service.app import run
    from cvid.service.core import open_service

    with ag.Agreement.open(directory) as a:
        log_key = a.log_signer().verifier.to_text()
        witnesses = a.roadmap.witnesses.members[:2] if a.roadmap.witnesses else []
    cli = [sys.executable, "-c", "from cvid.cli import main; main()"]
    processes: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    # One clock for all: the scenario's date when the witnesses start, advancing from there.
    started = time.monotonic()

    def clock() -> dt.datetime:
        return scenario_now + dt.timedelta(seconds=time.monotonic() - started)

    try:
        for n, witness in enumerate(witnesses, 1):
            url = f"http://127.0.0.1:{port + n}"
            processes[witness.id] = (
                subprocess.Popen(
                    [
                        *cli,
                        "witness",
                        "serve",
                        "--key",
                        str(directory / ag.KEYS_DIR / ag.WITNESS_KEYS / f"{witness.id}.key"),
                        "--log-key",
                        log_key,
                        "--state",
                        str(out / f"{witness.id}.db"),
                        "--port",
                        str(port + n),
                        "--now",
                        clock().isoformat(),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                ),
                url,
            )
            _relay(processes[witness.id][0], f"{witness.id} (port {port + n})")
        for process, url in processes.values():
            _wait_until_listening(process, url)
        service = open_service(
            str(directory),
            clock=clock,
            witness_urls={wid: url for wid, (_, url) in processes.items()},
        )
        console.print(f"[bold]14. Serving[/] http://127.0.0.1:{port}/ (dashboard; API under "
                      f"/api/v1, docs /api/docs; tiles /checkpoint, /tile/...) with witnesses "
                      f"{', '.join(processes)}; the clock reads {scenario_now.date()}. "
                      "Ctrl-C stops.")  # fmt: skip
        run(service, host="127.0.0.1", port=port, examples=out)
    finally:
        for process, _ in processes.values():
            process.terminate()
        for process, _ in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _walk(a: ag.Agreement, console: Console, out: Path) -> AgreementState:
    """Steps 1-8: the agreement, its history, a refusal, a missed deadline, the report."""
    say = console.print
    rm = a.roadmap
    say(f"[bold]1. Agreement[/] {rm.agreement.title!r} created in {a.directory}")
    say(f"   road map {a.gate.digest}; keys for {len(rm.parties)} parties; "
        f"adopted by {', '.join(rm.agreement.adopted_by)} on {ADOPTED.date()}")  # fmt: skip

    escrow = _play(a, out)
    state = a.state(at=day(36))
    assert state.drafts["endorse-roadmap"].adopted
    assert state.rules["tranche-1"].fired
    assert state.guarantees["g-nsa"].in_force
    say(f"[bold]2. Played[/] {a.log.size()} signed events: Council endorsement "
        f"({state.drafts['endorse-roadmap'].tally.reason if state.drafts['endorse-roadmap'].tally else ''}), "  # noqa: E501
        "freeze reported and verified, exercises suspended, P5 assurance signed")  # fmt: skip
    say(_steps_table(state, f"State on {day(36).date()}"))
    relief = state.measures["unsc-tranche-1"]
    since = moment_text(relief.since)
    say(f"   sanctions tranche 1: {relief.status} since {since} ({relief.reason})")
    say(f"   guarantee g-nsa: {state.guarantees['g-nsa'].reason}")
    _declaration(a, console, out, escrow)

    try:
        a.act(a.signer("dprk"), "step.verified", {
            "step": "disable-5mwe", "outcome": "confirmed"}, time=day(51))  # fmt: skip
    except EventRejectedError as e:
        say(f"[bold]4. Refused[/] the DPRK verifying its own step: {e.reason}: {e}")
    else:  # pragma: no cover - admission must refuse it
        raise AssertionError("a party verified its own step")
    _monitor(a, console)

    due = state.steps["disable-5mwe"].due
    assert due is not None
    late = a.state(at=due + dt.timedelta(days=31))
    assert late.rules["disablement-missed"].fired
    say(f"[bold]6. Deadline[/] disable-5mwe was due {due.date()}; 31 days later:")
    say(_steps_table(late, f"State on {(due + dt.timedelta(days=31)).date()}"))
    for alert in late.alerts:
        say(Text.assemble("   alert: ", inert(alert)))
    past = a.state(at=day(10))
    assert not past.rules["tranche-1"].fired
    say(f"[bold]7. Time travel[/] on {day(10).date()} the relief had not fired; "
        f"{past.events_seen} events had been signed by then")  # fmt: skip

    report = out / "report.html"
    report.write_text(render_html(rm, late, digest=a.gate.digest), encoding="utf-8")
    say(f"[bold]8. Report[/] {report}")
    return late


def _prove(a: ag.Agreement, console: Console, out: Path) -> None:
    """Steps 9-12: checkpoint and witnesses, an inclusion proof, the audit, the tiles."""
    say = console.print
    size = a.log.size()
    late = a.state(at=a.events[-1].time)
    signer = a.log_signer()
    policy = a.witness_policy()
    assert policy is not None
    witnesses = [a.witness_signer(w.name) for w in policy.witnesses]
    note = a.log.checkpoint(signer)
    checkpoint, _ = open_checkpoint(note, signer.verifier)
    # The witnesses cosign at the scenario's time, as the service's clock reads it later.
    at = int(a.events[-1].time.timestamp())
    note = add_cosignatures(note, [cosign(checkpoint.to_text(), w, at=at) for w in witnesses[:2]])
    result = policy.verify(note)
    say(f"[bold]9. Checkpoint[/] size {checkpoint.tree_size} (nothing refused was logged: "
        f"{size} entries), cosigned by {', '.join(result.signed)}; missing: "
        f"{', '.join(result.missing)}")  # fmt: skip
    say(note.decode().rstrip(), markup=False)

    index = late.steps["yongbyon-freeze"].events[-1]
    proof = a.log.inclusion_proof(index, checkpoint.tree_size)
    proof.verify()
    say(f"[bold]10. Inclusion[/] the IAEA's verification of the Yongbyon freeze (entry {index}) "
        f"is in the signed tree: {len(proof.proof)} hashes, verified")  # fmt: skip
    audit = audit_log(a.log, verifier=signer.verifier)
    say(f"[bold]11. Audit[/] rebuilt {audit.tree_size} entries: {audit.tiles_checked} tiles "
        "agree; every entry was re-admitted when the agreement was opened")  # fmt: skip
    exported = export_tiles(a.log, out / "tiles", note)
    tiles = verify_tiles(out / "tiles", signer.verifier)
    say(f"[bold]12. Published[/] {exported.written} files as C2SP tlog-tiles in {out / 'tiles'}; "
        "verified from the files and the public key alone "
        f"(root {tiles.root_hash.hex()[:16]}…)")  # fmt: skip
    vkey = signer.verifier.to_text()
    say(f"Try: .venv/bin/cvid log verify-tiles {out / 'tiles'} --vkey '{vkey}'")


def _relay(process: subprocess.Popen[bytes], label: str) -> threading.Thread:
    """Copy a witness process's log lines to stderr, each under the witness's name."""
    stream = process.stderr
    assert stream is not None

    def copy() -> None:
        with stream:  # until the process ends
            for raw in stream:
                text = plain(raw.decode("utf-8", "replace")).strip()
                sys.stderr.write(f"   {label}: {text}\n")
                sys.stderr.flush()

    thread = threading.Thread(target=copy, name=f"relay {label}", daemon=True)
    thread.start()
    return thread


def _wait_until_listening(process: subprocess.Popen[bytes], url: str) -> None:
    """Wait (at most 30 s) until a witness process accepts connections."""
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the witness at {url} exited with {process.returncode}")
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the witness at {url} did not start")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the DPRK road map's history and serve it.")
    parser.add_argument("--no-serve", action="store_true", help="only run the walkthrough")
    parser.add_argument(
        "--port", type=int, default=8000, help="the service's port (witnesses: +1, +2)"
    )
    options = parser.parse_args()
    main(serve=not options.no_serve, port=options.port)
