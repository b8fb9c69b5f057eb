"""Property-based API tests: schemathesis drives every operation of the published OpenAPI.

The whole API must answer malformed and hostile input with a 4xx problem document,
never a server error. Examples are bounded so the run stays short.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from cvid import agreement as ag
from cvid.service.app import create_app
from cvid.service.core import Service
from tests.live import serving


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, value: Any) -> bytes:
    """Generated batch bodies: a string as is, anything else as one JSON line."""
    data = value if isinstance(value, str) else json.dumps(value)
    return data.encode("utf-8", "surrogatepass")


def test_no_operation_fails_with_a_server_error(tmp_path: Path) -> None:
    directory = tmp_path / "ag"
    adopted = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    ag.create_from_template(directory, "dprk-phased", adopt_at=adopted).close()
    service = Service(ag.Agreement.open(directory), checkpoint_interval=0.2)
    with serving(create_app(service, examples={})) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) >= 12
        calls: list[int] = []
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                response = case.call_and_validate(checks=[not_a_server_error])
                calls.append(response.status_code)

            check()
        assert len(calls) > 5 * len(operations)
        assert any(400 <= status < 500 for status in calls)  # hostile input was refused
