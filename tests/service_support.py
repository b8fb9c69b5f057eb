"""A realistic agreement for the dashboard's tests, read as a worked example is.

:func:`build_agreement` returns a :class:`cvid.service.app.FrozenSource` (SQLite log,
real keys, the real engine, a fixed clock) over the ``dprk-phased`` agreement, after
playing a short, realistic history on it: the Council
endorses the road map, the declaration is committed in escrow, the freeze is reported
and verified, the P5 sign their assurance, two cells are revealed and inspected, a
checkpoint is signed and cosigned by two of the three witnesses, and one more event is
logged after that checkpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from cvid import agreement as ag
from cvid.demo import CELLS, DECLARATION
from cvid.escrow import Partition, commit, reveal_cells
from cvid.events.authz_escrow import population, round_output
from cvid.log.checkpoint import Checkpoint, open_checkpoint
from cvid.log.cosignature import add_cosignatures, cosign
from cvid.log.note import Note
from cvid.service.app import FrozenSource
from cvid.verification.beacon import draw, secret_commitment

ADOPTED = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
P5 = ("chn", "fra", "rus", "gbr", "usa")
WITNESSES = ("witness.kz.example", "witness.ch.example")  # two of three: the threshold
DRAFT_TITLE = "Endorsement of the road map"


def day(n: int) -> dt.datetime:
    """``n`` days after adoption."""
    return ADOPTED + dt.timedelta(days=n)


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"cvid test beacon secret: {label}".encode()).digest()


def _history(a: ag.Agreement, draft_title: str) -> None:
    council = [
        p.id for p in a.roadmap.parties if {"council_permanent", "council_elected"} & set(p.roles)
    ]
    tabled = {"draft": "endorse-roadmap", "title": draft_title, "purpose": "endorse"}
    a.act(a.signer("usa"), "council.draft.tabled", tabled, time=day(2))
    for member in council:
        vote = {"draft": "endorse-roadmap", "vote": "yes"}
        a.act(a.signer(member), "council.vote.cast", vote, time=day(3))
    a.act(a.signer("usa"), "council.vote.closed", {"draft": "endorse-roadmap"}, time=day(3))

    escrow = commit(DECLARATION, Partition(CELLS), random_bytes=os.urandom)
    committed = {
        "declaration": "dprk-declaration",
        "root": escrow.root.hex(),
        "size": escrow.size,
        "cells": list(CELLS),
    }
    a.act(a.signer("dprk"), "declaration.committed", committed, time=day(15))
    for step in ("test-moratorium", "yongbyon-freeze", "complete-declaration"):
        a.act(a.signer("dprk"), "step.reported", {"step": step}, time=day(20))
    for party in ("usa", "rok"):
        step = f"exercises-suspended-{party}"
        a.act(a.signer(party), "step.reported", {"step": step}, time=day(21))
    for step in ("test-moratorium", "yongbyon-freeze", "complete-declaration"):
        verdict = {"step": step, "outcome": "confirmed"}
        a.act(a.signer("iaea"), "step.verified", verdict, time=day(28))
    for party in P5:
        a.act(a.signer(party), "guarantee.signed", {"guarantee": "g-nsa"}, time=day(35))

    for reveal in reveal_cells(escrow, ["yongbyon", "sohae"]):
        body = {"declaration": "dprk-declaration", "reveal": reveal.to_dict()}
        a.act(a.signer("dprk"), "declaration.revealed", body, time=day(40))
    participants = ("dprk", "usa", "chn", "iaea")
    for party in participants:
        commitment = secret_commitment("r1", party, _seed(party)).hex()
        body = {"round": "r1", "commitment": commitment}
        a.act(a.signer(party), "beacon.committed", body, time=day(45))
    for party in participants:
        body = {"round": "r1", "secret": _seed(party).hex()}
        a.act(a.signer(party), "beacon.revealed", body, time=day(45))
    record = a.history.escrow.declarations["dprk-declaration"]
    output = round_output(a.roadmap, a.history.escrow, "r1", a.log.root)
    cells = draw(output, population(record, "revealed"), 2)
    plan = {"inspection": "i1", "declaration": "dprk-declaration", "round": "r1", "cells": cells}
    a.act(a.signer("iaea"), "inspection.planned", plan, time=day(46))
    items = record.tracker.items()
    findings = [
        {"cell": c, "confirmed": sorted(i for i, v in items.items() if v[0] == c)} for c in cells
    ]
    report = {"inspection": "i1", "findings": findings}
    a.act(a.signer("iaea"), "inspection.reported", report, time=day(50))


def _cosigned_checkpoint(a: ag.Agreement) -> bytes:
    signer = a.log_signer()
    note = a.log.checkpoint(signer)
    checkpoint, _ = open_checkpoint(note, signer.verifier)
    at = int(day(51).timestamp())
    lines = [cosign(checkpoint.to_text(), a.witness_signer(w), at=at) for w in WITNESSES]
    return add_cosignatures(note, lines)


def build_agreement(
    directory: Path, *, draft_title: str = DRAFT_TITLE, now: dt.datetime | None = None
) -> FrozenSource:
    """Create the ``dprk-phased`` agreement in ``directory`` and play the history.

    The checkpoint covers every entry but the last (a late report logged on day 250); the
    clock reads day 300, after the disablement deadline and its 30 days of grace.
    """
    a = ag.create_from_template(directory, "dprk-phased", adopt_at=ADOPTED)
    _history(a, draft_title)
    note = _cosigned_checkpoint(a)
    a.log.store.save_checkpoint(Checkpoint.from_text(Note.from_bytes(note).text).tree_size, note)
    a.act(a.signer("dprk"), "step.reported", {"step": "disable-5mwe"}, time=day(250))
    return FrozenSource(a, now or day(300))
