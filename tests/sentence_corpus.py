"""States of the shipped road maps along their histories, and the engine's sentences in
them: the corpus the translation of engine sentences is checked on.

The shipped templates with their dated histories (``jcpoa-2231``, ``kazakhstan-1991``)
and without (``dprk-phased``, ``bilateral-ceilings``, adopted), the dashboard's
``dprk-phased`` history (:func:`tests.service_support.build_agreement`) and the mini
road map of the fixtures, each evaluated after every event and long after the last;
and simulated runs of ``dprk-phased`` (steps done late or never, a failed inspection)
replayed by the engine (:mod:`cvid.sim.replay`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

from cvid.agreement import Agreement, create_from_template, template_path
from cvid.engine import AgreementState, evaluate
from cvid.roadmap.loader import load
from cvid.sim.replay import RunPlan, events_for
from tests.kit import Kit, at
from tests.service_support import build_agreement

TEMPLATES = ("jcpoa-2231", "kazakhstan-1991", "dprk-phased", "bilateral-ceilings")
LATER = (dt.timedelta(seconds=1), dt.timedelta(days=40), dt.timedelta(days=400))


def _moments(agreement: Agreement) -> list[dt.datetime]:
    times = sorted({e.time for e in agreement.events})
    last = times[-1] if times else dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    return [t + dt.timedelta(seconds=1) for t in times] + [last + d for d in LATER]


def _along(name: str, agreement: Agreement) -> Iterator[tuple[str, AgreementState]]:
    for when in _moments(agreement):
        yield f"{name}@{when.isoformat()}", agreement.state(at=when)


def shipped(directory: Path) -> Iterator[tuple[str, AgreementState]]:
    """Every shipped template (adopted, or along its history), and the dashboard's
    ``dprk-phased`` history."""
    for name in TEMPLATES:
        with create_from_template(directory / name, name, adopt_at=at("2027-01-01")) as agreement:
            yield from _along(name, agreement)
    source = build_agreement(directory / "dashboard")
    try:
        yield from _along("dashboard", source.agreement)
    finally:
        source.agreement.close()


def simulated(runs: int, seed: int = 2027) -> Iterator[tuple[str, AgreementState]]:
    """``runs`` random runs of ``dprk-phased``: steps done in order, some late or never,
    sometimes a failed inspection; each evaluated at its events and years later."""
    roadmap = load(template_path("dprk-phased"))
    steps = [st.id for ph in roadmap.phases for st in ph.steps]
    rng = random.Random(seed)
    for run in range(runs):
        day, done = rng.uniform(0, 30), {}
        for sid in steps:
            day += rng.expovariate(1 / 60)
            if rng.random() < 0.8:
                done[sid] = day
            elif rng.random() < 0.5:
                break
        plan = RunPlan(
            adoption=rng.uniform(0, 20),
            endorsement=rng.choice([None, rng.uniform(10, 60)]),
            step_done=done,
            detection=rng.choice([None, rng.uniform(100, 900)]),
            detection_step=rng.choice(steps),
            guarantees_signed=rng.random() < 0.7,
        )
        events = events_for(roadmap, plan)
        moments = sorted({e.time for e in events})
        for when in [*moments[:: max(1, len(moments) // 6)], moments[-1] + LATER[-1]]:
            yield f"sim-{run}@{when.isoformat()}", evaluate(roadmap, events, at=when)


def mini() -> Iterator[tuple[str, AgreementState]]:
    """The mini road map, unadopted and long after its start."""
    kit = Kit()
    for when in (at("2027-01-01"), at("2030-01-01")):
        yield f"mini@{when.isoformat()}", kit.evaluate(at=when)


def sentences(state: AgreementState) -> Iterator[tuple[str, str]]:
    """Every text the engine wrote in ``state``, with where it is."""
    s = state
    yield from ((f"steps.{k}.reason", x.reason) for k, x in s.steps.items())
    yield from ((f"guarantees.{k}.reason", x.reason) for k, x in s.guarantees.items())
    yield from ((f"measures.{k}.reason", x.reason) for k, x in s.measures.items())
    yield from ((f"drafts.{k}.tally", x.tally.reason) for k, x in s.drafts.items() if x.tally)
    yield from ((f"rules.{k}.condition", x.condition) for k, x in s.rules.items())
    yield from ((f"rules.{k}.effects", e) for k, x in s.rules.items() for e in x.effects)
    yield from ((f"snapbacks.{n}.reason", w.reason) for n, w in enumerate(s.snapbacks))
    yield from ((f"violations.{v.kind}.{v.subject}", v.detail) for v in s.violations)
    yield from (("alerts", a) for a in s.alerts)
    yield from (
        (f"declarations.{k}.violations", p) for k, x in s.declarations.items() for p in x.violations
    )
    yield from ((f"custody.{k}.flags", f) for k, x in s.custody.items() for f in x.flags)
    yield from ((f"parties.{k}.reason", x.reason) for k, x in s.parties.items())
    yield from ((f"allegations.{a.id}.detail", a.detail) for a in s.allegations)
    yield from (
        (f"breaches.{k}.{b.obligation}", b.detail) for k, xs in s.breaches.items() for b in xs
    )
    yield from ((f"decisions.{k}.effect", x.effect) for k, x in s.decisions.items())
    yield from ((f"decisions.{k}.reason", x.reason) for k, x in s.decisions.items())
    yield from ((f"limits.{k}.bound", x.bound) for k, x in s.limits.items())
    yield from ((f"limits.{k}.reason", x.reason) for k, x in s.limits.items())
    yield "life.reason", s.life.reason
    yield from ((f"obligations.{k}.reason", x.reason) for k, x in s.obligations.items())
    yield from ((f"continuity.{k}.cause", x.cause) for k, x in s.continuity.items())
    yield from (
        (f"balances.{k}.{p.period}", p.reason) for k, x in s.balances.items() for p in x.periods
    )
