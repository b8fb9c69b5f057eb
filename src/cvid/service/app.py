"""The ASGI application: the API, the published tiles and the dashboard, for one service.

CORS is off (no cross-origin headers are sent); request bodies are bounded; every
error, including a malformed query, is an RFC 9457 problem document for the API and
an HTML page for the dashboard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cvid import __version__
from cvid._connections import ConnectionLimits, server_config
from cvid._http import PAGE_POLICY, harden, security_headers
from cvid.agreement import Agreement, create_from_template
from cvid.amendment import roadmap_at
from cvid.engine import AgreementState, evaluate
from cvid.events.authz import AdmittedEvent
from cvid.log.cosignature import WitnessPolicy
from cvid.log.proof import InclusionProof
from cvid.roadmap.model import RoadMap
from cvid.service.api import SubmissionPath, api_router, submission_handlers
from cvid.service.core import Service
from cvid.service.dashboard import dashboard_router
from cvid.service.problems import problem

log = logging.getLogger("cvid.service")


class FrozenSource:
    """A finished agreement shown as it stood at ``at`` (the worked examples).

    Its log is read from the server's threads, so every read takes one lock; the log
    key and the checkpoint are read once.
    """

    def __init__(self, agreement: Agreement, at: dt.datetime) -> None:
        self.agreement = agreement
        self.at = at
        self._lock = threading.Lock()
        latest = agreement.log.latest_checkpoint()
        self._checkpoint = latest[1] if latest else None
        self._log_key = agreement.log_signer().verifier.to_text()
        self._policy = agreement.witness_policy()

    @property
    def roadmap(self) -> RoadMap:
        return self.agreement.roadmap

    @property
    def digest(self) -> str:
        return self.agreement.gate.digest

    def events(self) -> Sequence[AdmittedEvent]:
        return self.agreement.events

    def entry(self, index: int) -> bytes:
        with self._lock:
            return self.agreement.log.entry(index)

    def state(self, at: dt.datetime) -> AgreementState:
        roadmap = roadmap_at(self.agreement.gate, self.agreement.history, at)  # amendments
        return evaluate(roadmap, self.agreement.events, at=at)

    def now(self) -> dt.datetime:
        return self.at

    def checkpoint(self) -> bytes | None:
        return self._checkpoint

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        with self._lock:
            return self.agreement.log.inclusion_proof(index, tree_size)

    @property
    def witness_policy(self) -> WitnessPolicy | None:
        return self._policy

    @property
    def log_key(self) -> str:
        return self._log_key


def create_app(service: Service, *, examples: dict[str, FrozenSource] | None = None) -> FastAPI:
    """The application serving ``service`` (started and stopped with the app).

    ``examples`` are finished agreements shown read-only under ``/examples/<name>``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()
            for source in (examples or {}).values():
                source.agreement.close()

    app = FastAPI(
        title=f"cvid: {service.roadmap.agreement.title}",
        version=__version__,
        description=(
            "Submit signed events to the agreement's log; read entries, proofs, "
            "cosigned checkpoints and the agreement's state. Refusals are RFC 9457 "
            "problem documents whose `reason` is admission's stable code."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by api_router from the package, not from a CDN
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}"
            for err in exc.errors()
        )
        return problem(400, "bad-request", details or "the request is malformed")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, "http-error", str(exc.detail))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = problem(500, "internal", "the service failed; the error is logged")
        # A 500 leaves outside every middleware: the security headers go on here.
        response.raw_headers.extend(security_headers(PAGE_POLICY))
        return response

    # Inside the security headers (harden's middleware is added after, so outside it).
    app.add_middleware(SubmissionPath, handlers=submission_handlers(service))
    harden(app, policy=PAGE_POLICY)
    app.include_router(api_router(service))
    for name, source in (examples or {}).items():
        app.include_router(dashboard_router(source), prefix=f"/examples/{name}")
    app.include_router(dashboard_router(service))
    return app


def build_example(name: str, directory: Path) -> FrozenSource:
    """Build a shipped template with its dated history in ``directory``, checkpointed.

    Shown as it stood on the day after its last event.
    """
    agreement = create_from_template(directory, name, adopt_at=None)
    agreement.log.checkpoint(agreement.log_signer())
    last = max((e.signed.event.time for e in agreement.events), default=None)
    start = dt.datetime.combine(agreement.roadmap.agreement.start, dt.time(), tzinfo=dt.UTC)
    return FrozenSource(agreement, (last or start) + dt.timedelta(days=1))


EXAMPLES = ("kazakhstan-1991",)


def run(
    service: Service,
    *,
    host: str,
    port: int,
    examples: Path | None,
    connections: ConnectionLimits | None = None,
) -> None:
    """Serve ``service`` until interrupted (Ctrl-C, SIGTERM), then stop it cleanly.

    With ``examples``, the worked examples are built in that directory and shown
    read-only under ``/examples/<name>``. ``connections`` bounds how long and how
    many connections clients hold (see :mod:`cvid._connections`).
    """
    shown = {name: build_example(name, examples / name) for name in EXAMPLES} if examples else {}
    app = create_app(service, examples=shown)
    config = server_config(app, connections or ConnectionLimits(), host=host, port=port)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has already shut down cleanly
        uvicorn.Server(config).run()
