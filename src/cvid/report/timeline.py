"""The phase timeline, drawn on the server as SVG: one component for the dashboard and
the report.

Steps are grouped under their phase and named by their titles; a date axis along the
top has ticks spaced so their labels never touch (years, or months on a short span),
the moment shown is a labelled line, and a legend in words sits beside the drawing.
Steps with no date yet (no deadline, not done) are counted under their phase rather
than drawn as empty rows. The same data also comes as a list, which narrow screens
show instead of the drawing (a vertical timeline).

Only presentation attributes are used (no ``style``), so the SVG renders under a
Content-Security-Policy that forbids inline styles, and inside a self-contained
report. Reads no clock: the moment is the state's own ``at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from cvid import i18n
from cvid.engine.state import AgreementState, moment_text
from cvid.i18n import N_
from cvid.report.palette import STATUS_COLOURS, status_label
from cvid.roadmap.model import RoadMap

WIDTH = 960
LEFT = 330  # the label column
RIGHT = 24
PLOT = WIDTH - LEFT - RIGHT
TOP = 52  # below the tick labels and the "now" label
PHASE_ROW, STEP_ROW = 26, 20
FONT = 12
CHAR = 6.6  # a generous width of one character at FONT px, for layout
LABEL_CHARS = 44
MIN_TICK_GAP = 72  # pixels between ticks: room for "Sep 2027" and a margin
_MONTHS = (1, 2, 3, 6, 12, 24, 36, 60, 120, 240, 600)
_MONTH_NAMES = (  # marked for translation; translated when a label is written
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)


@dataclass(frozen=True)
class TimelineStep:
    id: str
    title: str
    status: str
    label: str  # the status in words
    due: dt.datetime | None
    done_at: dt.datetime | None
    late: bool


@dataclass(frozen=True)
class TimelinePhase:
    id: str
    title: str
    status: str
    label: str
    steps: tuple[TimelineStep, ...]  # dated steps, in the road map's order
    undated: int  # steps with neither a deadline nor a completion yet


@dataclass(frozen=True)
class Timeline:
    """The drawing (``svg``, markup ready to embed) and the same data as ``phases``."""

    svg: Markup
    phases: tuple[TimelinePhase, ...]
    at: dt.datetime
    start: dt.datetime
    end: dt.datetime


def _undated(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''} without a date yet"


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    total = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=total // 12, month=total % 12 + 1, day=1)


def ticks(
    start: dt.datetime, end: dt.datetime, plot: float = PLOT
) -> tuple[list[dt.datetime], int]:
    """First-of-month moments in ``[start, end]`` spaced at least MIN_TICK_GAP apart,
    and the step between them in months."""
    span = max((end - start).total_seconds(), 86_400.0)
    per_month = plot * (28 * 86_400) / span  # pixels in the shortest month
    step = next((m for m in _MONTHS if m * per_month >= MIN_TICK_GAP), _MONTHS[-1])
    first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=dt.UTC)
    if step >= 12:
        years = step // 12
        year = first.year + (-first.year) % years
        t = first.replace(year=year, month=1)
    else:
        month = first.month - 1
        t = _add_months(first.replace(month=1), month + (-month) % step)
    out = []
    while t <= end:
        if t >= start:
            out.append(t)
        t = _add_months(t, step)
    return out, step


def month_name(month: int) -> str:
    """The short name of ``month`` (1 to 12) in the reader's language."""
    return i18n.gettext_(_MONTH_NAMES[month - 1])


def tick_label(moment: dt.datetime, step_months: int) -> str:
    if step_months >= 12:
        return str(moment.year)
    return f"{month_name(moment.month)} {moment.year}"


def build(
    roadmap: RoadMap,
    state: AgreementState,
    *,
    href: Callable[[str], str] | None = None,
    now_label: str = "shown",
    undated_text: Callable[[int], str] | None = None,
) -> Timeline:
    """The timeline of ``state``; ``href(step_id)`` makes step labels links;
    ``undated_text(n)`` writes "n steps without a date yet" (in the reader's language)."""
    start = state.adopted_at or dt.datetime.combine(
        roadmap.agreement.start, dt.time(), tzinfo=dt.UTC
    )
    phases: list[TimelinePhase] = []
    moments = [start, state.at]
    # Steps of the same title (one per party) are told apart by their actor.
    titles = [s.title for ph in roadmap.phases for s in ph.steps]
    short = {p.id: p.short_name or p.name for p in roadmap.parties}
    for phase in roadmap.phases:
        ps = state.phases[phase.id]
        dated, undated = [], 0
        for step in phase.steps:
            st = state.steps[step.id]
            if st.due is None and st.done_at is None:
                undated += 1
                continue
            moments += [t for t in (st.due, st.done_at) if t is not None]
            # reported and needing no verification is done: drawn as done
            status = "done" if st.status == "reported" and st.done_at else st.status
            title = step.title
            if titles.count(title) > 1:
                title = f"{short.get(step.actor, step.actor)}: {title}"
            dated.append(
                TimelineStep(
                    step.id,
                    title,
                    status,
                    i18n.gettext_(status_label(status)),
                    st.due,
                    st.done_at,
                    st.late,
                )
            )
        phases.append(
            TimelinePhase(
                phase.id,
                phase.title,
                ps.status,
                i18n.gettext_(status_label(ps.status)),
                tuple(dated),
                undated,
            )
        )
    lo, hi = min(moments), max(moments)
    # A margin on each side so marks at the ends are not cut.
    pad = max((hi - lo) * 0.02, dt.timedelta(days=2))
    lo, hi = lo - pad, hi + pad
    svg = _svg(
        phases,
        at=state.at,
        lo=lo,
        hi=hi,
        href=href,
        now_label=now_label,
        undated=undated_text or _undated,
    )
    return Timeline(svg=svg, phases=tuple(phases), at=state.at, start=lo, end=hi)


def _svg(
    phases: list[TimelinePhase],
    *,
    at: dt.datetime,
    lo: dt.datetime,
    hi: dt.datetime,
    href: Callable[[str], str] | None,
    now_label: str,
    undated: Callable[[int], str],
) -> Markup:
    span = max((hi - lo).total_seconds(), 86_400.0)

    def x(t: dt.datetime) -> float:
        return round(LEFT + (t - lo).total_seconds() / span * PLOT, 1)

    def deadline(t: dt.datetime) -> str:
        return i18n.gettext_("deadline %(moment)s") % {"moment": moment_text(t)}

    def done(t: dt.datetime) -> str:
        return i18n.gettext_("done %(moment)s") % {"moment": moment_text(t)}

    rows: list[str] = []
    y = TOP
    for phase in phases:
        y += PHASE_ROW
        title = escape(_short(phase.title, 52))
        rows.append(
            f'<g class="tl-phase" data-phase="{escape(phase.id)}">'
            f"<title>{escape(phase.title)}</title>"
            f'<line x1="0" y1="{y - PHASE_ROW + 4}" x2="{WIDTH}" y2="{y - PHASE_ROW + 4}" '
            f'stroke="#9ca3af"/>'
            f'<text x="4" y="{y - 6}" font-weight="700">{title}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{y - 6}" text-anchor="end" fill="#374151">'
            f"{escape(phase.label)}</text></g>"
        )
        for step in phase.steps:
            y += STEP_ROW
            cy = y - STEP_ROW / 2 + 2
            colour = STATUS_COLOURS.get(step.status, "#4b5563")
            label = escape(_short(step.title))
            what = f"{escape(step.title)}: {escape(step.label)}"
            text = f'<text x="14" y="{cy + 4}">{label}</text>'
            if href is not None:
                text = f'<a href="{escape(href(step.id))}">{text}</a>'
            parts = [
                f'<g class="tl-step" data-step="{escape(step.id)}">'
                f"<title>{escape(step.title)}</title>",
                text,
                f'<line x1="{LEFT}" y1="{cy}" x2="{WIDTH - RIGHT}" y2="{cy}" stroke="#eef0f3"/>',
            ]
            if step.due is not None:
                end = step.done_at or (at if step.status in ("overdue", "violated") else None)
                if end is not None and end > step.due:  # late: a line from due to done or now
                    parts.append(
                        f'<line x1="{x(step.due)}" y1="{cy}" x2="{x(end)}" y2="{cy}" '
                        f'stroke="{colour}" stroke-width="3"/>'
                    )
                parts.append(
                    f'<rect x="{x(step.due) - 2}" y="{cy - 7}" width="4" height="14" '
                    f'fill="{colour}"><title>{what}; {escape(deadline(step.due))}</title>'
                    "</rect>"
                )
            if step.done_at is not None:
                parts.append(
                    f'<circle cx="{x(step.done_at)}" cy="{cy}" r="5" fill="{colour}" '
                    f'stroke="#fff"><title>{what}; {escape(done(step.done_at))}</title>'
                    "</circle>"
                )
            parts.append("</g>")
            rows.append("".join(parts))
        if phase.undated:
            y += STEP_ROW
            n = phase.undated
            rows.append(
                f'<text class="tl-undated" x="14" y="{y - STEP_ROW / 2 + 6}" fill="#4b5563">'
                f"{escape(undated(n))}</text>"
            )
    height = y + 10
    head: list[str] = []
    moments, step_months = ticks(lo, hi)
    for t in moments:
        tx = x(t)
        head.append(
            f'<line x1="{tx}" y1="20" x2="{tx}" y2="{height}" stroke="#d1d5db"/>'
            f'<text class="tl-tick" x="{tx}" y="14" text-anchor="middle">'
            f"{tick_label(t, step_months)}</text>"
        )
    ax = x(at)
    now_text = f"{now_label}: {moment_text(at)}"
    half = len(now_text) * CHAR / 2
    lx = min(max(ax, LEFT + half), WIDTH - RIGHT - half)
    head.append(
        f'<line x1="{ax}" y1="30" x2="{ax}" y2="{height}" stroke="#111827" '
        f'stroke-dasharray="5 3" stroke-width="1.5"/>'
        f'<text class="tl-now" x="{lx}" y="{TOP - 8}" text-anchor="middle" font-weight="700">'
        f"{escape(now_text)}</text>"
    )
    body = "".join(head + rows)
    about = i18n.gettext_("Timeline of the steps by phase, %(start)s to %(end)s") % {
        "start": moment_text(lo),
        "end": moment_text(hi),
    }
    return Markup(
        f'<svg class="tl" xmlns="http://www.w3.org/2000/svg" role="group" '
        f'aria-labelledby="tl-title" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" font-family="system-ui, sans-serif" font-size="{FONT}" '
        f'fill="#111827"><title id="tl-title">{escape(about)}</title>{body}</svg>'
    )


__all__ = [
    "Timeline",
    "TimelinePhase",
    "TimelineStep",
    "build",
    "month_name",
    "tick_label",
    "ticks",
]
