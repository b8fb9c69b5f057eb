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
from urllib.parse import urlsplit

import pytest

from cvid import agreement as ag
from cvid._connections import ConnectionLimits
from cvid.errors import ConfigError
from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import Signer
from cvid.service.app import create_app
from cvid.service.core import Service
from cvid.witness.server import create_witness_app
from tests.live import serving

WAIT_S = 10.0
LIMITS = ConnectionLimits(header_timeout=0.5, body_timeout=0.5, keep_alive=1, per_address=3)
# Where each server takes a body, and a path it answers at once.
POST = {"service": "/api/v1/events", "witness": "/add-checkpoint"}
GET = {"service": "/healthz", "witness": "/add-checkpoint"}


@pytest.fixture(params=["service", "witness"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """(kind, port) of a service or a witness, served within ``LIMITS``."""
    kind: str = request.param
    if kind == "service":
        adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        made = ag.create_from_template(tmp_path / "ag", "dprk-phased", adopt_at=adopted)
        made.close()
        app = create_app(Service(ag.Agreement.open(made.directory)), examples={})
    else:
        log_key = Signer.generate("log.example")
        signer = CosignatureSigner.generate("witness.example")
        app = create_witness_app(
            signer, {"log.example": log_key.verifier}, str(tmp_path / "w.db"), clock=lambda: 1
        )
    with serving(app, connections=LIMITS) as url:
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
