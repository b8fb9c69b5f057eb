"""Randomness nobody controls: a commit-reveal beacon, and a draw of cells from it.

A round runs in four moves, each recorded in the log:

1. every participant picks a 32-byte secret and logs :func:`secret_commitment`;
2. after the last commitment, a log checkpoint is fixed: its root, the *anchor*, is
   out of every party's hands once the commitments are in;
3. every participant reveals its secret (:func:`check_reveal` checks it against the
   commitment);
4. :func:`beacon_output` hashes the round id, the anchor and every secret, and
   :func:`draw` turns the output into the cells to inspect.

The output is unpredictable as long as one participant's secret is, and no party can
choose it. One party can still withhold its reveal after seeing the others'
(``docs/beacon.md`` sets out the limits). Pure functions, no I/O.

Encodings (version 1, all SHA-256):

* commitment: ``SHA-256("cvid-beacon-commit-v1\\n" ‖ round ‖ "\\n" ‖ party ‖ "\\n" ‖
  secret)``, round and party in UTF-8 (neither may contain a line feed);
* output: ``SHA-256("cvid-beacon-output-v1\\n" ‖ lp(round) ‖ anchor ‖ u32(count) ‖
  lp(party₁) ‖ secret₁ ‖ … )`` with the parties in ascending order of their UTF-8
  bytes, ``lp(s) = u32(len(s)) ‖ s`` and ``u32`` big-endian;
* draw stream: block ``i`` is ``SHA-256(output ‖ u64(i))``, read as four big-endian
  64-bit words.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

from cvid.errors import BeaconError, RevealError

SECRET_SIZE = 32
"""Bytes in a participant's secret."""

ROOT_SIZE = 32
"""Bytes in the anchor: a log checkpoint's root hash."""

OUTPUT_SIZE = 32
"""Bytes in a beacon output."""

COMMIT_PREFIX = b"cvid-beacon-commit-v1\n"
OUTPUT_PREFIX = b"cvid-beacon-output-v1\n"

WORD_BITS = 64
"""The draw stream is read in words of this many bits."""


# --- validation -------------------------------------------------------------------------


def _name(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BeaconError(f"the {what} must be a non-empty string, not {value!r}")
    if "\n" in value:
        raise BeaconError(f"the {what} {value!r} contains a line feed")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:  # lone surrogates
        raise BeaconError(f"the {what} {value!r} is not valid Unicode text") from e


def _fixed(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        shown = f"{len(value)} bytes" if isinstance(value, bytes) else repr(value)
        raise BeaconError(f"the {what} must be {size} bytes, not {shown}")
    return value


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


# --- commit and reveal ------------------------------------------------------------------


def secret_commitment(round_id: str, party: str, secret: bytes) -> bytes:
    """The commitment a party logs before anyone reveals.

    Args:
        round_id: the beacon round (non-empty, no line feed).
        party: the committing party's id (non-empty, no line feed).
        secret: the party's 32 random bytes, kept private until the reveal.

    Returns:
        ``SHA-256("cvid-beacon-commit-v1\\n" ‖ round ‖ "\\n" ‖ party ‖ "\\n" ‖ secret)``,
        32 bytes.

    Raises:
        BeaconError: a malformed round id, party id or secret.
    """
    data = (
        COMMIT_PREFIX
        + _name(round_id, "round id")
        + b"\n"
        + _name(party, "party id")
        + b"\n"
        + _fixed(secret, SECRET_SIZE, "secret")
    )
    return hashlib.sha256(data).digest()


def check_reveal(round_id: str, party: str, secret: bytes, commitment: bytes) -> None:
    """Check that a revealed secret opens the party's commitment for this round.

    Args:
        round_id: the beacon round.
        party: the revealing party's id.
        secret: the revealed secret.
        commitment: the commitment the party logged.

    Raises:
        BeaconError: a malformed argument.
        RevealError: the secret does not open the commitment.
    """
    expected = secret_commitment(round_id, party, secret)
    if not hmac.compare_digest(expected, _fixed(commitment, OUTPUT_SIZE, "commitment")):
        raise RevealError(
            f"the secret {party!r} revealed in round {round_id!r} does not match its commitment"
        )


def beacon_output(round_id: str, anchor_root: bytes, secrets: Mapping[str, bytes]) -> bytes:
    """The round's random output, from the anchor and every participant's secret.

    Args:
        round_id: the beacon round.
        anchor_root: the 32-byte root of the log checkpoint fixed after the last
            commitment.
        secrets: party id → revealed 32-byte secret, for every participant (at least
            one); the order of the mapping does not matter.

    Returns:
        32 bytes: SHA-256 over the output prefix, the length-prefixed round id, the
        anchor, the number of participants, and each party's length-prefixed id and
        secret in ascending order of the ids' UTF-8 bytes.

    Raises:
        BeaconError: a malformed round id, anchor, party id or secret, or no secrets.
    """
    parts = [
        OUTPUT_PREFIX,
        _lp(_name(round_id, "round id")),
        _fixed(anchor_root, ROOT_SIZE, "anchor root"),
    ]
    if not secrets:
        raise BeaconError("a beacon needs at least one participant's secret")
    entries = sorted(
        (_name(party, "party id"), _fixed(secret, SECRET_SIZE, f"secret of {party!r}"))
        for party, secret in secrets.items()
    )
    parts.append(len(entries).to_bytes(4, "big"))
    for party, secret in entries:
        parts += [_lp(party), secret]
    return hashlib.sha256(b"".join(parts)).digest()


# --- drawing cells ----------------------------------------------------------------------


def _words(output: bytes) -> Iterator[int]:
    """The counter-mode stream: SHA-256(output ‖ u64(i)) for i = 0, 1, … as 64-bit words."""
    counter = 0
    while True:
        block = hashlib.sha256(output + counter.to_bytes(8, "big")).digest()
        for i in range(0, len(block), 8):
            yield int.from_bytes(block[i : i + 8], "big")
        counter += 1


def uniform_below(next_word: Callable[[], int], bound: int, *, bits: int = WORD_BITS) -> int:
    """A uniform integer in ``[0, bound)`` from uniform ``bits``-bit words, without bias.

    Words at or above the largest multiple of ``bound`` that fits in ``bits`` bits are
    rejected and another is read, so every residue is equally likely.

    Args:
        next_word: returns the next uniform word, in ``[0, 2**bits)``.
        bound: the size of the range (``1 ≤ bound ≤ 2**bits``).
        bits: the width of a word.

    Returns:
        An integer in ``[0, bound)``.

    Raises:
        BeaconError: ``bound`` is out of range.
    """
    span = 1 << bits
    if not 1 <= bound <= span:
        raise BeaconError(f"cannot draw below {bound} from {bits}-bit words")
    limit = span - span % bound
    while True:
        word = next_word()
        if word < limit:
            return word % bound


def draw(output: bytes, population: Sequence[str], n: int) -> list[str]:
    """Draw ``n`` distinct members of ``population``, uniformly, determined by ``output``.

    A partial Fisher-Yates shuffle of the population, in the order given: for ``i = 0
    .. n - 1``, swap position ``i`` with a position drawn uniformly from ``i ..
    len - 1`` by :func:`uniform_below` over the counter-mode SHA-256 stream of
    ``output``. Every ordered selection of ``n`` members is equally likely.

    Args:
        output: a 32-byte beacon output.
        population: the cells to draw from, distinct strings; the order matters (the
            same output draws different cells from a reordered population).
        n: how many to draw (``0 ≤ n ≤ len(population)``).

    Returns:
        The drawn members, in draw order.

    Raises:
        BeaconError: a malformed output, duplicate or non-string members, or ``n`` out
            of range.
    """
    _fixed(output, OUTPUT_SIZE, "beacon output")
    if isinstance(population, str | bytes):
        raise BeaconError("the population must be a sequence of cell ids, not one string")
    cells = list(population)
    if any(not isinstance(c, str) for c in cells):
        raise BeaconError("every member of the population must be a string")
    dupes = sorted(c for c, count in Counter(cells).items() if count > 1)
    if dupes:
        raise BeaconError("the population has duplicates: " + ", ".join(map(repr, dupes)))
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(cells):
        raise BeaconError(f"cannot draw {n!r} of {len(cells)} members")
    words = _words(output)
    for i in range(n):
        j = i + uniform_below(words.__next__, len(cells) - i)
        cells[i], cells[j] = cells[j], cells[i]
    return cells[:n]
