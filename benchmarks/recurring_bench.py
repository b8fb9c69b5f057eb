"""The engine's cost with recurring obligations and quotas: 10^3-10^5 events.

Usage::

    python benchmarks/recurring_bench.py            # 10^3, 10^4 and 10^5 events
    python benchmarks/recurring_bench.py --quick    # 10^3 and 10^4 only

The road map: 20 parties each owe a daily report (``for_each``), confirmed by an
inspectorate, and a yearly inspection quota caps one inspecting party. Each stream
is as many days as the size needs: every party performs each day's occurrence (every
tenth a day late, every thirtieth never), the inspectorate confirms it, and the
inspecting party carries out an inspection each week. The 10^3 stream is signed and
admitted by the real gate; the larger ones reuse its signature bytes (the engine never
looks at signatures; the run checks both give the same state on the small one).

What is timed is ``evaluate(roadmap, events, at=END)`` for the stream's last day plus
thirty, best of ``--repeat`` runs. The work grows with the events and with the days
passed (one timer per occurrence), never with days ahead. Not a library module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from cvid.engine import evaluate
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.bodies import BODIES
from cvid.events.envelope import Event, SignedEvent, sign_event
from cvid.log.note import Signer
from cvid.roadmap.loader import from_data
from cvid.roadmap.model import RoadMap

PARTIES = tuple(f"p{n:02d}" for n in range(20))
T0 = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
err = Console(stderr=True, highlight=False)


def roadmap_data(keys: dict[str, Signer]) -> dict[str, Any]:
    parties: list[dict[str, Any]] = [{"id": p, "name": p, "roles": ["party"]} for p in PARTIES]
    parties.append({"id": "iaea", "name": "Inspectorate", "roles": ["verifier"]})
    for party in parties:
        party["keys"] = [keys[party["id"]].verifier.to_text()]
    return {
        "cvid_roadmap": 1,
        "agreement": {
            "id": "bench",
            "title": "Recurring bench",
            "origin": "cvid.bench/recurring",
            "start": dt.date(2027, 1, 1),
            "adopted_by": ["p00"],
        },
        "parties": parties,
        "phases": [
            {
                "id": "ph",
                "title": "Phase",
                "steps": [{"id": "s", "title": "S", "actor": "p00", "action": "A"}],
            }
        ],
        "obligations": [
            {
                "id": "daily",
                "title": "Daily report",
                "for_each": list(PARTIES),
                "action": "Report",
                "every": {"days": 1},
                "grace_days": 2,
                "verification": {"by": ["iaea"]},
            }
        ],
        "inspection_types": [{"id": "visit", "title": "Visit", "by": ["p01"]}],
        "quotas": [{"id": "q", "title": "Q", "party": "p01", "at_most": 60}],
    }


def plan(size: int) -> list[tuple[str, str, dict[str, Any], dt.datetime]]:
    out: list[tuple[str, str, dict[str, Any], dt.datetime]] = [("p00", "agreement.adopted", {}, T0)]
    day = 0
    while len(out) < size:
        day += 1
        date = (T0 + dt.timedelta(days=day)).date().isoformat()
        at = T0 + dt.timedelta(days=day, hours=12)
        for n, p in enumerate(PARTIES):
            if (day + n) % 30 == 0:
                continue
            when = at + dt.timedelta(days=1, hours=6) if (day + n) % 10 == 0 else at
            body = {"obligation": f"daily.{p}", "occurrence": date}
            out.append((p, "obligation.performed", body, when))
            out.append(
                (
                    "iaea",
                    "obligation.confirmed",
                    {**body, "outcome": "confirmed"},
                    when + dt.timedelta(hours=1),
                )
            )
        if day % 7 == 0:
            out.append(
                (
                    "p01",
                    "inspection.conducted",
                    {"type": "visit", "inspected": "p02", "site": "S"},
                    at,
                )
            )
    return sorted(out[:size], key=lambda x: x[3])


def build(
    roadmap: RoadMap,
    keys: dict[str, Signer],
    items: list[tuple[str, str, dict[str, Any], dt.datetime]],
    *,
    sign: bool,
) -> list[AdmittedEvent]:
    gate, history, out = Gate(roadmap), History(), []
    seq: dict[str, int] = {}
    dummy = {
        p: sign_event(
            Event(
                agreement="bench",
                roadmap=gate.digest,
                type="agreement.adopted",
                party=p,
                seq=1,
                time=T0,
                body={},
            ),
            k,
        )
        for p, k in keys.items()
    }
    for index, (party, kind, body, when) in enumerate(items):
        seq[party] = seq.get(party, 0) + 1
        event = Event(
            agreement="bench",
            roadmap=gate.digest,
            type=kind,
            party=party,
            seq=seq[party],
            time=when,
            body=body,
        )
        if sign:
            admitted = gate.admit(sign_event(event, keys[party]).to_bytes(), history, now=None)
            history.record(admitted)
        else:
            template = dummy[party]
            admitted = AdmittedEvent(
                index,
                SignedEvent(event, template.key_id, template.signature),
                BODIES[kind].model_validate(body),
            )
        out.append(admitted)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    keys = {
        p: Signer.generate(p, seed=hashlib.sha256(f"bench:{p}".encode()).digest())
        for p in (*PARTIES, "iaea")
    }
    roadmap = from_data(roadmap_data(keys))
    small = plan(sizes[0])
    end = small[-1][3] + dt.timedelta(days=30)
    if evaluate(roadmap, build(roadmap, keys, small, sign=True), at=end) != evaluate(
        roadmap, build(roadmap, keys, small, sign=False), at=end
    ):
        raise SystemExit("the signing shortcut changed the engine's answer")
    table = Table(
        "events", "days", "evaluate (s)", "events/s", "occurrences", title="Recurring obligations"
    )
    for size in sizes:
        items = plan(size)
        events = build(roadmap, keys, items, sign=False)
        end = items[-1][3] + dt.timedelta(days=30)
        best = float("inf")
        for _ in range(args.repeat):
            began = time.perf_counter()
            state = evaluate(roadmap, events, at=end)
            best = min(best, time.perf_counter() - began)
        occurrences = sum(len(o.occurrences) for o in state.obligations.values())
        table.add_row(
            f"{size:,}",
            str((end - T0).days),
            f"{best:.3f}",
            f"{size / best:,.0f}",
            f"{occurrences:,}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
