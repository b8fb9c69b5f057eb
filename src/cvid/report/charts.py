"""Charts drawn on the server as SVG, in one theme for the whole site: line charts
(steps or straight segments, over days or dates) and grouped bar charts, with shares
written as percentages. No script and no chart library reach the reader's browser;
each chart sits beside a table with the same numbers.

Only presentation attributes are used (no ``style``), so the charts render under a
Content-Security-Policy that forbids inline styles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from cvid.report.timeline import tick_label, ticks

# One categorical palette for every chart (distinguishable by colour-blind readers),
# in the order series take them.
THEME = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 46
FONT = 12


@dataclass(frozen=True)
class Series:
    name: str
    xs: Sequence[float | dt.datetime]
    ys: Sequence[float]
    dashed: bool = False


def _nice_step(span: float, most: int) -> float:
    raw = span / max(most, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def _y_label(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0f} %"
    return f"{value:g}"


def _frame(
    y_max: float, *, percent: bool, y_title: str, x_title: str
) -> tuple[list[str], float, float]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = []
    step = _nice_step(y_max, 5)
    v = 0.0
    while v <= y_max + 1e-9:
        y = TOP + plot_h - v / y_max * plot_h
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_y_label(v, percent)}</text>"
        )
        v += step
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">{escape(y_title)}</text>'
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
        f"{escape(x_title)}</text>"
    )
    return parts, plot_w, plot_h


def _svg(body: list[str], label: str) -> str:
    return (
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" font-family="system-ui, sans-serif" font-size="{FONT}" '
        f'fill="#111827">{"".join(body)}</svg>'
    )


def _legend(items: list[tuple[str, str, bool]]) -> str:
    if len(items) < 2:
        return ""
    dash = ' stroke-dasharray="4 3"'
    rows = "".join(
        f'<li><svg width="22" height="10" aria-hidden="true"><line x1="0" y1="5" x2="22" '
        f'y2="5" stroke="{c}" stroke-width="3"{dash if d else ""}/>'
        f"</svg> {escape(n)}</li>"
        for n, c, d in items
    )
    return f'<ul class="chart-legend">{rows}</ul>'


def line_chart(
    series: Sequence[Series],
    *,
    label: str,
    x_title: str,
    y_title: str,
    percent: bool,
    y_max: float | None = None,
    steps: bool = False,
) -> Markup:
    """Lines over numbers (days) or moments; ``percent``: ys are shares 0..1, shown as %."""
    scale = 100.0 if percent else 1.0
    all_y = [y * scale for s in series for y in s.ys] or [1.0]
    top = y_max * scale if y_max is not None else max(*all_y, 1e-9) * 1.1
    body, plot_w, plot_h = _frame(top, percent=percent, y_title=y_title, x_title=x_title)
    xs_all = [x for s in series for x in s.xs]
    dates = bool(xs_all) and isinstance(xs_all[0], dt.datetime)

    def num(x: float | dt.datetime) -> float:
        return x.timestamp() if isinstance(x, dt.datetime) else float(x)

    lo = min((num(x) for x in xs_all), default=0.0)
    hi = max((num(x) for x in xs_all), default=1.0)
    if hi <= lo:
        hi = lo + (86_400.0 if dates else 1.0)

    def px(x: float | dt.datetime) -> float:
        return LEFT + (num(x) - lo) / (hi - lo) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - min(y * scale, top) / top * plot_h

    if dates:
        start = dt.datetime.fromtimestamp(lo, dt.UTC)
        end = dt.datetime.fromtimestamp(hi, dt.UTC)
        moments, months = ticks(start, end, plot_w)
        marks = [(px(t), tick_label(t, months)) for t in moments]
    else:
        step = _nice_step(hi - lo, 6)
        first = math.ceil(lo / step) * step
        marks = []
        v = first
        while v <= hi + 1e-9:
            marks.append((px(v), f"{v:,.0f}"))
            v += step
    for x, text in marks:
        body.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" '
            f'stroke="#6b7280"/><text x="{x:.1f}" y="{TOP + plot_h + 17}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    legend = []
    for i, s in enumerate(series):
        colour = THEME[i % len(THEME)]
        points: list[str] = []
        for j, (xv, yv) in enumerate(zip(s.xs, s.ys, strict=True)):
            if steps and j:
                points.append(f"{px(xv):.1f},{py(s.ys[j - 1]):.1f}")
            points.append(f"{px(xv):.1f},{py(yv):.1f}")
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash}><title>{escape(s.name)}</title></polyline>'
        )
        if len(s.xs) == 1:
            body.append(
                f'<circle cx="{px(s.xs[0]):.1f}" cy="{py(s.ys[0]):.1f}" r="4" fill="{colour}"/>'
            )
        legend.append((s.name, colour, s.dashed))
    return Markup(_svg(body, label) + _legend(legend))


def bar_chart(
    categories: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    label: str,
    y_title: str,
    percent: bool,
) -> Markup:
    """Grouped bars: one group per category, one bar per ``groups`` entry."""
    scale = 100.0 if percent else 1.0
    top = 100.0 if percent else max([v for _, vs in groups for v in vs] or [1.0]) * 1.1
    body, plot_w, plot_h = _frame(top, percent=percent, y_title=y_title, x_title="")
    band = plot_w / max(len(categories), 1)
    width = band * 0.8 / max(len(groups), 1)
    limit = max(int(band / 6.6), 4)
    for c, category in enumerate(categories):
        cx = LEFT + band * (c + 0.5)
        short = category if len(category) <= limit else category[: limit - 1] + "…"
        body.append(
            f'<text x="{cx:.1f}" y="{TOP + plot_h + 17}" text-anchor="middle">'
            f"{escape(short)}<title>{escape(category)}</title></text>"
        )
        for g, (name, values) in enumerate(groups):
            v = values[c] * scale
            h = v / top * plot_h
            x = LEFT + band * c + band * 0.1 + g * width
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{THEME[g % len(THEME)]}"><title>{escape(category)}, '
                f"{escape(name)}: {_y_label(v, percent) if percent else f'{v:g}'}</title></rect>"
            )
    legend = [(name, THEME[g % len(THEME)], False) for g, (name, _) in enumerate(groups)]
    return Markup(_svg(body, label) + _legend(legend))


__all__ = ["THEME", "Series", "bar_chart", "line_chart"]
