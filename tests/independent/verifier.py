"""A second verifier of cvid's formats, written from docs/spec alone.

It imports nothing of cvid (a test scans its imports): only the standard library,
``cryptography`` for Ed25519 and PyYAML to read a road map. Where it and cvid disagree,
the specification or cvid is wrong. It checks:

* signed events: canonical JSON, the envelope, the Ed25519 signature under the
  ``cvid-event-v1`` domain, against the party's keys in the road map;
* the log: C2SP tlog-tiles entry bundles, the RFC 9162 tree, the signed checkpoint and
  its witness cosignatures;
* escrow reveals: records, salted commitments, leaf data, the order of leaves, the range
  proof, and which cells are shown complete;
* the beacon: commitments, the output from the anchor root, and inspection draws.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failure(Exception):
    """Something does not verify; the message says what."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64decode(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failure(f"not canonical base64: {text!r}")
    return raw


# --- canonical JSON (RFC 8785) ----------------------------------------------------------


def _number(value: float) -> str:
    """ECMAScript Number::toString, as RFC 8785 §3.2.2.3 asks."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        raise Failure("JSON has no infinities or NaN")
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest(abs(value))
    k, n = len(digits), exponent  # value = 0.digits x 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def _shortest(value: float) -> tuple[str, int]:
    """The shortest round-tripping digits of a positive double, and n with value = 0.d x 10^n."""
    mantissa, _, exp = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    lead = len(whole) if whole != "0" else -(len(frac) - len(frac.lstrip("0")))
    n = lead + (int(exp) if exp else 0)
    return digits.rstrip("0") or "0", n


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise Failure(f"integer {value} is beyond ±2^53-1")
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_string(k) + ":" + _jcs(value[k]) for k in keys) + "}"
    raise Failure(f"not a JSON value: {type(value).__name__}")


def strict_json(data: bytes) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in items:
            if key in out:
                raise Failure(f"duplicate key {key!r}")
            out[key] = item
        return out

    def constant(name: str) -> Any:
        raise Failure(f"{name} is not JSON")

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Failure(f"not JSON: {e}") from e


# --- keys and signed notes (C2SP signed-note) --------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str
    key_id: bytes
    kind: int  # 0x01 Ed25519 signer, 0x04 Ed25519 cosignature/v1
    public: bytes

    @classmethod
    def parse(cls, text: str) -> Key:
        name, hex_id, b64 = text.strip().split("+", 2)
        raw = b64decode(b64)
        kind, public = raw[0], raw[1:]
        key_id = bytes.fromhex(hex_id)
        if sha256(name.encode() + b"\n" + raw)[:4] != key_id:
            raise Failure(f"key id of {name!r} does not match its key")
        if kind not in (0x01, 0x04) or len(public) != 32:
            raise Failure(f"key {name!r} is not an Ed25519 key")
        return cls(name, key_id, kind, public)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: bytes
    cosigned_by: tuple[str, ...]


def open_checkpoint(note: bytes, log_key: Key, witnesses: Sequence[Key] = ()) -> Checkpoint:
    """Verify a signed checkpoint: the log's signature, and every known witness's."""
    body, sep, signatures = note.partition(b"\n\n")
    if not sep:
        raise Failure("a signed note has a blank line before its signatures")
    body += b"\n"
    lines = body.decode("utf-8").split("\n")[:-1]
    origin, size, root = lines[0], int(lines[1]), b64decode(lines[2])
    signed_by_log = False
    cosigned = []
    for line in signatures.decode("utf-8").splitlines():
        if not line.startswith("\u2014 "):
            raise Failure(f"not a signature line: {line!r}")
        name, _, b64 = line[2:].rpartition(" ")
        raw = b64decode(b64)
        key_id, sig = raw[:4], raw[4:]
        if name == log_key.name and key_id == log_key.key_id:
            if not log_key.verify(body, sig):
                raise Failure("the log's signature on the checkpoint does not verify")
            signed_by_log = True
        for w in witnesses:
            if name == w.name and key_id == w.key_id:
                timestamp = int.from_bytes(sig[:8], "big")
                message = b"cosignature/v1\ntime %d\n" % timestamp + body
                if not w.verify(message, sig[8:]):
                    raise Failure(f"the cosignature of {name!r} does not verify")
                cosigned.append(name)
    if not signed_by_log:
        raise Failure("the checkpoint carries no signature of the log's key")
    if origin != log_key.name:
        raise Failure(f"the checkpoint's origin {origin!r} is not the log key's name")
    return Checkpoint(origin, size, root, body, tuple(cosigned))


# --- the Merkle tree (RFC 9162) and range proofs ------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes."""
    if not hashes:
        return sha256(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_range(
    leaves: Sequence[bytes], start: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check a range proof (docs/spec/escrow.md) of leaf hashes [start, start + len)."""
    end = start + len(leaves)
    if not leaves or not 0 <= start < end <= size:
        raise Failure("the range is not within the tree")
    queue = list(proof)

    def take() -> bytes:
        if not queue:
            raise Failure("the range proof is too short")
        return queue.pop(0)

    def walk(s: int, e: int, lo: int, hi: int) -> bytes:
        if (s, e) == (lo, hi):
            return mth(leaves[s - start : e - start])
        mid = lo + split(hi - lo)
        if e <= mid:
            return node_hash(walk(s, e, lo, mid), take())
        if s >= mid:
            right = walk(s, e, mid, hi)
            return node_hash(take(), right)
        left = walk(s, mid, lo, mid)
        return node_hash(left, walk(mid, e, mid, hi))

    if walk(start, end, 0, size) != root:
        raise Failure("the range proof does not lead to the root")
    if queue:
        raise Failure("the range proof has hashes left over")


# --- the published log (C2SP tlog-tiles) ---------------------------------------------------


def tile_index_path(index: int) -> str:
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def read_entries(tiles: Path, size: int) -> list[bytes]:
    """Every entry of a tile directory, from its entry bundles (256 entries each)."""
    entries: list[bytes] = []
    for n in range(0, size, 256):
        width = min(256, size - n)
        name = tile_index_path(n // 256) + ("" if width == 256 else f".p/{width}")
        data = (tiles / "tile" / "entries" / name).read_bytes()
        bundle = []
        i = 0
        while i < len(data):
            length = int.from_bytes(data[i : i + 2], "big")
            bundle.append(data[i + 2 : i + 2 + length])
            i += 2 + length
        if len(bundle) != width:
            raise Failure(f"entry bundle {name} holds {len(bundle)} entries, not {width}")
        entries += bundle
    return entries


# --- signed events ----------------------------------------------------------------------

EVENT_DOMAIN = b"cvid-event-v1\n"
EVENT_FIELDS = {"v", "agreement", "roadmap", "type", "party", "seq", "time", "body"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z$")


def verify_event_entry(entry: bytes, keys: Sequence[Key]) -> dict[str, Any]:
    """Check one log entry as a signed event; return the event object."""
    value = strict_json(entry)
    if jcs(value) != entry:
        raise Failure("not-canonical: the entry is not its own canonical JSON")
    if not isinstance(value, dict) or set(value) != {"event", "signature"}:
        raise Failure("bad-envelope: an entry is {event, signature}")
    event, signature = value["event"], value["signature"]
    if not isinstance(event, dict) or set(event) != EVENT_FIELDS or event["v"] != 1:
        raise Failure("bad-envelope: the event's fields")
    if not TIME.fullmatch(event["time"]):
        raise Failure("bad-time")
    if set(signature) != {"key_id", "value"}:
        raise Failure("bad-signature: the signature's fields")
    key_id = bytes.fromhex(signature["key_id"])
    raw = b64decode(signature["value"])
    for key in keys:
        if key.kind == 0x01 and key.name == event["party"] and key.key_id == key_id:
            if not key.verify(EVENT_DOMAIN + jcs(event), raw):
                raise Failure(f"bad-signature: by {event['party']!r}")
            return event
    raise Failure(f"unregistered-key: {signature['key_id']} for {event['party']!r}")


# --- escrow -------------------------------------------------------------------------------

ESCROW_DOMAIN = b"cvid-escrow-v1\n"
ID_TEXT = "[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?"
ID = re.compile(f"^{ID_TEXT}$")


def escrow_commitment(salt: bytes, record: dict[str, Any]) -> bytes:
    return sha256(ESCROW_DOMAIN + salt + jcs(record))


def escrow_leaf_data(cell: str, commitment: bytes) -> bytes:
    return jcs({"cell": cell, "commitment": commitment.hex()})


LEAF_DATA = re.compile(b'^\\{"cell":"(' + ID_TEXT.encode() + b')","commitment":"[0-9a-f]{64}"\\}$')


@dataclass
class Opened:
    """What one reveal showed: (index, cell, item id or "") of opened leaves, and the
    (index, cell) of the boundary leaves."""

    leaves: list[tuple[int, str, str]]
    boundaries: list[tuple[int, str]]


def _boundary(encoded: str, index: int, size: int) -> tuple[bytes, tuple[int, str, None]]:
    """A leaf shown only by its leaf data, just outside the opened run."""
    data = b64decode(encoded)
    match = LEAF_DATA.fullmatch(data)
    if match is None or not 0 <= index < size:
        raise Failure(f"boundary leaf {index} is malformed or does not exist")
    return data, (index, match.group(1).decode(), None)


def _open_leaf(index: int, leaf: dict[str, Any]) -> tuple[bytes, tuple[int, str, str]]:
    """An opened leaf's leaf data, and its (index, cell, sort key)."""
    record, salt = leaf["record"], b64decode(leaf["salt"])
    if len(salt) != 32:
        raise Failure(f"leaf {index}: a salt is 32 bytes")
    if set(record) == {"cell", "empty"} and record["empty"] is True:
        key = ""
    elif set(record) == {"cell", "item"} and set(record["item"]) == {
        "id",
        "category",
        "attributes",
    }:
        key = record["item"]["id"]
        if not ID.fullmatch(key) or not ID.fullmatch(record["item"]["category"]):
            raise Failure(f"leaf {index}: item id or category is not an identifier")
    else:
        raise Failure(f"leaf {index}: not a record")
    cell = record["cell"]
    if not isinstance(cell, str) or not ID.fullmatch(cell):
        raise Failure(f"leaf {index}: the cell is not an identifier")
    return escrow_leaf_data(cell, escrow_commitment(salt, record)), (index, cell, key)


def _check_order(known: list[tuple[int, str, str | None]], cells: Sequence[str], size: int) -> None:
    """Leaves sorted by (cell position, item id), with room for every cell's leaf."""
    position = {c: n for n, c in enumerate(cells)}
    for _, cell, _ in known:
        if cell not in position:
            raise Failure(f"cell {cell!r} is not in the partition")
    for (p, a, ka), (q, b, kb) in itertools.pairwise(known):
        pa, pb = position[a], position[b]
        if pa > pb or q - p < pb - pa:
            raise Failure(f"leaves {p} ({a}) and {q} ({b}) are out of order")
        if pa == pb and (ka == "" or kb == "" or (ka is not None and kb is not None and ka >= kb)):
            raise Failure(f"leaves {p} and {q} of cell {a} are out of order")
    first_index, first_cell, _ = known[0]
    last_index, last_cell, _ = known[-1]
    if first_index < position[first_cell]:
        raise Failure("the run leaves no room for the leaves of the cells before it")
    if size - 1 - last_index < len(cells) - 1 - position[last_cell]:
        raise Failure("the run leaves no room for the leaves of the cells after it")


def verify_reveal(reveal: dict[str, Any], root: bytes, size: int, cells: Sequence[str]) -> Opened:
    """Check one reveal against a declaration's root, size and partition."""
    start = reveal["start"]
    end = start + len(reveal["leaves"])
    known: list[tuple[int, str, str | None]] = []  # index, cell, sort key (None: boundary)
    data: list[bytes] = []
    if reveal["before"] is not None:
        leaf, where = _boundary(reveal["before"], start - 1, size)
        data.append(leaf)
        known.append(where)
    for index, opened in enumerate(reveal["leaves"], start):
        leaf, what = _open_leaf(index, opened)
        data.append(leaf)
        known.append(what)
    if reveal["after"] is not None:
        leaf, where = _boundary(reveal["after"], end, size)
        data.append(leaf)
        known.append(where)
    if not reveal["leaves"] or end > size or size < len(cells):
        raise Failure("a reveal opens at least one leaf, within a tree with a leaf per cell")
    _check_order(known, cells, size)
    first = start - (reveal["before"] is not None)
    proof = [b64decode(h) for h in reveal["proof"]]
    verify_range([leaf_hash(d) for d in data], first, size, proof, root)
    return Opened(
        [(i, c, k) for i, c, k in known if k is not None],
        [(i, c) for i, c, k in known if k is None],
    )


@dataclass
class Declaration:
    root: bytes
    size: int
    cells: list[str]
    cell_of: dict[int, str] = field(default_factory=dict)  # every leaf known, by index
    opened: set[int] = field(default_factory=set)

    def add(self, opened: Opened) -> None:
        for index, cell, _ in opened.leaves:
            self.cell_of[index] = cell
            self.opened.add(index)
        for index, cell in opened.boundaries:
            self.cell_of[index] = cell

    def complete(self) -> list[str]:
        """The cells every leaf of which is opened, in partition order."""
        out = []
        for cell in self.cells:
            mine = sorted(i for i in self.opened if self.cell_of[i] == cell)
            if not mine or mine != list(range(mine[0], mine[-1] + 1)):
                continue
            lo, hi = mine[0], mine[-1]
            left = lo == 0 or (lo - 1 in self.cell_of and self.cell_of[lo - 1] != cell)
            right = hi == self.size - 1 or (hi + 1 in self.cell_of and self.cell_of[hi + 1] != cell)
            if left and right:
                out.append(cell)
        return out


# --- the beacon -----------------------------------------------------------------------------


def beacon_commitment(round_id: str, party: str, secret: bytes) -> bytes:
    return sha256(
        b"cvid-beacon-commit-v1\n" + round_id.encode() + b"\n" + party.encode() + b"\n" + secret
    )


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def beacon_output(round_id: str, anchor: bytes, secrets: dict[str, bytes]) -> bytes:
    parts = [
        b"cvid-beacon-output-v1\n",
        _lp(round_id.encode()),
        anchor,
        len(secrets).to_bytes(4, "big"),
    ]
    for party in sorted(secrets, key=lambda p: p.encode()):
        parts += [_lp(party.encode()), secrets[party]]
    return sha256(b"".join(parts))


def _words(output: bytes) -> Iterator[int]:
    counter = 0
    while True:
        block = sha256(output + counter.to_bytes(8, "big"))
        for i in range(4):
            yield int.from_bytes(block[8 * i : 8 * i + 8], "big")
        counter += 1


def beacon_draw(output: bytes, population: Sequence[str], n: int) -> list[str]:
    cells = list(population)
    words = _words(output)
    for i in range(n):
        bound = len(cells) - i
        limit = 2**64 - 2**64 % bound
        word = next(words)
        while word >= limit:
            word = next(words)
        j = i + word % bound
        cells[i], cells[j] = cells[j], cells[i]
    return cells[:n]


# --- a whole published agreement -------------------------------------------------------------


@dataclass
class Audit:
    origin: str
    size: int
    cosigned_by: tuple[str, ...]
    events: int = 0
    reveals: int = 0
    beacon_reveals: int = 0
    draws: int = 0
    complete: dict[str, list[str]] = field(default_factory=dict)


def audit(tiles: Path, roadmap: dict[str, Any], log_key_text: str) -> Audit:
    """Verify a published agreement from its tiles, its road map and its log key."""
    log_key = Key.parse(log_key_text)
    witnesses = [Key.parse(w["key"]) for w in (roadmap.get("witnesses") or {}).get("members", [])]
    checkpoint = open_checkpoint((tiles / "checkpoint").read_bytes(), log_key, witnesses)
    entries = read_entries(tiles, checkpoint.size)
    hashes = [leaf_hash(e) for e in entries]
    if mth(hashes) != checkpoint.root:
        raise Failure("the entries do not give the checkpoint's root")
    keys = [Key.parse(text) for party in roadmap["parties"] for text in party.get("keys", [])]
    result = Audit(checkpoint.origin, checkpoint.size, checkpoint.cosigned_by)
    declarations: dict[str, Declaration] = {}
    commits: dict[str, dict[str, bytes]] = {}
    last_commit: dict[str, int] = {}
    secrets: dict[str, dict[str, bytes]] = {}
    for index, entry in enumerate(entries):
        event = verify_event_entry(entry, keys)
        result.events += 1
        kind, body, party = event["type"], event["body"], event["party"]
        if kind == "declaration.committed":
            declarations[body["declaration"]] = Declaration(
                bytes.fromhex(body["root"]), body["size"], list(body["cells"])
            )
        elif kind == "declaration.revealed":
            d = declarations[body["declaration"]]
            d.add(verify_reveal(body["reveal"], d.root, d.size, d.cells))
            result.reveals += 1
        elif kind == "beacon.committed":
            commits.setdefault(body["round"], {})[party] = bytes.fromhex(body["commitment"])
            last_commit[body["round"]] = index
        elif kind == "beacon.revealed":
            secret = bytes.fromhex(body["secret"])
            if beacon_commitment(body["round"], party, secret) != commits[body["round"]][party]:
                raise Failure(f"{party}'s secret does not open its commitment")
            secrets.setdefault(body["round"], {})[party] = secret
            result.beacon_reveals += 1
        elif kind == "inspection.planned":
            round_id = body["round"]
            anchor = mth(hashes[: last_commit[round_id] + 1])
            output = beacon_output(round_id, anchor, secrets[round_id])
            d = declarations[body["declaration"]]
            population = d.cells if body.get("population") == "all" else d.complete()
            if beacon_draw(output, population, len(body["cells"])) != body["cells"]:
                raise Failure(f"inspection {body['inspection']!r} is not the beacon's draw")
            result.draws += 1
    result.complete = {name: d.complete() for name, d in declarations.items()}
    return result
