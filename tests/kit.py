"""An in-memory agreement for tests: the mini road map with deterministic keys.

``Kit`` signs events for any party, admits them through the real gate and appends
them to an in-memory log; ``Kit.evaluate`` runs the real engine. Keys come from fixed seeds, so runs
are reproducible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import yaml

from cvid.engine import AgreementState, evaluate
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.envelope import Event, sign_event
from cvid.log.note import Signer
from cvid.log.store import MemoryStore
from cvid.log.tlog import Log
from cvid.roadmap.loader import from_data
from cvid.roadmap.model import RoadMap

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini-roadmap.yaml"


def at(text: str) -> dt.datetime:
    """A UTC datetime from ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def seeded_signer(name: str, salt: str = "") -> Signer:
    """A signer whose seed is derived from its name (and ``salt``)."""
    return Signer.generate(name, seed=hashlib.sha256(f"cvid-test:{salt}:{name}".encode()).digest())


def with_keys(data: dict[str, Any], salt: str = "") -> tuple[dict[str, Any], dict[str, Signer]]:
    """Give every party in road-map ``data`` one seeded key; return data and signers."""
    signers = {}
    for party in data["parties"]:
        signer = seeded_signer(party["id"], salt)
        signers[party["id"]] = signer
        party["keys"] = [signer.verifier.to_text()]
    return data, signers


def mini_data() -> dict[str, Any]:
    """The mini road map as plain data (no keys), fresh for each call."""
    data: dict[str, Any] = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    return data


class Kit:
    """A road map with keys, a gate, a history and the events admitted so far."""

    def __init__(self, data: dict[str, Any] | None = None, *, salt: str = "") -> None:
        raw, self.signers = with_keys(data if data is not None else mini_data(), salt)
        self.roadmap: RoadMap = from_data(raw)
        self.gate = Gate(self.roadmap)
        self.history = History()
        self.events: list[AdmittedEvent] = []
        self.log = Log.create(MemoryStore(), self.roadmap.agreement.origin)

    def event(
        self,
        party: str,
        event_type: str,
        body: dict[str, Any],
        *,
        time: dt.datetime,
        seq: int | None = None,
    ) -> Event:
        """``party``'s next event (or the given ``seq``) for this road map."""
        return Event(
            agreement=self.roadmap.agreement.id,
            roadmap=self.gate.digest_at(time, self.history),
            type=event_type,
            party=party,
            seq=seq if seq is not None else self.history.seq.get(party, 0) + 1,
            time=time,
            body=body,
        )

    def signed(
        self, party: str, event_type: str, body: dict[str, Any], *, time: dt.datetime
    ) -> bytes:
        """The log entry of ``party``'s next event, signed with its key."""
        event = self.event(party, event_type, body, time=time)
        return sign_event(event, self.signers[party]).to_bytes()

    def submit(self, data: bytes, *, now: dt.datetime) -> AdmittedEvent:
        """Admit ``data`` (raising if refused) and record it, as a log would."""
        admitted = self.gate.admit(data, self.history, now=now, root_at=self.log.root)
        self.log.append([data])
        self.history.record(admitted)
        self.events.append(admitted)
        return admitted

    def act(
        self, party: str, event_type: str, body: dict[str, Any] | None = None, *, time: dt.datetime
    ) -> AdmittedEvent:
        """Sign and submit ``party``'s next event at ``time``."""
        return self.submit(self.signed(party, event_type, body or {}, time=time), now=time)

    def adopt(self, time: dt.datetime) -> None:
        """Every adopting party adopts the road map at ``time``."""
        for party in self.roadmap.agreement.adopted_by:
            self.act(party, "agreement.adopted", time=time)

    def evaluate(self, at: dt.datetime) -> AgreementState:
        version = self.gate.digest_at(at, self.history)
        return evaluate(self.gate.versions.get(version, self.roadmap), self.events, at=at)


def escrow_data() -> dict[str, Any]:
    """The mini road map with a declaration in escrow, a beacon and a reveal step."""
    data = mini_data()
    data["escrow"] = {
        "declarations": [{"id": "decl", "title": "Complete declaration", "by": "north"}],
        "quantity_tolerance": 0.05,
        "prior": {"kind": "uniform", "max_hidden": 5},
    }
    data["beacon"] = {"participants": ["north", "usa", "iaea"], "reveal_days": 7}
    data["phases"][0]["steps"].append(
        {
            "id": "reveal-north",
            "title": "Reveal the northern cells",
            "actor": "north",
            "action": "Reveal cells n1 and n2 of the declaration",
            "reveals": {"declaration": "decl", "cells": ["n1", "n2"]},
            "deadline": {"after": "adoption", "days": 90},
        }
    )
    data["rewards"].append(
        {
            "id": "confidence-relief",
            "title": "Banking relief once the declaration is trusted",
            "when": {"confidence": {"declaration": "decl", "at_least": 0.5}},
            "suspend_measures": ["m-banking"],
        }
    )
    data["consequences"].append(
        {
            "id": "false-declaration",
            "title": "False declaration",
            "when": {"any": [{"declaration_violated": "any"}, {"custody_flagged": "any"}]},
            "reimpose_measures": ["m-oil"],
        }
    )
    data["consequences"].append(
        {
            "id": "beacon-withheld",
            "title": "Beacon secret withheld",
            "when": {"beacon_missed": "any"},
            "council_procedure": "The Council considers the withheld beacon secret.",
        }
    )
    return data
