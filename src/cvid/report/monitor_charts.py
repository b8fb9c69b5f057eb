"""Monitoring charts drawn on the server as SVG, in the theme of :mod:`cvid.report.charts`:
a coverage timeline (a bar per device over time, its gaps, removals and tamper alarms
marked) and a material balance chart (MUF per period against its band of plus or minus
k sigma(MUF)). Each goes beside a table with the same facts.

The geometry is plain arithmetic on the given moments and numbers; tick labels are
spaced so that they never overlap (at least :data:`MIN_LABEL_GAP` pixels apart, more
than the widest label at the chart's font size).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from cvid import i18n
from cvid.report.charts import FONT, THEME, WIDTH
from cvid.report.palette import status_label
from cvid.report.timeline import month_name

LABEL_W, RIGHT, TOP, ROW, BAR = 150, 16, 10, 26, 14
MIN_LABEL_GAP = 96  # px between tick labels: a label ("26 Feb 09:00") is under 84 px wide
REPORTING, GAP, LOST, MARK = THEME[2], THEME[4], THEME[1], "#111827"
_STEPS = [
    dt.timedelta(hours=h)
    for h in (1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 672, 1344, 2688, 8760, 17520, 43800, 87600)
]


@dataclass(frozen=True)
class CoverageBar:
    """One device's row: reporting from ``start`` to ``end``, its gaps and marks."""

    device: str
    start: dt.datetime
    end: dt.datetime
    gaps: Sequence[tuple[dt.datetime, dt.datetime, str]]  # start, end, how far beyond
    marks: Sequence[tuple[dt.datetime, str]]  # a moment and what happened (removal, tamper),
    # in the reader's language


def _label(moment: dt.datetime, step: dt.timedelta) -> str:
    day = f"{moment.day} {month_name(moment.month)}"
    if step >= dt.timedelta(days=365):
        return str(moment.year)
    if step >= dt.timedelta(days=1):
        return f"{day} {moment.year}" if step >= dt.timedelta(days=28) else day
    return f"{day} {moment:%H:%M}"


def time_ticks(
    lo: dt.datetime, hi: dt.datetime, plot: float
) -> tuple[list[dt.datetime], dt.timedelta]:
    """Round moments in ``[lo, hi]`` at least :data:`MIN_LABEL_GAP` px apart on ``plot`` px."""
    span = max((hi - lo).total_seconds(), 3600.0)
    step = next((s for s in _STEPS if s.total_seconds() / span * plot >= MIN_LABEL_GAP), _STEPS[-1])
    seconds = int(step.total_seconds())
    first = math.ceil(lo.timestamp() / seconds) * seconds
    out = []
    t = first
    while t <= hi.timestamp():
        out.append(dt.datetime.fromtimestamp(t, dt.UTC))
        t += seconds
    return out, step


def _svg(body: list[str], label: str, height: float) -> str:
    return (
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" font-family="system-ui, sans-serif" font-size="{FONT}" '
        f'fill="#111827">{"".join(body)}</svg>'
    )


def _legend(items: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<li><svg width="22" height="10" aria-hidden="true"><rect width="22" height="10" '
        f'fill="{colour}"/></svg> {escape(name)}</li>'
        for name, colour in items
    )
    return f'<ul class="chart-legend">{rows}</ul>'


def coverage_chart(
    bars: Sequence[CoverageBar], lo: dt.datetime, hi: dt.datetime, *, label: str
) -> Markup:
    """A bar per device from ``lo`` to ``hi``: reporting in green, gaps beyond the
    reporting interval in orange (beyond a tolerance: vermilion), removals and tamper
    alarms as black ticks with a title."""
    if hi <= lo:
        hi = lo + dt.timedelta(hours=1)
    plot = WIDTH - LABEL_W - RIGHT
    span = (hi - lo).total_seconds()

    def x(t: dt.datetime) -> float:
        clamped = min(max(t, lo), hi)
        return LABEL_W + (clamped - lo).total_seconds() / span * plot

    body: list[str] = []
    axis = TOP + len(bars) * ROW + 4
    covering = i18n.gettext_("%(device)s: covering from %(moment)s")
    silent = i18n.gettext_("%(device)s silent from %(start)s to %(end)s")
    marked = i18n.gettext_("%(what)s at %(moment)s")
    moments, step = time_ticks(lo, hi, plot)
    for t in moments:
        px = x(t)
        body.append(
            f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{axis + 4}" stroke="#e5e7eb"/>'
            f'<text x="{px:.1f}" y="{axis + 17}" text-anchor="middle" data-tick="">'
            f"{escape(_label(t, step))}</text>"
        )
    limit = int((LABEL_W - 8) / 7)
    for n, bar in enumerate(bars):
        y = TOP + n * ROW
        name = bar.device if len(bar.device) <= limit else bar.device[: limit - 1] + "…"
        covers = covering % {"device": bar.device, "moment": _when(bar.start)}
        body.append(
            f'<text x="4" y="{y + BAR - 2}">{escape(name)}'
            f"<title>{escape(bar.device)}</title></text>"
            f'<rect x="{x(bar.start):.1f}" y="{y}" '
            f'width="{max(1.0, x(bar.end) - x(bar.start)):.1f}" height="{BAR}" '
            f'fill="{REPORTING}"><title>{escape(covers)}</title></rect>'
        )
        for start, end, beyond in bar.gaps:
            colour = GAP if beyond in ("interval", "at-risk") else LOST
            how = i18n.gettext_(status_label(f"gap-{beyond}"))
            gap = silent % {"device": bar.device, "start": _when(start), "end": _when(end)}
            body.append(
                f'<rect x="{x(start):.1f}" y="{y}" width="{max(2.0, x(end) - x(start)):.1f}" '
                f'height="{BAR}" fill="{colour}" data-gap="{escape(beyond)}"><title>'
                f"{escape(gap)} ({escape(how)})</title></rect>"
            )
        for moment, what in bar.marks:
            px = x(moment)
            mark = marked % {"what": what, "moment": _when(moment)}
            body.append(
                f'<path d="M{px - 5:.1f},{y - 3} L{px + 5:.1f},{y - 3} L{px:.1f},{y + 5} Z" '
                f'fill="{MARK}" data-mark=""><title>{escape(mark)}</title>'
                "</path>"
                f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + BAR}" stroke="{MARK}" '
                f'stroke-width="2"/>'
            )
    legend = [
        (i18n.gettext_("reporting"), REPORTING),
        (i18n.gettext_("gap within tolerance"), GAP),
        (i18n.gettext_("gap beyond tolerance"), LOST),
        (i18n.gettext_("removal or tamper alarm"), MARK),
    ]
    return Markup(_svg(body, label, axis + 24) + _legend(legend))


@dataclass(frozen=True)
class BalancePoint:
    period: str
    muf: float
    band: float | None  # k sigma(MUF), or the fixed threshold; None: any non-zero MUF
    flagged: bool


def balance_chart(points: Sequence[BalancePoint], *, unit: str, label: str) -> Markup:
    """MUF per period (a dot; flagged: a vermilion square) over its band of plus or
    minus k sigma(MUF) (a light bar), around a zero line."""
    height, bottom, left = 260, 40, 64
    plot_w, plot_h = WIDTH - left - RIGHT, height - TOP - bottom
    reach = max([abs(p.muf) for p in points] + [p.band or 0.0 for p in points] + [1e-9]) * 1.15
    step = _nice(reach / 2.5)
    reach = math.ceil(reach / step) * step

    def y(v: float) -> float:
        return TOP + plot_h / 2 - v / reach * (plot_h / 2)

    body: list[str] = []
    band = i18n.gettext_("%(period)s: band ±%(band)s %(unit)s")
    plain = i18n.gettext_("%(period)s: MUF %(muf)s %(unit)s")
    flagged = i18n.gettext_("%(period)s: MUF %(muf)s %(unit)s, flagged")
    v = -reach
    while v <= reach + 1e-9:
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{WIDTH - RIGHT}" y2="{y(v):.1f}" '
            f'stroke="{"#6b7280" if abs(v) < 1e-12 else "#e5e7eb"}"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_num(v)}</text>'
        )
        v += step
    body.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">MUF ({escape(unit)})</text>'
    )
    band_w = plot_w / max(len(points), 1)
    shown = max(1, math.ceil(MIN_LABEL_GAP / band_w))  # every n-th label, never overlapping
    for n, p in enumerate(points):
        cx = left + band_w * (n + 0.5)
        if p.band is not None:
            body.append(
                f'<rect x="{cx - band_w * 0.3:.1f}" y="{y(p.band):.1f}" width="{band_w * 0.6:.1f}"'
                f' height="{y(-p.band) - y(p.band):.1f}" fill="{THEME[5]}" fill-opacity="0.3">'
                f"<title>{escape(band % {'period': p.period, 'band': _num(p.band), 'unit': unit})}"
                "</title></rect>"
            )
        colour = LOST if p.flagged else THEME[0]
        shape = (
            f'<rect x="{cx - 5:.1f}" y="{y(p.muf) - 5:.1f}" width="10" height="10" '
            if p.flagged
            else f'<circle cx="{cx:.1f}" cy="{y(p.muf):.1f}" r="5" '
        )
        muf = (flagged if p.flagged else plain) % {
            "period": p.period,
            "muf": _num(p.muf),
            "unit": unit,
        }
        body.append(
            f'{shape}fill="{colour}" data-muf=""><title>{escape(muf)}</title>'
            f"{'</rect>' if p.flagged else '</circle>'}"
        )
        if n % shown == 0:
            body.append(
                f'<text x="{cx:.1f}" y="{height - bottom + 17}" text-anchor="middle" '
                f'data-tick="">{escape(p.period)}</text>'
            )
    body.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        f"{escape(i18n.gettext_('period ending'))}</text>"
    )
    legend = [
        ("MUF", THEME[0]),
        (i18n.gettext_("MUF flagged"), LOST),
        (i18n.gettext_("band: ±k sigma(MUF)"), THEME[5]),
    ]
    return Markup(_svg(body, label, height) + _legend(legend))


def _nice(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def _num(v: float) -> str:
    return f"{v:.6g}" if abs(v) > 1e-12 else "0"


def _when(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


__all__ = ["BalancePoint", "CoverageBar", "balance_chart", "coverage_chart", "time_ticks"]
