"""A sweep on a real two-worker Dask cluster gives exactly the serial results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from cvid.agreement import template_path
from cvid.roadmap.loader import load as load_roadmap
from cvid.sim import scenario as sc
from cvid.sim.sweep import grid_points, run_dask, run_serial

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_two_worker_cluster_equals_serial(tmp_path: Path) -> None:
    roadmap = load_roadmap(template_path("dprk-phased"))
    spec = sc.load_named("dprk-phased-hide")
    points = grid_points(
        {"inspections": [2, 10, 30], "items": [1, 3], "delay_probability": [0.0, 0.3]}, seed=21
    )
    serial = run_serial(roadmap, spec, points, runs=500)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # its HTTP server: loopback
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        done: list[int] = []
        parallel = run_dask(client, roadmap, spec, points, runs=500, progress=done.append)
        ran_on = client.run(lambda: True)
    assert len(ran_on) == 2
    assert sum(done) == len(points) == 12
    pd.testing.assert_frame_equal(parallel, serial)
    path = tmp_path / "sweep.parquet"
    parallel.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(path), serial)


def test_cli_sweep_on_a_given_scheduler_and_on_its_own_cluster(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from cvid.cli.sim import sim_app

    app = typer.Typer()
    app.add_typer(sim_app, name="sim")
    runner = CliRunner()
    base = [
        "sim",
        "sweep",
        "dprk-phased",
        "--scenario",
        "dprk-phased-hide",
        "--axis",
        "inspections=5,25",
        "--axis",
        "items=2",
        "--runs",
        "300",
        "--seed",
        "5",
    ]
    serial = runner.invoke(app, [*base, "--serial", "--out", str(tmp_path / "serial.csv")])
    assert serial.exit_code == 0, serial.stderr
    own = runner.invoke(app, [*base, "--workers", "2", "--out", str(tmp_path / "own.parquet")])
    assert own.exit_code == 0, own.stderr
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        remote = runner.invoke(
            app,
            [*base, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "r.parquet")],
        )
    assert remote.exit_code == 0, remote.stderr
    expected = pd.read_csv(tmp_path / "serial.csv")
    for name in ("own.parquet", "r.parquet"):
        got = pd.read_parquet(tmp_path / name)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    bad = runner.invoke(
        app, [*base, "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "x.csv")]
    )
    assert bad.exit_code == 2
    assert "cannot reach the Dask scheduler" in bad.stderr
