"""Parsing submitted entries and checking their signatures in worker processes.

What admission checks of an entry on its own (strict JSON, canonical form, the
envelope, the Ed25519 signature by a key the road map registers) needs nothing of
the log, so the service has it done by a pool of processes before the entry
reaches the writer: the writer's interpreter then only checks order and
authorisation and appends. A worker answers, for each entry, either the parsed
envelope with the key that verified its signature, or nothing. Nothing means the
writer admits the entry as before, from its bytes; so a malformed entry, a bad
signature or an unknown key is refused by the writer itself, with the same
problem as without the pool, and at the same point of its request.

Requests waiting for a worker are gathered into one task per worker (one round
trip for many requests); at most one task per worker is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from cvid.errors import Error
from cvid.events.envelope import SignedEvent, verify_signature
from cvid.log.note import NoteVerifier, Verifier


@dataclass(frozen=True)
class Prechecked:
    """An entry parsed by ``SignedEvent.from_bytes``, and the key that verified it."""

    signed: SignedEvent
    key: NoteVerifier | None  # None: no registered key verified it (the writer says why)


@dataclass
class _Worker:
    keys: dict[str, list[Verifier]] = field(default_factory=dict)
    max_size: int = 0


_worker = _Worker()  # in a worker process: what its initializer was given


def _start(keys: Mapping[str, Sequence[str]], max_size: int) -> None:
    """Set a worker's keys (verifier key texts by party) and entry size limit."""
    _worker.keys = {party: [Verifier.from_text(k) for k in texts] for party, texts in keys.items()}
    _worker.max_size = max_size


def check_entries(
    entries: Sequence[bytes], keys: Mapping[str, Sequence[Verifier]], max_size: int
) -> list[Prechecked | None]:
    """Parse and verify ``entries`` against ``keys``: None for each one that fails."""
    out: list[Prechecked | None] = []
    for data in entries:
        try:
            signed = SignedEvent.from_bytes(data, max_size=max_size)
        except Error:
            out.append(None)
            continue
        try:
            key: NoteVerifier | None = verify_signature(signed, keys.get(signed.event.party, ()))
        except Error:
            key = None
        out.append(Prechecked(signed, key))
    return out


def _work(entries: list[bytes]) -> list[Prechecked | None]:
    return check_entries(entries, _worker.keys, _worker.max_size)


def _pid(pause: float) -> int:
    time.sleep(pause)  # while one worker pauses, the pool starts the next for the next task
    return os.getpid()


MIN_TASK = 8  # entries: fewer are sent to one worker together


@dataclass
class _Request:
    entries: list[bytes]
    future: asyncio.Future[list[Prechecked | None]]


@dataclass
class _Round:
    """Requests sent to the pool together, their entries split over ``len(results)``
    tasks; answered once the last task is done (``left`` are not)."""

    requests: list[_Request]
    results: list[list[Prechecked | None] | None]
    left: int

    def settle(self) -> None:
        checked: list[Prechecked | None] = []
        for chunk in self.results:
            checked += chunk if chunk is not None else []
        total = sum(len(r.entries) for r in self.requests)
        if len(checked) != total:  # a task failed: the writer checks every entry
            checked = [None] * total
        position = 0
        for request in self.requests:
            n = len(request.entries)
            if not request.future.done():
                request.future.set_result(checked[position : position + n])
            position += n


@dataclass
class Prechecker:
    """A pool of ``workers`` processes checking entries for one road map's keys.

    ``keys`` are verifier key texts by party (every version of the road map's keys:
    the writer accepts a worker's verdict only for the key it would use itself).
    :meth:`start` starts the pool (else the first request does); :meth:`close` shuts
    it down.
    """

    keys: Mapping[str, Sequence[str]]
    max_size: int
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    _pool: ProcessPoolExecutor | None = None
    _waiting: list[_Request] = field(default_factory=list)
    _in_flight: int = 0
    _closed: bool = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: no fork of the serving process and its threads; the server
            # process imports this module once, and each worker is forked from it.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=_start,
                initargs=({p: list(k) for p, k in self.keys.items()}, self.max_size),
            )
        return self._pool

    async def check(self, entries: list[bytes]) -> list[Prechecked | None]:
        """Each entry parsed and verified by a worker, or None (then the writer does it).

        A pool that fails (a worker killed, the service closing) answers None for all.
        """
        if self._closed:
            return [None] * len(entries)
        future: asyncio.Future[list[Prechecked | None]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Request(entries, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        """Send everything waiting to the pool, its entries split evenly over the
        workers (at least :data:`MIN_TASK` entries a task), while a worker is free."""
        if not self._waiting or self._in_flight >= self.workers or self._closed:
            return
        loop = asyncio.get_running_loop()
        batch, self._waiting = self._waiting, []
        entries = [e for request in batch for e in request.entries]
        tasks = max(1, min(self.workers, len(entries) // MIN_TASK))
        size = -(-len(entries) // tasks)
        chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
        round_ = _Round(batch, [None] * len(chunks), len(chunks))
        for k, chunk in enumerate(chunks):
            try:
                task = self._executor().submit(_work, chunk)
            except Exception:  # a broken or closed pool: the writer checks them
                round_.results[k] = [None] * len(chunk)
                round_.left -= 1
                continue
            self._in_flight += 1
            task.add_done_callback(functools.partial(self._wake, loop, round_, k))
        if round_.left == 0:
            round_.settle()

    def _wake(
        self,
        loop: asyncio.AbstractEventLoop,
        round_: _Round,
        k: int,
        task: Future[list[Prechecked | None]],
    ) -> None:
        """(In the pool's thread) hand a finished task over to the event loop."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(self._done, round_, k, task)

    def _done(self, round_: _Round, k: int, task: Future[list[Prechecked | None]]) -> None:
        self._in_flight -= 1
        if not task.cancelled() and task.exception() is None:  # else the writer checks them
            round_.results[k] = task.result()
        round_.left -= 1
        if round_.left == 0:
            round_.settle()
        self._dispatch()

    def start(self) -> None:
        """Start the workers (blocks until they run)."""
        pool = self._executor()
        for task in [pool.submit(_pid, 0.1) for _ in range(self.workers)]:
            task.result()

    @property
    def pids(self) -> list[int]:
        """The process ids of the pool's workers."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        """Shut the pool down (waiting for its workers to exit); later checks answer None."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for request in self._waiting:
            if not request.future.done():
                with contextlib.suppress(RuntimeError):  # its loop is closed
                    request.future.set_result([None] * len(request.entries))
        self._waiting = []
