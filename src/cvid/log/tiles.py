"""C2SP tlog-tiles: tile coordinates and paths, entry bundles, and hashing by tiles.

The log is stored the way tlog-tiles publishes it: level-L hash tiles hold up to 256
hashes of tree level 8·L, entry bundles hold up to 256 entries. Every other node
of the Merkle tree is recomputed from at most one tile (≤ 255 hashes), so a root or
proof for any past tree size reads O(log₂₅₆ n) tiles.

Pure: no I/O. Reading tiles is the caller's job, through :class:`TileReader`.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from cvid.errors import EntryError, StoreCorruptError, TileError, TreeSizeError
from cvid.log.merkle import HASH_SIZE, NodeId

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


_U16 = struct.Struct(">H").pack
_PREFIXES = [_U16(n) for n in range(1024)]  # the length prefixes of short entries, made once


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Serialize entries as a tlog-tiles entry bundle (uint16 length || bytes, each).

    Raises:
        EntryError: an entry is longer than a uint16 length can say.
    """
    lengths = list(map(len, entries))
    if not lengths:
        return b""
    longest = max(lengths)
    if longest > MAX_ENTRY_SIZE:
        raise EntryError(f"entry is {longest} bytes; the limit is {MAX_ENTRY_SIZE}")
    parts: list[bytes] = [b""] * (2 * len(lengths))
    parts[0::2] = map(_PREFIXES.__getitem__, lengths) if longest < 1024 else map(_U16, lengths)
    parts[1::2] = entries
    return b"".join(parts)


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


def _bundle_prefix(data: bytes, count: int, index: int) -> bytes:
    """The first ``count`` entries of a stored bundle, still encoded (nothing is copied out).

    Raises:
        StoreCorruptError: the bundle holds fewer entries, or ends inside one.
    """
    offset, size = 0, len(data)
    for _ in range(count):
        if offset + 2 > size:
            raise StoreCorruptError(f"entry bundle {index} holds too few entries")
        offset += 2 + (data[offset] << 8 | data[offset + 1])
    if offset > size:
        raise StoreCorruptError(f"entry bundle {index} ends inside an entry")
    return data[:offset]


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


class TileNodeReader(Protocol):
    """Supplies node-cache rows (see :func:`node_row`) by hash tile; ``b""`` where none is kept."""

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Return each hash tile's node-cache row, in the order asked."""
        ...


class TileAndNodeReader(TileNodeReader, Protocol):
    """A store that reads tiles and node-cache rows in one round trip."""

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Return the tiles and the node-cache rows asked for, each in the order asked."""
        ...


class TileHashReader:
    """A :class:`cvid.log.merkle.HashReader` for a tree of ``tree_size`` stored as tiles.

    If ``reader`` also keeps node-cache rows (:class:`TileNodeReader`), a node at least
    :data:`NODE_LOW` levels above its tile's bottom is read from the row; every other node
    (or one the row lacks) is hashed from its tile, at most 7 hashes then. The first read
    also fetches what the root of ``tree_size`` needs, which every proof asks for next.
    A cold proof so makes one or two reads and hashes next to nothing.

    Node hashes are kept once computed (a proof and its root share nodes): the reader
    serves one tree size, in which a complete subtree's hash never changes.
    """

    def __init__(self, tree_size: int, reader: TileReader) -> None:
        self._tree_size = tree_size
        self._reader = reader
        self._node_reader = cast(
            "TileNodeReader | None", reader if hasattr(reader, "read_tile_nodes") else None
        )
        self._both = cast(
            "TileAndNodeReader | None",
            reader if hasattr(reader, "read_tiles_and_nodes") else None,
        )
        # read so far, keyed by (level, index): one read per tile and per row
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._rows: dict[tuple[int, int], bytes] = {}
        self._known: dict[NodeId, bytes] = {}  # node hashes computed so far
        self._prefetch = tree_size > 0

    def read_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Hash of each node: from a node-cache row, else from the one tile below it."""
        known, tiles, rows = self._known, self._tiles, self._rows
        unhashed = []
        for node, (sub, tile) in self._plan(nodes).items():
            if sub >= NODE_LOW:
                row = rows.get(tile, b"")
                if len(row) == NODE_ROW_SIZE:
                    at = (_NODE_OFFSETS[sub] + (node[1] & ((TILE_WIDTH >> sub) - 1))) * HASH_SIZE
                    value = row[at : at + HASH_SIZE]
                    if value != _ABSENT:
                        known[node] = value
                        continue
                if tile not in tiles:  # no row, or a row without the node: the tile then
                    unhashed.append((node, sub, tile))
                    continue
            known[node] = _tile_node(tiles[tile], tile, node[1], sub)
        if unhashed:
            self._read({tile: None for _, _, tile in unhashed if tile not in tiles}, {})
            for node, sub, tile in unhashed:
                known[node] = _tile_node(tiles[tile], tile, node[1], sub)
        return [known[node] for node in nodes]

    def _plan(self, nodes: Sequence[NodeId]) -> dict[NodeId, tuple[int, tuple[int, int]]]:
        """The nodes not known yet, each once, with its sub-level and tile; reads what
        they need.

        A node ``NODE_LOW`` or more levels above its tile's bottom needs the tile's
        node-cache row (if the store keeps rows), any other node the tile itself. The
        first read also fetches what the root of the tree needs.
        """
        size, known, tiles, rows = self._tree_size, self._known, self._tiles, self._rows
        use_rows = self._node_reader is not None
        todo = {}
        want_tiles: dict[tuple[int, int], None] = {}
        want_rows: dict[tuple[int, int], None] = {}
        for node in nodes:
            if node not in known and node not in todo:  # a proof and its roots share nodes
                level, index = node
                if (index + 1) << level > size:
                    raise TreeSizeError(f"{node} lies beyond tree size {size}")
                sub = level % TILE_HEIGHT
                tile = (level // TILE_HEIGHT, (index << sub) >> TILE_HEIGHT)
                todo[node] = (sub, tile)
                if use_rows and sub >= NODE_LOW:
                    if tile not in rows:
                        want_rows[tile] = None
                elif tile not in tiles:
                    want_tiles[tile] = None
        if self._prefetch:
            self._prefetch = False
            for sub, tile in _root_spans(size):
                if use_rows and sub >= NODE_LOW:
                    if tile not in rows:
                        want_rows[tile] = None
                elif tile not in tiles:
                    want_tiles[tile] = None
        if want_tiles or want_rows:
            self._read(want_tiles, want_rows)
        return todo

    def _read(
        self, want_tiles: dict[tuple[int, int], None], want_rows: dict[tuple[int, int], None]
    ) -> None:
        """Read the tiles and rows asked for, in one round trip where the store allows."""
        tiles, rows = self._tiles, self._rows
        if want_rows and want_tiles and self._both is not None:
            got_tiles, got_rows = self._both.read_tiles_and_nodes(
                [TileId(*k) for k in want_tiles], [TileId(*k) for k in want_rows]
            )
            tiles.update(zip(want_tiles, got_tiles, strict=True))
            rows.update(zip(want_rows, got_rows, strict=True))
            return
        if want_rows and self._node_reader is not None:
            got = self._node_reader.read_tile_nodes([TileId(*k) for k in want_rows])
            rows.update(zip(want_rows, got, strict=True))
        if want_tiles:
            got = self._reader.read_tiles([TileId(*k) for k in want_tiles])
            tiles.update(zip(want_tiles, got, strict=True))


def _root_spans(tree_size: int) -> list[tuple[int, tuple[int, int]]]:
    """Sub-level and tile of each node the root of ``tree_size`` is folded from."""
    spans = []
    position, rest = 0, tree_size
    while rest:
        level = rest.bit_length() - 1
        sub = level % TILE_HEIGHT
        spans.append((sub, (level // TILE_HEIGHT, ((position >> level) << sub) >> TILE_HEIGHT)))
        position += 1 << level
        rest -= 1 << level
    return spans


def _tile_node(blob: bytes, tile: tuple[int, int], index: int, sub: int) -> bytes:
    """Node ``index`` of the level ``sub`` levels above the bottom of the tile ``blob``."""
    start = (index << sub) % TILE_WIDTH
    end = (start + (1 << sub)) * HASH_SIZE
    if len(blob) % HASH_SIZE or len(blob) < end:
        raise StoreCorruptError(
            f"tile {tile[0]}/{tile[1]} holds {len(blob)} bytes, needs at least {end}"
        )
    return _subtree_root(blob, start, sub)


def _subtree_root(blob: bytes, start: int, height: int) -> bytes:
    """Root of the perfect subtree over the ``2**height`` hashes of ``blob`` from ``start``."""
    at = start * HASH_SIZE
    if height == 0:  # heights 0-2 first: the nodes below NODE_LOW, which proofs hash
        return blob[at : at + HASH_SIZE]
    if height == 1:
        return _sha256(_NODE + blob[at : at + 2 * HASH_SIZE]).digest()
    if height == 2:
        left = _sha256(_NODE + blob[at : at + 2 * HASH_SIZE]).digest()
        right = _sha256(_NODE + blob[at + 2 * HASH_SIZE : at + 4 * HASH_SIZE]).digest()
        return _sha256(_NODE + left + right).digest()
    level = [
        _sha256(_NODE + blob[i : i + 2 * HASH_SIZE]).digest()
        for i in range(start * HASH_SIZE, (start + (1 << height)) * HASH_SIZE, 2 * HASH_SIZE)
    ]
    while len(level) > 1:
        level = [
            _sha256(_NODE + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0]


# --- the node cache ---------------------------------------------------------------------
#
# A hash tile holds the bottom level of an 8-level slice of the tree; the levels inside it
# are not published, so a proof would hash up to 255 of them per tile. The store keeps,
# beside each hash tile, a *node-cache row*: the tile's complete subtree hashes
# NODE_LOW..7 levels above its bottom, level by level, each level at a fixed offset and
# 32 zero bytes for a subtree not yet complete. It is derivable from the tile alone
# (:func:`node_row`); a missing or short row only costs hashing, never a wrong answer from
# a row the tiles agree with. It is never served: /tile/... is the tiles alone.

NODE_LOW = 3  # lowest sub-level kept: a node below it costs at most 2**3 - 1 hashes
_NODE_OFFSETS = {
    sub: sum(TILE_WIDTH >> low for low in range(NODE_LOW, sub))
    for sub in range(NODE_LOW, TILE_HEIGHT)
}
NODE_SLOTS = sum(TILE_WIDTH >> sub for sub in range(NODE_LOW, TILE_HEIGHT))  # 62
NODE_ROW_SIZE = NODE_SLOTS * HASH_SIZE
_ABSENT = bytes(HASH_SIZE)
_NODE = b"\x01"
_LEAF = b"\x00"
_sha256 = hashlib.sha256


def _row_levels(row: bytes, width: int) -> list[list[bytes]]:
    """The complete nodes a row holds for a tile of ``width``, per sub-level, as prefixes."""
    levels: list[list[bytes]] = []
    for sub in range(NODE_LOW, TILE_HEIGHT):
        got: list[bytes] = []
        if len(row) == NODE_ROW_SIZE:
            start = _NODE_OFFSETS[sub] * HASH_SIZE
            got = [
                row[i : i + HASH_SIZE]
                for i in range(start, start + (width >> sub) * HASH_SIZE, HASH_SIZE)
            ]
            if _ABSENT in got:
                del got[got.index(_ABSENT) :]
        levels.append(got)
    return levels


def _grow_levels(hashes: Sequence[bytes], levels: list[list[bytes]]) -> None:
    """Complete ``levels`` (sub-levels NODE_LOW..7, prefixes) for the tile ``hashes``."""
    width = len(hashes)
    step = 1 << NODE_LOW
    for n, sub in enumerate(range(NODE_LOW, TILE_HEIGHT)):
        have, need = levels[n], width >> sub
        if n == 0:
            for index in range(len(have), need):
                blob = b"".join(hashes[index * step : (index + 1) * step])
                have.append(_subtree_root(blob, 0, NODE_LOW))
        else:
            below = levels[n - 1]
            for index in range(len(have), need):
                have.append(_sha256(_NODE + below[2 * index] + below[2 * index + 1]).digest())


def _encode_row(levels: Sequence[Sequence[bytes]]) -> bytes:
    parts: list[bytes] = []
    for sub, nodes in zip(range(NODE_LOW, TILE_HEIGHT), levels, strict=True):
        parts.extend(nodes)
        parts.append(_ABSENT * ((TILE_WIDTH >> sub) - len(nodes)))
    return b"".join(parts)


def node_row(tile_hashes: Sequence[bytes]) -> bytes:
    """The node-cache row of a hash tile holding ``tile_hashes`` (1 to 256 hashes)."""
    if not 1 <= len(tile_hashes) <= TILE_WIDTH:
        raise TileError(f"a hash tile holds 1 to {TILE_WIDTH} hashes, not {len(tile_hashes)}")
    levels: list[list[bytes]] = [[] for _ in range(NODE_LOW, TILE_HEIGHT)]
    _grow_levels(tile_hashes, levels)
    return _encode_row(levels)


def _full_tile(hashes: list[bytes]) -> tuple[bytes, bytes]:
    """Root and node-cache row of a full tile, hashed level by level."""
    level = hashes
    kept: list[bytes] = []
    for sub in range(1, TILE_HEIGHT + 1):
        level = [
            _sha256(_NODE + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=True)
        ]
        if NODE_LOW <= sub < TILE_HEIGHT:
            kept.append(b"".join(level))
    return level[0], b"".join(kept)


# --- growing the tree -------------------------------------------------------------------


@dataclass
class TreeEdge:
    """The right edge of a tiled tree: the partial tile at each level and the partial bundle.

    :meth:`extend` hashes new entries into it and yields every tile it completes;
    :meth:`partial_tiles` gives the partial tiles to store once a batch is done. From
    these alone the stored tiles and bundles are brought up to the new size.

    With ``keep_nodes``, the edge also makes the node-cache rows (:func:`node_row`) of the
    hash tiles it writes: :meth:`take_node_rows` hands over those of completed tiles,
    :meth:`partial_node_rows` those of the partial tiles. The hashing is the same: the
    rows are the levels a tile's root is computed through.
    """

    size: int
    levels: list[list[bytes]] = field(default_factory=list)  # hashes of each partial tile
    bundle: list[bytes] = field(default_factory=list)  # entries of the partial bundle
    keep_nodes: bool = False
    # per level: the partial tile's complete nodes, sub-levels NODE_LOW..7 (may lag behind)
    nodes: dict[int, list[list[bytes]]] = field(default_factory=dict)
    _rows: list[tuple[TileId, bytes]] = field(default_factory=list)
    # the partial bundle as loaded, still encoded, and how many entries it holds; the
    # entries appended since are in ``bundle``
    _head: bytes = b""
    _head_count: int = 0

    @classmethod
    def load(cls, size: int, reader: TileReader, *, keep_nodes: bool = False) -> TreeEdge:
        """Read the partial tiles of a tree of ``size`` (at most one per level).

        With ``keep_nodes``, also their node-cache rows when ``reader`` keeps them (a
        missing row is recomputed from its tile).
        """
        wanted: list[tuple[TileId, int]] = []
        level, count = 0, size
        while count > 0:
            if count % TILE_WIDTH:
                wanted.append((TileId(level, count >> TILE_HEIGHT), count % TILE_WIDTH))
            level, count = level + 1, count >> TILE_HEIGHT
        if size % TILE_WIDTH:
            wanted.append((TileId(ENTRIES, size >> TILE_HEIGHT), size % TILE_WIDTH))
        blobs = reader.read_tiles([tile for tile, _ in wanted]) if wanted else []
        edge = cls(size=size, levels=[[] for _ in range(max(level, 1))], keep_nodes=keep_nodes)
        hash_tiles = [(tile, width) for tile, width in wanted if tile.level != ENTRIES]
        rows: list[bytes] = [b""] * len(hash_tiles)
        if keep_nodes and hash_tiles and hasattr(reader, "read_tile_nodes"):
            rows = cast(TileNodeReader, reader).read_tile_nodes([tile for tile, _ in hash_tiles])
        row_of = {tile: row for (tile, _), row in zip(hash_tiles, rows, strict=True)}
        for (tile, width), blob in zip(wanted, blobs, strict=True):
            if tile.level == ENTRIES:
                edge._head, edge._head_count = _bundle_prefix(blob, width, tile.index), width
                continue
            if len(blob) < width * HASH_SIZE:
                raise StoreCorruptError(f"tile {tile.level}/{tile.index} is too short")
            edge.levels[tile.level] = [
                blob[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)
            ]
            if keep_nodes:
                edge.nodes[tile.level] = _row_levels(row_of[tile], width)
        return edge

    def extend(self, entries: Sequence[bytes]) -> Iterator[tuple[TileId, bytes]]:
        """Append ``entries``; yield each hash tile and entry bundle they complete."""
        if entries and max(map(len, entries)) > MAX_ENTRY_SIZE:
            for entry in entries:
                check_entry(entry)
        start = self.size
        pending = entries
        while pending:  # fill the partial bundle, then whole bundles
            room = TILE_WIDTH - self._head_count - len(self.bundle)
            self.bundle.extend(pending[:room])
            pending = pending[room:]
            if self._head_count + len(self.bundle) == TILE_WIDTH:
                index = (start + len(entries) - len(pending) - 1) >> TILE_HEIGHT
                yield TileId(ENTRIES, index), self._head + encode_bundle(self.bundle)
                self.bundle, self._head, self._head_count = [], b"", 0
        self.size += len(entries)
        leaf = _LEAF
        sha256 = _sha256
        yield from self._push(0, [sha256(leaf + e).digest() for e in entries], start)

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
                tile = TileId(level, (start + min(position, len(hashes)) - 1) >> TILE_HEIGHT)
                yield tile, b"".join(partial)
                root, row = _full_tile(partial)
                promoted.append(root)
                if self.keep_nodes:
                    self._rows.append((tile, row))
                self.nodes.pop(level, None)
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
        if self._head_count or self.bundle:
            bundle = self._head + encode_bundle(self.bundle)
            out.append((TileId(ENTRIES, self.size >> TILE_HEIGHT), bundle))
        return out

    def take_node_rows(self) -> list[tuple[TileId, bytes]]:
        """The node-cache rows of the tiles completed since the last call (``keep_nodes``)."""
        rows, self._rows = self._rows, []
        return rows

    def partial_node_rows(self) -> list[tuple[TileId, bytes]]:
        """The node-cache rows of the partial hash tiles, completing only the new nodes."""
        out = []
        for level, hashes in enumerate(self.levels):
            if not hashes:
                continue
            known = self.nodes.setdefault(level, [[] for _ in range(NODE_LOW, TILE_HEIGHT)])
            _grow_levels(hashes, known)
            tile = TileId(level, (self.size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT)
            out.append((tile, _encode_row(known)))
        return out
