"""The dashboard's monitoring page: per covered item or facility, continuity of
knowledge and a coverage timeline (a bar per device from installation to removal, its
gaps marked); each material balance area's MUF over time against its threshold. And
a page per item or facility (``/monitoring/<item>``): its continuity, a coverage chart
and its balance areas' MUF charts (:mod:`cvid.report.monitor_charts`).

The geometry is computed here, so the template only draws it; a table below each
drawing gives the same facts in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from fastapi.responses import HTMLResponse

from cvid.engine.state import AgreementState
from cvid.report.monitor_charts import BalancePoint, CoverageBar, balance_chart, coverage_chart

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


MARKED = {"seal.tampered": "tamper alarm", "seal.opened": "seal opened"}


def facility_page(dash: _Dash, item: str, at: str | None) -> HTMLResponse:
    """One covered item or facility: its continuity (since, cause), a coverage timeline
    (a bar per covering device, gaps, removals and tamper alarms marked) and the material
    balance of each area holding it, each chart beside a table of the same facts."""
    from cvid.service.dashboard import PageError  # the dashboard imports this module

    moment, at = dash.moment(at)
    state = dash.source.state(moment)
    if item not in state.continuity:
        raise PageError(404, "Not monitored", f"no monitoring device covers {item!r}")
    rec = state.continuity[item]
    mon = dash.source.roadmap.monitoring
    refs = [d.id for d in mon.devices if item in d.covers] if mon else []
    devices = [state.devices[r] for r in refs if state.devices[r].installed_at is not None]
    marks: dict[str, list[tuple[dt.datetime, str]]] = {d.id: [] for d in devices}
    for ev in dash.source.events():  # log order is not time order
        if ev.type not in MARKED or ev.time > state.at:
            continue
        device = getattr(ev.body, "device", None)
        if device not in marks:
            continue
        if ev.type == "seal.tampered" or (
            ev.type == "seal.opened" and getattr(ev.body, "inspector", None) is None
        ):
            marks[device].append((ev.time, MARKED[ev.type]))
    for d in devices:
        if d.removed_at is not None:
            marks[d.id].append((d.removed_at, f"removed by {d.removed_by}"))
    starts = [d.installed_at for d in devices if d.installed_at is not None]
    lo = min(starts, default=state.at)
    bars = [
        CoverageBar(
            d.id,
            d.installed_at,
            d.removed_at or state.at,
            [(g.start, g.end or state.at, g.beyond) for g in d.gaps],
            sorted(marks[d.id]),
        )
        for d in devices
        if d.installed_at is not None
    ]
    coverage = coverage_chart(
        bars,
        lo,
        state.at,
        label=f"Coverage of {item}: a bar per device over time, gaps in orange or "
        "vermilion, removals and tamper alarms marked; the table below gives the same facts",
    )
    areas = []
    for spec in mon.balance_areas if mon else []:
        if item not in spec.items or spec.id not in state.balances:
            continue
        area = state.balances[spec.id]
        points = [
            BalancePoint(
                p.period,
                p.muf,
                spec.threshold_sigma * p.sigma if p.sigma is not None else spec.threshold,
                p.flagged,
            )
            for p in area.periods
        ]
        chart = (
            balance_chart(
                points,
                unit=area.unit,
                label=f"MUF of {area.id} per period against plus or minus "
                f"{spec.threshold_sigma:g} sigma(MUF); the table below gives the same numbers",
            )
            if points
            else None
        )
        areas.append({"area": area, "spec": spec, "chart": chart, "points": points})
    titles = {i.id: i.title for i in dash.source.roadmap.inventory.items}
    return dash.render(
        "facility.html.j2",
        depth=1,
        at=at,
        section="monitoring",
        state=state,
        item=item,
        title=titles.get(item, item),
        rec=rec,
        devices=devices,
        marks=marks,
        coverage=coverage,
        areas=areas,
        clock_note=dash.clock_note(moment),
    )
