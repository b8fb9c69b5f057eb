"""``cvid verify sample-size`` and ``cvid verify detect``: inspection sampling figures.

Thin over :mod:`cvid.verification.sampling`; every check of the arguments is done
there, and its errors reach the user through :func:`cvid.cli._app.handle_errors`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cvid.cli._app import handle_errors, out
from cvid.verification.sampling import detection_probability, sample_size_exact, sample_size_iaea

verify_app = typer.Typer(
    help="Inspection sampling: how many inspections, and what they detect.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Cells = Annotated[int, typer.Option("--N", help="The number of cells (items) in the declaration.")]


def _json(data: dict[str, Any]) -> None:
    out(json.dumps(data, indent=2) + "\n")


@verify_app.command("sample-size")
@handle_errors
def sample_size(
    big_n: Cells,
    big_m: Annotated[
        int, typer.Option("--M", help="How many must be falsified to divert (e.g. one SQ).")
    ],
    beta: Annotated[float, typer.Option("--beta", help="The acceptable non-detection β.")],
    as_json: Json = False,
) -> None:
    """How many cells to inspect: the IAEA formula N·(1 - β^(1/M)), and the exact figure."""
    iaea = sample_size_iaea(big_n, big_m, beta)
    exact = sample_size_exact(big_n, big_m, beta)
    if as_json:
        _json({"N": big_n, "M": big_m, "beta": beta, "iaea": iaea, "exact": exact})
        return
    out(
        f"N = {big_n}, M = {big_m}, beta = {beta:g} (detection {1 - beta:.4g})\n"
        f"IAEA formula ceil(N(1 - beta^(1/M))): {iaea} inspections\n"
        f"exact (hypergeometric):               {exact} inspections\n"
    )


@verify_app.command("detect")
@handle_errors
def detect(
    big_n: Cells,
    k: Annotated[int, typer.Option("--k", help="How many cells are falsified.")],
    n: Annotated[int, typer.Option("--n", help="How many cells are inspected, at random.")],
    per_inspection: Annotated[
        float,
        typer.Option(
            "--per-inspection", help="The chance an inspection of a falsified cell sees it."
        ),
    ] = 1.0,
    as_json: Json = False,
) -> None:
    """The probability that n random inspections of N cells find one of k falsified."""
    probability = detection_probability(big_n, k, n, per_inspection=per_inspection)
    if as_json:
        _json(
            {
                "N": big_n,
                "k": k,
                "n": n,
                "per_inspection": per_inspection,
                "probability": probability,
            }
        )
        return
    out(
        f"N = {big_n}, k = {k}, n = {n}, per-inspection {per_inspection:g}: "
        f"P(detect) = {probability:.6f}\n"
    )
