"""The commit-reveal beacon and the draw: pinned encodings, determinism, uniformity."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from cvid.errors import BeaconError, InputError, RevealError, VerificationError
from cvid.verification.beacon import (
    beacon_output,
    check_reveal,
    draw,
    secret_commitment,
    uniform_below,
)

PARTIES = ("usa", "prk", "iaea")
SECRETS = {p: hashlib.sha256(b"test-secret:" + p.encode()).digest() for p in PARTIES}
ANCHOR = hashlib.sha256(b"test-anchor").digest()
CELLS = [f"cell-{i:03d}" for i in range(141)]

# Golden vectors, computed once from the v1 encodings and pinned: they must never drift.
GOLDEN_COMMITMENT = "91810a9cc6e099fb4e71e81430826c66b628619b475cbef442827df59a4abe2c"
GOLDEN_OUTPUT = "9ead7ff0d5b52b1c577c5c1db637e9e69fa832c2c64c758ee55659e8ed7bae8e"
GOLDEN_DRAW = [
    "cell-006", "cell-121", "cell-122", "cell-127", "cell-114", "cell-116", "cell-095",
    "cell-129", "cell-104", "cell-051", "cell-044", "cell-082", "cell-009", "cell-085",
    "cell-091", "cell-029", "cell-032", "cell-138", "cell-025", "cell-126", "cell-003",
]  # fmt: skip
GOLDEN_ZERO_SHUFFLE = ["d", "e", "c", "b", "a"]  # all of a..e drawn from 32 zero bytes

CHI_SQUARE_FLOOR = 1e-6
"""A draw whose counts have a chi-square p-value below this is rejected as non-uniform."""


def output_for(seed: int) -> bytes:
    """A deterministic stand-in for a beacon output."""
    return hashlib.sha256(b"beacon-test-output:" + seed.to_bytes(8, "big")).digest()


def uniformity_p_value(counts: Counter[int] | Counter[str], categories: int) -> float:
    """The chi-square p-value of counts against equal frequencies over ``categories``."""
    assert len(counts) <= categories
    observed = [*counts.values(), *[0] * (categories - len(counts))]
    return float(chisquare(observed).pvalue)


# --- encodings --------------------------------------------------------------------------


def test_commitment_encoding() -> None:
    commitment = secret_commitment("round-1", "prk", SECRETS["prk"])
    reference = hashlib.sha256(b"cvid-beacon-commit-v1\nround-1\nprk\n" + SECRETS["prk"]).digest()
    assert commitment == reference
    assert commitment.hex() == GOLDEN_COMMITMENT


def test_output_encoding() -> None:
    def lp(text: str) -> bytes:
        return len(text.encode()).to_bytes(4, "big") + text.encode()

    reference = hashlib.sha256(
        b"cvid-beacon-output-v1\n"
        + lp("round-1")
        + ANCHOR
        + (3).to_bytes(4, "big")
        + b"".join(lp(p) + SECRETS[p] for p in sorted(PARTIES))
    ).digest()
    output = beacon_output("round-1", ANCHOR, SECRETS)
    assert output == reference
    assert output.hex() == GOLDEN_OUTPUT


def test_draw_golden_vectors() -> None:
    assert draw(bytes.fromhex(GOLDEN_OUTPUT), CELLS, 21) == GOLDEN_DRAW
    assert draw(bytes(32), ["a", "b", "c", "d", "e"], 5) == GOLDEN_ZERO_SHUFFLE


def test_draw_stream_reference() -> None:
    # An independent reading of the documented algorithm, for a small case.
    output = output_for(7)
    words = iter(
        int.from_bytes(block[i : i + 8], "big")
        for c in range(4)
        for block in [hashlib.sha256(output + c.to_bytes(8, "big")).digest()]
        for i in range(0, 32, 8)
    )
    cells = list("abcdefg")
    for i in range(4):
        bound = len(cells) - i
        limit = 2**64 - 2**64 % bound
        word = next(words)
        while word >= limit:  # pragma: no cover - probability about 4e-19
            word = next(words)
        j = i + word % bound
        cells[i], cells[j] = cells[j], cells[i]
    assert draw(output, list("abcdefg"), 4) == cells[:4]


def test_output_ignores_mapping_order() -> None:
    reordered = {p: SECRETS[p] for p in reversed(PARTIES)}
    assert beacon_output("round-1", ANCHOR, reordered) == beacon_output("round-1", ANCHOR, SECRETS)


def test_every_input_changes_the_output() -> None:
    base = beacon_output("round-1", ANCHOR, SECRETS)
    variants = [beacon_output("round-2", ANCHOR, SECRETS)]
    for i in range(32):
        root = bytearray(ANCHOR)
        root[i] ^= 0x01
        variants.append(beacon_output("round-1", bytes(root), SECRETS))
    for party in PARTIES:
        for i in (0, 31):
            secret = bytearray(SECRETS[party])
            secret[i] ^= 0x80
            variants.append(beacon_output("round-1", ANCHOR, {**SECRETS, party: bytes(secret)}))
        without = {p: s for p, s in SECRETS.items() if p != party}
        variants.append(beacon_output("round-1", ANCHOR, without))
    # Swapping two parties' secrets is a different assignment, hence a different output.
    variants.append(
        beacon_output("round-1", ANCHOR, {**SECRETS, "usa": SECRETS["prk"], "prk": SECRETS["usa"]})
    )
    variants.append(beacon_output("round-1", ANCHOR, {**SECRETS, "kor": bytes(32)}))
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_party_ids_are_length_prefixed() -> None:
    # Without length prefixes "ab" + secret and "a" + "b…" could collide; here they cannot.
    s = bytes(range(32))
    one = beacon_output("r", ANCHOR, {"ab": s})
    other = beacon_output("r", ANCHOR, {"a": b"b" + s[:31]})
    assert one != other


def test_reveal_checks_the_commitment() -> None:
    commitment = secret_commitment("round-1", "usa", SECRETS["usa"])
    check_reveal("round-1", "usa", SECRETS["usa"], commitment)
    for args in [
        ("round-1", "usa", SECRETS["prk"]),  # another secret
        ("round-1", "prk", SECRETS["usa"]),  # another party replaying it
        ("round-2", "usa", SECRETS["usa"]),  # another round
    ]:
        with pytest.raises(RevealError, match="does not match its commitment") as caught:
            check_reveal(*args, commitment)
        assert isinstance(caught.value, VerificationError)


# --- the draw ---------------------------------------------------------------------------


def test_draw_is_deterministic() -> None:
    output = beacon_output("round-1", ANCHOR, SECRETS)
    assert draw(output, CELLS, 21) == draw(output, CELLS, 21)
    assert draw(output, tuple(CELLS), 21) == draw(output, CELLS, 21)
    # A shorter draw is a prefix of a longer one: draw order is the shuffle order.
    assert draw(output, CELLS, 5) == draw(output, CELLS, 21)[:5]


def test_different_outputs_give_different_draws() -> None:
    draws = [tuple(draw(output_for(seed), CELLS, 21)) for seed in range(200)]
    assert len(set(draws)) == len(draws)


@given(
    seed=st.integers(0, 2**32),
    size=st.integers(0, 300),
    data=st.data(),
)
def test_draws_are_without_replacement(seed: int, size: int, data: st.DataObject) -> None:
    population = [f"c{i}" for i in range(size)]
    n = data.draw(st.integers(0, size))
    drawn = draw(output_for(seed), population, n)
    assert len(drawn) == n
    assert len(set(drawn)) == n
    assert set(drawn) <= set(population)
    if n == size:
        assert sorted(drawn) == sorted(population)


def test_draws_are_uniform() -> None:
    # 12,000 draws of 3 of 10 cells: each cell at each position, and each ordered pair
    # in the first two positions, should be equally frequent.
    population = [f"c{i}" for i in range(10)]
    by_position: list[Counter[str]] = [Counter(), Counter(), Counter()]
    pairs: Counter[str] = Counter()
    for seed in range(12_000):
        drawn = draw(output_for(seed), population, 3)
        for position, cell in enumerate(drawn):
            by_position[position][cell] += 1
        pairs[drawn[0] + "," + drawn[1]] += 1
    for counts in by_position:
        assert uniformity_p_value(counts, 10) > CHI_SQUARE_FLOOR
    assert uniformity_p_value(pairs, 90) > CHI_SQUARE_FLOOR


# --- modulo bias ------------------------------------------------------------------------


def byte_stream(seed: int) -> Iterator[int]:
    """Uniform 8-bit words from a counter-mode SHA-256 stream."""
    for counter in itertools.count():
        yield from hashlib.sha256(b"bytes:%d:%d" % (seed, counter)).digest()


def biased_below(next_word: Callable[[], int], bound: int) -> int:
    """A deliberately wrong helper: reduces an 8-bit word modulo ``bound``, no rejection."""
    return next_word() % bound


def byte_draw(
    seed: int, population: Sequence[str], below: Callable[[Callable[[], int], int], int]
) -> str:
    """Draw one member with 8-bit words and the given reduction."""
    words = byte_stream(seed)
    return population[below(words.__next__, len(population))]


def test_the_uniformity_check_catches_modulo_bias() -> None:
    # With 8-bit words and 160 cells, reducing modulo 160 makes cells 0..95 twice as
    # likely as 96..159. The same check, at the same threshold, rejects that helper and
    # accepts the rejection sampler on the same words. (At 64 bits a modulo bias is at
    # most bound/2^64, below 1e-9 for any population under 18 billion cells: no test
    # could see it, which is why the rejection is also checked exactly below.)
    population = [f"c{i}" for i in range(160)]
    seeds = range(20_000)
    biased = Counter(byte_draw(seed, population, biased_below) for seed in seeds)
    fair = Counter(
        byte_draw(seed, population, lambda nxt, b: uniform_below(nxt, b, bits=8)) for seed in seeds
    )
    assert uniformity_p_value(biased, 160) < CHI_SQUARE_FLOOR
    assert uniformity_p_value(fair, 160) > CHI_SQUARE_FLOOR
    # The real draw passes on the same population.
    real = Counter(draw(output_for(seed), population, 1)[0] for seed in range(20_000))
    assert uniformity_p_value(real, 160) > CHI_SQUARE_FLOOR


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_rejection_sampling_is_exactly_uniform(bits: int) -> None:
    # Feed every possible word once: the accepted ones cover every residue equally
    # often, and exactly 2^bits mod bound words are rejected.
    span = 1 << bits
    for bound in range(1, span + 1):
        results: Counter[int] = Counter()
        rejected = 0
        for word in range(span):
            feed = iter([word, 0])
            value = uniform_below(feed.__next__, bound, bits=bits)
            if next(feed, None) is None:  # the first word was rejected, 0 was used
                rejected += 1
            else:
                results[value] += 1
        assert rejected == span % bound
        assert set(results) == set(range(bound))
        assert len(set(results.values())) == 1


def test_uniform_below_rejects_a_bad_bound() -> None:
    with pytest.raises(BeaconError, match="cannot draw below 0"):
        uniform_below(lambda: 0, 0)
    with pytest.raises(BeaconError, match="cannot draw below 257"):
        uniform_below(lambda: 0, 257, bits=8)


# --- malformed input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: secret_commitment("r", "usa", bytes(31)), "secret must be 32 bytes, not 31"),
        (lambda: secret_commitment("r", "usa", "x" * 32), "secret must be 32 bytes"),  # type: ignore[arg-type]
        (lambda: secret_commitment("r\n", "usa", bytes(32)), "line feed"),
        (lambda: secret_commitment("r", "", bytes(32)), "party id must be a non-empty"),
        (lambda: secret_commitment("r", "\ud800", bytes(32)), "not valid Unicode"),
        (lambda: check_reveal("r", "usa", bytes(32), bytes(16)), "commitment must be 32"),
        (lambda: beacon_output("r", bytes(31), SECRETS), "anchor root must be 32 bytes"),
        (lambda: beacon_output("r", ANCHOR, {}), "at least one participant"),
        (lambda: beacon_output("", ANCHOR, SECRETS), "round id must be a non-empty"),
        (lambda: beacon_output("r", ANCHOR, {"usa": bytes(33)}), "secret of 'usa'"),
        (lambda: draw(bytes(31), CELLS, 1), "beacon output must be 32 bytes"),
        (lambda: draw(bytes(32), CELLS, 142), "cannot draw 142 of 141"),
        (lambda: draw(bytes(32), CELLS, -1), "cannot draw -1"),
        (lambda: draw(bytes(32), CELLS, True), "cannot draw True"),
        (lambda: draw(bytes(32), ["a", "b", "a", "c", "b"], 1), "duplicates: 'a', 'b'"),
        (lambda: draw(bytes(32), "abc", 1), "not one string"),
        (lambda: draw(bytes(32), ["a", 1], 1), "must be a string"),  # type: ignore[list-item]
    ],
)
def test_malformed_input(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(BeaconError, match=message) as caught:
        call()
    assert isinstance(caught.value, InputError)
