"""The dashboard's simulation page over HTTP (no browser): the form, a run's tables and
chart containers, the same seed giving the same numbers, the cache, 400 pages, and a
road map no shipped scenario fits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from cvid.service import dashboard
from cvid.service.app import FrozenSource, build_example
from cvid.service.dashboard import dashboard_router
from cvid.sim.montecarlo import simulate
from cvid.sim.scenario import shipped_names
from tests.service_support import build_agreement
from tests.unit.service.test_dashboard import Client, rows

PREFIX = "/examples/second"
KAZAKHSTAN = "/examples/kazakhstan-1991"
SMALL = "/simulation?scenario=dprk-phased-hide&runs=40&seed=7"
CHARTS = ("figure-completion", "figure-detection", "figure-undetected", "figure-trajectories")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_agreement(tmp_path_factory.mktemp("simulation") / "agreement")
    yield built
    built.agreement.close()


@pytest.fixture(scope="module")
def kazakhstan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_example("kazakhstan-1991", tmp_path_factory.mktemp("kz") / "agreement")
    yield built
    built.agreement.close()


def make_app(source: FrozenSource, kazakhstan: FrozenSource | None = None) -> FastAPI:
    app = FastAPI()
    if kazakhstan is not None:
        app.include_router(dashboard_router(kazakhstan), prefix=KAZAKHSTAN)
    app.include_router(dashboard_router(source), prefix=PREFIX)
    app.include_router(dashboard_router(source))
    return app


@pytest.fixture(scope="module")
def client(source: FrozenSource, kazakhstan: FrozenSource) -> Client:
    return Client(make_app(source, kazakhstan))


def main(html: str) -> str:
    """The page's <main> element."""
    found = re.search(r"<main id=\"main\".*?</main>", html, re.S)
    assert found, html
    return found[0]


def results(html: str) -> str:
    """The results section: every number the simulation produced, as text."""
    found = re.search(r'<section aria-labelledby="h-results".*?</section>', html, re.S)
    assert found, html
    return found[0]


def test_the_form_without_a_query(client: Client) -> None:
    response = client.get("/simulation")
    assert response.status_code == 200, response.text
    html = response.text
    assert html.startswith("<!doctype html>")
    assert '<form class="when sim" method="get" action="./simulation"' in html
    assert "dprk-phased-hide" in shipped_names()
    assert '<option value="dprk-phased-hide" selected>' in html
    assert 'name="runs" type="number" min="10" max="5000" step="1" value="500"' in html
    assert 'name="seed" type="number" min="0" max="4294967295" step="1" value="1"' in html
    assert "always give the same numbers" in html
    assert 'href="./simulation" aria-current="page">Simulation</a>' in html
    assert 'id="h-results"' not in html  # nothing runs without a query
    assert "<script" not in html


def test_a_small_run_shows_the_tables_and_the_charts(client: Client) -> None:
    response = client.get(SMALL)
    assert response.status_code == 200, response.text
    html = response.text
    assert "<title>Simulation: dprk-phased-hide, 40 runs, seed 7 ·" in html
    assert 'value="40"' in html  # the form keeps the query
    assert 'value="7"' in html
    summary = rows(html, "measure")
    assert set(summary) == {
        "completed",
        "completion-p10",
        "completion-p50",
        "completion-p90",
        "completion-mean",
        "detected",
        "false-alarm",
    }
    assert re.search(r"\d+\.\d %", summary["detected"])
    assert re.search(r"[\d,]+ days|—", summary["completion-p50"])
    phases = rows(html, "phase")
    assert list(phases) == ["freeze", "disablement", "dismantlement", "npt-safeguards", "nea-nwfz"]
    for text in phases.values():
        assert len(re.findall(r"\d+\.\d %", text)) == 2
    assert 'id="sim-undetected"' in html
    assert "Expected undetected items" in html
    assert "keeps 3 items back from its declaration" in html
    # kept back from the outset: day 0 already has the 3 items undetected
    undetected = re.search(
        r'<table id="sim-undetected">.*?<tbody><tr><td>0</td><td>([\d.]+)</td>', html, re.S
    )
    assert undetected is not None
    assert undetected[1] == "3.00"
    # the footer speaks of the scenario, not of a log this page never reads
    footer = re.search(r'<footer class="site">(.*?)</footer>', html, re.S)
    assert footer is not None
    assert "reads no log" in footer[1]
    assert "log alone" not in footer[1]
    # the charts: SVG drawn on the server, one figure each, shares in percent, names
    assert "<script" not in html
    for div_id in CHARTS:
        figure = re.search(rf'<figure class="sim-chart" id="{div_id}".*?</figure>', html, re.S)
        assert figure is not None, div_id
        assert "<svg" in figure[0]
    detection = re.search(r'id="figure-detection".*?</figure>', html, re.S)
    assert detection is not None
    assert "100 %" in detection[0]
    assert "Freeze: moratorium" in detection[0]  # phase names, not ids
    trajectories = re.search(r'id="figure-trajectories".*?</figure>', html, re.S)
    assert trajectories is not None
    assert "first tranche of relief" in trajectories[0]
    assert "measure unsc-" not in trajectories[0]
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "an id used twice"


def test_under_a_prefix_the_page_loads_nothing_but_its_style(client: Client) -> None:
    html = client.get(PREFIX + SMALL).text
    assert "<script" not in html
    assert '<link rel="stylesheet" href="./static/dashboard.css">' in html
    assert client.get(PREFIX + "/static/dashboard.css").status_code == 200


def test_the_same_seed_gives_the_same_numbers(source: FrozenSource) -> None:
    first = Client(make_app(source)).get(SMALL).text  # two apps: no shared cache
    again = Client(make_app(source)).get(SMALL).text
    assert main(first) == main(again)
    other = Client(make_app(source)).get(SMALL.replace("seed=7", "seed=8")).text
    assert results(other) != results(first)


def test_results_are_cached_per_scenario_runs_and_seed(
    source: FrozenSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["runs"])
        return simulate(*args, **kwargs)

    monkeypatch.setattr(dashboard, "simulate", counting)
    monkeypatch.setattr(dashboard, "SIMULATIONS_KEPT", 2)
    client = Client(make_app(source))
    first = client.get(SMALL).text
    assert client.get(SMALL).text == first
    assert calls == [40]
    client.get(SMALL.replace("runs=40", "runs=30"))
    client.get(SMALL.replace("runs=40", "runs=20"))  # the 40-run result is evicted
    assert calls == [40, 30, 20]
    assert main(client.get(SMALL).text) == main(first)
    assert calls == [40, 30, 20, 40]


def test_a_query_without_a_scenario_runs_the_first_that_fits(client: Client) -> None:
    html = client.get("/simulation?runs=10").text
    assert "Results of 10 runs with seed 1" in html
    assert '<option value="dprk-phased-hide" selected>' in html


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("runs=9", "Not a valid runs"),
        ("runs=5001", "Not a valid runs"),
        ("runs=abc", "Not a valid runs"),
        ("runs=", "Not a valid runs"),
        ("runs=1e3", "Not a valid runs"),
        ("runs=-10", "Not a valid runs"),
        ("runs=99999999999999999999", "Not a valid runs"),
        ("seed=-1", "Not a valid seed"),
        ("seed=4294967296", "Not a valid seed"),
        ("seed=1.5", "Not a valid seed"),
        ("seed=%3Cscript%3E", "Not a valid seed"),
        ("scenario=nope", "No such scenario"),
        ("scenario=..%2F..%2Fetc%2Fpasswd", "No such scenario"),
        ("scenario=", "No such scenario"),
    ],
)
def test_bad_query_values_give_the_400_page(client: Client, query: str, title: str) -> None:
    for prefix in ("", PREFIX):
        response = client.get(f"{prefix}/simulation?{query}")
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert html.startswith("<!doctype html>")
        assert f"<h1>{title}</h1>" in html
        assert '<p class="error-message">' in html
        assert "<script>" not in html


def test_a_road_map_no_scenario_fits_gets_a_message(client: Client) -> None:
    response = client.get(KAZAKHSTAN + "/simulation")
    assert response.status_code == 200, response.text
    html = response.text
    assert "No shipped scenario fits this road map" in html
    assert "the scenario is for road map &#39;dprk-phased&#39;" in html  # and why
    assert "<form" not in html
    named = client.get(KAZAKHSTAN + "/simulation?scenario=dprk-phased-hide&runs=10")
    assert named.status_code == 400
    assert "<h1>The scenario does not fit</h1>" in named.text
    unnamed = client.get(KAZAKHSTAN + "/simulation?runs=10")
    assert unnamed.status_code == 400
    assert "<h1>No scenario to run</h1>" in unnamed.text


def test_the_page_module_needs_no_file_in_the_working_directory(
    source: FrozenSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dprk-phased-hide").write_text("not: a scenario\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    response = Client(make_app(source)).get("/simulation")
    assert response.status_code == 200
    assert '<option value="dprk-phased-hide" selected>' in response.text
