"""The compliance engine's cost as the log grows: ``cvid.engine.evaluate`` at 10^3-10^5 events.

Usage::

    python benchmarks/engine_bench.py            # 10^3, 10^4 and 10^5 events
    python benchmarks/engine_bench.py --quick    # 10^3 and 10^4 only
    python benchmarks/engine_bench.py --repeat 7

The road map is synthetic: 200 steps in 10 phases (each phase waits for the one before;
deadlines after adoption, after a phase, after a step and on dates), 200 inventory items
in two categories, 10 sanctions measures, 5 guarantees signed by the five permanent
members, a reward per phase, consequences with days of grace, a 15-member Council voting
by Charter Art. 27 and a 30-day snapback. Each stream is a log an agreement could hold:
adoption, guarantee signatures, every step reported and verified in its phase's 60 days
(every tenth found not carried out first), two snapback notices (one continued by a
resolution, one not), and, filling it to size at random moments, verified steps
confirmed again, Council drafts with fifteen votes each, guarantees withdrawn and signed
again, and inspectors' observations. Every stream has the same mix (``MIX``: 40 % step
events, 25 % Council, 10 % guarantees, the rest observations), so that the time per event
compares like with like across sizes. The 10^3 stream is signed event by event and
admitted by the real gate, to show the generator writes admissible logs.

A second row set, the *continuing* stream, keeps the first one's figures comparable with
earlier runs while timing what an agreement in force for years holds. Its road map
(``continuing_roadmap_data``) adds a second state, south; three limits each on north
and south (kilograms, percent, centrifuges; both verifiers; a measurement due every 60
to 120 days); ``OBLIGATIONS`` recurring obligations owed by both (``for_each``, every 1
to 3 months, verified); a withdrawal with three months' notice; and consequences on a
limit exceeded, an occurrence missed and south withdrawn. Its stream adds to the same
process values declared and measured (each limit beyond its bound for about 15 days in
165, then back), occurrences performed and confirmed (some late, some found failed, one
in ten never performed; at smaller sizes a random subset, the rest missed) and south's
notice of withdrawal late on, after which nothing of south's is logged once the notice
may have run out. Its mix is ``MIX_CONTINUING``; its 10^3 stream is admitted by the gate
too. Both tables are printed, each with its baseline ratio and its cost growth.
``benchmarks/recurring_bench.py`` times daily obligations and quotas alone.

Signing is not what is measured, and signing 10^5 events would take longer than
evaluating them: every distinct (party, type, body) is signed once, and its copies get
their own time, sequence number and log index, so their signatures do not verify. The
engine never looks at signatures; the run checks that the 10^3 stream gives the same
state either way.

What is timed is ``evaluate(roadmap, events, at=END)`` and nothing else: the road map is
parsed and the events are built before the timer starts. Best of ``--repeat`` runs, or of
as many as fit in two seconds (at most 100) when that is more. The baseline, timed the
same way on the same events, is a plain loop that sorts the events by (time, index) and
does one dict update per event. Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import hashlib
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.console import Console
from rich.table import Table

from cvid.engine import AgreementState, evaluate
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.bodies import BODIES, Body
from cvid.events.envelope import Event, SignedEvent, sign_event
from cvid.log.note import Signer
from cvid.roadmap.loader import from_data
from cvid.roadmap.model import RoadMap

SEED = 20270101
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)

PHASES = 10
STEPS_PER_PHASE = 20
MEASURES = 10
GUARANTEES = 5
P5 = ("chn", "fra", "gbr", "rus", "usa")
ELECTED = tuple(f"e{n:02d}" for n in range(1, 11))
COUNCIL = (*P5, *ELECTED)
VERIFIERS = ("iaea", "ins2")
REACTOR = ("declared", "frozen", "disabled", "dismantled", "removed")
WARHEAD = ("declared", "stored", "dismantled")

START = dt.date(2027, 1, 1)
T0 = dt.datetime(2027, 1, 6, tzinfo=dt.UTC)  # every adopting party adopts
PHASE_DAYS = 60
FIRST_PHASE = T0 + dt.timedelta(days=10)
END = FIRST_PHASE + dt.timedelta(days=PHASES * PHASE_DAYS + 40)  # the ``at`` evaluated
NOTICES = (
    FIRST_PHASE + dt.timedelta(days=330, hours=3),  # continued by a resolution
    FIRST_PHASE + dt.timedelta(days=540, hours=3),  # not: the measures return
)

# The continuing stream (see ``continuing_roadmap_data``): limits on measured quantities
# for north and south, recurring obligations of both, and south's withdrawal late on.
LIMITED = ("north", "south")
QUANTITIES = (  # quantity, unit, max, tolerance, measure_every_days
    ("stock", "kg", 300.0, 1.0, 90),
    ("enrichment", "%", 3.67, 0.0, 60),
    ("centrifuges", "centrifuge", 5060.0, 0.0, 120),
)
OBLIGATIONS = 50
WITHDRAWAL_NOTICE_MONTHS = 3
WITHDRAWN_AT = FIRST_PHASE + dt.timedelta(days=420, hours=5)  # south notifies
# Three calendar months are at least 89 days: nothing of south's from then on.
SOUTH_GONE = WITHDRAWN_AT + dt.timedelta(days=89)

SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
err = Console(stderr=True, highlight=False)


def step_id(phase: int, step: int) -> str:
    return f"s{phase:02d}-{step:02d}"


def item_id(phase: int, step: int) -> str:
    return f"item-{phase * STEPS_PER_PHASE + step:03d}"


def target_state(phase: int, step: int) -> str:
    """The state step (phase, step) moves its item to."""
    return "stored" if (phase * STEPS_PER_PHASE + step) % 2 else "disabled"


def verified(step: int) -> bool:
    """Every fifth step needs no verification: reporting it is doing it."""
    return step % 5 != 4


# --- the road map ---------------------------------------------------------------------------


def signers() -> dict[str, Signer]:
    parties = ("north", "south", *P5, *ELECTED, *VERIFIERS, "ops")
    return {
        p: Signer.generate(p, seed=hashlib.sha256(f"cvid-bench:{p}".encode()).digest())
        for p in parties
    }


def roadmap_data(keys: dict[str, Signer]) -> dict[str, Any]:
    """The synthetic road map as plain data, as a YAML file would give it."""
    roles: dict[str, list[str]] = {
        "north": ["disarming_state", "party"],
        **{p: ["guarantor", "council_permanent"] for p in P5},
        **{p: ["council_elected"] for p in ELECTED},
        **{p: ["verifier"] for p in VERIFIERS},
        "ops": ["operator"],
    }
    phases = []
    for k in range(PHASES):
        steps = []
        for j in range(STEPS_PER_PHASE):
            deadline: dict[str, Any]
            if j == 0:  # in every third phase, a first step soon overdue
                anchor = f"phase-{k - 1}" if k else "adoption"
                deadline = {"after": anchor, "days": 5 if k % 3 == 2 else 45}
            elif j % 3 == 0:
                deadline = {"date": (FIRST_PHASE + dt.timedelta(days=(k + 1) * PHASE_DAYS)).date()}
            else:
                deadline = {"after": step_id(k, j - 1), "days": 4}
            step: dict[str, Any] = {
                "id": step_id(k, j),
                "title": f"Step {j} of phase {k}",
                "actor": "north",
                "action": "Carry out the step",
                "items": [{"item": item_id(k, j), "to": target_state(k, j)}],
                "depends_on": [f"phase-{k - 1}"] if k else [],
                "deadline": deadline,
            }
            if verified(j):
                step["verification"] = {"by": list(VERIFIERS)}
            steps.append(step)
        phases.append({"id": f"phase-{k}", "title": f"Phase {k}", "steps": steps})
    measures = [f"m-{k}" for k in range(MEASURES)]
    guarantees = [f"g-{n}" for n in range(GUARANTEES)]
    rewards: list[dict[str, Any]] = [
        {
            "id": f"relief-{k}",
            "title": f"Relief for phase {k}",
            "when": {"verified": f"phase-{k}"},
            "suspend_measures": [measures[k]],
            "aid": [f"Aid tranche {k}"],
        }
        for k in range(PHASES)
    ]
    rewards += [
        {
            "id": "assurances",
            "title": "Security assurances",
            "when": {"all": [{"verified": "phase-1"}, {"adopted": True}]},
            "bring_into_force": guarantees,
        },
        {
            "id": "review",
            "title": "Mid-term review",
            "when": {"date_after": (FIRST_PHASE + dt.timedelta(days=300)).date()},
            "aid": ["Review conference"],
        },
    ]
    consequences: list[dict[str, Any]] = [
        {
            "id": f"late-{k}",
            "title": f"Phase {k} started late",
            "when": {"overdue": {"step": step_id(k, 0), "grace_days": 2}},
            "reimpose_measures": [measures[k]],
            "council_procedure": "The Council considers the delay.",
        }
        for k in range(PHASES)
    ]
    consequences += [
        {
            "id": "violation",
            "title": "A step found not carried out",
            "when": {"violated": "any"},
            "council_procedure": "The Council considers the finding.",
        },
        {
            "id": "regression",
            "title": "Irreversibility breached",
            "when": {"irreversibility_violated": "any"},
            "reimpose_measures": measures,
            "suspend_guarantees": guarantees,
        },
        {
            "id": "lapse",
            "title": "Assurances lapse after a snapback",
            "when": {"snapback_completed": True},
            "suspend_guarantees": [guarantees[0]],
        },
    ]
    return {
        "cvid_roadmap": 1,
        "agreement": {
            "id": "bench",
            "title": "A synthetic road map for the engine benchmark",
            "origin": "bench.example/engine",
            "start": START,
            "adopted_by": ["north", *P5],
        },
        "parties": [
            {"id": p, "name": p.upper(), "roles": r, "keys": [keys[p].verifier.to_text()]}
            for p, r in roles.items()
        ],
        "council": {"size": 15, "affirmative_votes": 9},
        "inventory": {
            "categories": [
                {"id": "reactor", "title": "Reactors"},
                {"id": "warhead", "title": "Warheads", "lifecycle": list(WARHEAD)},
            ],
            "items": [
                {
                    "id": item_id(k, j),
                    "title": f"Item {k}-{j}",
                    "category": "warhead" if (k * STEPS_PER_PHASE + j) % 2 else "reactor",
                }
                for k in range(PHASES)
                for j in range(STEPS_PER_PHASE)
            ],
        },
        "measures": [{"id": x, "title": x, "source": "Resolution X"} for x in measures],
        "guarantees": [
            {"id": g, "title": g, "text": "Assurance", "guarantors": list(P5), "threshold": 3}
            for g in guarantees
        ],
        "phases": phases,
        "rewards": rewards,
        "consequences": consequences,
        "snapback": {"entitled": list(P5), "window_days": 30},
        "permissions": {"step.waived": ["ops"]},
    }


def limit_id(party: str, quantity: str) -> str:
    return f"{party}-{quantity}"


def obligation_spec(r: int) -> tuple[int, dt.date]:
    """Obligation r's period in months (1 to 3) and the date it is counted from."""
    return 1 + r % 3, dt.date(2027, 1, 10 + r % 15)


def continuing_roadmap_data(keys: dict[str, Signer]) -> dict[str, Any]:
    """The road map of the continuing stream: the synthetic one, plus a second state
    (south), three limits each on north and south (units, both verifiers, a measurement
    due every 60-120 days), ``OBLIGATIONS`` recurring obligations owed by both
    (``for_each``, every 1-3 months, verified), a withdrawal with three months' notice,
    and consequences on a limit exceeded, an occurrence missed and south withdrawn."""
    data = roadmap_data(keys)
    data["parties"].append(
        {
            "id": "south",
            "name": "SOUTH",
            "roles": ["party"],
            "keys": [keys["south"].verifier.to_text()],
        }
    )
    data["limits"] = [
        {
            "id": limit_id(party, quantity),
            "title": f"{party}'s {quantity}",
            "party": party,
            "quantity": quantity,
            "unit": unit,
            "max": bound,
            "tolerance": tolerance,
            "measure_every_days": every,
            "verifiers": list(VERIFIERS),
        }
        for party in LIMITED
        for quantity, unit, bound, tolerance, every in QUANTITIES
    ]
    data["obligations"] = []
    for r in range(OBLIGATIONS):
        months, anchor = obligation_spec(r)
        data["obligations"].append(
            {
                "id": f"o{r:02d}",
                "title": f"Recurring report {r}",
                "for_each": list(LIMITED),
                "action": "Hand over the report",
                "every": {"months": months},
                "from": anchor,
                "grace_days": 5,
                "verification": {"by": list(VERIFIERS)},
            }
        )
    data["withdrawal"] = {"notice": {"months": WITHDRAWAL_NOTICE_MONTHS}}
    data["consequences"] += [
        {
            "id": "over-a-limit",
            "title": "A limit exceeded",
            "when": {"limit_exceeded": "any"},
            "council_procedure": "The Council considers the exceedance.",
        },
        {
            "id": "missed",
            "title": "A recurring obligation missed",
            "when": {"obligation_missed": "any"},
            "council_procedure": "The Council considers the omission.",
        },
        {
            "id": "south-left",
            "title": "South has withdrawn",
            "when": {"party_withdrawn": "south"},
            "council_procedure": "The Council considers the withdrawal.",
        },
    ]
    return data


# --- the event streams ----------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One event of a stream before it is an envelope: who, what, when."""

    time: dt.datetime
    party: str
    type: str
    body: dict[str, Any]


def core_events(*, continuing: bool = False) -> tuple[list[Planned], dict[str, dt.datetime]]:
    """What every stream holds, and when each step is done (its item moved); the
    continuing stream also holds south's notice of withdrawal."""
    out = [Planned(T0, p, "agreement.adopted", {}) for p in ("north", *P5)]
    out += [
        Planned(
            T0 + DAY + n * HOUR + i * dt.timedelta(minutes=1),
            p,
            "guarantee.signed",
            {"guarantee": f"g-{n}"},
        )
        for n in range(GUARANTEES)
        for i, p in enumerate(P5)
    ]
    done: dict[str, dt.datetime] = {}
    for k in range(PHASES):
        for j in range(STEPS_PER_PHASE):
            sid, item = step_id(k, j), item_id(k, j)
            reported = FIRST_PHASE + k * PHASE_DAYS * DAY + j * dt.timedelta(days=2.5) + HOUR
            out.append(Planned(reported, "north", "step.reported", {"step": sid}))
            if not verified(j):
                done[sid] = reported
                continue
            when = reported + DAY
            if j % 10 == 1:  # found not carried out first, confirmed a day later
                failed = {"step": sid, "outcome": "failed", "items": {}, "note": "seals broken"}
                out.append(Planned(when, "iaea", "step.verified", failed))
                when += DAY
            items = {item: target_state(k, j)}
            confirmed = {"step": sid, "outcome": "confirmed", "items": items}
            inspector = "iaea" if j % 10 == 1 else VERIFIERS[j % 2]
            out.append(Planned(when, inspector, "step.verified", confirmed))
            done[sid] = when
    for n, notice in enumerate(NOTICES):
        out.append(Planned(notice, P5[n], "snapback.notified", {"reason": "non-performance"}))
    draft = {"draft": "continue", "title": "Continue the relief", "purpose": "continue_relief"}
    out.append(Planned(NOTICES[0] + 2 * DAY, "e01", "council.draft.tabled", draft))
    out += [
        Planned(NOTICES[0] + 3 * DAY, p, "council.vote.cast", {"draft": "continue", "vote": "yes"})
        for p in COUNCIL
    ]
    out.append(Planned(NOTICES[0] + 5 * DAY, "e01", "council.vote.closed", {"draft": "continue"}))
    if continuing:
        out.append(
            Planned(WITHDRAWN_AT, "south", "party.withdrawal_notified", {"reason": "review"})
        )
    return out, done


def kind(event: Planned) -> str:
    """Which share of the mix an event belongs to (see ``MIX``)."""
    family = event.type.split(".")[0]
    known = ("step", "council", "guarantee", "quantity", "obligation")
    return family if family in known else "observe"


# The share of each kind of event in every stream, whatever its size, so that the time per
# event compares like with like: step reports and verifications (the process above, then
# re-verifications of steps already done), Council drafts with their votes,
# guarantees withdrawn and signed again; the rest are inspectors' observations.
MIX = {"step": 0.40, "council": 0.25, "guarantee": 0.10}
# The continuing stream's mix: the same share of step events, fewer Council, guarantee
# and observation events, and values declared and measured against the limits,
# recurring obligations performed and confirmed. The obligations' share is what their
# occurrences allow at 10^5 events (about 990 that may be performed, each with its
# confirmation; one in ten is never performed); at every size it is a random subset of
# them, the rest missed.
MIX_CONTINUING = {
    "step": 0.40,
    "council": 0.20,
    "guarantee": 0.08,
    "quantity": 0.15,
    "obligation": 0.018,
}


class Filler:
    """Events that fill a stream to size, at random moments, kind by kind."""

    def __init__(self, rng: random.Random, done: dict[str, dt.datetime]) -> None:
        self.rng = rng
        self.done = done
        # Steps a verifier can confirm again (a step done is never reported again).
        self.finished = sorted((t, sid) for sid, t in done.items() if verified(int(sid[4:6])))
        self.drafts = 0
        self.withdrawn: dict[tuple[str, str], dt.datetime] = {}  # signed again at

    def fill(self, what: str, count: int) -> list[Planned]:
        """``count`` events of one kind (the last block cut short if need be); fewer
        obligation events when the occurrences run out."""
        if what == "obligation":
            return self.obligations(count)
        size = {"council": 2 + len(COUNCIL), "guarantee": 2}.get(what, 1)
        first = self.finished[0][0] if what == "step" else FIRST_PHASE
        seconds = int((END - first).total_seconds()) - 2 * 86_400
        moments = sorted(self.rng.randrange(seconds) for _ in range(-(-count // size)))
        out: list[Planned] = []
        for second in moments:
            when = first + dt.timedelta(seconds=second)
            if what == "step":
                out += self.step(when)
            elif what == "council":
                out += self.council(when)
            elif what == "guarantee":
                out += self.guarantee(when)
            elif what == "quantity":
                out += self.quantity(when)
            else:
                out += self.observe(when)
        return out[:count]

    def step(self, when: dt.datetime) -> list[Planned]:
        """A step done before ``when`` verified again."""
        done = bisect.bisect_left(self.finished, (when, ""))
        sid = self.finished[self.rng.randrange(max(done, 1))][1]
        k, j = int(sid[1:3]), int(sid[4:6])
        items = {item_id(k, j): target_state(k, j)}
        body = {"step": sid, "outcome": "confirmed", "items": items}
        return [Planned(when, self.rng.choice(VERIFIERS), "step.verified", body)]

    def observe(self, when: dt.datetime) -> list[Planned]:
        """One to three items, each in the state the record gives it at ``when``."""
        items = {}
        for _ in range(self.rng.randint(1, 3)):
            k, j = self.rng.randrange(PHASES), self.rng.randrange(STEPS_PER_PHASE)
            moved = self.done[step_id(k, j)] <= when
            items[item_id(k, j)] = target_state(k, j) if moved else "declared"
        return [Planned(when, self.rng.choice(VERIFIERS), "inventory.observed", {"items": items})]

    def guarantee(self, when: dt.datetime) -> list[Planned]:
        """A guarantor withdraws its signature and signs again an hour later."""
        keys = [(p, f"g-{n}") for p in P5 for n in range(GUARANTEES)]
        free = [key for key in keys if self.withdrawn.get(key, when) <= when]
        party, guarantee = self.rng.choice(free)
        self.withdrawn[party, guarantee] = when + HOUR
        return [
            Planned(
                when, party, "guarantee.withdrawn", {"guarantee": guarantee, "reason": "review"}
            ),
            Planned(when + HOUR, party, "guarantee.signed", {"guarantee": guarantee}),
        ]

    def quantity(self, when: dt.datetime) -> list[Planned]:
        """A value of one limit declared by its party (one in three) or measured by a
        verifier. Each limit is beyond its bound for about 15 days in every 165, then
        back; some kilograms are given in grams. South's limits are left alone once
        its withdrawal may have taken effect."""
        parties = LIMITED if when < SOUTH_GONE else LIMITED[:1]
        party = self.rng.choice(parties)
        n = self.rng.randrange(len(QUANTITIES))
        quantity, unit, bound, _, _ = QUANTITIES[n]
        over = ((when - T0).days // 15 + 5 * n + 3 * LIMITED.index(party)) % 11 == 0
        value = bound * (self.rng.uniform(1.05, 1.3) if over else self.rng.uniform(0.5, 0.95))
        if unit == "centrifuge":
            value = float(round(value))
        body: dict[str, Any] = {"limit": limit_id(party, quantity), "value": round(value, 3)}
        body["unit"] = unit
        if unit == "kg" and self.rng.random() < 0.2:
            body |= {"value": round(value * 1000, 1), "unit": "g"}
        if self.rng.random() < 1 / 3:
            return [Planned(when, party, "quantity.declared", body)]
        body["uncertainty"] = round(abs(body["value"]) * 0.005, 4)
        return [Planned(when, self.rng.choice(VERIFIERS), "quantity.measured", body)]

    def obligations(self, count: int) -> list[Planned]:
        """Occurrences performed by their party (a few days early, one in eight a day
        late) and confirmed by a verifier a day later (one in twenty found failed), as
        many as ``count`` allows, chosen at random; one occurrence in ten is never
        performed. Nothing of south's once its withdrawal may have taken effect."""
        last = (END - 5 * DAY).date()
        pool: list[tuple[dt.datetime, str, str, dt.date]] = []
        for r in range(OBLIGATIONS):
            months, anchor = obligation_spec(r)
            for i, party in enumerate(LIMITED):
                for k in range(1, 100):
                    total = anchor.month - 1 + k * months
                    due = dt.date(anchor.year + total // 12, total % 12 + 1, anchor.day)
                    if due > last:
                        break
                    if (r + k + i) % 10 == 0:
                        continue  # missed
                    start = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC)
                    late = (r + 3 * k + i) % 8 == 0
                    performed = start + DAY if late else start - self.rng.randrange(5) * DAY
                    if party == "south" and performed + DAY >= SOUTH_GONE:
                        continue
                    pool.append((performed, party, f"o{r:02d}.{party}", due))
        picked = sorted(self.rng.sample(pool, min(len(pool), -(-count // 2))))
        out: list[Planned] = []
        for performed, party, obligation, due in picked:
            body = {"obligation": obligation, "occurrence": due.isoformat()}
            out.append(Planned(performed, party, "obligation.performed", body))
            outcome = "failed" if self.rng.random() < 0.05 else "confirmed"
            finding = {**body, "outcome": outcome}
            verifier = self.rng.choice(VERIFIERS)
            out.append(Planned(performed + DAY, verifier, "obligation.confirmed", finding))
        return out[:count]

    def council(self, when: dt.datetime) -> list[Planned]:
        """A draft tabled, fifteen votes ten minutes later, the vote closed a day later.
        One draft in five is vetoed."""
        self.drafts += 1
        draft = f"d{self.drafts:05d}"
        measure = f"m-{self.rng.randrange(MEASURES)}"
        body: dict[str, Any] = {"draft": draft, "title": f"Draft {draft}"}
        if self.rng.random() < 0.5:
            body |= {"purpose": "other", "suspend_measures": [measure]}
        else:
            body |= {"purpose": "endorse", "reimpose_measures": [measure]}
        veto = self.rng.choice(P5) if self.rng.random() < 0.2 else None
        votes = []
        for n, party in enumerate(COUNCIL):
            choice = "no" if party == veto else self.rng.choice(("yes", "yes", "abstain"))
            cast = when + 10 * MINUTE + n * SECOND
            votes.append(
                Planned(cast, party, "council.vote.cast", {"draft": draft, "vote": choice})
            )
        sponsor = self.rng.choice(COUNCIL)
        return [
            Planned(when, sponsor, "council.draft.tabled", body),
            *votes,
            Planned(when + DAY, sponsor, "council.vote.closed", {"draft": draft}),
        ]


def plan(count: int, *, continuing: bool = False) -> list[Planned]:
    """A stream of exactly ``count`` events in log order (time order), the same every run."""
    core, done = core_events(continuing=continuing)
    if count < 2 * len(core):
        raise SystemExit(f"a stream needs at least {2 * len(core)} events")
    have = Counter(kind(e) for e in core)
    filler = Filler(random.Random(SEED + count + (7 if continuing else 0)), done)
    extra: list[Planned] = []
    for what, share in (MIX_CONTINUING if continuing else MIX).items():
        extra += filler.fill(what, round(share * count) - have[what])
    extra += filler.fill("observe", count - len(core) - len(extra))
    # Stable: among equal times, the order in which they were written.
    return sorted(core + extra, key=lambda e: e.time)


def admit_all(
    roadmap: RoadMap, keys: dict[str, Signer], planned: Sequence[Planned]
) -> list[AdmittedEvent]:
    """Sign every event and admit it through the real gate (raises on a refusal)."""
    gate, history = Gate(roadmap), History()
    out = []
    for p in planned:
        event = Event(
            agreement=roadmap.agreement.id,
            roadmap=gate.digest,
            type=p.type,
            party=p.party,
            seq=history.seq.get(p.party, 0) + 1,
            time=p.time,
            body=p.body,
        )
        admitted = gate.admit(sign_event(event, keys[p.party]).to_bytes(), history, now=p.time)
        history.record(admitted)
        out.append(admitted)
    return out


def build(
    roadmap: RoadMap, keys: dict[str, Signer], planned: Sequence[Planned]
) -> list[AdmittedEvent]:
    """The same events, each distinct (party, type, body) signed and parsed once."""
    digest = Gate(roadmap).digest
    templates: dict[tuple[str, str, str], tuple[SignedEvent, Body]] = {}
    seq: Counter[str] = Counter()
    out = []
    for index, p in enumerate(planned):
        seq[p.party] += 1
        event = Event(
            agreement=roadmap.agreement.id,
            roadmap=digest,
            type=p.type,
            party=p.party,
            seq=seq[p.party],
            time=p.time,
            body=p.body,
        )
        key = (p.party, p.type, json.dumps(p.body, sort_keys=True))
        if key not in templates:
            templates[key] = (
                sign_event(event, keys[p.party]),
                BODIES[p.type].model_validate(p.body),
            )
        template, body = templates[key]
        out.append(
            AdmittedEvent(index, SignedEvent(event, template.key_id, template.signature), body)
        )
    return out


# --- timing ---------------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], object], *, budget: float = 2.0) -> float:
    """The fastest of at least ``repeat`` runs, more (up to 100) while they take less than
    ``budget`` seconds in all: a short run is more easily disturbed by other work."""
    times: list[float] = []
    while len(times) < repeat or (sum(times) < budget and len(times) < 100):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline(events: Sequence[AdmittedEvent]) -> int:
    """Touch each event once: sort by (time, index), one dict update per event."""
    last: dict[str, int] = {}
    for ev in sorted(events, key=lambda e: (e.time, e.index)):
        last[ev.party] = ev.index
    return len(last)


@dataclass(frozen=True)
class Row:
    count: int
    engine: float
    baseline: float

    @property
    def per_event(self) -> float:
        return self.engine / self.count


def summary(state: AgreementState) -> str:
    steps = Counter(s.status for s in state.steps.values())
    fired = sum(1 for r in state.rules.values() if r.fired)
    adopted = sum(1 for d in state.drafts.values() if d.adopted)
    outcomes = ", ".join(w.outcome for w in state.snapbacks)
    out = (
        f"steps {dict(sorted(steps.items()))}; rules fired {fired} of {len(state.rules)}; "
        f"drafts adopted {adopted} of {len(state.drafts)}; snapbacks: {outcomes}; "
        f"violations {len(state.violations)}"
    )
    if state.limits:
        limits = Counter(x.status for x in state.limits.values())
        occurrences = Counter(o.status for ob in state.obligations.values() for o in ob.occurrences)
        withdrawn = sorted(p.id for p in state.parties.values() if p.standing == "withdrawn")
        out += (
            f"; limits {dict(sorted(limits.items()))}; occurrences "
            f"{dict(sorted(occurrences.items()))}; withdrawn: {', '.join(withdrawn) or 'none'}"
        )
    return out


@dataclass(frozen=True)
class Stream:
    """One row set: a road map and how its events are planned."""

    name: str
    roadmap: RoadMap
    continuing: bool


def run_stream(
    stream: Stream, keys: dict[str, Signer], sizes: Sequence[int], repeat: int
) -> tuple[list[Row], AgreementState, Counter[str]]:
    """Admit the smallest stream through the gate, then time every size."""
    roadmap = stream.roadmap
    # The generator writes admissible logs, and the signing shortcut changes nothing.
    smallest = plan(sizes[0], continuing=stream.continuing)
    gated = admit_all(roadmap, keys, smallest)
    shortcut = build(roadmap, keys, smallest)
    if evaluate(roadmap, gated, at=END) != evaluate(roadmap, shortcut, at=END):
        raise SystemExit("the signing shortcut changed the engine's answer")
    err.print(f"{stream.name}: {len(gated)} events signed one by one and admitted by the gate")
    rows = []
    events: list[AdmittedEvent] = []
    mix: Counter[str] = Counter()
    for count in sizes:
        err.print(f"[bold]{stream.name}, {count:,} events[/]: building")
        planned = plan(count, continuing=stream.continuing)
        mix = Counter(kind(e) for e in planned)
        events = build(roadmap, keys, planned)
        err.print(f"[bold]{stream.name}, {count:,} events[/]: timing evaluate and the baseline")
        engine = best_of(repeat, partial(evaluate, roadmap, events, at=END))
        floor = best_of(repeat, partial(baseline, events))
        rows.append(Row(count, engine, floor))
    return rows, evaluate(roadmap, events, at=END), mix


def report(
    console: Console, stream: Stream, rows: Sequence[Row], last: AgreementState, mix: Counter[str]
) -> None:
    table = Table(
        title=f"cvid.engine.evaluate, {stream.name} stream: time against the number of events",
        show_lines=False,
    )
    for name in (
        "events",
        "evaluate (s)",
        "events/s",
        "µs/event",
        "baseline (s)",
        "engine/baseline",
    ):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(
            f"{row.count:,}",
            f"{row.engine:.4f}",
            f"{row.count / row.engine:,.0f}",
            f"{row.per_event * 1e6:.1f}",
            f"{row.baseline:.5f}",
            f"{row.engine / row.baseline:.0f}x",
        )
    console.print(table)
    growth = rows[-1].per_event / rows[0].per_event
    console.print(
        f"cost growth {rows[0].count:,} → {rows[-1].count:,} events: {growth:.2f} "
        "(time per event at the largest size ÷ at the smallest; near 1 means linear)"
    )
    total = sum(mix.values())
    shares = ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in sorted(mix.items()))
    console.print(f"mix at {rows[-1].count:,} events: {shares}")
    console.print(f"state at {END.date()} after {rows[-1].count:,} events: {summary(last)}")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 events only")
    parser.add_argument("--repeat", type=int, default=5, help="runs per size; the best counts")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    sizes = QUICK_SIZES if args.quick else SIZES
    keys = signers()
    streams = (
        Stream("original", from_data(roadmap_data(keys)), continuing=False),
        Stream("continuing", from_data(continuing_roadmap_data(keys)), continuing=True),
    )
    results = [run_stream(stream, keys, sizes, args.repeat) for stream in streams]
    console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    for stream, (rows, last, mix) in zip(streams, results, strict=True):
        report(console, stream, rows, last, mix)
    roadmap = streams[1].roadmap
    console.print(
        f"best of {args.repeat} runs or more (two seconds' worth); road map: "
        f"{PHASES * STEPS_PER_PHASE} steps in {PHASES} phases, {len(roadmap.rewards)} rewards, "
        f"a 15-member Council; the continuing one adds {len(roadmap.limits)} limits, "
        f"{OBLIGATIONS} obligations for each of {len(LIMITED)} parties and a withdrawal; "
        "one signature per distinct event (see the module docstring); "
        f"1-minute load {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
