"""Connection limits for cvid's HTTP servers (the service and the witness) under uvicorn.

uvicorn closes idle keep-alive connections and caps concurrent connections, but a
client that opens a connection and never finishes its headers, or sends its body a
byte a second, holds the connection as long as it likes: enough of them, and every
other request is refused. :func:`server_config` adds, for any ASGI application:

* a header timeout: a request's headers must have arrived ``header_timeout`` seconds
  after the connection opened (or, for a later request on it, after its first byte),
  and be at most ``max_header_bytes`` long;
* a body timeout: a request's body must have arrived ``body_timeout`` seconds after
  its headers (the client is answered 408 and the connection closed);
* a cap of ``per_address`` open connections from one client address (more are
  answered 503 and closed at once);
* Retry-After kept: after an answer that says ``Retry-After: N`` (a 429, a 503),
  nothing more is read from that connection for N seconds (at most
  ``MAX_HOLD_S``), so that a client that does not wait costs nothing meanwhile;
* a cap of ``max_connections`` open connections in all (more are answered 503);
* uvicorn's own keep-alive timeout;
* the security headers of :mod:`cvid._http` on every answer the server makes,
  the application's and the server's own refusals alike (408, 431, 503, a 400 for
  bytes that are not HTTP, a 500 for an application that fails before answering).

Two layers share one record per connection: an asyncio protocol wrapped around
uvicorn's (it sees connections and bytes: the cap, the header timeout) and an ASGI
middleware (it sees requests: where one starts, when its body is late, when its
response has gone). What this module does not do: TLS, or see the client behind a
proxy (proxy headers are ignored, so behind a proxy every client has its address).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, ClassVar, Literal, cast

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from cvid._http import policy_of, security_headers
from cvid._limits import ConnectionLimits

__all__ = ["ConnectionLimits", "server_config"]  # ConnectionLimits lives in cvid._limits

log = logging.getLogger(__name__)

Peer = tuple[str, int]
MAX_HOLD_S = 5


Headers = list[tuple[bytes, bytes]]


def _refusal(status: str, message: str, headers: Headers, *, retry: bool = True) -> bytes:
    """A whole HTTP/1.1 response that closes its connection (sent outside any request),
    with ``headers``; ``retry``: it says Retry-After: 1."""
    body = message.encode("ascii") + b"\n"
    wait = "retry-after: 1\r\n" if retry else ""
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n{wait}connection: close\r\n"
    ).encode("ascii")
    extra = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return head + extra + b"\r\n" + body


def _with_headers(start: Message, headers: Headers) -> Message:
    """A response start with those of ``headers`` it does not carry yet (a response of
    the application keeps its own)."""
    present = {name.lower() for name, _ in start.get("headers", [])}
    missing = [h for h in headers if h[0] not in present]
    return {**start, "headers": [*start.get("headers", []), *missing]} if missing else start


class _Guard:
    """One server's open connections, by client address and by peer."""

    def __init__(self, limits: ConnectionLimits, headers: Headers) -> None:
        self.limits = limits
        self.headers = headers  # the security headers, on every answer
        self.full = _refusal("503 Service Unavailable", "too many connections", headers)
        self.too_many = _refusal(
            "503 Service Unavailable", "too many connections from your address", headers
        )
        self.headers_late = _refusal(
            "408 Request Timeout", "the request headers did not arrive in time", headers
        )
        self.headers_long = _refusal(
            "431 Request Header Fields Too Large", "the request headers are too long", headers
        )
        self.bad_request = _refusal(
            "400 Bad Request", "the request is not valid HTTP/1.1", headers, retry=False
        )
        self.open_connections = 0
        self.per_address: Counter[str] = Counter()
        self.connections: dict[Peer, _GuardedProtocol] = {}

    def open(self, peer: Peer | None, connection: _GuardedProtocol) -> bytes | None:
        """Count a new connection; or the answer refusing it, when the server or its
        address already holds its share."""
        if self.open_connections >= self.limits.max_connections:
            log.warning("refused a connection: %d already open", self.open_connections)
            return self.full
        if peer is not None:  # TCP: counted by address too
            host = peer[0]
            if self.per_address[host] >= self.limits.per_address:
                held = self.per_address[host]
                log.warning("refused a connection: %s already holds %d", host, held)
                return self.too_many
            self.per_address[host] += 1
            self.connections[peer] = connection
        self.open_connections += 1
        return None

    def close(self, peer: Peer | None) -> None:
        self.open_connections -= 1
        if peer is None:
            return
        self.connections.pop(peer, None)
        host = peer[0]
        self.per_address[host] -= 1
        if self.per_address[host] <= 0:
            del self.per_address[host]

    def connection(self, scope: Scope) -> _GuardedProtocol | None:
        client = scope.get("client")
        return self.connections.get((client[0], client[1])) if client else None


class _OwnBadRequest:
    """Mixed into uvicorn's HTTP protocol: the 400 it writes itself, for bytes that are
    not HTTP, is the guard's (with the security headers)."""

    transport: asyncio.Transport
    bad_request: ClassVar[bytes]

    def send_400_response(self, msg: str) -> None:
        log.info("refused a request: %s", msg)
        self.transport.write(self.bad_request)
        self.transport.close()


class _GuardedProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol, behind the address cap and the header timeout."""

    guard: ClassVar[_Guard]
    inner_protocol: ClassVar[type[asyncio.Protocol]]

    def __init__(self, **uvicorn_arguments: Any) -> None:
        self._arguments = uvicorn_arguments
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._peer: Peer | None = None
        self._counted = False  # by the guard, until the connection is lost
        self._timer: asyncio.TimerHandle | None = None
        self._held: asyncio.TimerHandle | None = None
        self._waiting = 0  # bytes received while waiting for a request; -1: in a request

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._peer = _peer_of(self._transport)
        refusal = self.guard.open(self._peer, self)
        if refusal is not None:
            self._transport.write(refusal)
            self._transport.close()
            return
        self._counted = True
        self._inner = self.inner_protocol(**self._arguments)
        self._inner.connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._waiting >= 0:
            if self._timer is None:  # a request's first byte, after a response
                self._await_headers()
            self._waiting += len(data)
            if self._waiting > self.guard.limits.max_header_bytes:
                self._refuse(self.guard.headers_long)
                return
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        if self._held is not None:
            self._held.cancel()
            self._held = None
        if self._counted:
            self.guard.close(self._peer)
            self._counted = False
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    # --- what the middleware tells it ---------------------------------------------------

    def request_started(self) -> None:
        """A request's headers are in: its body has its own deadline."""
        self._cancel()
        self._waiting = -1

    def response_done(self) -> None:
        """The connection waits for another request: idle (uvicorn's keep-alive
        timeout), then from its first byte for its headers."""
        self._cancel()
        self._waiting = 0

    def hold(self, seconds: int) -> None:
        """Read nothing more from the client for ``seconds`` (it was told to wait)."""
        if self._transport is None or self._transport.is_closing() or self._held is not None:
            return
        self._transport.pause_reading()
        self._held = asyncio.get_running_loop().call_later(seconds, self._release)

    def close(self) -> None:
        """Close the connection (a request's body is late and its answer has begun)."""
        if self._transport is not None:
            self._transport.close()

    # --- helpers -------------------------------------------------------------------------

    def _await_headers(self) -> None:
        self._cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.guard.limits.header_timeout, self._headers_late)

    def _release(self) -> None:
        self._held = None
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def _headers_late(self) -> None:
        self._timer = None
        # Silent when nothing came: a browser's spare connection is no error.
        self._refuse(self.guard.headers_late if self._waiting > 0 else b"")

    def _refuse(self, answer: bytes) -> None:
        self._cancel()
        if self._transport is not None and not self._transport.is_closing():
            if answer:
                self._transport.write(answer)
            self._transport.close()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _peer_of(transport: asyncio.Transport) -> Peer | None:
    """The client's (address, port) as uvicorn puts it in the ASGI scope."""
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple | list) and len(peer) >= 2:
        return (str(peer[0]), int(peer[1]))
    return None


class _Requests:
    """ASGI middleware: each request's body deadline, and where requests begin and end."""

    def __init__(self, app: ASGIApp, guard: _Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = self.guard.connection(scope)
        headers = self.guard.headers
        if connection is not None:
            connection.request_started()
        deadline = asyncio.get_running_loop().time() + self.guard.limits.body_timeout
        body_done = False
        answered = False  # by this middleware: the application's answer is dropped
        started = False
        wait = 0  # the answer's Retry-After, in seconds

        async def receive_in_time() -> Message:
            nonlocal body_done, answered
            if body_done or answered:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                answered = True
                if started:  # too late for a 408: cut the connection
                    if connection is not None:
                        connection.close()
                else:
                    await _answer(send, 408, "the request body did not arrive in time", headers)
                return {"type": "http.disconnect"}
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def send_guarded(message: Message) -> None:
            nonlocal started, wait
            if answered:
                return
            started = True
            if message["type"] == "http.response.start":
                wait = _retry_after(message)
                message = _with_headers(message, self.guard.headers)
            await send(message)
            if (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and connection is not None
            ):
                connection.response_done()
                if wait:
                    connection.hold(wait)

        try:
            await self.app(scope, receive_in_time, send_guarded)
        except Exception:
            if not (started or answered):  # uvicorn's own 500 would carry no headers
                answered = True
                await _answer(send, 500, "the server failed; the error is logged", headers)
            raise  # for uvicorn to log


def _retry_after(start: Message) -> int:
    """The seconds an answer's Retry-After asks for (0: none, or a date), capped."""
    for name, value in start.get("headers", ()):
        if name.lower() == b"retry-after" and value.isdigit():
            return min(int(value), MAX_HOLD_S)
    return 0


async def _answer(send: Send, status: int, message: str, headers: Headers) -> None:
    """Answer ``status`` with ``message`` and ``headers``, and close the connection."""
    body = message.encode("ascii") + b"\n"
    start = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": start + headers})
    await send({"type": "http.response.body", "body": body})


def server_config(
    app: ASGIApp,
    limits: ConnectionLimits,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    lifespan: Literal["auto", "on", "off"] = "auto",
    policy: str | None = None,
) -> uvicorn.Config:
    """A uvicorn configuration serving ``app`` within ``limits``.

    The server's own answers carry :func:`cvid._http.security_headers` under the
    Content-Security-Policy ``policy``: by default the one :func:`cvid._http.harden`
    installed on ``app`` (or :data:`cvid._http.PAGE_POLICY`). Proxy headers are
    ignored: the address counted and charged is the peer's own.
    """
    guard = _Guard(limits, security_headers(policy or policy_of(app)))

    class GuardedProtocol(_GuardedProtocol):
        pass

    GuardedProtocol.guard = guard
    # uvicorn's protocol, writing the guard's 400 in place of its own
    inner = type("HTTPProtocol", (_OwnBadRequest, AutoHTTPProtocol), {})
    GuardedProtocol.inner_protocol = cast(type[asyncio.Protocol], inner)
    cast(type[_OwnBadRequest], inner).bad_request = guard.bad_request
    return uvicorn.Config(
        _Requests(app, guard),
        host=host,
        port=port,
        http=GuardedProtocol,
        ws="none",
        lifespan=lifespan,
        proxy_headers=False,
        timeout_keep_alive=limits.keep_alive,
        limit_concurrency=None,  # the guard's (uvicorn's 503 would carry no headers)
        backlog=limits.max_connections,
        log_level="warning",
        access_log=False,
    )
