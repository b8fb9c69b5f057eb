"""Verification mathematics: how many inspections, and which cells, chosen by nobody.

:mod:`cvid.verification.sampling` says how many random inspections detect a
falsified declaration and what a clean record says about completeness;
:mod:`cvid.verification.beacon` draws the cells to inspect from a commit-reveal
beacon anchored in the log. Pure: no I/O, no clock, no global random state.
"""

from __future__ import annotations

from cvid.verification.beacon import beacon_output, check_reveal, draw, secret_commitment
from cvid.verification.sampling import (
    Prior,
    completeness_confidence,
    detection_probability,
    posterior,
    sample_size_exact,
    sample_size_for,
    sample_size_iaea,
)

__all__ = [
    "Prior",
    "beacon_output",
    "check_reveal",
    "completeness_confidence",
    "detection_probability",
    "draw",
    "posterior",
    "sample_size_exact",
    "sample_size_for",
    "sample_size_iaea",
    "secret_commitment",
]
