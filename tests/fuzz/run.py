"""The fuzzing campaign (``make fuzz``): every target, a large budget, every finding.

Unlike the test, the campaign does not stop at the first finding: it counts the inputs
run and the distinct findings (exception type and the innermost cvid frame), keeps one
reproducer of each, and reports them per target. An input that runs longer than
``--hang-seconds`` is a finding too. Exits 1 when anything was found.

    python -m tests.fuzz.run --examples 100000 [--only NAME ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings

from cvid.errors import Error
from tests.fuzz.targets import TARGETS, Target


class Hang(Exception):
    """An input ran longer than the hang limit."""


class OutOfTime(Exception):  # a signal to stop, not an error
    """The target's share of the campaign's time is spent, or its inputs are all run."""


@dataclass
class Tally:
    """What one target's campaign saw."""

    name: str
    inputs: int = 0
    refused: int = 0
    seconds: float = 0.0
    findings: dict[str, dict[str, str]] = field(default_factory=dict)
    out_of_time: bool = False

    def report(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "inputs": self.inputs,
            "refused": self.refused,
            "crashes": len(self.findings),
            "seconds": round(self.seconds, 1),
            "out_of_time": self.out_of_time,
            "findings": self.findings,
        }


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/cvid/" in f.filename] or frames
    last = ours[-1]
    return f"{type(error).__name__} at {last.filename.rsplit('/src/', 1)[-1]}:{last.lineno}"


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang("input ran longer than the hang limit")


def campaign(
    target: Target, examples: int, hang_seconds: float, seconds: float, derived: int
) -> Tally:
    tally = Tally(target.name)
    signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    stop = started + seconds
    with target.open() as run:

        def one(data: Any) -> None:
            tally.inputs += 1
            signal.setitimer(signal.ITIMER_REAL, hang_seconds)
            try:
                run(data)
            except Error:
                tally.refused += 1
            except Exception as e:  # every other exception is a finding
                key = _where(e)
                if key not in tally.findings:
                    tally.findings[key] = {
                        "error": f"{type(e).__name__}: {str(e)[:300]}",
                        "input": repr(data)[:2000],
                    }
                    print(f"  {target.name}: finding {key}", file=sys.stderr, flush=True)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if tally.inputs % 10_000 == 0:
                print(f"  {target.name}: {tally.inputs} inputs", file=sys.stderr, flush=True)

        @settings(
            max_examples=examples,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
            database=None,
            verbosity=Verbosity.quiet,
        )
        @given(target.inputs)
        def fuzz(data: Any) -> None:
            one(data)
            if target.derive is not None:
                rng = random.Random(tally.inputs)
                for _ in range(derived):
                    one(target.derive(data, rng))
            if time.monotonic() > stop or tally.inputs >= examples:
                raise OutOfTime

        try:
            fuzz()
        except OutOfTime:
            tally.out_of_time = tally.inputs < examples
    tally.seconds = time.monotonic() - started
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--hang-seconds", type=float, default=10.0)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--derived",
        type=int,
        default=9,
        help="byte-level neighbours run after each hypothesis example of a cheap target",
    )
    parser.add_argument("--json", default=None, help="append each target's result here")
    parser.add_argument(
        "--hours",
        type=float,
        default=None,
        help="bound the whole campaign; each target gets an equal share of what is left",
    )
    args = parser.parse_args(argv)
    chosen = [t for t in TARGETS if args.only is None or t.name in args.only]
    print(f"{'target':<20} {'inputs':>8} {'refused':>8} {'crashes':>8} {'seconds':>8}")
    found = 0
    end = None if args.hours is None else time.monotonic() + args.hours * 3600
    for n, target in enumerate(chosen):
        share = float("inf") if end is None else (end - time.monotonic()) / (len(chosen) - n)
        tally = campaign(target, args.examples, args.hang_seconds, share, args.derived)
        result = tally.report()
        found += result["crashes"]
        print(
            f"{tally.name:<20} {tally.inputs:>8} {tally.refused:>8} "
            f"{len(tally.findings):>8} {tally.seconds:>8.0f}"
            + ("  (out of time)" if tally.out_of_time else ""),
            flush=True,
        )
        for key, finding in tally.findings.items():
            print(f"    {key}: {finding['error'][:160]}", flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as out:
                out.write(json.dumps(result) + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
