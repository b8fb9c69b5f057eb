"""The outside vectors the tests read are unchanged copies (tests/vectors/README.md)."""

from __future__ import annotations

import hashlib

from tests.support import SHARED, VECTORS

MANIFEST = VECTORS / "MANIFEST.sha256"
# Where each copied part comes from in ../shared.
ORIGINS = {"rfc9162": SHARED / "conformance" / "rfc9162", "tlog-vectors.md": SHARED / "reference"}


def _pinned() -> dict[str, str]:
    pinned = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        pinned[name.removeprefix("./")] = digest
    return pinned


def test_every_copied_vector_matches_the_manifest() -> None:
    pinned = _pinned()
    present = {
        str(p.relative_to(VECTORS))
        for p in VECTORS.rglob("*")
        if p.is_file() and p.name not in {"MANIFEST.sha256"} and p.parent != VECTORS
    } | {"tlog-vectors.md"}
    assert present == set(pinned), "a vector was added or removed without the manifest"
    for name, digest in pinned.items():
        assert hashlib.sha256((VECTORS / name).read_bytes()).hexdigest() == digest, name
    assert len(pinned) > 190  # the whole conformance suite, not a few files


def test_the_copy_is_byte_for_byte_the_shared_original_where_it_is_present() -> None:
    """CI runs beside ../shared; there the copy must equal the original exactly."""
    compared = 0
    for name in _pinned():
        top, _, rest = name.partition("/")
        origin = ORIGINS[top] / rest if rest else ORIGINS["tlog-vectors.md"] / top
        if origin.exists():
            assert origin.read_bytes() == (VECTORS / name).read_bytes(), name
            compared += 1
    # Beside ../shared every file is compared; on a machine without it, the manifest
    # test above is what holds the copy to the original.
    assert compared in {0, len(_pinned())}
