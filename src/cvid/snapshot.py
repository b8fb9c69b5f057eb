"""Verified snapshots: opening an agreement without admitting every entry again.

A snapshot is a cache under the agreement directory (``snapshots/``) of what opening
the log computed up to some size N: the admission history, what admission verified
beyond each body (a reveal's leaves), and the incremental evaluator's fold (with
each event's time and index, so that the events need not be read to restore it). It is
bound to the log's Merkle root at N: the root fixes every byte of the first N
entries, so when the log's root at N is still the one the snapshot names, those
entries are the ones that were admitted, and only the entries after N are admitted
again (signature, sequence, authorisation). The first N are parsed without those
checks (their signatures were verified when the snapshot was written).

A snapshot is a pickle, which can run code when read: it is authenticated with an
HMAC-SHA256 whose key (``keys/snapshot.key``, mode 0600) lives with the agreement's
private material, and the tag is checked before anything is unpickled. Whoever can
read that key can already sign as the parties whose keys are beside it; anyone else
can delete a snapshot (opening is then slower) but not forge one. A snapshot that
does not verify (wrong tag, another format, a root that is not the log's, a road map
that is not the agreement's) is reported on the ``cvid.snapshot`` logger (stderr by
default) and ignored. Deleting ``snapshots/`` changes nothing but speed. See
``docs/adr/0014-snapshots-and-incremental-state.md``.

Opening reads the newest. A few older ones are kept beside it (:func:`kept`: the one
before, then each of at most half the entries of the next newer one kept, at most
:data:`OLDER_KEPT`): their folds are where time travel starts when the moment asked
for is before the newest fold's clock (a service advances its fold to its clock less
the admission skew, so the newest is often later than "yesterday"). At a million
events each is about 65 MB.

A *section* (``snapshots/<size>.<name>``) is a cache of the same kind kept beside the
snapshot for one reader that needs more than opening does (the service's listing
index): bytes in a format its owner defines (no pickle), bound to the log's root at
its own size and to the road map, authenticated with the same key, written and
ignored on its own. A section that does not verify costs its owner a rebuild; the
snapshot is still used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvid import _gc
from cvid.errors import Error, SnapshotError

log = logging.getLogger("cvid.snapshot")

SNAPSHOTS_DIR = "snapshots"
KEY_FILE = "snapshot.key"  # under keys/
MAGIC = b"cvid-snapshot 3\n"
SECTION_MAGIC = b"cvid-snapshot-section 1\n"
TAG = hashlib.sha256().digest_size
MIN_NEW = 1000  # entries admitted beyond the last snapshot before a new one is written
OLDER_KEPT = 3  # older snapshots kept beside the newest, for time travel (see kept)


@dataclass
class Snapshot:
    """What opening computed up to ``size`` entries, bound to ``root``."""

    size: int
    root: bytes
    roadmap: str  # the adopted road map's digest
    history: Any  # cvid.events.authz.History
    checked: dict[int, Any]  # entry index -> what admission verified beyond the body
    # (events applied, frozen engine, the events' (time, index) order, the engine's
    # clock) of the adopted road map: see cvid.engine.incremental.Evaluator.export
    fold: tuple[int, bytes, bytes, int] | None


def _key(keys_dir: Path, *, create: bool) -> bytes | None:
    path = keys_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError) as e:
        raise SnapshotError(f"cannot read {path}: {e}") from e
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return _key(keys_dir, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    return key


def _path(directory: Path, size: int) -> Path:
    return directory / SNAPSHOTS_DIR / f"{size:012d}.snapshot"


def older(directory: Path, max_size: int, name: str = "snapshot") -> list[tuple[int, Path]]:
    """The snapshots (or sections ``name``) of at most ``max_size`` entries, with their
    sizes, the largest first."""
    found = [(_size(p), p) for p in (directory / SNAPSHOTS_DIR).glob(f"*.{name}")]
    return sorted((f for f in found if 0 <= f[0] <= max_size), reverse=True)


def latest(directory: Path, max_size: int, name: str = "snapshot") -> Path | None:
    """The snapshot (or section ``name``) of the largest size at most ``max_size``, if any."""
    found = older(directory, max_size, name)
    return found[0][1] if found else None


def _replace(target: Path, tag: bytes, *parts: bytes, keep: bool = False) -> None:
    """Write ``tag`` then ``parts`` to ``target`` atomically, and remove the older files
    of its kind (same suffix) beside it; with ``keep``, those :func:`kept` keeps stay."""
    target.parent.mkdir(exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with partial.open("wb") as f:
        f.write(tag)
        for part in parts:
            f.write(part)
    partial.replace(target)
    others = [old for old in target.parent.glob(f"*{target.suffix}") if old != target]
    staying = set(kept(others, _size(target))) if keep else set()
    for old in others:
        if old not in staying:
            old.unlink(missing_ok=True)


def _size(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return -1


def kept(older: list[Path], newest: int) -> list[Path]:
    """Which older snapshots stay beside the newest (of ``newest`` entries): at most
    :data:`OLDER_KEPT`: the one before it, then each of at most half the entries of the
    next newer one kept, so that time travel finds a fold not far before a recent
    moment, nor very far before an old one (see
    :meth:`cvid.agreement.Agreement.older_folds`)."""
    staying: list[Path] = []
    bound = newest - 1
    for path in sorted(older, key=_size, reverse=True):
        if len(staying) == OLDER_KEPT:
            break
        if 0 < _size(path) <= bound:
            staying.append(path)
            bound = _size(path) // 2
    return staying


def _authenticated(path: Path, keys_dir: Path, magic: bytes, what: str) -> memoryview:
    """The payload of ``path`` after its tag (no copy), once the tag is checked with the
    agreement's snapshot key and the payload starts with ``magic``.

    Raises:
        SnapshotError: no key, an unreadable file, a wrong tag, another format.
    """
    key = _key(keys_dir, create=False)
    if key is None:
        raise SnapshotError(f"no snapshot key ({keys_dir / KEY_FILE})")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SnapshotError(f"cannot read {path}: {e}") from e
    view = memoryview(data)  # no copy of a file of tens of MB
    tag, payload = data[:TAG], view[TAG:]
    if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
        raise SnapshotError(f"{path} is not authenticated by the agreement's snapshot key")
    if payload[: len(magic)] != magic:
        raise SnapshotError(f"{path} is not {what} of this version")
    return payload


def write(directory: Path, keys_dir: Path, snapshot: Snapshot, *, keep_older: bool = True) -> Path:
    """Write ``snapshot`` (atomically) and remove the older ones but those :func:`kept`
    (all of them when not ``keep_older``: a reader that starts no fold from them).

    Raises:
        SnapshotError: no key can be made, or the directory is not writable.
    """
    try:
        key = _key(keys_dir, create=True)
        assert key is not None
        payload = MAGIC + pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        target = _path(directory, snapshot.size)
        _replace(target, hmac.new(key, payload, hashlib.sha256).digest(), payload, keep=keep_older)
    except OSError as e:
        raise SnapshotError(f"cannot write a snapshot in {directory / SNAPSHOTS_DIR}: {e}") from e
    return target


def read(path: Path, keys_dir: Path) -> Snapshot:
    """Read and authenticate a snapshot (its tag is checked before it is unpickled).

    Raises:
        SnapshotError: no key, a wrong tag, another format, a corrupt file.
    """
    payload = _authenticated(path, keys_dir, MAGIC, "a snapshot")
    try:
        with _gc.paused():  # millions of objects: see cvid._gc
            snapshot = pickle.loads(payload[len(MAGIC) :])
    except Exception as e:  # an authenticated file of another build: ignore it
        raise SnapshotError(f"{path} cannot be read: {e}") from e
    if not isinstance(snapshot, Snapshot) or int(path.stem) != snapshot.size:
        raise SnapshotError(f"{path} does not hold a snapshot of its size")
    return snapshot


def verified(
    directory: Path, keys_dir: Path, size: int, *, digest: str, root: Callable[[int], bytes]
) -> Snapshot | None:
    """The latest snapshot of at most ``size`` entries that is authenticated, made under
    the road map ``digest`` and bound to the log: ``root(n)`` (the log's root at size
    ``n``) is the root it was taken at. A snapshot that fails is reported on the
    ``cvid.snapshot`` logger and None returned: snapshots are a cache.
    """
    path = latest(directory, size)
    if path is None:
        return None
    try:
        return checked(path, keys_dir, digest=digest, root=root)
    except Error as e:
        log.warning("snapshot ignored, every entry is admitted again: %s", e)
        return None


def checked(path: Path, keys_dir: Path, *, digest: str, root: Callable[[int], bytes]) -> Snapshot:
    """The snapshot at ``path``, authenticated, made under the road map ``digest`` and
    bound to the log (``root(n)``: the log's root at size ``n``).

    Raises:
        SnapshotError: it is not.
    """
    found = read(path, keys_dir)
    if found.roadmap != digest:
        raise SnapshotError(f"{path} is for another road map ({found.roadmap})")
    if found.history.size != found.size or root(found.size) != found.root:
        raise SnapshotError(f"{path} does not match the log: its root at size {found.size} differs")
    return found


# --- sections: caches of other readers, beside the snapshot ------------------------------


def _section_path(directory: Path, name: str, size: int) -> Path:
    return directory / SNAPSHOTS_DIR / f"{size:012d}.{name}"


def write_section(
    directory: Path, keys_dir: Path, name: str, *, size: int, root: bytes, digest: str, data: bytes
) -> Path:
    """Write section ``name`` of ``data``, for the first ``size`` entries of the log whose
    root at that size is ``root``, under the road map ``digest`` (atomically); remove
    the older sections of that name.

    Raises:
        SnapshotError: no key can be made, or the directory is not writable.
    """
    if not name.isalpha() or name == "snapshot":
        raise ValueError(f"not a section name: {name!r}")
    header = {"name": name, "size": size, "root": root.hex(), "roadmap": digest}
    try:
        key = _key(keys_dir, create=True)
        assert key is not None
        head = SECTION_MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
        mac = hmac.new(key, head, hashlib.sha256)
        mac.update(data)
        target = _section_path(directory, name, size)
        _replace(target, mac.digest(), head, data)
    except OSError as e:
        raise SnapshotError(f"cannot write a snapshot in {directory / SNAPSHOTS_DIR}: {e}") from e
    return target


def read_section(path: Path, keys_dir: Path) -> tuple[dict[str, Any], bytes]:
    """Read and authenticate a section: its header (name, size, root, road map) and data.

    Raises:
        SnapshotError: no key, a wrong tag, another format, a header that does not
            name the file.
    """
    data = bytes(_authenticated(path, keys_dir, SECTION_MAGIC, "a snapshot section"))
    end = data.find(b"\n", len(SECTION_MAGIC))
    try:
        header: Any = json.loads(data[len(SECTION_MAGIC) : end]) if end > 0 else None
        size, name, root = header["size"], header["name"], bytes.fromhex(header["root"])
        if type(size) is not int or not isinstance(name, str) or len(root) != TAG:
            raise TypeError("a field of another type")
    except (ValueError, KeyError, TypeError) as e:
        raise SnapshotError(f"{path} has no readable header: {e}") from e
    if path.name != f"{size:012d}.{name}":
        raise SnapshotError(f"{path} does not hold the section its name says")
    return header, data[end + 1 :]


def verified_section(
    directory: Path,
    keys_dir: Path,
    name: str,
    size: int,
    *,
    digest: str,
    root: Callable[[int], bytes],
) -> tuple[int, bytes] | None:
    """The latest section ``name`` of at most ``size`` entries that is authenticated, made
    under the road map ``digest`` and bound to the log (``root(n)`` is the root it names):
    its size and data. One that fails is reported on the ``cvid.snapshot`` logger and
    None returned."""
    path = latest(directory, size, name)
    if path is None:
        return None
    n = int(path.stem)
    try:
        header, data = read_section(path, keys_dir)
        if header["name"] != name or header["roadmap"] != digest:
            raise SnapshotError(f"{path} is for another road map ({header['roadmap']})")
        if root(n) != bytes.fromhex(header["root"]):
            raise SnapshotError(f"{path} does not match the log: its root at size {n} differs")
    except Error as e:
        log.warning("snapshot section ignored, it is built again: %s", e)
        return None
    return n, data
