"""The road map sits below the events: loading and checking one imports no event module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cvid import event_types
from cvid.events import bodies as b

SRC = Path(__file__).resolve().parents[3] / "src"


def _modules_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    return [name for name in json.loads(out.stdout) if name.startswith("cvid")]


def test_importing_the_road_map_imports_no_event_module() -> None:
    loaded = _modules_after("import cvid.roadmap, cvid.roadmap.check, cvid.roadmap.joint")
    assert "cvid.roadmap.check" in loaded  # the subprocess did import the road map
    assert [name for name in loaded if name.startswith(("cvid.events", "cvid.engine"))] == []


def test_a_road_map_checks_event_type_names_from_the_list_below_both_layers() -> None:
    assert set(event_types.EVENT_TYPES) == set(b.BODIES)
    assert len(set(event_types.EVENT_TYPES)) == len(event_types.EVENT_TYPES)
