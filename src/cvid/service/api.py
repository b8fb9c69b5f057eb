"""The HTTP API: submit signed events; read entries, proofs, checkpoints and state.

Also serves the log as C2SP tlog-tiles (``/checkpoint``, ``/tile/...``): full tiles
never change, so they are cacheable forever; partial tiles and the checkpoint are not.
Every refusal is an RFC 9457 problem document (:mod:`cvid.service.problems`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cvid._asgi import read_body
from cvid._when import parse_when
from cvid.errors import Error, InputError, TileError
from cvid.events.authz import AdmittedEvent
from cvid.events.envelope import MAX_EVENT_BYTES
from cvid.log import merkle
from cvid.log.audit import width_at
from cvid.log.checkpoint import Checkpoint
from cvid.log.note import Note
from cvid.log.tiles import TILE_WIDTH, parse_tile_path, published_tile
from cvid.report import KEEP, MAX_KEEP, MAX_POINTER_CHARS, state_item, state_list, state_to_dict
from cvid.roadmap.loader import to_json
from cvid.service import listing
from cvid.service.core import Service
from cvid.service.docs import docs_router
from cvid.service.listing import Cursor, CursorError, EventFilter, parse_types
from cvid.service.monitoring_api import monitoring_router
from cvid.service.problems import MEDIA_TYPE, error_problem, problem

SUBMIT_PATH = "/api/v1/events"
BATCH_PATH = "/api/v1/events/batch"
NDJSON = "application/x-ndjson"
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
MAX_PAGE = listing.MAX_LIMIT

# the paging parameters of every list: /api/v1/entries, /api/v1/state/list, /api/v1/drafts
PageCursor = Annotated[
    str | None,
    Query(description="opaque: a next_cursor or previous_cursor from an earlier page"),
]
PageLimit = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description=f"at most this many (≤ {MAX_PAGE})")
]

Keep = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_KEEP,
        description="the newest this many items of every list (and of every collection "
        "that grows with the log); `<key>_total` counts a list cut, `cut` names each "
        "list cut, and /api/v1/state/list pages through it",
    ),
]

_PROBLEM = {"description": "An RFC 9457 problem document", "content": {MEDIA_TYPE: {}}}
_TOO_MANY = {
    "description": "An RFC 9457 problem document: the party is over its rate "
    "(`urn:cvid:problem:rate-limited`), or has logged the road map's storage quota for "
    "the UTC day (`urn:cvid:problem:storage-quota`, with `retry_after`)",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait: 1 for a rate, until the next UTC day for a quota",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": {MEDIA_TYPE: {}},
}
_SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **dict.fromkeys((400, 403, 409, 413, 422, 503), _PROBLEM),
    429: _TOO_MANY,
}
_ENTRY_BODY = {
    "requestBody": {
        "required": True,
        "description": "One signed event, exactly as it will be logged (RFC 8785 JSON).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "Signed events, one per line, all or none admitted.",
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _accepted(admitted: AdmittedEvent, data: bytes) -> dict[str, Any]:
    event = admitted.signed.event
    return {
        "index": admitted.index,
        "leaf_hash": _b64(merkle.leaf_hash(data)),
        "party": event.party,
        "seq": event.seq,
        "type": event.type,
    }


def _entry_json(index: int, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(data)
    return {"index": index, "leaf_hash": _b64(merkle.leaf_hash(data)), **entry}


Handler = Callable[[Request], Awaitable[Response]]


def submission_handlers(service: Service) -> dict[str, Handler]:
    """The handlers of ``POST /api/v1/events`` and ``/api/v1/events/batch``, by path.

    :class:`SubmissionPath` calls them straight from the ASGI scope; the API's routes
    call the same ones (and document them).
    """
    limits = service.limits

    async def submit_one(request: Request) -> Response:
        try:
            data = await read_body(request, min(limits.max_request_bytes, MAX_EVENT_BYTES))
            (admitted,) = await service.submit([data], client=_client(request))
        except Error as e:
            return error_problem(e)
        except TimeoutError:
            return _timeout()
        return JSONResponse(
            _accepted(admitted, data),
            status_code=201,
            headers={"Location": f"/api/v1/entries/{admitted.index}"},
        )

    async def submit_many(request: Request) -> Response:
        try:
            body = await read_body(request, limits.max_request_bytes)
            numbered = [(n, line) for n, line in enumerate(body.split(b"\n")) if line.strip()]
            lines = [line for _, line in numbered]
            admitted = await service.submit(lines, client=_client(request))
        except Error as e:
            index = _failed_line(e)
            if index is None or index >= len(numbered):
                return error_problem(e)
            return error_problem(e, line=numbered[index][0])  # 0-based line of the body
        except TimeoutError:
            return _timeout()
        return JSONResponse(
            {"accepted": [_accepted(a, d) for a, d in zip(admitted, lines, strict=True)]},
            status_code=201,
        )

    return {SUBMIT_PATH: submit_one, BATCH_PATH: submit_many}


class SubmissionPath:
    """Submissions (``POST`` to exactly :data:`SUBMIT_PATH` or :data:`BATCH_PATH`) go
    straight to their handlers, past the router: the busiest requests cost the least.

    Installed inside the security-header middleware; an unexpected error reaches the
    application's error handler as from any route.
    """

    def __init__(self, app: ASGIApp, *, handlers: dict[str, Handler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.handlers.get(scope["path"])
            if handler is not None:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def api_router(service: Service) -> APIRouter:
    """The API routes, bound to one service, and their documentation page."""
    router = APIRouter()
    router.include_router(docs_router(title=f"cvid: {service.roadmap.agreement.title}"))
    router.include_router(monitoring_router(service))
    handlers = submission_handlers(service)
    submit_one, submit_many = handlers[SUBMIT_PATH], handlers[BATCH_PATH]

    def _moment(at: str | None) -> dt.datetime:
        return parse_when(at, "at") if at else service.now()

    @router.post(
        SUBMIT_PATH,
        status_code=201,
        openapi_extra=_ENTRY_BODY,
        responses=_SUBMIT_RESPONSES,
        tags=["submit"],
    )
    async def submit_event(request: Request) -> Response:
        """Submit one signed event; answered once it is durably logged."""
        return await submit_one(request)

    @router.post(
        BATCH_PATH,
        status_code=201,
        openapi_extra=_BATCH_BODY,
        responses=_SUBMIT_RESPONSES,
        tags=["submit"],
    )
    async def submit_batch(request: Request) -> Response:
        """Submit signed events, one per line: all are logged, or none."""
        return await submit_many(request)

    @router.get("/api/v1/entries", tags=["read"], responses={400: _PROBLEM})
    def list_entries(
        *,
        cursor: PageCursor = None,
        start: Annotated[
            int | None, Query(ge=0, description="the first entry to consider (no cursor)")
        ] = None,
        limit: PageLimit = 100,
        party: Annotated[str | None, Query(description="signed by this party")] = None,
        type: Annotated[
            list[str] | None,
            Query(description="of these event types (repeat, or separate with commas)"),
        ] = None,
        step: Annotated[str | None, Query(description="whose body names this step")] = None,
        since: Annotated[
            str | None, Query(description="dated at or after (a date, or RFC 3339)")
        ] = None,
        until: Annotated[
            str | None, Query(description="dated at or before (a date, or RFC 3339)")
        ] = None,
    ) -> Response:
        """Logged entries in log order, filtered, one page at a time.

        Page with ``next_cursor`` (or back with ``previous_cursor``) until it is null:
        every matching entry comes exactly once. A page may hold fewer than ``limit``
        entries, even none, and still have a next cursor.
        """
        try:
            if cursor is not None and start is not None:
                raise InputError("give cursor or start, not both")
            position = Cursor.decode(cursor) if cursor is not None else None
            if start is not None:
                position = Cursor(min(start, service.size))
            f = EventFilter(
                party=party,
                types=parse_types(type or []),
                step=step,
                since=parse_when(since, "since") if since else None,
                until=parse_when(until, "until") if until else None,
            )
            events = service.events()
            index = listing.index_of(service, events, listing.step_ids(service.roadmap))
            found = listing.page(
                events, f, position, limit, candidates=index.candidates(f, len(events))
            )
        except Error as e:
            return error_problem(e)
        rows = _raw_entries(service, [e.index for e in found.events])
        return JSONResponse(
            {
                "tree_size": len(events),
                "entries": [_entry_json(i, d) for i, d in rows],
                "next_cursor": found.next.encode() if found.next else None,
                "previous_cursor": found.previous.encode() if found.previous else None,
            }
        )

    @router.get("/api/v1/entries/{index}", tags=["read"], responses={404: _PROBLEM})
    def get_entry(index: int) -> Response:
        """One logged entry, decoded, with its leaf hash."""
        if not 0 <= index < service.size:
            return problem(404, "out-of-range", f"no entry {index}; the log has {service.size}")
        return JSONResponse(_entry_json(index, service.entry(index)))

    @router.get("/api/v1/entries/{index}/raw", tags=["read"], responses={404: _PROBLEM})
    def get_raw_entry(index: int) -> Response:
        """One logged entry, byte for byte as logged and hashed."""
        if not 0 <= index < service.size:
            return problem(404, "out-of-range", f"no entry {index}; the log has {service.size}")
        return Response(service.entry(index), media_type="application/json")

    @router.get("/api/v1/checkpoint", tags=["read"], responses={404: _PROBLEM})
    def get_checkpoint() -> Response:
        """The latest checkpoint with its witness cosignatures, and whether it is final."""
        note = service.checkpoint()
        if note is None:
            return problem(404, "no-checkpoint", "no checkpoint has been published yet")
        policy = service.witness_policy
        result = policy.check(note) if policy else None
        return JSONResponse(
            {
                "note": note.decode("utf-8"),
                "tree_size": _size(note),
                "log_key": service.log_key,
                "witnesses": {
                    "threshold": result.threshold,
                    "signed": list(result.signed),
                    "missing": list(result.missing),
                    "invalid": list(result.invalid),
                    "final": result.satisfied,
                    "last_round": _round(service),
                }
                if result
                else None,
            }
        )

    @router.get(
        "/api/v1/proofs/inclusion", tags=["proofs"], responses={400: _PROBLEM, 404: _PROBLEM}
    )
    def inclusion(
        index: Annotated[int | None, Query(ge=0)] = None,
        leaf_hash: Annotated[str | None, Query(description="base64 RFC 9162 leaf hash")] = None,
        tree_size: Annotated[int | None, Query(ge=1)] = None,
    ) -> Response:
        """Proof that an entry (by index or leaf hash) is in the tree of ``tree_size``."""
        size = service.size if tree_size is None else tree_size
        if (index is None) == (leaf_hash is None):
            return problem(400, "bad-request", "give index or leaf_hash, not both")
        if leaf_hash is not None:
            try:
                wanted = base64.b64decode(leaf_hash, validate=True)
            except ValueError:
                return problem(400, "bad-request", "leaf_hash is not base64")
            index = service.index_of(wanted)
            if index is None:
                return problem(404, "not-logged", "no entry has that leaf hash")
        assert index is not None
        if not 0 <= index < size <= service.size:
            return problem(
                404,
                "out-of-range",
                f"entry {index} is not in a tree of {size} (log: {service.size})",
            )
        return JSONResponse(service.inclusion_proof(index, size).to_dict())

    @router.get(
        "/api/v1/proofs/consistency", tags=["proofs"], responses={400: _PROBLEM, 404: _PROBLEM}
    )
    def consistency(
        old: Annotated[int, Query(ge=0)], new: Annotated[int | None, Query(ge=0)] = None
    ) -> Response:
        """Proof that the tree of ``old`` entries is a prefix of the tree of ``new``."""
        size = service.size if new is None else new
        if not old <= size <= service.size:
            return problem(404, "out-of-range", f"need old ≤ new ≤ {service.size}")
        return JSONResponse(service.consistency_proof(old, size).to_dict())

    @router.get("/api/v1/state", tags=["state"], responses={400: _PROBLEM})
    def state(
        request: Request,
        at: Annotated[str | None, Query(description="a date or RFC 3339 time")] = None,
        keep: Keep = KEEP,
        drafts: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_PAGE,
                description="the newest this many Council drafts (default: `keep`); "
                "`drafts_total` counts them all, /api/v1/drafts pages through them",
            ),
        ] = None,
    ) -> Response:
        """Where the agreement stands at ``at`` (default: now): the engine's answer,
        bounded by ``keep`` whatever the log holds.

        ``X-Cvid-Entries`` gives the log size it is of, ``X-Cvid-Log-Size`` the log's
        size as it is answered. "Now", on a log of 10,000 entries or more taking events
        faster than the state is computed, may be the state computed a moment ago (its
        `at` says when: at most 10 s earlier); the request header `Cache-Control:
        no-cache` asks for every event committed before the request, and waits."""
        try:
            moment = _moment(at)
        except Error as e:
            return error_problem(e)
        keep_of = {"drafts": drafts} if drafts is not None else None
        fresh = "no-cache" in request.headers.get("cache-control", "").lower()
        document, size = service.state_document(moment, keep=keep, keep_of=keep_of, fresh=fresh)
        headers = {"X-Cvid-Entries": str(size), "X-Cvid-Log-Size": str(service.size)}
        return Response(document, media_type="application/json", headers=headers)

    @router.get("/api/v1/state/list", tags=["state"], responses={400: _PROBLEM})
    def state_list_page(
        path: Annotated[
            str,
            Query(
                max_length=MAX_POINTER_CHARS,
                description="a JSON pointer of a list in the state, such as one of its "
                "`cut`: `/limits/<id>/history`, `/violations`, `/drafts`",
            ),
        ],
        at: Annotated[str | None, Query(description="a date or RFC 3339 time")] = None,
        cursor: PageCursor = None,
        limit: PageLimit = 100,
        keep: Annotated[
            int,
            Query(
                ge=0,
                le=MAX_KEEP,
                description="the `keep` of the state document the path comes from: an "
                "index in the path counts in that document's lists (default: the state's)",
            ),
        ] = KEEP,
    ) -> Response:
        """Every item of one list of the state at ``at`` (default: now), in the list's
        order, a page at a time: the whole of a list the state document cut."""
        try:
            moment = _moment(at)
            position = Cursor.decode(cursor) if cursor is not None else None
            items = state_list(service.state(moment), path, keep)
            if position is not None and position.position > len(items):
                raise CursorError(f"the cursor points beyond the list's {len(items)} items")
            lo, hi, after, before = listing.window(range(len(items)), position, limit)
        except Error as e:
            return error_problem(e)
        return JSONResponse(
            {
                "at": state_item(moment),
                "path": path,
                "total": len(items),
                "items": [state_item(x) for x in items[lo:hi]],
                "next_cursor": after.encode() if after else None,
                "previous_cursor": before.encode() if before else None,
            }
        )

    @router.get("/api/v1/drafts", tags=["state"], responses={400: _PROBLEM})
    def list_drafts(
        at: Annotated[str | None, Query(description="a date or RFC 3339 time")] = None,
        cursor: PageCursor = None,
        limit: PageLimit = 100,
    ) -> Response:
        """Council drafts at ``at`` (default: now), in the order they were tabled, a page
        at a time (as in the state's ``drafts``)."""
        try:
            moment = _moment(at)
            position = Cursor.decode(cursor) if cursor is not None else None
            full = service.state(moment)
            tabled = sorted(
                (d.events[0] if d.events else 0, d_id) for d_id, d in full.drafts.items()
            )
            keys = [k for k, _ in tabled]
            lo, hi, after, before = listing.window(keys, position, limit)
        except Error as e:
            return error_problem(e)
        chosen = {d_id: full.drafts[d_id] for _, d_id in tabled[lo:hi]}
        data = state_to_dict(dataclasses.replace(full, drafts=chosen), keys=("drafts",))
        return JSONResponse(
            {
                "at": data["at"],
                "drafts_total": len(full.drafts),
                "drafts": data["drafts"],
                "next_cursor": after.encode() if after else None,
                "previous_cursor": before.encode() if before else None,
            }
        )

    @router.get("/api/v1/escrow", tags=["state"], responses={400: _PROBLEM})
    def escrow(at: Annotated[str | None, Query()] = None, keep: Keep = KEEP) -> Response:
        """Declarations in escrow, cells revealed, inspections, beacon rounds, custody."""
        try:
            moment = _moment(at)
        except Error as e:
            return error_problem(e)
        keys = ("declarations", "beacon_rounds", "custody")
        return JSONResponse(state_to_dict(service.state(moment), keep, keys=keys))

    @router.get("/api/v1/monitoring", tags=["state"], responses={400: _PROBLEM})
    def monitoring(at: Annotated[str | None, Query()] = None, keep: Keep = KEEP) -> Response:
        """Continuity of knowledge per covered item, devices and material balances."""
        try:
            moment = _moment(at)
        except Error as e:
            return error_problem(e)
        keys = ("continuity", "devices", "balances")
        return JSONResponse(state_to_dict(service.state(moment), keep, keys=keys))

    @router.get("/api/v1/roadmap", tags=["state"])
    def roadmap() -> Response:
        """The adopted road map as canonical JSON; its digest is the ``roadmap`` of events."""
        return Response(
            to_json(service.roadmap),
            media_type="application/json",
            headers={"X-Roadmap-Digest": service.digest},
        )

    @router.get("/checkpoint", tags=["tiles"], responses={404: _PROBLEM})
    def tiles_checkpoint() -> Response:
        """The latest cosigned checkpoint (C2SP tlog-tiles)."""
        note = service.checkpoint()
        if note is None:
            return problem(404, "no-checkpoint", "no checkpoint has been published yet")
        return Response(
            note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": NO_CACHE}
        )

    @router.get("/tile/{path:path}", tags=["tiles"], responses={404: _PROBLEM})
    def tile(path: str) -> Response:
        """A hash tile or entry bundle (C2SP tlog-tiles)."""
        try:
            tile_id, width = parse_tile_path("tile/" + path)
        except TileError as e:
            return problem(404, "no-such-tile", str(e))
        if width > width_at(tile_id, service.size):
            return problem(404, "no-such-tile", f"tile/{path} is not published")
        (stored,) = service.read_tiles([tile_id])
        content = published_tile(tile_id, width, stored)
        cache = IMMUTABLE if width == TILE_WIDTH else NO_CACHE
        return Response(
            content, media_type="application/octet-stream", headers={"Cache-Control": cache}
        )

    @router.get("/healthz", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, the log size and the published checkpoint's size."""
        note = service.checkpoint()
        size = _size(note) if note else None
        return {"ok": True, "tree_size": service.size, "checkpoint_size": size}

    return router


def _raw_entries(service: Service, indices: list[int]) -> list[tuple[int, bytes]]:
    """The logged bytes of entries ``indices`` (ascending), read a run at a time."""
    out: list[tuple[int, bytes]] = []
    k = 0
    while k < len(indices):
        end = k + 1
        while end < len(indices) and indices[end] == indices[end - 1] + 1:
            end += 1
        first = indices[k]
        out += enumerate(service.entries(first, first + end - k), first)
        k = end
    return out


def _client(request: Request) -> str | None:
    """The client's address, charged for refusals that no party's signature covers."""
    return request.client.host if request.client else None


def _failed_line(error: Error) -> int | None:
    return getattr(error, "line", None)


def _timeout() -> JSONResponse:
    return problem(
        504,
        "timeout",
        "no answer in time; the event may still be logged: look it up before resubmitting",
    )


def _round(service: Service) -> list[dict[str, Any]] | None:
    result = service.witness_round
    if result is None:
        return None
    return [
        {
            "witness": o.witness,
            "outcome": o.outcome.value,
            "status": o.status,
            "detail": o.describe(),
            "witness_size": o.witness_size,
        }
        for o in result.outcomes
    ]


def _size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).tree_size
