"""The overview's headline: what a reader takes in at a glance, above the fold.

The current phase, the counts that matter (overdue, violated, awaiting verification),
the next five deadlines with the days left (or, when fewer lie ahead, the most recently
missed ones), who is in breach or late and on what ground, the sanctions in one line,
and the latest alerts. Pure: reads the state and the road map, no clock.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from cvid.engine.state import AgreementState
from cvid.report.names import Names
from cvid.report.palette import measure_status
from cvid.roadmap.model import RoadMap

HEADLINE_DEADLINES = 5
HEADLINE_ALERTS = 3


def headline(rm: RoadMap, state: AgreementState, names: Names) -> dict[str, Any]:
    """What a reader takes in at a glance: the phase, the counts that matter, the next
    deadlines, who is in breach and why, the sanctions in one line, the latest alerts."""
    current = next(
        (p for p in rm.phases if state.phases[p.id].status not in ("complete", "ended")), None
    )
    counts = {
        "overdue": sum(st.status == "overdue" for st in state.steps.values()),
        "violated": sum(st.status == "violated" for st in state.steps.values()),
        "reported": sum(
            st.status == "reported" and st.done_at is None for st in state.steps.values()
        ),
    }
    upcoming: dict[tuple[dt.datetime, str, str], list[str]] = {}
    late: dict[tuple[dt.datetime, str, str], list[str]] = {}
    for o in state.owed:
        if o.due is not None and o.kind in ("carry out", "verify"):
            into = upcoming if o.due >= state.at else late
            into.setdefault((o.due, o.kind, o.subject), []).append(names.party(o.party))
    for st in state.steps.values():  # blocked steps whose deadline is already fixed
        if st.due is not None and st.due >= state.at and st.status == "blocked":
            upcoming.setdefault((st.due, "carry out", st.id), []).append(names.party(st.actor))
    # The next deadlines; when fewer than five lie ahead, the most recently missed ones.
    chosen = sorted(upcoming.items())[:HEADLINE_DEADLINES]
    room = HEADLINE_DEADLINES - len(chosen)
    missed = sorted(late.items(), reverse=True)[:room] if room else []
    deadlines = [
        {
            "due": due,
            "days": math.ceil((due - state.at).total_seconds() / 86_400),
            "kind": kind,
            "step": subject,
            "title": names.subject(subject),
            "parties": who,
        }
        for (due, kind, subject), who in [*chosen, *missed]
    ]
    grounds: dict[str, list[tuple[str, str]]] = {}
    for party, items in state.breaches.items():
        for b in items:
            ground = b.ground or b.kind.replace("_", " ")
            grounds.setdefault(party, []).append((ground, names.subject(b.obligation)))
    for st in state.steps.values():
        if st.status in ("overdue", "violated"):
            ground = "violated" if st.status == "violated" else "overdue"
            if (ground, names.subject(st.id)) not in grounds.get(st.actor, []):
                grounds.setdefault(st.actor, []).append((ground, names.subject(st.id)))
    breaches = [
        {"party": party, "name": names.party(party), "grounds": items}
        for party, items in grounds.items()
    ]
    sanctions: dict[str, int] = {}
    for ms in state.measures.values():
        key = measure_status(ms.status, ms.since)
        sanctions[key] = sanctions.get(key, 0) + 1
    return {
        "phase": current,
        "phase_state": state.phases[current.id] if current else None,
        "phase_number": rm.phases.index(current) + 1 if current else len(rm.phases),
        "phases": len(rm.phases),
        "counts": counts,
        "deadlines": deadlines,
        "breaches": breaches,
        "sanctions": sanctions,
        "alerts": [names.text(a) for a in state.alerts[-HEADLINE_ALERTS:][::-1]],
        "alerts_total": len(state.alerts),
    }


__all__ = ["HEADLINE_ALERTS", "HEADLINE_DEADLINES", "headline"]
