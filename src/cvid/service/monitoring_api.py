"""Continuous monitoring's read endpoints beside ``GET /api/v1/monitoring``.

Devices are registered, periods committed and records revealed as signed events
(``POST /api/v1/events``: ``device.installed``, ``records.committed``,
``records.revealed``); continuity is served at ``GET /api/v1/monitoring``. Here:

* ``GET /api/v1/monitoring/reveals``: every logged reveal with admission's verdict
  (matched its commitment, or the finding it became), optionally for one device;
* ``POST /api/v1/monitoring/verify``: check records a holder handed over off the log
  (a ``records.revealed`` body, unsigned) against the device's logged commitment,
  logging nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from cvid.errors import Error, EventRejectedError, InputError, MonitoringError
from cvid.events import monitoring_bodies as mb
from cvid.events.authz_monitoring import RevealCheck, check_reveal
from cvid.monitor.records import time_text
from cvid.service.core import Service
from cvid.service.problems import error_problem, problem

MAX_VERIFY_BYTES = 4 * 1024 * 1024

_VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A records.revealed body: device, start, count, index, "
                    'records ([{"record": {...}, "salt": hex}]) and proof; no signature.',
                }
            }
        },
    }
}


def _check_json(check: RevealCheck, device: str) -> dict[str, Any]:
    c = check.commitment
    return {
        "device": device,
        "start": time_text(c.start),
        "commitment": c.index,
        "root": c.root.hex(),
        "count": c.count,
        "records": check.revealed,
        "matched": check.matched,
        "reason": check.reason or None,
    }


def monitoring_router(service: Service) -> APIRouter:
    """The monitoring routes, bound to one service."""
    router = APIRouter()

    @router.get("/api/v1/monitoring/reveals", tags=["state"], responses={404: {}})
    def reveals(device: Annotated[str | None, Query()] = None) -> Response:
        """Every logged reveal of device records, with whether it matched its commitment."""
        mon = service.roadmap.monitoring
        known = {d.id for d in mon.devices} if mon else set()
        if device is not None and device not in known:
            return problem(404, "unknown-device", f"the road map lists no device {device!r}")
        out = []
        for ev in service.events():
            if ev.type != "records.revealed" or not isinstance(ev.checked, RevealCheck):
                continue
            ref = ev.body.device  # type: ignore[attr-defined]
            if device is None or ref == device:
                out.append({"index": ev.index, "by": ev.party, **_check_json(ev.checked, ref)})
        return JSONResponse({"reveals": out})

    @router.post(
        "/api/v1/monitoring/verify",
        tags=["state"],
        openapi_extra=_VERIFY_BODY,
        responses={400: {}, 422: {}},
    )
    async def verify(request: Request) -> Response:
        """Check revealed records against their logged commitment; nothing is logged."""
        try:
            raw = await request.body()
            if len(raw) > MAX_VERIFY_BYTES:
                return problem(413, "too-large", f"at most {MAX_VERIFY_BYTES} bytes")
            try:
                data = json.loads(raw)
                body = mb.RecordsRevealed.model_validate(data)
            except (ValueError, ValidationError) as e:
                raise InputError(f"not a records.revealed body: {e}") from None
            history = service.agreement.history.monitoring
            known = history.devices.get(body.device)
            if known is None:
                raise EventRejectedError(
                    "unknown-device", f"device {body.device!r} has logged no data"
                )
            check = check_reveal(body, known)
        except MonitoringError as e:
            return problem(400, "bad-request", str(e))
        except Error as e:
            return error_problem(e)
        return JSONResponse(_check_json(check, body.device))

    return router
