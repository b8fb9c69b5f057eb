"""A small budget of the fuzzing campaign: every target, a few hundred inputs each.

``CVID_FUZZ_EXAMPLES`` sets the inputs per target (``make fuzz`` runs ``tests.fuzz.run``
with 10^5). A refusal must be a :class:`cvid.errors.Error`; anything else fails.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from cvid.errors import Error
from tests.fuzz.targets import TARGETS, Target

EXAMPLES = int(os.environ.get("CVID_FUZZ_EXAMPLES", "100"))


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_refusals_are_errors(target: Target) -> None:
    with target.open() as run:

        @settings(
            max_examples=EXAMPLES,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @given(target.inputs)
        def check(data: Any) -> None:
            with contextlib.suppress(Error):
                run(data)

        check()
