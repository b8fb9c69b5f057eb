"""Monitoring charts: tick labels never closer than a label's width, gaps and marks
drawn where they happened, the MUF band around zero."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st

from cvid.report.charts import WIDTH
from cvid.report.monitor_charts import (
    LABEL_W,
    MIN_LABEL_GAP,
    RIGHT,
    BalancePoint,
    CoverageBar,
    balance_chart,
    coverage_chart,
    time_ticks,
)

T0 = dt.datetime(2027, 2, 25, 9, tzinfo=dt.UTC)


@given(st.integers(1, 10 * 365 * 24), st.integers(200, 720))
def test_ticks_are_round_and_far_enough_apart(hours: int, plot: int) -> None:
    hi = T0 + dt.timedelta(hours=hours)
    moments, step = time_ticks(T0, hi, plot)
    assert all(T0 <= t <= hi for t in moments)
    assert all(int(t.timestamp()) % int(step.total_seconds()) == 0 for t in moments)
    span = max((hi - T0).total_seconds(), 3600.0)
    if len(moments) > 1:
        assert step.total_seconds() / span * plot >= MIN_LABEL_GAP


def test_coverage_marks_gaps_and_tampers_where_they_happened() -> None:
    hi = T0 + dt.timedelta(hours=72)
    bar = CoverageBar(
        "seal-1",
        T0,
        hi,
        [(T0 + dt.timedelta(hours=20), T0 + dt.timedelta(hours=25), "at-risk")],
        [(T0 + dt.timedelta(hours=36), "tamper alarm")],
    )
    svg = str(coverage_chart([bar], T0, hi, label="coverage"))
    plot = WIDTH - LABEL_W - RIGHT
    gap = re.search(r'<rect x="([0-9.]+)" y="10" width="([0-9.]+)" [^>]*data-gap="at-risk"', svg)
    assert gap is not None
    assert abs(float(gap[1]) - (LABEL_W + plot * 20 / 72)) < 0.1
    assert abs(float(gap[2]) - plot * 5 / 72) < 0.2
    assert "tamper alarm at 2027-02-26 21:00 UTC" in svg
    assert 'aria-label="coverage"' in svg
    assert "style=" not in svg  # presentation attributes only, under the page policy


def test_balance_chart_draws_the_band_around_zero() -> None:
    points = [
        BalancePoint("2027-02-28", 0.1, 0.9, False),
        BalancePoint("2027-03-31", 1.7, 0.9, True),
    ]
    svg = str(balance_chart(points, unit="kg", label="balance"))
    assert svg.count("data-muf") == 2
    assert "2027-03-31: MUF 1.7 kg, flagged" in svg
    assert "band ±0.9 kg" in svg
    assert ">0</text>" in svg
