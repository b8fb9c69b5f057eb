"""When a step's own events make it done: one rule for admission and the engine.

A step that needs no verification is done when its actor reports it; a waived step
is done; a step with ``verification`` is done once ``threshold`` of its verifiers
confirmed it while no finding of failure stands. A verifier's ``failed`` stands
until every verifier that has spoken confirms (one that found it failed may look
again and confirm). Admission (:mod:`cvid.events.authz_obligations`, to know when a
step anchors a recurring obligation) and the engine (:mod:`cvid.engine.evaluate`)
both fold a step's events through :class:`StepProgress`, so they agree on when it
was done. Joint acts, Council waivers, revealed cells and automatic milestones make
a step done by other routes, which only the engine follows. Which steps a phase's
completion waits for is :func:`required`. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cvid.roadmap import model as m

Outcome = Literal["confirmed", "failed"]


@dataclass
class StepProgress:
    """The verdicts on one step, and whether they (or a report) make it done."""

    step: m.Step
    verdicts: dict[str, str] = field(default_factory=dict)  # verifier → outcome
    failure: bool = False  # a finding of failure stands

    def report(self) -> bool:
        """Its actor reported it: True when that alone makes it done."""
        return self.step.verification is None

    def verdict(self, party: str, outcome: str) -> bool:
        """A verifier's finding (a later one replaces its earlier); True when the step
        is done by confirmation now."""
        self.verdicts[party] = outcome
        if outcome == "failed":
            self.failure = True
        elif all(v == "confirmed" for v in self.verdicts.values()):
            self.failure = False
        return not self.failure and self.confirmations >= self.threshold

    @property
    def confirmations(self) -> int:
        """How many verifiers confirm it."""
        return sum(1 for v in self.verdicts.values() if v == "confirmed")

    @property
    def threshold(self) -> int:
        """How many confirmations make it done."""
        return self.step.verification.threshold if self.step.verification else 1


def done_event(step: m.Step, events: Sequence[tuple[str, str, object]]) -> int | None:
    """The position in ``events`` (``(party, kind, _)`` with kind ``reported``,
    ``waived``, ``confirmed`` or ``failed``, in log order) of the event that made
    ``step`` done by its own events; None when they have not."""
    progress = StepProgress(step)
    for n, (party, kind, _) in enumerate(events):
        if kind == "waived" or (kind == "reported" and progress.report()):
            return n
        if kind in ("confirmed", "failed") and progress.verdict(party, kind):
            return n
    return None


def is_right(step: m.Step) -> bool:
    """Whether ``step`` is a right (an act its actor may perform), not an obligation."""
    return step.kind == "right"


def required(phase: m.Phase) -> list[m.Step]:
    """The steps a phase's completion waits for: its obligations; when every step of
    it is a right (a phase that only groups rights), all of them."""
    obligations = [st for st in phase.steps if not is_right(st)]
    return obligations or list(phase.steps)
