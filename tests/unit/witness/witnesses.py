"""Shared setup for the witness tests: a real log, its key, request bodies, a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx

from cvid.log.note import Signer
from cvid.log.store import MemoryStore
from cvid.log.tlog import Log
from cvid.witness.protocol import AddCheckpointRequest

ORIGIN = "example.org/log"
LOG_KEY = Signer.generate(ORIGIN, seed=b"\x01" * 32)
OTHER_KEY = Signer.generate(ORIGIN, seed=b"\x02" * 32)  # same name, another key
T0 = 1_800_000_000


class FakeClock:
    """A clock that moves one second per reading."""

    def __init__(self, start: int = T0) -> None:
        self.now = start
        self.readings = 0

    def __call__(self) -> int:
        self.readings += 1
        self.now += 1
        return self.now


def make_log(entries: Iterable[bytes], origin: str = ORIGIN) -> Log:
    log = Log.create(MemoryStore(), origin)
    log.append(list(entries))
    return log


def entries(n: int, *, start: int = 0, tag: bytes = b"entry") -> list[bytes]:
    return [b"%s %d" % (tag, i) for i in range(start, start + n)]


def add_checkpoint(
    log: Log,
    old_size: int,
    size: int | None = None,
    *,
    signer: Signer = LOG_KEY,
    proof: tuple[bytes, ...] | None = None,
) -> bytes:
    """An add-checkpoint body for ``log`` at ``size``, proved from ``old_size``."""
    note = log.checkpoint(signer, tree_size=size)
    if proof is None:
        new = log.size() if size is None else size
        proof = log.consistency_proof(min(old_size, new), new).proof
    return AddCheckpointRequest(old_size=old_size, proof=proof, checkpoint=note).to_bytes()


class AsgiClient:
    """A synchronous HTTP client for an ASGI app, over httpx's ASGI transport."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, content: Any = None) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://witness.test") as c:
                return await c.request(method, path, content=content)

        return asyncio.run(go())

    def post(self, path: str, content: Any) -> httpx.Response:
        return self.request("POST", path, content)

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)
