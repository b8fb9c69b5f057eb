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

from cvid import i18n
from cvid.engine.state import AgreementState
from cvid.i18n import N_
from cvid.report.monitor_charts import BalancePoint, CoverageBar, balance_chart, coverage_chart

WIDTH, LEFT, RIGHT, ROW = 760.0, 150.0, 10.0, 22
# The device kinds every road map knows (cvid.roadmap.devices.BUILT_IN_KINDS), in words;
# a kind a road map adds is shown as its id.
KINDS = {
    "camera": N_("camera"),
    "seal": N_("seal"),
    "online_monitor": N_("online monitor"),
    "flowmeter": N_("flowmeter"),
}
# How a balance was judged: on the host's declaration or on its verifiers' figures.
BASES = {"declared": N_("declared by the host"), "verified": N_("verified")}


def kind_word(kind: str) -> str:
    """A device kind in the reader's language (a kind the road map adds: its id)."""
    return i18n.gettext_(KINDS[kind]) if kind in KINDS else kind


def basis_word(basis: str) -> str:
    """What a material balance was judged on, in the reader's language."""
    return i18n.gettext_(BASES[basis]) if basis in BASES else basis


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
        area_titles=_area_titles(dash),
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


MARKED = {"seal.tampered": N_("tamper alarm"), "seal.opened": N_("seal opened")}


def _area_titles(dash: _Dash) -> dict[str, str]:
    """Each material balance area's title in the reader's language."""
    mon = dash.rm.monitoring
    return {a.id: a.title for a in mon.balance_areas} if mon else {}


def facility_page(dash: _Dash, item: str, at: str | None) -> HTMLResponse:
    """One covered item or facility: its continuity (since, cause), a coverage timeline
    (a bar per covering device, gaps, removals and tamper alarms marked) and the material
    balance of each area holding it, each chart beside a table of the same facts."""
    from cvid.service.dashboard import PageError  # the dashboard imports this module

    moment, at = dash.moment(at)
    state = dash.source.state(moment)
    if item not in state.continuity:
        raise PageError(
            404,
            i18n.gettext_("Not monitored"),
            i18n.gettext_("No monitoring device covers %(item)s.") % {"item": repr(item)},
        )
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
            marks[device].append((ev.time, i18n.gettext_(MARKED[ev.type])))
    removals: dict[str, tuple[dt.datetime, str]] = {}
    for d in devices:
        if d.removed_at is not None:
            removed = i18n.gettext_("removed by %(party)s") % {"party": d.removed_by}
            removals[d.id] = (d.removed_at, removed)
    starts = [d.installed_at for d in devices if d.installed_at is not None]
    lo = min(starts, default=state.at)
    bars = [
        CoverageBar(
            d.id,
            d.installed_at,
            d.removed_at or state.at,
            [(g.start, g.end or state.at, g.beyond) for g in d.gaps],
            sorted([*marks[d.id], *([removals[d.id]] if d.id in removals else [])]),
        )
        for d in devices
        if d.installed_at is not None
    ]
    coverage = coverage_chart(
        bars,
        lo,
        state.at,
        label=i18n.gettext_(
            "Coverage of %(item)s: a bar per device over time, gaps in orange or "
            "vermilion, removals and tamper alarms marked; the table below gives the same facts"
        )
        % {"item": item},
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
                label=i18n.gettext_(
                    "MUF of %(area)s per period against plus or minus %(k)s sigma(MUF); "
                    "the table below gives the same numbers"
                )
                % {"area": area.id, "k": f"{spec.threshold_sigma:g}"},
            )
            if points
            else None
        )
        title = next((a.title for a in dash.rm.monitoring.balance_areas if a.id == spec.id), "")
        areas.append({"area": area, "spec": spec, "title": title, "chart": chart, "points": points})
    titles = {i.id: i.title for i in dash.rm.inventory.items}
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
