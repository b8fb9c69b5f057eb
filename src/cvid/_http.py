"""What every cvid HTTP server adds to its application: security headers, HEAD, OPTIONS.

:func:`harden` installs two ASGI middlewares. :class:`SecurityHeaders` sets the same
headers on every response; it does not decide what a page may contain (the templates
keep to the policy: no inline script, no inline style) and sends no CORS headers.
:class:`Methods` answers HEAD wherever GET is routed, OPTIONS with ``Allow``, and puts
``Allow`` on a 405; it reads the application's own routes, so it never disagrees
with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboard and the API docs: everything from this origin and nothing inline; no
# style by hash and never 'unsafe-inline' (the charts are SVG drawn on the server, with
# presentation attributes only).
PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# A server with no pages at all (the witness): nothing may load from its answers.
NO_CONTENT_POLICY = "default-src 'none'; frame-ancestors 'none'"


def security_headers(policy: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, under Content-Security-Policy ``policy``."""
    return [
        (b"content-security-policy", policy.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),  # frame-ancestors, for browsers that predate it
        (b"referrer-policy", b"no-referrer"),
    ]


class SecurityHeaders:
    """ASGI middleware: add :func:`security_headers` to every HTTP response it sees.

    A header of the same name set by the application is replaced, so a response
    never carries two policies.
    """

    def __init__(self, app: ASGIApp, *, policy: str = PAGE_POLICY) -> None:
        self.app = app
        self.headers = security_headers(policy)
        self._names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() not in self._names]
                message = {**message, "headers": [*kept, *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """The methods the routes answer at the path of ``scope``; empty if none routes it.

    Routers included in the application count with their prefixes (FastAPI keeps them
    as included routers, not copied routes). HEAD goes with GET, OPTIONS with any
    routed path.
    """
    methods: set[str] = set()
    probe = {**scope, "method": "GET"}
    for route in iter_route_contexts(routes):
        match, _ = route.matches(probe)
        if match is not Match.NONE and route.methods:
            methods |= route.methods
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


class Methods:
    """ASGI middleware: HEAD as GET without the body; OPTIONS and 405 with ``Allow``.

    Routes come from ``scope["app"]`` (Starlette sets it before any middleware runs).
    A path nothing routes is left to the application (its 404).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routes: list[BaseRoute] = scope["app"].router.routes
        method = scope["method"]
        # Only HEAD, OPTIONS and a 405 need the routes read (not every POST of events).
        allowed = allowed_methods(routes, scope) if method in ("HEAD", "OPTIONS") else None
        if method == "OPTIONS" and allowed:
            await _send_empty(send, 204, [(b"allow", ", ".join(allowed).encode("ascii"))])
            return
        head = method == "HEAD" and allowed is not None and "GET" in allowed
        inner = {**scope, "method": "GET"} if head else scope

        async def send_adjusted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed if allowed is not None else allowed_methods(routes, scope)
                kept = [h for h in message.get("headers", []) if h[0].lower() != b"allow"]
                allow = (b"allow", ", ".join(methods).encode("ascii"))
                message = {**message, "headers": [*kept, allow]}
            elif message["type"] == "http.response.body" and head:
                # RFC 9110 §9.3.2: the headers of GET (Content-Length included), no body.
                message = {**message, "body": b""}
            await send(message)

        await self.app(inner, receive, send_adjusted)


async def _send_empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def harden(app: Starlette, *, policy: str = PAGE_POLICY) -> None:
    """Install :class:`Methods` and, outermost, :class:`SecurityHeaders` on ``app``.

    Responses made by an exception handler for ``Exception`` (a 500) pass outside all
    middleware; such a handler adds :func:`security_headers` itself.
    """
    app.add_middleware(Methods)
    app.add_middleware(SecurityHeaders, policy=policy)
    app.state.content_security_policy = policy


def policy_of(app: object) -> str:
    """The Content-Security-Policy :func:`harden` installed on ``app``; else
    :data:`PAGE_POLICY`."""
    policy = getattr(getattr(app, "state", None), "content_security_policy", None)
    return policy if isinstance(policy, str) else PAGE_POLICY


__all__ = [
    "NO_CONTENT_POLICY",
    "PAGE_POLICY",
    "Methods",
    "SecurityHeaders",
    "allowed_methods",
    "harden",
    "policy_of",
    "security_headers",
]
