"""How long and how many connections a cvid HTTP server lets its clients hold.

Apart from :mod:`cvid._connections`, which enforces them under uvicorn, so that the
command line can show the defaults without the ``service`` extra installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cvid.errors import ConfigError


@dataclass(frozen=True)
class ConnectionLimits:
    """How long and how many connections one server lets its clients hold.

    Raises:
        ConfigError: a limit is not positive.
    """

    header_timeout: float = 10.0  # s from connecting, or a request's first byte, to headers
    body_timeout: float = 20.0  # s from the headers to the end of the body
    keep_alive: int = 5  # s an idle connection stays open between requests
    per_address: int = 64  # open connections from one client address
    max_connections: int = 4096  # open connections in all (beyond: 503)
    max_header_bytes: int = 1 << 20  # bytes received before a request starts

    def __post_init__(self) -> None:
        if not min(self.header_timeout, self.body_timeout) > 0:
            raise ConfigError("the header and body timeouts must be positive")
        if min(self.keep_alive, self.per_address, self.max_connections) < 1:
            raise ConfigError("the keep-alive timeout and connection caps must be at least 1")
        if self.max_header_bytes < 1024:
            raise ConfigError("requests must be allowed at least 1024 bytes of headers")
