"""An agreement on disk: its road map, its log, and (for exercises) its parties' keys.

Layout of an agreement directory::

    roadmap.yaml        the adopted road map, with every party's public keys
    log.db              the SQLite log (or the PostgreSQL URL given at open)
    keys/<party>.key    private keys, mode 0600: each party's own, in a real
                        deployment only on that party's machine
    keys/log.key        the log operator's checkpoint key (named for the origin)
    keys/witnesses/<id>.key   the witnesses' cosigning keys (exercises and demos; a
                        real witness keeps its own)
    keys/devices/<id>.key     monitoring devices' own keys (exercises and demos; a
                        real device keeps its own)
    versions/<hex>.yaml every road-map version proposed as an amendment, named by its
                        digest (roadmap.yaml stays the version first adopted)

Opening an agreement replays its whole log through admission: every entry's
signature, sequence number and authorisation is checked again, so the state is
computed from verified entries only (the entries a verified snapshot covers excepted,
:mod:`cvid.snapshot`: they are neither admitted again nor read at open, but read from
the log when asked for, :mod:`cvid.logged`). Submitting admits the event against the log
as it is, then appends it only if the log has not grown meanwhile (else it
catches up and admits again), so two writers cannot both use one sequence number.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cvid import _yaml
from cvid import snapshot as snap
from cvid.amendment import VERSIONS_DIR, history_problems, roadmap_at
from cvid.engine import AgreementState
from cvid.engine.incremental import Evaluator, Fold
from cvid.errors import (
    AgreementError,
    AppendConflictError,
    Error,
    EventRejectedError,
    RoadmapError,
)
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.bodies import AmendmentProposed
from cvid.events.envelope import Event, SignedEvent, sign_event
from cvid.events.monitoring_bodies import SIGNED_BY_DEVICE, device_message
from cvid.log.cosignature import CosignatureSigner, CosignatureVerifier, WitnessPolicy
from cvid.log.note import Signer
from cvid.log.store import open_store
from cvid.log.tlog import Log
from cvid.logged import LoggedEvents
from cvid.roadmap import loader as roadmap_load
from cvid.roadmap.model import RoadMap

ROADMAP_FILE = "roadmap.yaml"
LOG_FILE = "log.db"
KEYS_DIR = "keys"
LOG_KEY = "log.key"
WITNESS_KEYS = "witnesses"
DEVICE_KEYS = "devices"
TEMPLATES = Path(__file__).parent / "roadmap" / "templates"
MAX_RETRIES = 8
HISTORY = ".history"  # a template's dated history, replayed by create_from_template
log = logging.getLogger("cvid.snapshot")


def template_names() -> list[str]:
    """The road maps that ship with cvid."""
    return sorted(p.stem for p in TEMPLATES.glob("*.yaml") if not p.stem.endswith(HISTORY))


def template_path(name: str) -> Path:
    """The file of a shipped road map.

    Raises:
        AgreementError: no template has that name.
    """
    path = TEMPLATES / f"{name}.yaml"
    if name not in template_names():
        raise AgreementError(f"no template {name!r}; there are: {', '.join(template_names())}")
    return path


@dataclass
class Agreement:
    """An open agreement: road map, log, admission gate and the admitted events."""

    directory: Path
    roadmap: RoadMap
    log: Log
    gate: Gate
    history: History = field(default_factory=History)
    events: LoggedEvents = field(default_factory=LoggedEvents)
    reverify: bool = False  # every entry admitted again; snapshots neither read nor written
    snapshot_size: int = 0  # the entries covered by the snapshot read or last written
    _snapshot_folded: bool = field(default=False, repr=False)  # it held the engine's fold
    _evaluators: dict[int, Evaluator] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls, directory: str | Path, *, database: str | None = None, reverify: bool = False
    ) -> Agreement:
        """Open an agreement directory and replay its log through admission.

        The entries covered by a verified snapshot (:mod:`cvid.snapshot`) are not
        admitted again; with ``reverify`` every entry is, and snapshots are left alone.

        Raises:
            AgreementError: the directory is not an agreement.
            RoadmapError: its road map is invalid.
            EventRejectedError, EventSignatureError: a logged entry fails admission.
        """
        directory = Path(directory)
        if not (directory / ROADMAP_FILE).is_file():
            raise AgreementError(f"{directory} is not an agreement directory (no {ROADMAP_FILE})")
        roadmap = roadmap_load.load(directory / ROADMAP_FILE)
        location = database or str(directory / LOG_FILE)
        if database is None and not (directory / LOG_FILE).is_file():
            raise AgreementError(f"{directory} has no log ({LOG_FILE})")
        log = Log(open_store(location))
        if log.store.origin() != roadmap.agreement.origin:
            raise AgreementError(
                f"the log's origin {log.store.origin()!r} is not "
                f"the road map's {roadmap.agreement.origin!r}"
            )
        _check_unchanged(roadmap, log)
        gate = Gate(roadmap, versions=_versions(directory))
        agreement = cls(directory, roadmap, log, gate, reverify=reverify)
        if not reverify:
            agreement._from_snapshot()
        agreement.catch_up()
        return agreement

    def close(self) -> None:
        """Write a snapshot when enough was admitted since the last one, and close the log."""
        try:
            self.save_snapshot()
        finally:
            self.log.close()

    # --- snapshots ------------------------------------------------------------------------

    def _verified_snapshot(self, size: int) -> snap.Snapshot | None:
        """The latest snapshot of at most ``size`` entries, if it verifies (else it is
        reported and None returned)."""
        return snap.verified(
            self.directory,
            self.directory / KEYS_DIR,
            size,
            digest=self.gate.digest,
            root=self.log.root,
        )

    def snapshot_history(self) -> History | None:
        """The admission history of the latest verified snapshot, read again (a fresh
        object), for undoing tentative records without replaying every event; or None."""
        found = self._verified_snapshot(len(self.events))
        return None if found is None else found.history

    def _from_snapshot(self) -> None:
        """Start from the latest snapshot that verifies, if any (else report and ignore it)."""
        found = self._verified_snapshot(self.log.size())
        if found is None:
            return
        events = LoggedEvents(self._read, found.size, found.checked)
        self.history, self.events, self.snapshot_size = found.history, events, found.size
        if found.fold is not None:
            try:
                self.evaluator(self.roadmap).restore(events, *found.fold)
                self._snapshot_folded = True
            except Exception as e:  # an engine of another build: fold again from the start
                log.warning("the snapshot's engine is ignored: %s", e)
                self._evaluators.clear()

    def _read(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)`` of the log (those below a snapshot, read on demand)."""
        return list(self.log.entries(start, end))

    def save_snapshot(self, *, force: bool = False) -> Path | None:
        """Write a snapshot of what is admitted (and of the adopted road map's fold, when
        it has taken in every event), when at least :data:`cvid.snapshot.MIN_NEW` entries
        were admitted since the last one, or the last one had no fold and there is one
        now, or ``force``. A failure is reported (a snapshot is a cache); None is then
        returned, as when nothing needed writing."""
        size = self.history.size
        if self.reverify or size == 0:
            return None
        evaluator = self._evaluators.get(id(self.roadmap))
        folded = evaluator is not None and evaluator.roadmap is self.roadmap
        folded = folded and evaluator is not None and evaluator.seen == size
        stale = size - self.snapshot_size >= snap.MIN_NEW
        better = folded and not self._snapshot_folded and size >= snap.MIN_NEW
        if not (force or stale or better):
            return None
        fold = evaluator.export() if folded and evaluator is not None else None
        checked = self.events.checked()
        try:
            root = self.log.root(size)
            state = snap.Snapshot(size, root, self.gate.digest, self.history, checked, fold)
            path = snap.write(self.directory, self.directory / KEYS_DIR, state)
        except (Error, pickle.PicklingError, TypeError) as e:
            log.warning("no snapshot written: %s", e)
            return None
        self.snapshot_size, self._snapshot_folded = size, fold is not None
        return path

    def __enter__(self) -> Agreement:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catch_up(self) -> None:
        """Admit and remember the entries appended since this object last looked."""
        for entry in self.log.entries(self.history.size):
            try:
                admitted = self.gate.admit(entry, self.history, now=None, root_at=self.log.root)
            except EventRejectedError as e:
                raise EventRejectedError(
                    e.reason, f"logged entry {self.history.size} fails admission: {e}"
                ) from e
            self.history.record(admitted)
            self.events.append(admitted)

    def submit(self, data: bytes, *, now: dt.datetime) -> AdmittedEvent:
        """Admit a signed event and append it to the log.

        Raises:
            EventRejectedError, EventSignatureError: the event was refused;
                nothing was appended.
        """
        for _ in range(MAX_RETRIES):
            self.catch_up()
            admitted = self.gate.admit(data, self.history, now=now, root_at=self.log.root)
            if admitted.type == "amendment.proposed":
                self._check_keeps_history(admitted)
            try:
                (index,) = self.log.append([data], expected_size=self.history.size)
            except AppendConflictError:
                continue
            assert index == admitted.index
            self.history.record(admitted)
            self.events.append(admitted)
            return admitted
        raise AppendConflictError(f"the log kept growing; gave up after {MAX_RETRIES} attempts")

    def _check_keeps_history(self, admitted: AdmittedEvent) -> None:
        body = admitted.body
        assert isinstance(body, AmendmentProposed)
        current = roadmap_at(self.gate, self.history, admitted.time)
        problems = history_problems(current, self.gate.versions[body.digest], self.events)
        if problems:
            raise EventRejectedError(
                "changes-history",
                "the amendment would change the history already logged: " + "; ".join(problems),
            )

    def propose_amendment(
        self,
        signer: Signer,
        path: str | Path,
        *,
        amendment: str,
        effective: dt.date,
        time: dt.datetime,
        now: dt.datetime | None = None,
    ) -> AdmittedEvent:
        """Keep the road map at ``path`` as ``versions/<hex>.yaml`` and propose it.

        Raises:
            RoadmapError: the file is not a valid road map.
            AgreementError: it is the version already in force.
            EventRejectedError: the proposal was refused (``changes-history`` when the
                version would change what the log holds); nothing is kept.
        """
        text = Path(path).read_text(encoding="utf-8")
        version = roadmap_load.loads(text, name=str(path))
        self.catch_up()
        version_digest = roadmap_load.digest(version)
        if version_digest == self.gate.digest_at(time, self.history):
            raise AgreementError(f"{path} is the road map already in force ({version_digest})")
        target = self.directory / VERSIONS_DIR / f"{version_digest.removeprefix('sha256:')}.yaml"
        existed = target.exists()
        target.parent.mkdir(exist_ok=True)
        if not existed:
            target.write_text(text, encoding="utf-8")
        self.gate.add_version(version)
        body = {
            "amendment": amendment,
            "digest": version_digest,
            "effective": effective.isoformat(),
        }
        try:
            return self.act(signer, "amendment.proposed", body, time=time, now=now)
        except Error:
            if not existed:
                target.unlink()
                self.gate.versions.pop(version_digest, None)
            raise

    def next_event(
        self, party: str, event_type: str, body: dict[str, Any], *, time: dt.datetime
    ) -> Event:
        """Build ``party``'s next event (the next sequence number, this road map)."""
        self.catch_up()
        return Event(
            agreement=self.roadmap.agreement.id,
            roadmap=self.gate.digest_at(time, self.history),
            type=event_type,
            party=party,
            seq=self.history.seq.get(party, 0) + 1,
            time=time,
            body=body,
        )

    def act(
        self,
        signer: Signer,
        event_type: str,
        body: dict[str, Any],
        *,
        time: dt.datetime,
        now: dt.datetime | None = None,
    ) -> AdmittedEvent:
        """Sign ``party``'s next event with ``signer`` and submit it."""
        event = self.next_event(signer.name, event_type, body, time=time)
        return self.submit(sign_event(event, signer).to_bytes(), now=now or time)

    def state(self, *, at: dt.datetime, horizon: dt.datetime | None = None) -> AgreementState:
        """The agreement's state at ``at`` (see :func:`cvid.engine.evaluate`), kept
        incrementally (:mod:`cvid.engine.incremental`); ``horizon``: a moment before
        which no event is expected any more (see :meth:`Evaluator.state`)."""
        self.catch_up()
        evaluator = self.evaluator(roadmap_at(self.gate, self.history, at))
        return evaluator.state(self.events, at=at, horizon=horizon)

    def evaluator(self, roadmap: RoadMap) -> Evaluator:
        """The incremental evaluator of ``roadmap`` (the adopted one or an amended version)."""
        evaluator = self._evaluators.get(id(roadmap))
        if evaluator is None or evaluator.roadmap is not roadmap:
            older = self.older_folds if roadmap is self.roadmap and not self.reverify else None
            evaluator = self._evaluators[id(roadmap)] = Evaluator(roadmap, older=older)
        return evaluator

    def older_folds(self) -> Iterator[Fold]:
        """The adopted road map's folds kept by the snapshots older than the one read or
        last written, the newest first, each read when asked for (time travel to a moment
        before that one's fold starts from the nearest of them: see cvid.snapshot.kept)."""
        for size, path in snap.older(self.directory, len(self.events)):
            if size == self.snapshot_size:
                continue  # its fold is the evaluator's own checkpoint already
            try:
                found = snap.checked(
                    path, self.directory / KEYS_DIR, digest=self.gate.digest, root=self.log.root
                )
            except Error as e:
                log.warning("an older snapshot is ignored: %s", e)
                continue
            if found.fold is not None:
                yield found.fold

    def signer(self, party: str) -> Signer:
        """Read ``party``'s private key from ``keys/`` (exercise and demo setups).

        Raises:
            AgreementError: no key file for that party.
        """
        path = self.directory / KEYS_DIR / f"{party}.key"
        try:
            return Signer.from_text(path.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise AgreementError(f"no key for {party!r} at {path}: {e.strerror}") from e

    def device_signer(self, device: str) -> Signer:
        """Read a monitoring device's private key from ``keys/devices/`` (exercises and
        demos), or, for a device whose key is its logging party's, that party's key.

        Raises:
            AgreementError: no key file for that device.
        """
        path = self.directory / KEYS_DIR / DEVICE_KEYS / f"{device}.key"
        if not path.is_file():
            devices = self.roadmap.monitoring.devices if self.roadmap.monitoring else []
            spec = next((d for d in devices if d.id == device), None)
            if (
                spec is not None
                and spec.key is not None
                and spec.key.startswith(f"{spec.logged_by}+")
            ):
                return self.signer(spec.logged_by)
        try:
            return Signer.from_text(path.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise AgreementError(f"no key for device {device!r} at {path}: {e.strerror}") from e

    def log_signer(self) -> Signer:
        """The log operator's checkpoint key."""
        return self.signer(LOG_KEY.removesuffix(".key"))

    def witness_policy(self) -> WitnessPolicy | None:
        """The road map's witnesses and threshold, or None when it names none."""
        witnesses = self.roadmap.witnesses
        if witnesses is None:
            return None
        keys = [w.key for w in witnesses.members]
        if any(k is None for k in keys):
            raise AgreementError("a witness in the road map has no key")
        return WitnessPolicy(
            threshold=witnesses.threshold,
            witnesses=tuple(CosignatureVerifier.from_text(k) for k in keys if k is not None),
        )

    def witness_signer(self, witness: str) -> CosignatureSigner:
        """Read a witness's cosigning key from ``keys/witnesses/`` (exercises and demos).

        Raises:
            AgreementError: no key file for that witness.
        """
        path = self.directory / KEYS_DIR / WITNESS_KEYS / f"{witness}.key"
        try:
            return CosignatureSigner.from_text(path.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise AgreementError(f"no key for witness {witness!r} at {path}: {e.strerror}") from e


def _versions(directory: Path) -> dict[str, RoadMap]:
    """The road-map versions kept in ``versions/``, each named by its digest.

    Raises:
        AgreementError: a file whose name is not its road map's digest.
        RoadmapError: a file that is not a valid road map.
    """
    versions: dict[str, RoadMap] = {}
    for path in sorted((directory / VERSIONS_DIR).glob("*.yaml")):
        version = roadmap_load.load(path)
        version_digest = roadmap_load.digest(version)
        if version_digest != f"sha256:{path.stem}":
            raise AgreementError(
                f"{path} is road map {version_digest}, not the version its name says: "
                "a kept version is never edited"
            )
        versions[version_digest] = version
    return versions


def _check_unchanged(roadmap: RoadMap, log: Log) -> None:
    """Refuse a road map edited in place after adoption: the log was signed under
    another version, so replaying it would fail (the amendment procedure keeps both).

    Raises:
        AgreementError: ``roadmap.yaml`` is not the version the log's first event carries.
    """
    if log.size() == 0:
        return
    try:
        logged = SignedEvent.from_bytes(log.entry(0)).event.roadmap
    except Error:
        return  # replaying the log reports what is wrong with that entry
    current = roadmap_load.digest(roadmap)
    if logged != current:
        raise AgreementError(
            f"{ROADMAP_FILE} was changed after adoption (digest {current}; the log was "
            f"signed under {logged}): restore it, or propose the change with "
            "`cvid agreement amend`"
        )


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def _device_keys(roadmap_data: dict[str, Any]) -> dict[str, Signer]:
    """Give every monitoring device without a key its own (a template names none)."""
    signers = {}
    for device in (roadmap_data.get("monitoring") or {}).get("devices") or []:
        if device.get("key") is None:
            signers[device["id"]] = Signer.generate(device["id"])
            device["key"] = signers[device["id"]].verifier.to_text()
    return signers


def _write_device_keys(directory: Path, signers: dict[str, Signer]) -> None:
    if signers:
        (directory / KEYS_DIR / DEVICE_KEYS).mkdir()
    for device_id, signer in signers.items():
        _write_private(directory / KEYS_DIR / DEVICE_KEYS / f"{device_id}.key", signer.to_text())


def create(
    directory: str | Path,
    roadmap_data: dict[str, Any],
    *,
    adopt_at: dt.datetime | None,
    header: str = "",
    database: str | None = None,
) -> Agreement:
    """Create an agreement directory from road-map data that has no keys yet.

    A key is generated for every party and written to ``keys/``; the road map with
    their public keys becomes ``roadmap.yaml``; the log is created; and if
    ``adopt_at`` is given, every adopting party signs ``agreement.adopted`` then.
    The log is ``log.db`` in the directory, or the PostgreSQL ``database``.

    Raises:
        AgreementError: the directory exists and is not empty.
        RoadmapError: the road map is invalid.
    """
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise AgreementError(f"{directory} exists and is not empty")
    parties: Iterable[dict[str, Any]] = roadmap_data.get("parties") or []
    signers = {}
    for party in parties:
        if party.get("keys"):
            raise RoadmapError([f"party {party.get('id')!r} already has keys; a template has none"])
        signers[party["id"]] = Signer.generate(party["id"])
        party["keys"] = [signers[party["id"]].verifier.to_text()]
    device_signers = _device_keys(roadmap_data)
    witness_signers = {}
    for witness in (roadmap_data.get("witnesses") or {}).get("members") or []:
        if witness.get("key") is None:
            witness_signers[witness["id"]] = CosignatureSigner.generate(witness["id"])
            witness["key"] = witness_signers[witness["id"]].verifier.to_text()
    text = header + yaml.safe_dump(roadmap_data, sort_keys=False, allow_unicode=True, width=100)
    roadmap = roadmap_load.loads(text, name=str(directory / ROADMAP_FILE))
    (directory / KEYS_DIR).mkdir(parents=True)
    (directory / ROADMAP_FILE).write_text(text, encoding="utf-8")
    for party_id, signer in signers.items():
        _write_private(directory / KEYS_DIR / f"{party_id}.key", signer.to_text())
    if witness_signers:
        (directory / KEYS_DIR / WITNESS_KEYS).mkdir()
    for witness_id, witness_signer in witness_signers.items():
        _write_private(
            directory / KEYS_DIR / WITNESS_KEYS / f"{witness_id}.key", witness_signer.to_text()
        )
    _write_device_keys(directory, device_signers)
    log_signer = Signer.generate(roadmap.agreement.origin)
    _write_private(directory / KEYS_DIR / LOG_KEY, log_signer.to_text())
    location = database or str(directory / LOG_FILE)
    Log.create(open_store(location, create=True), roadmap.agreement.origin).close()
    agreement = Agreement.open(directory, database=database)
    if adopt_at is not None:
        for party_id in roadmap.agreement.adopted_by:
            agreement.act(signers[party_id], "agreement.adopted", {}, time=adopt_at)
    return agreement


def read_keyless(path: str | Path) -> dict[str, Any]:
    """Read a valid road-map file as plain data, for :func:`create`.

    Raises:
        RoadmapError: the file is not a valid road map.
    """
    path = Path(path)
    roadmap_load.load(path)  # refuses a file that is unreadable, too large or invalid
    try:
        data = _yaml.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:  # it changed since it was read
        raise RoadmapError([f"{path}: cannot read: {e}"]) from None
    except yaml.YAMLError as e:
        raise RoadmapError([_yaml.describe(e, str(path))]) from None
    if not isinstance(data, dict):
        raise RoadmapError([f"{path}: the road map is not a mapping"])
    return data


def create_from_template(
    directory: str | Path, name: str, *, adopt_at: dt.datetime | None, database: str | None = None
) -> Agreement:
    """Create an agreement from a shipped road map (see :func:`create`)."""
    path = template_path(name)
    text = path.read_text(encoding="utf-8")
    roadmap_load.loads(text, name=str(path))  # the template itself must be valid
    data = _yaml.load(text)
    header = f"# Road map from the cvid template {name!r}, with the keys generated for it.\n"
    history = path.with_name(f"{name}{HISTORY}.yaml")
    if not history.is_file():
        return create(directory, data, adopt_at=adopt_at, header=header, database=database)
    agreement = create(directory, data, adopt_at=None, header=header, database=database)
    replay_history(agreement, history)
    return agreement


def _moment(moment: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    return dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)


def replay_history(agreement: Agreement, path: Path) -> None:
    """Sign and submit a template's dated history (``[{time, party, type, body}]``).

    Each event is dated at its ``time`` (a date: 00:00 UTC that day; a date and time
    with its offset: that instant) and received then, in time order (file order among
    equal times); the parties' keys are the ones :func:`create` generated, and device
    data is signed with the device keys it generated.
    """
    try:
        records = _yaml.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise AgreementError(_yaml.describe(e, str(path))) from None
    if not isinstance(records, list):
        raise AgreementError(f"{path}: a history is a list of events")
    dated = sorted(
        ((_moment(record["time"]), n, record) for n, record in enumerate(records)),
        key=lambda x: (x[0], x[1]),
    )  # in time order (file order at equal times): a block appended later interleaves
    for when, _, record in dated:
        signer = agreement.signer(record["party"])
        body = record["body"]
        if record["type"] in SIGNED_BY_DEVICE:  # device data carries the device's signature
            message = device_message(agreement.roadmap.agreement.id, record["type"], body)
            body = body | {
                "signature": agreement.device_signer(body["device"]).sign_message(message).hex()
            }
        agreement.act(signer, record["type"], body, time=when)
