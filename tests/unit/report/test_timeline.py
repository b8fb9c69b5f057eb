"""The timeline's axis, the status palette and names in place of ids."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from hypothesis import given
from hypothesis import strategies as st

from cvid.agreement import template_path
from cvid.report import palette, timeline
from cvid.report.names import Names
from cvid.roadmap.loader import load

T0 = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


@given(
    start=st.integers(min_value=0, max_value=40 * 365),
    days=st.integers(min_value=1, max_value=60 * 365),
)
def test_ticks_are_spaced_so_their_labels_never_touch(start: int, days: int) -> None:
    lo = T0 + dt.timedelta(days=start)
    hi = lo + dt.timedelta(days=days)
    moments, step = timeline.ticks(lo, hi)
    assert all(lo <= t <= hi for t in moments)
    assert all(t.day == 1 for t in moments)
    span = (hi - lo).total_seconds()
    xs = [(t - lo).total_seconds() / span * timeline.PLOT for t in moments]
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    # the widest label ("Sep 2027") takes 8 characters
    widest = max(len(timeline.tick_label(t, step)) for t in moments) if moments else 0
    assert all(g >= timeline.MIN_TICK_GAP - 1e-6 for g in gaps), gaps
    assert all(g > widest * timeline.CHAR for g in gaps)


def test_a_long_span_is_labelled_in_whole_years() -> None:
    moments, step = timeline.ticks(T0, T0 + dt.timedelta(days=24 * 365))
    labels = [timeline.tick_label(t, step) for t in moments]
    assert step % 12 == 0
    assert labels == [str(t.year) for t in moments]
    assert len(labels) >= 3


def test_every_status_colour_takes_white_text() -> None:
    def luminance(colour: str) -> float:
        def channel(c: int) -> float:
            v = c / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    for status, colour in palette.STATUS_COLOURS.items():
        contrast = 1.05 / (luminance(colour) + 0.05)
        assert contrast >= 4.5, (status, colour, contrast)
        assert palette.status_symbol(status) != "•", status  # each has its symbol
        assert palette.status_label(status).strip()


def test_sanctions_in_force_are_not_the_green_of_a_step_done() -> None:
    done = palette.STATUS_COLOURS["verified"]
    for status, since in (("in_force", None), ("in_force", T0)):
        key = palette.measure_status(status, since)
        assert palette.STATUS_COLOURS[key] != done
    assert palette.status_label(palette.measure_status("in_force", T0)) == "re-imposed"
    assert palette.measure_status("in_force", None) == "sanction-in-force"
    assert palette.status_label(palette.measure_status("suspended", T0)).startswith("suspended")


def test_conditions_read_as_nested_lists_of_names() -> None:
    rm = load(template_path("dprk-phased"))
    names = Names.of(rm)
    rule = next(c for c in rm.consequences if c.id == "disablement-missed")
    html = str(names.condition(rule.when))
    assert "any of (" not in html
    assert "any one of these:" in html
    assert "Disable the 5 MWe reactor — overdue by more than 30 days" in html
    assert not re.search(r"\bdisable-5mwe\b", html)
    assert names.party("dprk") == "DPRK"
    assert names.parties["dprk"] == "Democratic People's Republic of Korea"
    assert names.text("2027-08-30: disablement-missed opens a procedure") == (
        f"2027-08-30: {rule.title} opens a procedure"
    )
    # a phase id that is an ordinary word stays a word in running text
    assert names.text("the freeze holds") == "the freeze holds"


def test_names_escape_what_they_render() -> None:
    rm = load(template_path("dprk-phased"))
    names = Names.of(rm)
    step = rm.phases[0].steps[0]
    hostile = Names(
        steps={step.id: "<script>x</script>"},
        phases={},
        parties={},
        short={},
        measures={},
        guarantees={},
        rules={},
        words={},
    )
    rule = next(r for r in rm.rewards if step.id in str(r.when.model_dump()))
    html = str(hostile.condition(rule.when))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert names.subject("no-such-id") == "no-such-id"
