"""Figures: self-contained pages (plotly.js inline, no CDN) and reusable fragments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cvid.agreement import template_path
from cvid.errors import ScenarioError
from cvid.roadmap.loader import load as load_roadmap
from cvid.sim import figures
from cvid.sim import scenario as sc
from cvid.sim.montecarlo import simulate

DPRK = load_roadmap(template_path("dprk-phased"))


@pytest.fixture(scope="module")
def result() -> object:
    spec = sc.load_named("dprk-phased-hide").model_copy(update={"engine_runs": 4})
    return simulate(DPRK, spec, runs=300, rng=np.random.default_rng(2))


def test_pages_embed_plotly_and_fetch_nothing(result: object, tmp_path: Path) -> None:
    paths = figures.write_all(figures.simulation_figures(result), tmp_path)  # type: ignore[arg-type]
    assert sorted(p.name for p in paths) == [
        "completion.html",
        "detection.html",
        "trajectories.html",
        "undetected.html",
    ]
    bundle = figures.plotly_js()
    assert len(bundle) > 1_000_000
    for path in paths:
        html = path.read_text(encoding="utf-8")
        assert bundle[:2000] in html
        assert bundle[-2000:] in html
        assert "<script src=" not in html  # nothing is loaded from elsewhere
        assert html.count("cdn.plot.ly") == bundle.count(
            "cdn.plot.ly"
        )  # only the bundle's own default


def test_same_figure_same_page(result: object, tmp_path: Path) -> None:
    fig = figures.completion_cdf(result)  # type: ignore[arg-type]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = figures.write_html(fig, tmp_path / "a" / "completion.html")
    b = figures.write_html(fig, tmp_path / "b" / "completion.html")
    assert a.read_bytes() == b.read_bytes()


def test_fragment_has_the_figure_but_not_the_bundle(result: object) -> None:
    fig = figures.detection_by_phase(result)  # type: ignore[arg-type]
    html = figures.fragment(fig, div_id="detection")
    assert html.startswith("<div")
    assert 'id="detection"' in html
    assert "Plotly.newPlot" in html
    assert len(html) < 100_000
    assert "cdn.plot.ly" not in html
    assert "disablement" in html


def test_trajectory_shares_are_fractions(result: object) -> None:
    fig = figures.trajectories(result)  # type: ignore[arg-type]
    assert fig.data
    for trace in fig.data:
        assert min(trace.y) >= 0
        assert max(trace.y) <= 1


def test_heatmap_of_a_sweep() -> None:
    frame = pd.DataFrame(
        {"inspections": [1, 1, 5, 5], "items": [1, 2, 1, 2], "detected": [0.1, 0.2, 0.5, 0.7]}
    )
    fig = figures.sweep_heatmap(frame, x="inspections", y="items")
    assert fig.data[0].z.tolist() == [[0.1, 0.5], [0.2, 0.7]]
    with pytest.raises(ScenarioError, match="no column"):
        figures.sweep_heatmap(frame, x="inspections", y="cells")
