"""A mirror of a served agreement: follow its published tiles, verify, re-admit, keep.

A party that does not run the service can still hold its own verified copy of the
log and its own state. :class:`Mirror` reads the service's published checkpoint and
C2SP tlog-tiles (nothing else but the road map), and each round:

1. verifies the checkpoint with the log's key and, when asked, the witnesses'
   cosignatures it requires;
2. checks the new checkpoint against the last one it verified: a smaller tree is a
   rollback, the same size with another root or a failed consistency proof (computed
   from the published hash tiles) is a fork; either raises :class:`ForkError`
   naming both checkpoints, and nothing is written;
3. fetches the new entries from the entry bundles, appends them to its own store and
   recomputes the root from its own tiles: it must be the signed root;
4. admits every new entry with the road map's admission rules (signature, sequence,
   authorisation), as the service did, and keeps the admitted events.

Steps 3 and 4 happen in one write transaction of the mirror's store: a failure
leaves the store as it was. The last verified checkpoint is kept in the store, so
a restart resumes where the mirror stopped. On open, the entries held are admitted
again, except those a verified snapshot of the mirror covers (:mod:`cvid.snapshot`:
bound to the root of its own store at that size, authenticated with a key of the
mirror's own; one is written every :data:`cvid.snapshot.MIN_NEW` entries and on
close): those are read from the store when asked for (:mod:`cvid.logged`). The
state is kept incrementally (:mod:`cvid.engine.incremental`).

The road map is fetched once from the service's API; its digest must match the
digest every logged event carries, and it is kept in the mirror's directory.

Layout of a mirror directory::

    mirror.json     what is followed: the URL, the log's key, the road map's digest
    roadmap.json    the road map, canonical JSON
    log.db          the mirror's own store of the log (SQLite), with its checkpoints
    keys/snapshot.key   the key that authenticates its snapshots (mode 0600)
    snapshots/      the latest snapshot (a cache: deleting it changes nothing but speed)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cvid import _copies
from cvid import snapshot as snap
from cvid.amendment import roadmap_at
from cvid.engine import AgreementState
from cvid.engine.incremental import Evaluator
from cvid.errors import (
    AuditError,
    ConfigError,
    Error,
    EventRejectedError,
    EventSignatureError,
    VerificationError,
)
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.envelope import SignedEvent
from cvid.log import merkle
from cvid.log.audit import Fetch, PublishedTiles
from cvid.log.checkpoint import Checkpoint, open_checkpoint
from cvid.log.cosignature import WitnessPolicy
from cvid.log.note import Verifier
from cvid.log.proof import InclusionProof
from cvid.log.remote import http_fetch
from cvid.log.store import open_store
from cvid.log.store.base import append_entries
from cvid.log.tiles import ENTRIES, TILE_WIDTH, TileHashReader, TileId, decode_bundle
from cvid.log.tlog import Log
from cvid.logged import LoggedEvents
from cvid.roadmap import loader as roadmap_load
from cvid.roadmap.model import RoadMap
from cvid.service import listing
from cvid.service.states import States

CONFIG_FILE = "mirror.json"
ROADMAP_FILE = "roadmap.json"
LOG_FILE = "log.db"
KEYS_DIR = "keys"
snapshot_log = logging.getLogger("cvid.snapshot")
MAX_ROADMAP_BYTES = 1 << 22
BUNDLES_PER_READ = 16
CHUNK = 64 * TILE_WIDTH  # entries appended, checked and admitted in one transaction


class MirrorError(VerificationError):
    """The followed service cannot be mirrored: a refused road map, entry or checkpoint."""


class ForkError(MirrorError):
    """The followed log forked or rolled back: two checkpoints that cannot both hold."""


@dataclass(frozen=True, slots=True)
class Round:
    """What one round of following did."""

    old_size: int
    new_size: int
    admitted: int


def _describe(size: int, root: bytes) -> str:
    return f"size {size}, root {root.hex()}"


def fetch_roadmap(base_url: str, client: httpx.Client) -> tuple[RoadMap, bytes]:
    """The road map the service serves, and its canonical JSON.

    Raises:
        MirrorError: it cannot be fetched, or its digest is not the one announced.
        RoadmapError: it is not a valid road map.
    """
    url = base_url.rstrip("/") + "/api/v1/roadmap"
    try:
        answer = client.get(url)
    except httpx.HTTPError as e:
        raise MirrorError(f"cannot fetch the road map from {url}: {e}") from e
    if answer.status_code != 200 or len(answer.content) > MAX_ROADMAP_BYTES:
        raise MirrorError(f"{url}: HTTP {answer.status_code}, {len(answer.content)} bytes")
    roadmap = roadmap_load.from_json(answer.content, name=url)
    announced = answer.headers.get("x-roadmap-digest")
    if announced is not None and announced != roadmap_load.digest(roadmap):
        raise MirrorError(
            f"{url}: the road map's digest is {roadmap_load.digest(roadmap)}, "
            f"not the {announced} the service announces"
        )
    return roadmap, roadmap_load.to_json(roadmap)


class Mirror:
    """A verified copy of a served agreement, in a directory of its own.

    Reads (:meth:`events`, :meth:`state`, ...) may come from other threads while
    :meth:`follow` runs in one: the events only grow.
    """

    def __init__(
        self,
        directory: Path,
        roadmap: RoadMap,
        log: Log,
        fetch: Fetch,
        verifier: Verifier,
        *,
        policy: WitnessPolicy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.roadmap = roadmap
        self.log = log
        self._fetch = fetch
        self.verifier = verifier
        self.policy = policy
        self.gate = Gate(roadmap)
        self.history = History()
        self._base_history = History()  # the history of the snapshot read, if any
        self._events = LoggedEvents(self.entries)
        self._evaluators: dict[int, Evaluator] = {}
        self.snapshot_size = 0  # the entries covered by the snapshot read or last written
        self.readmitted = 0  # entries admitted again on open (those after the snapshot)
        self._index_section = listing.IndexSection(
            directory, directory / KEYS_DIR, self.gate.digest, self._root
        )
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()  # the store's connection: one user at a time
        self._states = States(self._compute, size=lambda: len(self._events), now=self.now)
        self._evaluators_lock = threading.Lock()
        latest = log.latest_checkpoint()
        self._note: bytes | None = latest[1] if latest else None
        self._verified = open_checkpoint(latest[1], verifier)[0] if latest else None

    # --- opening ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str,
        directory: str | Path,
        verifier: Verifier,
        *,
        client: httpx.Client,
        policy: WitnessPolicy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> Mirror:
        """Open the mirror in ``directory`` (created on first use) of the service at ``url``.

        On first use the road map is fetched and kept; later, the directory must be
        a mirror of the same log (the same key; the URL may change). Entries already
        held are re-admitted.

        Raises:
            ConfigError: the directory mirrors something else, or is not a mirror.
            MirrorError: the road map is refused.
        """
        directory = Path(directory)
        config_path = directory / CONFIG_FILE
        key = verifier.to_text()
        if config_path.is_file():
            config = json.loads(config_path.read_text(encoding="utf-8"))
            if config.get("log_key") != key:
                raise ConfigError(
                    f"{directory} mirrors the log of key {config.get('log_key')!r}, not {key!r}"
                )
            roadmap = roadmap_load.from_json((directory / ROADMAP_FILE).read_bytes())
            if roadmap_load.digest(roadmap) != config.get("roadmap"):
                raise ConfigError(f"{directory / ROADMAP_FILE} is not the road map first kept")
            log = Log(open_store(str(directory / LOG_FILE)))
        else:
            if directory.exists() and any(directory.iterdir()):
                raise ConfigError(f"{directory} exists, is not empty and is not a mirror")
            roadmap, text = fetch_roadmap(url, client)
            if roadmap.agreement.origin != verifier.name:
                raise MirrorError(
                    f"the road map's log is {roadmap.agreement.origin!r}; "
                    f"the key given is for {verifier.name!r}"
                )
            directory.mkdir(parents=True, exist_ok=True)
            (directory / ROADMAP_FILE).write_bytes(text)
            log = Log.create(
                open_store(str(directory / LOG_FILE), create=True), roadmap.agreement.origin
            )
            config = {"url": url, "log_key": key, "roadmap": roadmap_load.digest(roadmap)}
            tmp = config_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            tmp.replace(config_path)
        mirror = cls(
            directory,
            roadmap,
            log,
            http_fetch(url, client),
            verifier,
            policy=policy,
            clock=clock,
        )
        try:
            mirror._readmit()
        except BaseException:
            mirror.close()
            raise
        return mirror

    def close(self) -> None:
        """Write a snapshot of what is held (when it grew since the last), close the store."""
        self._states.close()
        try:
            self.save_snapshot(force=True)
            self.save_index()
        finally:
            with self._lock:
                self.log.close()

    # --- snapshots ---------------------------------------------------------------------

    def _from_snapshot(self, size: int) -> int:
        """Start from the latest snapshot that verifies against the store's first ``size``
        entries; return the entries it covers (0 when none is used: it is reported)."""
        found = snap.verified(
            self.directory,
            self.directory / KEYS_DIR,
            size,
            digest=self.gate.digest,
            root=self.log.root,
        )
        if found is None:
            return 0
        self.history, self._base_history = found.history, _copies.clone(found.history)
        self._events = LoggedEvents(self.entries, found.size, found.checked)
        self.snapshot_size = found.size
        if found.fold is not None:
            try:
                self.evaluator(self.roadmap).restore(self._events, *found.fold)
            except Exception as e:  # an engine of another build: fold again when asked
                snapshot_log.warning("the snapshot's engine is ignored: %s", e)
                self._evaluators.clear()
        return found.size

    def save_snapshot(self, *, force: bool = False) -> Path | None:
        """Write a snapshot of what is admitted when :data:`cvid.snapshot.MIN_NEW` entries
        were admitted since the last one (with ``force``: any). A failure is reported
        (a snapshot is a cache) and None returned, as when nothing needed writing."""
        with self._lock:
            size = self.history.size
            grown = size - self.snapshot_size
            if size == 0 or grown <= 0 or (grown < snap.MIN_NEW and not force):
                return None
            evaluator = self._evaluators.get(id(self.roadmap))
            fold = evaluator.export() if evaluator is not None and evaluator.seen == size else None
            try:
                root = self.log.root(size)
                state = snap.Snapshot(
                    size, root, self.gate.digest, self.history, self._events.checked(), fold
                )
                keys = self.directory / KEYS_DIR
                keys.mkdir(mode=0o700, exist_ok=True)
                path = snap.write(self.directory, keys, state, keep_older=False)
            except (Error, OSError, TypeError) as e:
                snapshot_log.warning("no snapshot written: %s", e)
                return None
            self.snapshot_size = size
            return path

    def restore_index(self, steps: frozenset[str]) -> listing.EventIndex | None:
        """The dashboard's listing index kept in a snapshot section, if one verifies
        (:func:`cvid.service.listing.index_of` asks once); None: it is built again."""
        return self._index_section.restore(len(self._events), steps)

    def save_index(self) -> int | None:
        """Keep the dashboard's listing index (if a list built it) in a snapshot section
        when it covers :data:`cvid.snapshot.MIN_NEW` entries more than the last one."""
        return self._index_section.save(self, self.events())

    def _root(self, size: int) -> bytes:
        with self._lock:
            return self.log.root(size)

    def _readmit(self) -> None:
        """Admit the entries held (a restart), as the service admitted them; the store
        must still hold the tree of the last checkpoint verified.

        Raises:
            MirrorError: it does not.
        """
        with self._lock:
            size = self.log.size()
            verified = self._verified
            if verified is not None and (
                size < verified.tree_size or self.log.root(verified.tree_size) != verified.root_hash
            ):
                raise MirrorError(
                    f"the mirror's store in {self.directory} no longer holds the tree of the "
                    f"checkpoint it verified ({_describe(verified.tree_size, verified.root_hash)})"
                )
            start = self._from_snapshot(size)
            entries = list(self.log.entries(start, size))
            for admitted in self._admit_all(entries, self.log.root):
                self._events.append(admitted)
            self._events.compact()
            self.readmitted = size - start

    def _admit_all(
        self, entries: Sequence[bytes], root_at: Callable[[int], bytes]
    ) -> Iterator[AdmittedEvent]:
        for entry in entries:
            index = self.history.size
            if index == 0:
                self._check_roadmap(entry)
            try:
                admitted = self.gate.admit(entry, self.history, now=None, root_at=root_at)
            except (EventRejectedError, EventSignatureError) as e:
                raise MirrorError(f"logged entry {index} fails admission: {e}") from e
            self.history.record(admitted)
            yield admitted

    def _check_roadmap(self, entry: bytes) -> None:
        try:
            carried = SignedEvent.from_bytes(entry).event.roadmap
        except Error:
            return  # admission says what is wrong with the entry
        if carried != self.gate.digest:
            raise MirrorError(
                f"the log's first event carries road map {carried}, but the service "
                f"served road map {self.gate.digest}: refusing to mirror it"
            )

    # --- following -------------------------------------------------------------------

    @property
    def verified(self) -> Checkpoint | None:
        """The last checkpoint verified and mirrored."""
        return self._verified

    def follow(self) -> Round:
        """Fetch the latest checkpoint; verify and mirror what it adds.

        Raises:
            ForkError: the checkpoint is a rollback or a fork of the last one verified.
            MirrorError: a tile or entry disagrees with the signed root, an entry fails
                admission, or the required cosignatures are missing.
            AuditError, SignatureError, NoteFormatError, CheckpointFormatError: the
                checkpoint or a tile cannot be read or is not validly signed.
        """
        note = self._fetch("checkpoint")
        if note is None:
            raise AuditError("the followed service has published no checkpoint")
        checkpoint, _ = open_checkpoint(note, self.verifier)
        if self.policy is not None:
            result = self.policy.check(note)
            if not result.satisfied or result.invalid:
                raise MirrorError(
                    f"checkpoint of size {checkpoint.tree_size} has "
                    f"{len(result.signed)} of the {result.threshold} witness cosignatures "
                    f"required (missing: {', '.join(result.missing) or 'none'}; "
                    f"invalid: {', '.join(result.invalid) or 'none'})"
                )
        old = self._verified
        if old is not None:
            self._check_consistent(old, checkpoint)
        with self._lock:
            held = self.log.size()
        old_size = old.tree_size if old is not None else 0
        if held > checkpoint.tree_size:
            shown = _describe(checkpoint.tree_size, checkpoint.root_hash)
            raise ForkError(
                f"rollback: the service's checkpoint ({shown}) has fewer entries "
                f"than the {held} this mirror holds"
            )
        if old is not None and checkpoint.tree_size == old.tree_size:
            return Round(old_size, old_size, 0)
        admitted = self._mirror(checkpoint, note, held)
        return Round(old_size, checkpoint.tree_size, admitted)

    def _check_consistent(self, old: Checkpoint, new: Checkpoint) -> None:
        both = (
            f"last verified checkpoint {_describe(old.tree_size, old.root_hash)}; "
            f"the service's checkpoint {_describe(new.tree_size, new.root_hash)}"
        )
        if new.tree_size < old.tree_size:
            raise ForkError(f"rollback: the log shrank ({both})")
        if new.tree_size == old.tree_size:
            if new.root_hash != old.root_hash:
                raise ForkError(f"fork: two roots for one size ({both})")
            return
        if old.tree_size == 0:
            return  # the empty tree is a prefix of every tree
        tiles = PublishedTiles(self._fetch, new.tree_size)
        try:
            proof = merkle.consistency_proof(
                old.tree_size, new.tree_size, TileHashReader(new.tree_size, tiles)
            )
            merkle.verify_consistency(
                old_size=old.tree_size,
                new_size=new.tree_size,
                old_root=old.root_hash,
                new_root=new.root_hash,
                proof=proof,
            )
        except VerificationError as e:
            raise ForkError(
                f"fork: the new checkpoint does not extend the old ({both}): {e}"
            ) from e

    def _bundles(self, new_size: int, first: int, end: int) -> Iterator[bytes]:
        """Entries ``first`` to ``end`` from the bundles published for ``new_size``."""
        tiles = PublishedTiles(self._fetch, new_size)
        indices = list(range(first // TILE_WIDTH, -(-end // TILE_WIDTH)))
        for k in range(0, len(indices), BUNDLES_PER_READ):
            batch = [TileId(ENTRIES, i) for i in indices[k : k + BUNDLES_PER_READ]]
            for tile, data in zip(batch, tiles.read_tiles(batch), strict=True):
                entries = decode_bundle(data)
                base = tile.index * TILE_WIDTH
                lo, hi = max(first - base, 0), min(end - base, TILE_WIDTH)
                if len(entries) < hi:
                    raise MirrorError(f"entry bundle {tile.index} holds too few entries")
                yield from entries[lo:hi]

    def _mirror(self, checkpoint: Checkpoint, note: bytes, held: int) -> int:
        """Mirror entries ``held`` to the checkpoint's size, a chunk at a time.

        Each chunk is appended, shown to lead to the signed root (its own root at the
        chunk's end, with a consistency proof to the checkpoint's size, or the signed
        root itself for the last chunk) and admitted, in one transaction; the
        checkpoint is kept once every chunk is in.
        """
        size = checkpoint.tree_size
        remote = TileHashReader(size, PublishedTiles(self._fetch, size))
        admitted = 0
        start = held
        while start < size:
            end = min(size, (start // CHUNK + 1) * CHUNK)
            entries = list(self._bundles(size, start, end))
            admitted += self._append_chunk(entries, start, checkpoint, remote)
            start = end
        with self._lock:
            self.log.store.save_checkpoint(size, note)
            self._note = note
            self._verified = checkpoint
        self.save_snapshot()
        self.save_index()
        return admitted

    def _append_chunk(
        self,
        entries: list[bytes],
        start: int,
        checkpoint: Checkpoint,
        remote: TileHashReader,
    ) -> int:
        end = start + len(entries)
        history_before = self.history.size
        with self._lock:
            try:
                with self.log.store.write() as txn:
                    if txn.tree_size() != start:
                        raise MirrorError(
                            f"the mirror's store holds {txn.tree_size()} entries, not "
                            f"{start}: another process writes to it"
                        )
                    append_entries(txn, entries)
                    root = merkle.tree_root(end, TileHashReader(end, txn))
                    self._check_leads_to(root, end, checkpoint, remote)

                    def root_at(n: int) -> bytes:
                        return merkle.tree_root(n, TileHashReader(n, txn))

                    admitted = list(self._admit_all(entries, root_at))
            except BaseException:
                self.history = self._rebuilt(history_before)
                raise
            self._events.extend(admitted)
            self._events.compact()  # the events held do not grow with the log
        return len(admitted)

    def _rebuilt(self, size: int) -> History:
        """The history of the first ``size`` events (undoes a chunk's tentative records)."""
        history = _copies.clone(self._base_history)
        for event in self._events.range(history.size, size):
            history.record(event)
        return history

    def _check_leads_to(
        self, root: bytes, end: int, checkpoint: Checkpoint, remote: TileHashReader
    ) -> None:
        """The tree of the first ``end`` entries, of root ``root``, is a prefix of the
        signed tree (or is it, when ``end`` is its size)."""
        size = checkpoint.tree_size
        if end == size:
            leads = root == checkpoint.root_hash
        else:
            try:
                merkle.verify_consistency(
                    old_size=end,
                    new_size=size,
                    old_root=root,
                    new_root=checkpoint.root_hash,
                    proof=merkle.consistency_proof(end, size, remote),
                )
                leads = True
            except VerificationError:
                leads = False
        if not leads:
            old = self._verified
            was = _describe(old.tree_size, old.root_hash) if old else "none"
            raise MirrorError(
                f"the published entries up to {end} hash to root {root.hex()}, which is "
                f"not in the signed tree ({_describe(size, checkpoint.root_hash)}; "
                f"last verified checkpoint: {was})"
            )

    # --- the dashboard's Source ------------------------------------------------------

    @property
    def digest(self) -> str:
        return self.gate.digest

    @property
    def size(self) -> int:
        return len(self._events)

    def events(self) -> Sequence[AdmittedEvent]:
        return self._events.view(len(self._events))  # the old ones read on demand

    def entry(self, index: int) -> bytes:
        with self._lock:
            return self.log.entry(index)

    def entries(self, start: int, end: int) -> list[bytes]:
        with self._lock:
            return list(self.log.entries(start, end))

    def state(self, at: dt.datetime) -> AgreementState:
        """The state at ``at`` of what the mirror holds; at "now", possibly as computed a
        moment ago while rounds add events fast (see :mod:`cvid.service.states`)."""
        return self._states.get(len(self._events), at).state

    def _compute(self, size: int, at: dt.datetime) -> AgreementState:
        events = self._events.view(size)  # as it stands now, while rounds may append
        roadmap = roadmap_at(self.gate, self.history, at)
        return self.evaluator(roadmap).state(events, at=at)

    def evaluator(self, roadmap: RoadMap) -> Evaluator:
        """The incremental evaluator of ``roadmap`` (the adopted one or an amended version)."""
        with self._evaluators_lock:
            evaluator = self._evaluators.get(id(roadmap))
            if evaluator is None or evaluator.roadmap is not roadmap:
                evaluator = self._evaluators[id(roadmap)] = Evaluator(roadmap)
            return evaluator

    def now(self) -> dt.datetime:
        return self._clock().replace(microsecond=0)

    def checkpoint(self) -> bytes | None:
        return self._note

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        with self._lock:
            return self.log.inclusion_proof(index, tree_size)

    @property
    def witness_policy(self) -> WitnessPolicy | None:
        return self.policy

    @property
    def log_key(self) -> str:
        return self.verifier.to_text()


def mirror_app(mirror: Mirror) -> Any:
    """A read-only dashboard over the mirror's own store and state (an ASGI app)."""
    from fastapi import FastAPI

    from cvid._http import PAGE_POLICY, harden
    from cvid.service.dashboard import dashboard_router

    app = FastAPI(
        title=f"cvid mirror: {mirror.roadmap.agreement.title}",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    harden(app, policy=PAGE_POLICY)
    app.include_router(dashboard_router(mirror))
    return app


def status_line(mirror: Mirror, done: Round) -> str:
    """One line saying what a round did."""
    cp = mirror.verified
    root = cp.root_hash.hex()[:16] if cp else "-"
    return f"mirrored {done.new_size} entries (+{done.admitted}), root {root}…"


def describe(mirror: Mirror) -> dict[str, Any]:
    """The mirror's position, for people and scripts."""
    cp = mirror.verified
    return {
        "tree_size": cp.tree_size if cp else 0,
        "root": cp.root_hash.hex() if cp else None,
        "events": mirror.size,
    }


__all__ = ["ForkError", "Mirror", "MirrorError", "Round", "fetch_roadmap", "mirror_app"]
