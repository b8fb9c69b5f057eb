"""C2SP tlog-tiles: tile coordinates and paths, entry bundles, and hashing by tiles.

The log is stored the way tlog-tiles publishes it: level-L hash tiles hold up to 256
hashes of tree level 8·L, entry bundles hold up to 256 entries. Every other node
of the Merkle tree is recomputed from at most one tile (≤ 255 hashes), so a root or
proof for any past tree size reads O(log₂₅₆ n) tiles.

Pure: no I/O. Reading tiles is the caller's job, through :class:`TileReader`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cvid.errors import EntryError, StoreCorruptError, TileError, TreeSizeError
from cvid.log.merkle import HASH_SIZE, NodeId, leaf_hash, perfect_root

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
MAX_ENTRY_SIZE = 0xFFFF  # entry bundles prefix each entry with a big-endian uint16 length


@dataclass(frozen=True, order=True, slots=True)
class TileId:
    """A hash tile (``level`` ≥ 0) or, with ``level == ENTRIES``, an entry bundle."""

    level: int
    index: int


ENTRIES = -1  # the level used in a TileId for entry bundles


def encode_index(index: int) -> str:
    """Encode a tile index as tlog-tiles path elements: 1234067 → ``x001/x234/067``."""
    if index < 0:
        raise TileError(f"tile index must not be negative, got {index}")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(tile: TileId, width: int = TILE_WIDTH) -> str:
    """Path of a tile relative to the log prefix, e.g. ``tile/0/x001/067.p/12``."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width must be in [1, {TILE_WIDTH}], got {width}")
    level = "entries" if tile.level == ENTRIES else str(tile.level)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(tile.index)}{suffix}"


# C2SP tlog-tiles: a tile index is a uint64 (at most 20 digits: six x-groups and a last
# group) and a partial width is 1-255. Bounding both keeps an absurd path from reaching
# int() (which refuses more than 4,300 digits) or a lookup at all.
MAX_INDEX_GROUPS = 6
_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/"
    rf"((?:x[0-9]{{3}}/){{0,{MAX_INDEX_GROUPS}}}[0-9]{{3}})(?:\.p/([1-9][0-9]{{0,2}}))?"
)
_SHOWN = 80  # characters of a refused path repeated in the error


def parse_tile_path(path: str) -> tuple[TileId, int]:
    """Inverse of :func:`tile_path`: ``(tile, width)``.

    Raises:
        TileError: the path is not a canonical tlog-tiles tile path.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"not a tile path: {path[:_SHOWN]!r}")
    level_text, index_text, width_text = match.groups()
    width = int(width_text) if width_text else TILE_WIDTH
    if width_text and width >= TILE_WIDTH:
        raise TileError(f"partial tile width must be below {TILE_WIDTH}: {path[:_SHOWN]!r}")
    level = ENTRIES if level_text == "entries" else int(level_text)
    index = int(index_text.replace("x", "").replace("/", ""))
    tile = TileId(level, index)
    if tile_path(tile, width) != path:  # rejects x000 prefixes and other non-canonical forms
        raise TileError(f"not a canonical tile path: {path[:_SHOWN]!r}")
    return tile, width


def tiles_for_size(tree_size: int) -> Iterator[tuple[TileId, int]]:
    """Every hash tile and entry bundle of a tree of ``tree_size``, with its width."""
    for index in range(-(-tree_size // TILE_WIDTH)):
        yield TileId(ENTRIES, index), min(TILE_WIDTH, tree_size - index * TILE_WIDTH)
    level, count = 0, tree_size
    while count > 0:
        for index in range(-(-count // TILE_WIDTH)):
            yield TileId(level, index), min(TILE_WIDTH, count - index * TILE_WIDTH)
        level, count = level + 1, count >> TILE_HEIGHT


def published_tile(tile: TileId, width: int, stored: bytes) -> bytes:
    """A tile as published at ``width``: the first ``width`` hashes or entries of it.

    ``stored`` is the tile as the store holds it (it may have grown past ``width``).

    Raises:
        StoreCorruptError: ``stored`` holds fewer than ``width`` hashes or entries.
    """
    if tile.level == ENTRIES:
        entries = decode_bundle(stored)
        if len(entries) < width:
            raise StoreCorruptError(f"entry bundle {tile.index} holds {len(entries)} entries")
        return encode_bundle(entries[:width])
    if len(stored) < width * HASH_SIZE:
        raise StoreCorruptError(f"hash tile {tile} holds {len(stored) // HASH_SIZE} hashes")
    return stored[: width * HASH_SIZE]


# --- entry bundles ----------------------------------------------------------------------


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Serialize entries as a tlog-tiles entry bundle (uint16 length || bytes, each)."""
    return b"".join(len(e).to_bytes(2, "big") + e for e in entries)


def decode_bundle(data: bytes) -> list[bytes]:
    """Parse an entry bundle.

    Raises:
        TileError: the bundle is truncated.
    """
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError("entry bundle ends inside a length prefix")
        size = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + size > len(data):
            raise TileError("entry bundle ends inside an entry")
        entries.append(data[offset : offset + size])
        offset += size
    return entries


def check_entry(entry: bytes) -> None:
    """Raise :class:`EntryError` if ``entry`` cannot be stored in an entry bundle."""
    if len(entry) > MAX_ENTRY_SIZE:
        raise EntryError(f"entry is {len(entry)} bytes; the limit is {MAX_ENTRY_SIZE}")


# --- hashing through tiles --------------------------------------------------------------


class TileReader(Protocol):
    """Supplies tiles by id: hash tiles as concatenated hashes, bundles as bundle bytes.

    A tile may be returned wider than a caller needs (the log only grows), never narrower.
    """

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Return each tile's current contents, in the order asked."""
        ...


class TileHashReader:
    """A :class:`cvid.log.merkle.HashReader` for a tree of ``tree_size`` stored as tiles."""

    def __init__(self, tree_size: int, reader: TileReader) -> None:
        self._tree_size = tree_size
        self._reader = reader
        self._tiles: dict[TileId, bytes] = {}  # tiles read so far: one read per tile

    def read_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Hash of each node, computed from the one tile that holds its descendants."""
        spans = []
        for node in nodes:
            if node.end > self._tree_size:
                raise TreeSizeError(f"{node} lies beyond tree size {self._tree_size}")
            sub = node.level % TILE_HEIGHT
            first = node.index << sub  # position among the tile level's hashes
            tile = TileId(node.level // TILE_HEIGHT, first >> TILE_HEIGHT)
            offset = first - (tile.index << TILE_HEIGHT)
            spans.append((tile, offset, offset + (1 << sub)))
        wanted = sorted({tile for tile, _, _ in spans} - self._tiles.keys())
        if wanted:
            self._tiles.update(zip(wanted, self._reader.read_tiles(wanted), strict=True))
        data = self._tiles
        out = []
        for tile, start, end in spans:
            blob = data[tile]
            if len(blob) % HASH_SIZE or len(blob) < end * HASH_SIZE:
                raise StoreCorruptError(
                    f"tile {tile.level}/{tile.index} holds {len(blob)} bytes, "
                    f"needs at least {end * HASH_SIZE}"
                )
            hashes = [
                blob[i : i + HASH_SIZE]
                for i in range(start * HASH_SIZE, end * HASH_SIZE, HASH_SIZE)
            ]
            out.append(perfect_root(hashes))
        return out


# --- growing the tree -------------------------------------------------------------------


@dataclass
class TreeEdge:
    """The right edge of a tiled tree: the partial tile at each level and the partial bundle.

    :meth:`extend` hashes new entries into it and yields every tile it completes;
    :meth:`partial_tiles` gives the partial tiles to store once a batch is done. From
    these alone the stored tiles and bundles are brought up to the new size.
    """

    size: int
    levels: list[list[bytes]] = field(default_factory=list)  # hashes of each partial tile
    bundle: list[bytes] = field(default_factory=list)  # entries of the partial bundle

    @classmethod
    def load(cls, size: int, reader: TileReader) -> TreeEdge:
        """Read the partial tiles of a tree of ``size`` (at most one per level)."""
        wanted: list[tuple[TileId, int]] = []
        level, count = 0, size
        while count > 0:
            if count % TILE_WIDTH:
                wanted.append((TileId(level, count >> TILE_HEIGHT), count % TILE_WIDTH))
            level, count = level + 1, count >> TILE_HEIGHT
        if size % TILE_WIDTH:
            wanted.append((TileId(ENTRIES, size >> TILE_HEIGHT), size % TILE_WIDTH))
        blobs = reader.read_tiles([tile for tile, _ in wanted]) if wanted else []
        edge = cls(size=size, levels=[[] for _ in range(max(level, 1))])
        for (tile, width), blob in zip(wanted, blobs, strict=True):
            if tile.level == ENTRIES:
                edge.bundle = decode_bundle(blob)[:width]
                if len(edge.bundle) != width:
                    raise StoreCorruptError(f"entry bundle {tile.index} holds too few entries")
                continue
            if len(blob) < width * HASH_SIZE:
                raise StoreCorruptError(f"tile {tile.level}/{tile.index} is too short")
            edge.levels[tile.level] = [
                blob[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)
            ]
        return edge

    def extend(self, entries: Sequence[bytes]) -> Iterator[tuple[TileId, bytes]]:
        """Append ``entries``; yield each hash tile and entry bundle they complete."""
        for entry in entries:
            check_entry(entry)
        start = self.size
        pending = entries
        while pending:  # fill the partial bundle, then whole bundles
            room = TILE_WIDTH - len(self.bundle)
            self.bundle.extend(pending[:room])
            pending = pending[room:]
            if len(self.bundle) == TILE_WIDTH:
                index = (start + len(entries) - len(pending) - 1) >> TILE_HEIGHT
                yield TileId(ENTRIES, index), encode_bundle(self.bundle)
                self.bundle = []
        self.size += len(entries)
        yield from self._push(0, [leaf_hash(e) for e in entries], start)

    def _push(self, level: int, hashes: list[bytes], start: int) -> Iterator[tuple[TileId, bytes]]:
        """Append ``hashes`` (starting at position ``start``) to the level's tiles."""
        if not hashes:
            return
        if level == len(self.levels):
            self.levels.append([])
        partial = self.levels[level]
        promoted: list[bytes] = []
        promoted_start = start >> TILE_HEIGHT  # the tile holding `start` completes first
        position = 0
        while position < len(hashes):
            room = TILE_WIDTH - len(partial)
            partial.extend(hashes[position : position + room])
            position += room
            if len(partial) == TILE_WIDTH:
                index = (start + min(position, len(hashes)) - 1) >> TILE_HEIGHT
                yield TileId(level, index), b"".join(partial)
                promoted.append(perfect_root(partial))
                partial = []
        self.levels[level] = partial
        yield from self._push(level + 1, promoted, promoted_start)

    def partial_tiles(self) -> list[tuple[TileId, bytes]]:
        """The partial hash tiles and entry bundle at the edge, to store after a batch."""
        out = [
            (TileId(level, (self.size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT), b"".join(hashes))
            for level, hashes in enumerate(self.levels)
            if hashes
        ]
        if self.bundle:
            out.append((TileId(ENTRIES, self.size >> TILE_HEIGHT), encode_bundle(self.bundle)))
        return out
