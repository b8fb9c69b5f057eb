"""Renderings of an agreement's state: plain data for JSON, and a one-page HTML report.

The HTML report is self-contained (inline CSS and SVG, no script, no network) so it
can be mailed, archived or opened offline. Rendering reads no clock: the moment
shown is the state's own ``at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from cvid.engine.state import AgreementState, moment_text
from cvid.errors import require_extra
from cvid.roadmap.model import RoadMap

if TYPE_CHECKING:
    from jinja2 import Environment

STATUS_COLOURS = {
    "blocked": "#6b7280",
    "open": "#1d4ed8",
    "reported": "#7c3aed",
    "verified": "#15803d",
    "complete": "#15803d",
    "violated": "#b91c1c",
    "overdue": "#c2410c",
    "waived": "#0f766e",
    "withdrawn": "#4b5563",
    "in_force": "#15803d",
    "given": "#1d4ed8",
    "pending": "#6b7280",
    "suspended": "#b45309",
    "in-compliance": "#15803d",
    "exceeded": "#b91c1c",
    "unverified": "#c2410c",
    "not-in-effect": "#6b7280",
}


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELDS.get(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def state_to_dict(state: AgreementState) -> dict[str, Any]:
    """The state as JSON-ready data (times as RFC 3339 UTC strings)."""
    out: dict[str, Any] = _plain(state)
    return out


def _timeline(roadmap: RoadMap, state: AgreementState) -> dict[str, Any]:
    """Geometry of the phase timeline: one row per step, placed on a shared time axis."""
    # From adoption, when there is one: a road map's start may be years earlier (the
    # statement it implements), which would squeeze every step into a corner.
    start = state.adopted_at or dt.datetime.combine(
        roadmap.agreement.start, dt.time(), tzinfo=dt.UTC
    )
    moments = [start, state.at]
    for step in state.steps.values():
        moments += [t for t in (step.due, step.done_at) if t is not None]
    lo, hi = min(moments), max(moments)
    span = max((hi - lo).total_seconds(), 86_400.0)
    width, left, row = 760.0, 230.0, 22

    def x(t: dt.datetime) -> float:
        return round(left + (t - lo).total_seconds() / span * (width - left - 10), 1)

    rows = []
    for n, (sid, step) in enumerate(state.steps.items()):
        rows.append(
            {
                "y": 30 + n * row,
                "id": sid,
                "phase": step.phase,
                "status": step.status,
                "colour": STATUS_COLOURS[step.status],
                "due_x": x(step.due) if step.due else None,
                "done_x": x(step.done_at) if step.done_at else None,
            }
        )
    ticks = []
    year = lo.year
    while True:
        t = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        if t > hi:
            break
        if t >= lo:
            ticks.append({"x": x(t), "label": str(year)})
        year += 1
    return {
        "rows": rows,
        "height": 40 + len(rows) * row,
        "width": width,
        "left": left,
        "at_x": x(state.at),
        "ticks": ticks,
    }


def _when(value: dt.datetime | None) -> str:
    return moment_text(value) or "—"


@functools.cache
def _env() -> Environment:
    """The report's Jinja environment (Jinja2 comes with the ``service`` extra)."""
    require_extra("service", "the HTML report", ("jinja2",))
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("cvid.report", "."),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def render_html(roadmap: RoadMap, state: AgreementState, *, digest: str) -> str:
    """A readable one-page HTML report of ``state``, with a phase timeline."""
    template = _env().get_template("report.html.j2")
    return template.render(
        roadmap=roadmap,
        state=state,
        digest=digest,
        colours=STATUS_COLOURS,
        timeline=_timeline(roadmap, state),
        parties={p.id: p.name for p in roadmap.parties},
    )
