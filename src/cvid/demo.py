"""``make demo``: a short walkthrough of the transparency log, saying what it does.

Creates a log in ``demo-out/`` (SQLite), appends road-map-like entries, signs a
checkpoint, has two witnesses cosign it, proves inclusion and consistency, publishes
the log as tiles and verifies them with nothing but the public key. Everything it
shows is checked, not just printed. The service and dashboard come later.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from rich.console import Console

from cvid.log.audit import audit_log, verify_tiles
from cvid.log.checkpoint import open_checkpoint
from cvid.log.cosignature import CosignatureSigner, WitnessPolicy, add_cosignatures, cosign
from cvid.log.note import Signer
from cvid.log.publish import export_tiles
from cvid.log.store import open_store
from cvid.log.tlog import Log

ORIGIN = "cvid.example/demo-log"

EVENTS = [
    {"kind": "agreement.opened", "party": "council", "text": "phased road map adopted"},
    {"kind": "declaration.committed", "party": "disarming-state", "cells": 141},
    {"kind": "guarantee.given", "party": "P5", "text": "security assurances, phase 1"},
    {"kind": "step.reported", "party": "disarming-state", "step": "freeze test site"},
    {"kind": "inspection.reported", "party": "inspectorate", "step": "freeze test site"},
]


def _seed(label: str) -> bytes:
    # Demo keys are derived from fixed labels so the run is repeatable; never do this
    # for real keys (`cvid log keygen` uses the OS's random source).
    return hashlib.sha256(f"cvid demo key: {label}".encode()).digest()


def main(out: Path = Path("demo-out")) -> None:
    """Run the walkthrough in ``out`` (recreated)."""
    console = Console(highlight=False, soft_wrap=True)
    say = console.print
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    signer = Signer.generate(ORIGIN, seed=_seed("log"))
    witnesses = [
        CosignatureSigner.generate(f"witness-{n}.example", seed=_seed(f"w{n}")) for n in (1, 2, 3)
    ]
    say(f"[bold]1. Log key[/] {signer.verifier.to_text()}")

    with Log.create(open_store(out / "log.db", create=True), ORIGIN) as log:
        say(f"[bold]2. Created[/] an empty log {ORIGIN!r} in {out / 'log.db'} (SQLite, WAL)")
        entries = [json.dumps(e, sort_keys=True).encode() for e in EVENTS]
        log.append(entries[:3])
        first = log.checkpoint(signer)
        log.append(entries[3:] + [f"filler entry {i}".encode() for i in range(1000)])
        say(f"[bold]3. Appended[/] {log.size()} entries in two batches")

        note = log.checkpoint(signer)
        checkpoint, _ = open_checkpoint(note, signer.verifier)
        at = int(time.time())
        note = add_cosignatures(
            note, [cosign(checkpoint.to_text(), w, at=at) for w in witnesses[:2]]
        )
        policy = WitnessPolicy(threshold=2, witnesses=tuple(w.verifier for w in witnesses))
        result = policy.verify(note)
        say(
            f"[bold]4. Checkpoint[/] size {checkpoint.tree_size}, cosigned by "
            f"{', '.join(result.signed)} ({policy.threshold} of {len(policy.witnesses)} required; "
            f"missing: {', '.join(result.missing)})"
        )
        say(note.decode().rstrip(), markup=False)

        proof = log.inclusion_proof(3, checkpoint.tree_size)
        proof.verify()
        say(
            f"[bold]5. Inclusion[/] entry 3 ({log.entry(3).decode()}) is in the checkpointed tree: "
            f"{len(proof.proof)} hashes, verified against the signed root"
        )
        first_cp, _ = open_checkpoint(first, signer.verifier)
        consistency = log.consistency_proof(first_cp.tree_size, checkpoint.tree_size)
        consistency.verify()
        assert consistency.old_root == first_cp.root_hash
        say(
            f"[bold]6. Consistency[/] the size-{first_cp.tree_size} checkpoint is a prefix of the "
            f"size-{checkpoint.tree_size} one: {len(consistency.proof)} hashes, verified"
        )

        report = audit_log(log, verifier=signer.verifier)
        say(
            f"[bold]7. Audit[/] rebuilt {report.tree_size} entries: {report.tiles_checked} "
            f"tiles and {report.checkpoints_checked} checkpoints agree"
        )
        exported = export_tiles(log, out / "tiles", note)
    tiles = verify_tiles(out / "tiles", signer.verifier)
    say(
        f"[bold]8. Published[/] {exported.written} files as C2SP tlog-tiles in {out / 'tiles'}; "
        f"verified from the files and the public key alone (root {tiles.root_hash.hex()[:16]}…)"
    )
    say(
        f"Try: .venv/bin/cvid log verify-tiles {out / 'tiles'} --vkey '{signer.verifier.to_text()}'"
    )


if __name__ == "__main__":
    main()
