"""The service's core: one open agreement, a group-committing writer, checkpoints.

Requests that arrive while the writer is busy wait in a queue; the writer then
admits them all, in arrival order, recording each accepted entry in the admission
history as it goes, and appends every accepted entry in one transaction (group
commit: one durable write for many events). A request is all or nothing: if one of
its entries is refused, none of them is kept (the history is rebuilt without them)
and the other requests are unaffected. When another process appended meanwhile
(several services on one PostgreSQL), the append is refused by its size check, and
the group is admitted again on top of what that process logged.

All writes, and everything that reads the writer's connection, run on one thread;
reads for the API use a second connection under a lock. The clock is injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cvid import _copies
from cvid.agreement import KEYS_DIR, Agreement
from cvid.amendment import roadmap_at
from cvid.engine import AgreementState
from cvid.errors import (
    AppendConflictError,
    ConfigError,
    Error,
    InputError,
    OverloadedError,
    RateLimitedError,
    ServiceError,
    StoreError,
)
from cvid.events.authz import AdmittedEvent, History
from cvid.events.envelope import SignedEvent, verify_signature
from cvid.log import merkle
from cvid.log.cosignature import CosignatureVerifier, WitnessPolicy
from cvid.log.note import Signer
from cvid.log.proof import ConsistencyProof, InclusionProof
from cvid.log.store import open_store
from cvid.log.tiles import TileId
from cvid.log.tlog import Log
from cvid.report import state_to_dict
from cvid.roadmap.model import RoadMap
from cvid.service import listing
from cvid.service.precheck import Prechecked, Prechecker
from cvid.service.states import States
from cvid.witness.client import CosigningResult, WitnessClient, cosign_checkpoint

log = logging.getLogger("cvid.service")

MAX_RETRIES = 16
SNAPSHOT_EVERY = 10_000  # logged events between admission-history snapshots
DISK_SNAPSHOT_EVERY = 100_000  # logged events between snapshots on disk (cvid.snapshot)
MAX_DOCUMENTS = 16  # serialized state documents kept (each bounded: a few MB at most)


BURST_SECONDS = 5.0  # a party's default burst: this many seconds of its rate...
MIN_BURST = 10  # ...but never fewer events than this
MAX_BUCKETS = 10_000  # client addresses remembered before full buckets are forgotten


@dataclass(frozen=True)
class Limits:
    """What one service accepts.

    ``party_burst`` is how many events a party may submit at once before its rate
    applies; None means :data:`BURST_SECONDS` of ``party_rate``, at least
    :data:`MIN_BURST`. A batch holding more of one party's events than its burst is
    refused: send smaller batches.

    Raises:
        ConfigError: a rate, burst or size is not positive.
    """

    max_request_bytes: int = 4 << 20
    max_batch: int = 1000
    party_rate: float = 2000.0  # events per second, per party, sustained
    party_burst: int | None = None
    max_queued: int = 50_000  # entries waiting for the writer
    submit_timeout: float = 30.0
    group_entries: int = 4096  # entries admitted and appended in one transaction
    workers: int | None = 0  # processes parsing and verifying entries (None: one a CPU)

    def __post_init__(self) -> None:
        if not self.party_rate > 0:
            raise ConfigError(f"the party rate must be positive, not {self.party_rate}")
        if self.party_burst is not None and self.party_burst < 1:
            raise ConfigError(f"the party burst must be at least 1, not {self.party_burst}")
        if min(self.max_request_bytes, self.max_batch, self.max_queued, self.group_entries) < 1:
            raise ConfigError("request, batch, queue and group sizes must be positive")
        if self.workers is not None and self.workers < 0:
            raise ConfigError(f"the number of workers cannot be negative, not {self.workers}")

    @property
    def burst(self) -> int:
        """The events one party may submit at once (given, or derived from the rate)."""
        if self.party_burst is not None:
            return self.party_burst
        return max(MIN_BURST, math.ceil(self.party_rate * BURST_SECONDS))


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _RateLimiter:
    """Token buckets, by party or by client address (called from two threads).

    A bucket may go below zero by what one request cost: its owner then waits until
    the rate has refilled it. Full buckets are forgotten once there are too many.
    """

    rate: float
    burst: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def available(self, key: str, now: float) -> float:
        with self.lock:
            return self._available(key, now)

    def _available(self, key: str, now: float) -> float:
        bucket = self.buckets.get(key)
        if bucket is None:
            return float(self.burst)
        return min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)

    def take(self, charges: Mapping[str, int], now: float) -> None:
        with self.lock:
            for key, n in charges.items():
                self.buckets[key] = _Bucket(self._available(key, now) - n, now)
            if len(self.buckets) > MAX_BUCKETS:
                full = [k for k in self.buckets if self._available(k, now) >= self.burst]
                for key in full:
                    del self.buckets[key]


@dataclass
class _Pending:
    entries: list[bytes]
    future: asyncio.Future[list[AdmittedEvent]]
    client: str | None = None  # the client's address, charged when nothing authenticates
    checked: Sequence[Prechecked | None] = ()  # each entry parsed and verified, if it was


class Service:
    """One agreement served: submissions, reads, checkpoints and their cosignatures."""

    serves_lists = True  # its API pages through the state's lists (/api/v1/state/list)

    def __init__(
        self,
        agreement: Agreement,
        *,
        database: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        limits: Limits | None = None,
        witnesses: Sequence[WitnessClient] = (),
        checkpoint_interval: float = 1.0,
    ) -> None:
        self.agreement = agreement
        self.limits = limits or Limits()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._witnesses = tuple(witnesses)
        self._witness_sizes: dict[str, int] = {}
        self._checkpoint_interval = checkpoint_interval
        self._reader = Log(open_store(database or str(agreement.directory / "log.db")))
        self._read_lock = threading.Lock()
        # old events are read on demand through this reader, not the writer's connection
        agreement.events.read = self.entries
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cvid-writer")
        self._rates = _RateLimiter(self.limits.party_rate, self.limits.burst)
        workers = self.limits.workers
        self._prechecker = (
            Prechecker(
                _key_texts(agreement),
                agreement.gate.max_size,
                workers=workers if workers is not None else os.cpu_count() or 1,
            )
            if workers != 0
            else None
        )
        self._addresses = _RateLimiter(self.limits.party_rate, self.limits.burst)
        self._queue: list[_Pending] = []
        self._in_flight: list[_Pending] = []
        self._queued_entries = 0
        self._claimed_waiting: dict[str, int] = {}  # entries submitted and not yet answered
        self._snapshot = History()  # admission history at some logged size, for undoing
        self.groups = 0  # transactions committed, for measuring group commit
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._log_signer: Signer = agreement.log_signer()
        self._policy = agreement.witness_policy()
        self._checkpoint: bytes | None = None
        self._checkpoint_size = -1
        self.witness_round: CosigningResult | None = None
        self._leaves: dict[bytes, int] = {}  # leaf hash -> index, filled on first lookup
        self._leaves_size = 0
        self._leaves_lock = threading.Lock()
        self._states = States(self._compute, size=lambda: self.size, now=self.now)
        self._documents_lock = threading.Lock()
        self._index_section = listing.IndexSection(
            agreement.directory,
            agreement.directory / KEYS_DIR,
            agreement.gate.digest,
            self._root,
            off=agreement.reverify,
        )
        # serialized state documents, by (log size, moment, keep, keep_of)
        self._documents: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        latest = agreement.log.latest_checkpoint()
        if latest is not None:
            self._checkpoint_size, self._checkpoint = latest

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers, the writer and the checkpointer (inside the serving event loop)."""
        self._wake = asyncio.Event()
        if self._prechecker is not None:
            await asyncio.to_thread(self._prechecker.start)
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="cvid-writer"),
            asyncio.create_task(self._checkpoint_loop(), name="cvid-checkpointer"),
        ]

    async def stop(self) -> None:
        """Stop the tasks, fail what still waits, and close the connections."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.to_thread(self._writer.shutdown, wait=True)
        await asyncio.to_thread(self._states.close)
        if self._prechecker is not None:
            await asyncio.to_thread(self._prechecker.close)
        for pending in [*self._in_flight, *self._queue]:
            if not pending.future.done():
                pending.future.set_exception(ServiceError("the service is stopping"))
        self._queue.clear()
        try:
            self.save_index()
        finally:
            self.agreement.close()
            self._reader.close()

    # --- the Source interface (read-only) ----------------------------------------------

    @property
    def roadmap(self) -> RoadMap:
        return self.agreement.roadmap

    @property
    def digest(self) -> str:
        return self.agreement.gate.digest

    @property
    def witness_policy(self) -> WitnessPolicy | None:
        return self._policy

    @property
    def log_key(self) -> str:
        return self._log_signer.verifier.to_text()

    @property
    def size(self) -> int:
        """The number of entries this process knows to be committed."""
        return len(self.agreement.events)

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the workers that parse and verify entries (once started)."""
        return list(self._prechecker.pids) if self._prechecker is not None else []

    @property
    def queued(self) -> int:
        """Entries waiting for the writer (not those still being checked by workers)."""
        return sum(len(pending.entries) for pending in self._queue)

    def now(self) -> dt.datetime:
        """The service's clock, to the second (so reads at "now" share cached states)."""
        return self._clock().replace(microsecond=0)

    def events(self) -> Sequence[AdmittedEvent]:
        """The committed events (a view that does not grow; old ones read on demand)."""
        return self.agreement.events.view(self.size)

    def entry(self, index: int) -> bytes:
        with self._read_lock:
            return self._reader.entry(index)

    def entries(self, start: int, end: int) -> list[bytes]:
        with self._read_lock:
            return list(self._reader.entries(start, end))

    def checkpoint(self) -> bytes | None:
        return self._checkpoint

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        with self._read_lock:
            return self._reader.inclusion_proof(index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        with self._read_lock:
            return self._reader.consistency_proof(old_size, new_size)

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        with self._read_lock:
            return self._reader.store.read_tiles(tiles)

    def index_of(self, leaf: bytes) -> int | None:
        """The index of the entry whose RFC 9162 leaf hash is ``leaf``, if logged."""
        size = self.size
        with self._leaves_lock:
            if self._leaves_size < size:
                for i, data in enumerate(self.entries(self._leaves_size, size), self._leaves_size):
                    self._leaves.setdefault(merkle.leaf_hash(data), i)
                self._leaves_size = size
            return self._leaves.get(leaf)

    # --- the listing index, kept in a snapshot section --------------------------------------

    def restore_index(self, steps: frozenset[str]) -> listing.EventIndex | None:
        """The listing index kept in the agreement's snapshot section, if one verifies
        (:func:`cvid.service.listing.index_of` asks once, on the first list that needs
        it); None: it is built from the first entry."""
        return self._index_section.restore(self.size, steps)

    def save_index(self) -> int | None:
        """Keep the listing index (if a list built it) in a snapshot section, when it
        covers :data:`cvid.snapshot.MIN_NEW` entries more than the section read or last
        written; return the entries it covers, or None when nothing was written."""
        return self._index_section.save(self, self.events())

    def _root(self, size: int) -> bytes:
        with self._read_lock:
            return self._reader.root(size)

    def state(self, at: dt.datetime, *, fresh: bool = False) -> AgreementState:
        """The state at ``at``; at "now", possibly as computed a moment ago, unless
        ``fresh`` (see :mod:`cvid.service.states`)."""
        return self._states.get(self.size, at, fresh=fresh).state

    def state_document(
        self,
        at: dt.datetime,
        *,
        keep: int,
        keep_of: Mapping[str, int] | None = None,
        fresh: bool = False,
    ) -> tuple[bytes, int]:
        """The state at ``at`` as the API serves it: JSON bytes of
        :func:`cvid.report.state_to_dict` bounded by ``keep`` (and ``keep_of``), and the
        log size it is of (at "now", possibly a moment ago: see :meth:`state`).

        Kept per log size, moment and bounds: repeated reads at one size and one second
        (every client polling "now") serialize it once.
        """
        evaluated = self._states.get(self.size, at, fresh=fresh)
        key = (evaluated.size, evaluated.at, keep, tuple(sorted((keep_of or {}).items())))
        with self._documents_lock:
            cached = self._documents.get(key)
            if cached is not None:
                self._documents.move_to_end(key)
                return cached, evaluated.size
        data = state_to_dict(evaluated.state, keep, keep_of=keep_of)
        document = json.dumps(
            data, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
        with self._documents_lock:
            self._documents[key] = document
            while len(self._documents) > MAX_DOCUMENTS:
                self._documents.popitem(last=False)
        return document, evaluated.size

    def _compute(self, size: int, at: dt.datetime) -> AgreementState:
        """The state of the first ``size`` committed events at ``at`` (for States)."""
        roadmap = roadmap_at(self.agreement.gate, self.agreement.history, at)  # amendments
        # No event timed before the clock less the admission skew can be admitted now.
        horizon = self.now() - self.agreement.gate.skew
        events = self.agreement.events.view(size)
        return self.agreement.evaluator(roadmap).state(events, at=at, horizon=horizon)

    # --- submitting ----------------------------------------------------------------------

    async def submit(
        self, entries: list[bytes], *, client: str | None = None
    ) -> list[AdmittedEvent]:
        """Admit ``entries`` (all or none) and append them durably; return them admitted.

        A refused request is charged to the rate of whoever it authenticates as: its
        entries admitted before the refusal to their parties, the refused entry to
        the party that signed it (when its signature verifies) or else to ``client``.
        A client address over that rate is refused before anything is read.

        Args:
            entries: the signed entries, as submitted.
            client: the submitting client's address, if known.

        Raises:
            EventRejectedError, EventSignatureError: an entry was refused.
            RateLimitedError: its party, or its client address, is over its rate.
            InputError: no entries, or more than a batch (or a party's burst) holds.
            OverloadedError: too many entries are waiting.
            StoreError: the store failed; nothing was appended.
            TimeoutError: no answer in time (the entries may still be logged).
        """
        if client is not None and self._addresses.available(client, time.monotonic()) < 1:
            raise RateLimitedError(
                f"{client} sent too many refused requests; it may send "
                f"{self.limits.party_rate:g} per second"
            )
        if not entries or len(entries) > self.limits.max_batch:
            if client is not None:
                self._addresses.take({client: 1}, time.monotonic())
            if not entries:
                raise InputError("no entries to submit")
            raise InputError(
                f"{len(entries)} entries; a batch holds at most {self.limits.max_batch}"
            )
        claimed = _claimed_party(entries[0])
        needed = min(len(entries), self.limits.burst)
        budget = math.inf if claimed is None else self._rates.available(claimed, time.monotonic())
        if budget < needed:
            # Refused on an unchecked claim: that costs only whoever sent the claim, and
            # spares the writer a request that its party's budget cannot cover anyway.
            raise RateLimitedError(
                f"party {claimed!r} is over its rate of {self.limits.party_rate:g} events/s"
            )
        if self._queued_entries + len(entries) > self.limits.max_queued:
            raise OverloadedError(f"{self._queued_entries} entries are waiting; retry later")
        self._queued_entries += len(entries)
        key = claimed or ""
        waiting = self._claimed_waiting.get(key, 0)
        self._claimed_waiting[key] = waiting + len(entries)
        try:
            # Worth checking in the pool only if the claimed party's budget covers this
            # request beside its others still waiting: else the writer refuses it for its
            # rate at its first entry, checking no more (as a flood of batches is refused).
            # A hint only: an entry not checked in the pool is checked by the writer.
            checked: Sequence[Prechecked | None] = ()
            if self._prechecker is not None and waiting + len(entries) <= budget:
                checked = await self._prechecker.check(entries)
            future: asyncio.Future[list[AdmittedEvent]] = asyncio.get_running_loop().create_future()
            self._queue.append(_Pending(entries, future, client, checked))
            self._wake.set()
        except BaseException:
            self._queued_entries -= len(entries)
            self._unclaim(key, len(entries))
            raise
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.limits.submit_timeout)
        finally:
            self._unclaim(key, len(entries))

    def _unclaim(self, key: str, n: int) -> None:
        left = self._claimed_waiting[key] - n
        if left > 0:
            self._claimed_waiting[key] = left
        else:
            del self._claimed_waiting[key]

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                group: list[_Pending] = []
                count = 0
                while self._queue and (
                    not group or count + len(self._queue[0].entries) <= self.limits.group_entries
                ):
                    pending = self._queue.pop(0)
                    group.append(pending)
                    count += len(pending.entries)
                self._queued_entries -= count
                self._in_flight = group
                try:
                    outcomes = await loop.run_in_executor(self._writer, self._commit, group)
                except Exception as e:  # a store failure: every request in the group fails
                    log.exception("group commit failed")
                    error = e if isinstance(e, Error) else StoreError(f"the store failed: {e}")
                    outcomes = [error] * len(group)
                for pending, outcome in zip(group, outcomes, strict=True):
                    if pending.future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        pending.future.set_exception(outcome)
                    else:
                        pending.future.set_result(outcome)
                self._in_flight = []

    def _commit(self, group: list[_Pending]) -> list[list[AdmittedEvent] | Error]:
        """Admit and append one group (on the writer thread).

        Accepted entries are recorded straight into the admission history, so a
        group costs nothing per entry already logged. When something must be undone
        (a request refused after some of its entries were recorded, an append that
        failed), the history is rebuilt from a snapshot by recording the logged
        events again: no parsing and no signature checks, and only on those paths.
        """
        agreement = self.agreement
        for _ in range(MAX_RETRIES):
            if agreement.log.size() != agreement.history.size:  # another process appended
                agreement.catch_up()
            committed = agreement.history.size
            now = self._clock()
            tick = time.monotonic()
            outcomes: list[list[AdmittedEvent] | Error] = []
            accepted: list[AdmittedEvent] = []
            data: list[bytes] = []
            charges: dict[str, int] = {}  # by party: accepted and refused events
            blamed: dict[str, int] = {}  # by client address: refusals nobody signed
            try:
                for pending in group:
                    got: list[AdmittedEvent] = []
                    wanted: dict[str, int] = {}
                    try:
                        for n, entry in enumerate(pending.entries):
                            pre = pending.checked[n] if pending.checked else None
                            admitted = agreement.gate.admit(
                                entry,
                                agreement.history,
                                now=now,
                                root_at=agreement.log.root,
                                parsed=pre.signed if pre else None,
                                verified=pre.key if pre else None,
                            )
                            party = admitted.signed.event.party
                            left = len(pending.entries) - n
                            self._charge(party, charges, wanted, tick, left=left)
                            agreement.history.record(admitted)
                            got.append(admitted)
                    except Error as e:
                        e.line = len(got)  # type: ignore[attr-defined]  # which entry failed
                        outcomes.append(e)
                        if got:  # undo this request's records; refusals at its start cost nothing
                            agreement.history = self._rebuilt(accepted)
                        self._charge_refusal(pending, e, wanted, charges, blamed)
                        continue
                    outcomes.append(got)
                    accepted += got
                    data += pending.entries
                    _add(charges, wanted)
            except BaseException:
                agreement.history = self._rebuilt([])
                raise
            if not accepted:
                self._settle(charges, blamed, tick)
                return outcomes
            try:
                agreement.log.append(data, expected_size=committed)
            except AppendConflictError:
                agreement.history = self._rebuilt([])
                continue
            except BaseException:
                agreement.history = self._rebuilt([])
                raise
            self.groups += 1
            agreement.events.extend(accepted)
            agreement.events.compact()  # the events held do not grow with the log
            self._settle(charges, blamed, tick)
            if agreement.history.size - self._snapshot.size >= SNAPSHOT_EVERY:
                self._snapshot = _copies.clone(agreement.history)
            if agreement.history.size - agreement.snapshot_size >= DISK_SNAPSHOT_EVERY:
                agreement.save_snapshot()  # on this thread: the history is this size
                self.save_index()
            return outcomes
        raise AppendConflictError(f"the log kept growing; gave up after {MAX_RETRIES} attempts")

    def _charge_refusal(
        self,
        pending: _Pending,
        error: Error,
        wanted: dict[str, int],
        charges: dict[str, int],
        blamed: dict[str, int],
    ) -> None:
        """Count what a refused request cost against whoever it authenticates as.

        Its entries admitted before the refusal count for their parties; the refused
        entry counts for the party that signed it, or else for the client's address.
        An entry refused for its party's rate costs nothing more: the party is
        already out of budget, and a client retrying politely must not stay blocked.
        """
        _add(charges, wanted)
        if isinstance(error, RateLimitedError):
            return
        failed: int = getattr(error, "line", 0)
        party = None
        if failed < len(pending.entries):
            pre = pending.checked[failed] if pending.checked else None
            party = self._signer_of(pending.entries[failed], pre)
        if party is not None:
            _add(charges, {party: 1})
        elif pending.client is not None:
            _add(blamed, {pending.client: 1})

    def _signer_of(self, entry: bytes, pre: Prechecked | None) -> str | None:
        """The party whose registered key signed ``entry``, if its signature verifies."""
        gate = self.agreement.gate
        try:
            signed = pre.signed if pre else SignedEvent.from_bytes(entry, max_size=gate.max_size)
            keys = gate.keys.get(signed.event.party)
            if keys is None:
                return None
            verify_signature(signed, keys, verified=pre.key if pre else None)
        except Error:
            return None
        return signed.event.party

    def _settle(self, charges: dict[str, int], blamed: dict[str, int], tick: float) -> None:
        """Take what a group cost from the parties' and the addresses' buckets."""
        self._rates.take(charges, tick)
        self._addresses.take(blamed, tick)

    def _rebuilt(self, accepted: list[AdmittedEvent]) -> History:
        """The history of the logged events, then ``accepted`` (undoes tentative records)."""
        if self._snapshot.size == 0 and self.agreement.snapshot_size:
            # the events a disk snapshot covers are read from the log only when asked
            # for: start from its history (read again) rather than from the first event
            self._snapshot = self.agreement.snapshot_history() or self._snapshot
        history = _copies.clone(self._snapshot)
        for admitted in self.agreement.events[history.size :]:
            history.record(admitted)
        for admitted in accepted:
            history.record(admitted)
        return history

    def _charge(
        self,
        party: str,
        charges: dict[str, int],
        wanted: dict[str, int],
        tick: float,
        *,
        left: int,
    ) -> None:
        """Count one more event of ``party`` in this request, if its rate allows it.

        At the party's first event in a request, its budget must cover the rest of
        the request (up to its burst): a batch over budget is refused after one
        admission, not after many, and costs its party nothing, so that a client
        retrying it is not kept below its size for ever.

        Raises:
            InputError: the request holds more of the party's events than its burst.
            RateLimitedError: the party's budget does not cover it.
        """
        mine = wanted.get(party, 0)
        if mine + 1 > self.limits.burst:
            raise InputError(
                f"more than {self.limits.burst} events of {party!r} in one request, its "
                f"burst; send smaller batches"
            )
        needed = charges.get(party, 0) + (mine + 1 if mine else min(left, self.limits.burst))
        if self._rates.available(party, tick) < needed:
            raise RateLimitedError(
                f"party {party!r} is over its rate of {self.limits.party_rate:g} events/s"
            )
        wanted[party] = mine + 1

    # --- checkpoints ---------------------------------------------------------------------

    async def publish_checkpoint(self) -> bytes | None:
        """Sign a checkpoint of the current size, have it cosigned, keep and publish it.

        Picks up entries other processes appended first. Returns the new note, or None
        when the published checkpoint is already of this size.
        """
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self.agreement.catch_up)
        size = self.size
        if size == self._checkpoint_size and self._final():
            return None
        note = await loop.run_in_executor(
            self._writer, lambda: self.agreement.log.checkpoint(self._log_signer, tree_size=size)
        )
        if self._witnesses:
            # In a thread of its own: the consistency proofs read the log there, not on
            # the event loop.
            result = await asyncio.to_thread(
                cosign_checkpoint,
                note,
                witnesses=self._witnesses,
                proof_for=lambda old: self.consistency_proof(old, size).proof,
                old_sizes=dict(self._witness_sizes),
            )
            note = result.checkpoint
            await loop.run_in_executor(
                self._writer, self.agreement.log.store.save_checkpoint, size, note
            )
            self._witness_sizes.update(result.witness_sizes())
            self.witness_round = result
        if size >= self._checkpoint_size:
            self._checkpoint, self._checkpoint_size = note, size
        return note

    def _final(self) -> bool:
        """Whether the published checkpoint has its witnesses' threshold (or needs none)."""
        policy = self.witness_policy
        if not self._witnesses or policy is None or self._checkpoint is None:
            return self._checkpoint is not None
        return policy.check(self._checkpoint).satisfied

    async def _checkpoint_loop(self) -> None:
        while True:
            try:
                await self.publish_checkpoint()
            except Error as e:
                log.warning("checkpoint not published: %s", e)
            except Exception:  # keep publishing: one bad round must not end the loop
                log.exception("checkpoint not published")
            await asyncio.sleep(self._checkpoint_interval)


def _claimed_party(entry: bytes) -> str | None:
    """The party ``entry`` says it comes from, unchecked; None if it says none."""
    try:
        value = json.loads(entry)
    except (ValueError, RecursionError):  # nested too deep for json's recursive decoder
        return None
    event = value.get("event") if isinstance(value, dict) else None
    party = event.get("party") if isinstance(event, dict) else None
    return party if isinstance(party, str) else None


def _key_texts(agreement: Agreement) -> dict[str, list[str]]:
    """Every verifier key of every party, in the adopted road map and its versions."""
    keys: dict[str, list[str]] = {}
    for roadmap in (agreement.roadmap, *agreement.gate.versions.values()):
        for party in roadmap.parties:
            known = keys.setdefault(party.id, [])
            known += [k for k in party.keys if k not in known]
    return keys


def _add(total: dict[str, int], more: Mapping[str, int]) -> None:
    for key, n in more.items():
        total[key] = total.get(key, 0) + n


def witness_clients(roadmap: RoadMap, urls: Mapping[str, str]) -> list[WitnessClient]:
    """Clients for the road map's witnesses at ``urls`` (witness id → URL).

    Raises:
        InputError: a URL is given for a witness the road map does not name.
    """
    keys = {w.id: w.key for w in roadmap.witnesses.members} if roadmap.witnesses else {}
    clients = []
    for witness, url in urls.items():
        key = keys.get(witness)
        if key is None:
            known = ", ".join(keys) or "none"
            raise InputError(f"the road map names no witness {witness!r} with a key ({known})")
        clients.append(WitnessClient(url, CosignatureVerifier.from_text(key)))
    return clients


def open_service(
    directory: str,
    *,
    database: str | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    limits: Limits | None = None,
    witness_urls: Mapping[str, str] | None = None,
    checkpoint_interval: float = 1.0,
    reverify: bool = False,
) -> Service:
    """Open an agreement directory and serve it, with its witnesses at ``witness_urls``.

    The log is opened from its verified snapshot, if any (:mod:`cvid.snapshot`);
    ``reverify`` admits every entry again instead.

    Raises:
        ServiceError: the directory cannot be served.
        InputError: a witness URL is for a witness the road map does not name.
    """
    try:
        agreement = Agreement.open(directory, database=database, reverify=reverify)
    except Error as e:
        raise ServiceError(f"cannot serve {directory}: {e}") from e
    try:
        witnesses = witness_clients(agreement.roadmap, witness_urls or {})
    except Error:
        agreement.close()
        raise
    return Service(
        agreement,
        database=database,
        clock=clock,
        limits=limits,
        witnesses=witnesses,
        checkpoint_interval=checkpoint_interval,
    )
