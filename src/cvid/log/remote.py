"""Reading a log published over HTTP as C2SP tlog-tiles (for audits from anywhere)."""

from __future__ import annotations

import httpx

from cvid.errors import AuditError
from cvid.log.audit import Fetch

MAX_FILE_BYTES = 1 << 24  # a full entry bundle is at most 256 entries of 64 KiB


def http_fetch(base_url: str, client: httpx.Client) -> Fetch:
    """Fetch published files (``checkpoint``, ``tile/...``) under ``base_url``.

    A 404 means "no such file"; any other failure is an AuditError.
    """
    base = base_url.rstrip("/") + "/"

    def fetch(name: str) -> bytes | None:
        url = base + name
        try:
            with client.stream("GET", url) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise AuditError(f"{url}: HTTP {response.status_code}")
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_FILE_BYTES:
                        raise AuditError(f"{url}: more than {MAX_FILE_BYTES} bytes")
                return data
        except httpx.HTTPError as e:
            raise AuditError(f"cannot fetch {url}: {e}") from e

    return fetch
