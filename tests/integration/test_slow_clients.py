"""Slow and greedy clients against real servers: the service and the witness alike.

Each test speaks raw HTTP/1.1 over loopback sockets to a uvicorn server run within
:class:`cvid._connections.ConnectionLimits` (short timeouts, a small per-address
cap), and checks what the server does to the connection: answered and closed, or
refused. A socket read waits at most ``WAIT_S``: a server that never cuts the
client off fails the test instead of hanging it.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from cvid import agreement as ag
from cvid._connections import ConnectionLimits
from cvid._http import NO_CONTENT_POLICY, PAGE_POLICY, security_headers
from cvid.errors import ConfigError
from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import Signer
from cvid.service.app import create_app
from cvid.service.core import Service
from cvid.witness.server import create_witness_app
from tests.live import serving

WAIT_S = 10.0
LIMITS = ConnectionLimits(
    header_timeout=0.5, body_timeout=0.5, keep_alive=1, per_address=3, max_header_bytes=4096
)
# Where each server takes a body, and a path it answers at once.
POST = {"service": "/api/v1/events", "witness": "/add-checkpoint"}
GET = {"service": "/healthz", "witness": "/add-checkpoint"}


def _app(kind: str, directory: Path) -> FastAPI:
    """The service or the witness, as they are served."""
    if kind == "service":
        adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        made = ag.create_from_template(directory / "ag", "dprk-phased", adopt_at=adopted)
        made.close()
        return create_app(Service(ag.Agreement.open(made.directory)), examples={})
    log_key = Signer.generate("log.example")
    signer = CosignatureSigner.generate("witness.example")
    return create_witness_app(
        signer, {"log.example": log_key.verifier}, str(directory / "w.db"), clock=lambda: 1
    )


@pytest.fixture(params=["service", "witness"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """(kind, port) of a service or a witness, served within ``LIMITS``."""
    kind: str = request.param
    with serving(_app(kind, tmp_path), connections=LIMITS) as url:
        yield kind, urlsplit(url).port or 0


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    address = ("127.0.0.1", port)
    return socket.create_connection(address, timeout=WAIT_S, source_address=(source, 0))


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _get(port: int, path: str) -> int:
    with _connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        return _status(_read_all(sock))


def test_headers_that_never_end_are_cut_off(server: tuple[str, int]) -> None:
    kind, port = server
    with _connect(port) as silent, _connect(port) as partial:
        partial.sendall(f"POST {POST[kind]} HTTP/1.1\r\nHost: t\r\n".encode())
        assert _status(_read_all(partial)) == 408
        assert _read_all(silent) == b""  # nothing sent: closed without an answer


def test_a_body_sent_a_byte_at_a_time_is_cut_off(server: tuple[str, int]) -> None:
    kind, port = server
    with _connect(port) as sock:
        head = f"POST {POST[kind]} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"
        sock.sendall(head.encode())
        deadline = time.monotonic() + WAIT_S
        sock.settimeout(0.1)
        answer = b""
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            answer += chunk
            if not chunk:
                break
        assert _status(answer) == 408, answer


def test_one_address_holds_a_bounded_number_of_connections(server: tuple[str, int]) -> None:
    kind, port = server
    with ExitStack() as stack:
        held = [stack.enter_context(_connect(port)) for _ in range(LIMITS.per_address)]
        with _connect(port) as extra:
            refused = _read_all(extra)
        assert _status(refused) == 503
        assert b"retry-after: 1" in refused.lower()
        # another address is not refused while this one is at its cap
        with _connect(port, source="127.0.0.2") as other:
            other.sendall(
                f"GET {GET[kind]} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
            )
            assert _status(_read_all(other)) != 503
        held.pop().close()
        for _ in range(50):  # the server sees the close soon, not at once
            if _get(port, GET[kind]) != 503:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("a closed connection was not given back to its address")


def test_an_idle_keep_alive_connection_is_closed(server: tuple[str, int]) -> None:
    kind, port = server
    with _connect(port) as sock:
        sock.sendall(f"GET {GET[kind]} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        answer = _read_all(sock)  # returns once the server closes the idle connection
        assert answer.startswith(b"HTTP/1.1 ")
        assert answer.count(b"HTTP/1.1 ") == 1


def test_headers_of_a_second_request_have_their_own_deadline(server: tuple[str, int]) -> None:
    kind, port = server
    with _connect(port) as sock:
        sock.sendall(f"GET {GET[kind]} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 ")
        sock.sendall(b"GET / HTTP/1.1\r\n")  # keeps it from idling; never finishes
        rest = _read_all(sock)
        assert b"HTTP/1.1 408" in first + rest


@pytest.mark.parametrize(
    "limits",
    [
        {"header_timeout": 0},
        {"body_timeout": -1},
        {"per_address": 0},
        {"keep_alive": 0},
        {"max_header_bytes": 10},
    ],
)
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ConnectionLimits(**limits)  # type: ignore[arg-type]


# --- the server's own answers carry the security headers ------------------------------

POLICY = {"service": PAGE_POLICY, "witness": NO_CONTENT_POLICY}


def _headers(response: bytes) -> dict[bytes, list[bytes]]:
    """Each header of a raw response, by lower-case name, with all its values."""
    head = response.split(b"\r\n\r\n", 1)[0]
    found: dict[bytes, list[bytes]] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        found.setdefault(name.strip().lower(), []).append(value.strip())
    return found


def _assert_secured(kind: str, response: bytes) -> None:
    """``response`` carries the security headers of ``kind``'s server, each once."""
    headers = _headers(response)
    for name, value in security_headers(POLICY[kind]):
        assert headers.get(name) == [value], (name, response[:600])


def _refused_headers(port: int, request: bytes) -> bytes:
    with _connect(port) as sock:
        sock.sendall(request)
        return _read_all(sock)


def test_an_answer_of_the_application_carries_the_headers_once(server: tuple[str, int]) -> None:
    kind, port = server
    answer = _refused_headers(
        port, f"GET {GET[kind]} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    )
    _assert_secured(kind, answer)


def test_a_408_for_late_headers_carries_the_security_headers(server: tuple[str, int]) -> None:
    kind, port = server
    answer = _refused_headers(port, f"POST {POST[kind]} HTTP/1.1\r\nHost: t\r\n".encode())
    assert _status(answer) == 408
    _assert_secured(kind, answer)


def test_a_408_for_a_late_body_carries_the_security_headers(server: tuple[str, int]) -> None:
    kind, port = server
    head = f"POST {POST[kind]} HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nx"
    answer = _refused_headers(port, head.encode())
    assert _status(answer) == 408
    _assert_secured(kind, answer)


def test_a_431_carries_the_security_headers(server: tuple[str, int]) -> None:
    kind, port = server
    filler = "x" * (LIMITS.max_header_bytes + 100)
    request = f"GET {GET[kind]} HTTP/1.1\r\nHost: t\r\nX-Filler: {filler}\r\n\r\n"
    answer = _refused_headers(port, request.encode())
    assert _status(answer) == 431
    _assert_secured(kind, answer)


def test_a_400_for_bytes_that_are_not_http_carries_the_security_headers(
    server: tuple[str, int],
) -> None:
    kind, port = server
    answer = _refused_headers(port, b"NOT HTTP AT ALL\x00\x01\r\n\r\n")
    assert _status(answer) == 400
    _assert_secured(kind, answer)


def test_a_503_at_the_address_cap_carries_the_security_headers(server: tuple[str, int]) -> None:
    kind, port = server
    with ExitStack() as stack:
        for _ in range(LIMITS.per_address):
            stack.enter_context(_connect(port))
        with _connect(port) as extra:
            refused = _read_all(extra)
    assert _status(refused) == 503
    _assert_secured(kind, refused)


@pytest.mark.parametrize("kind", ["service", "witness"])
def test_a_503_at_the_server_cap_carries_the_security_headers(kind: str, tmp_path: Path) -> None:
    limits = ConnectionLimits(header_timeout=5, per_address=10, max_connections=2)
    with serving(_app(kind, tmp_path), connections=limits) as url:
        port = urlsplit(url).port or 0
        with ExitStack() as stack:
            stack.enter_context(_connect(port))
            stack.enter_context(_connect(port, source="127.0.0.2"))
            with _connect(port, source="127.0.0.3") as extra:
                refused = _read_all(extra)
    assert _status(refused) == 503
    assert b"retry-after: 1" in refused.lower()
    _assert_secured(kind, refused)


def test_a_500_before_any_answer_carries_the_security_headers() -> None:
    async def fails(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise RuntimeError("failed before answering")

    with serving(fails, connections=LIMITS) as url:
        port = urlsplit(url).port or 0
        answer = _refused_headers(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert _status(answer) == 500
    for name, value in security_headers(PAGE_POLICY):
        assert _headers(answer).get(name) == [value]
