"""The dashboard's monitoring page: per covered item or facility, continuity of
knowledge and a coverage timeline (a bar per device from installation to removal, its
gaps marked); each material balance area's MUF over time against its threshold.

The geometry is computed here, so the template only draws it; a table below each
drawing gives the same facts in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from fastapi.responses import HTMLResponse

from cvid.engine.state import AgreementState

WIDTH, LEFT, RIGHT, ROW = 760.0, 150.0, 10.0, 22


class _Dash(Protocol):
    source: Any

    @property
    def rm(self) -> Any: ...  # the road map in the reader's language

    def moment(self, at: str | None) -> tuple[dt.datetime, str | None]: ...
    def clock_note(self, moment: dt.datetime) -> str: ...
    def render(self, template: str, *, depth: int, **context: Any) -> HTMLResponse: ...


def monitoring_page(dash: _Dash, at: str | None) -> HTMLResponse:
    """Render the page for the moment ``at`` (default: the source's now)."""
    moment, at = dash.moment(at)
    state = dash.source.state(moment)
    mon = dash.source.roadmap.monitoring
    covers = {d.id: set(d.covers) for d in mon.devices} if mon else {}
    timelines = {}
    for item in state.continuity:
        devices = [ref for ref, items in covers.items() if item in items]
        timelines[item] = _timeline(state, devices)
    titles = {i.id: i.title for i in dash.rm.inventory.items}
    return dash.render(
        "monitoring.html.j2",
        depth=0,
        at=at,
        section="monitoring",
        state=state,
        titles=titles,
        timelines=timelines,
        clock_note=dash.clock_note(moment),
    )


def _timeline(state: AgreementState, refs: list[str]) -> dict[str, Any]:
    devices = [state.devices[r] for r in refs if state.devices[r].installed_at is not None]
    moments = [state.at] + [d.installed_at for d in devices if d.installed_at is not None]
    lo, hi = min(moments), max(moments)
    span = max((hi - lo).total_seconds(), 3600.0)

    def x(t: dt.datetime) -> float:
        return round(LEFT + (t - lo).total_seconds() / span * (WIDTH - LEFT - RIGHT), 1)

    rows = []
    for n, d in enumerate(devices):
        assert d.installed_at is not None
        end = d.removed_at or state.at
        rows.append(
            {
                "y": 20 + n * ROW,
                "device": d,
                "x": x(d.installed_at),
                "w": max(1.0, x(end) - x(d.installed_at)),
                "gaps": [
                    {
                        "x": x(g.start),
                        "w": max(1.0, x(g.end or state.at) - x(g.start)),
                        "gap": g,
                    }
                    for g in d.gaps
                ],
            }
        )
    return {"rows": rows, "height": 30 + len(rows) * ROW, "width": WIDTH, "lo": lo, "hi": hi}
