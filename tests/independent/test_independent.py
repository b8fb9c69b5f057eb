"""The independent verifier (written from docs/spec alone) agrees with cvid.

It checks the shipped test vectors, the shipped published agreement and a freshly built
demo agreement; and its canonical JSON agrees with cvid's on arbitrary JSON values.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cvid._jcs import canonical
from tests.independent import verifier as v

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "docs" / "spec" / "vectors"
FIXTURE = ROOT / "tests" / "fixtures" / "audit"
ALLOWED = {
    "__future__",
    "base64",
    "hashlib",
    "itertools",
    "json",
    "math",
    "re",
    "collections",
    "dataclasses",
    "pathlib",
    "typing",
    "cryptography",
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def test_the_verifier_imports_nothing_of_cvid() -> None:
    tree = ast.parse(Path(v.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports could reach cvid"
            imported.add((node.module or "").partition(".")[0])
    assert "cvid" not in imported
    assert imported <= ALLOWED, imported - ALLOWED
    assert "__import__" not in Path(v.__file__).read_text(encoding="utf-8")
    assert "importlib" not in Path(v.__file__).read_text(encoding="utf-8")


# --- vectors ----------------------------------------------------------------------------


def test_event_vectors() -> None:
    vectors = load("events.json")
    keys = [v.Key.parse(k["verifier_key"]) for k in vectors["keys"]]
    for vector in vectors["valid"]:
        entry = vector["entry"].encode("utf-8")
        assert v.verify_event_entry(entry, keys) == vector["event"]
        assert v.jcs(vector["event"]).decode("utf-8") == vector["jcs_event"]
        message = base64.b64decode(vector["signed_message_b64"])
        assert message == v.EVENT_DOMAIN + v.jcs(vector["event"])
        assert v.leaf_hash(entry).hex() == vector["leaf_hash"]
    reasons = []
    for vector in vectors["invalid"]:
        with pytest.raises(v.Failure) as failure:
            v.verify_event_entry(vector["entry"].encode("utf-8"), keys)
        reason = vector["why"].rpartition(": ")[2]
        assert str(failure.value).startswith(reason), (failure.value, reason)
        reasons.append(reason)
    assert reasons == ["bad-signature", "not-canonical", "unregistered-key"]
    bundle = base64.b64decode(vectors["bundle_b64"])
    entries = [vec["entry"].encode("utf-8") for vec in vectors["valid"]]
    assert bundle == b"".join(len(e).to_bytes(2, "big") + e for e in entries)
    assert v.mth([v.leaf_hash(e) for e in entries]).hex() == vectors["tree_root"]


def test_escrow_vectors() -> None:
    vectors = load("escrow.json")
    hashes = []
    for leaf in vectors["leaves"]:
        salt = base64.b64decode(leaf["salt_b64"])
        assert v.jcs(leaf["record"]).decode("utf-8") == leaf["record_jcs"]
        digest = v.escrow_commitment(salt, leaf["record"])
        assert digest.hex() == leaf["commitment"]
        data = v.escrow_leaf_data(leaf["record"]["cell"], digest)
        assert data.decode("utf-8") == leaf["leaf_data"]
        assert v.leaf_hash(data).hex() == leaf["leaf_hash"]
        hashes.append(v.leaf_hash(data))
    root = bytes.fromhex(vectors["root"])
    assert v.mth(hashes) == root
    cells, size = vectors["partition"], vectors["size"]
    declaration = v.Declaration(root, size, cells)
    for reveal in vectors["reveals"]:
        opened = v.verify_reveal(reveal["reveal"], root, size, cells)
        assert [[i, c] for i, c, _ in opened.leaves] == reveal["opened"]
        assert [list(b) for b in opened.boundaries] == reveal["boundaries"]
        declaration.add(opened)
    assert declaration.complete() == cells
    partial = v.Declaration(root, size, cells)
    partial.add(v.verify_reveal(vectors["incomplete_run"]["reveal"], root, size, cells))
    assert "c2" not in partial.complete()
    for bad in vectors["invalid"]:
        with pytest.raises(v.Failure, match="root"):
            v.verify_reveal(bad["reveal"], root, size, cells)


def test_beacon_vectors() -> None:
    vectors = load("beacon.json")
    round_id = vectors["round"]
    secrets = {}
    for p in vectors["participants"]:
        secret = bytes.fromhex(p["secret"])
        assert v.beacon_commitment(round_id, p["party"], secret).hex() == p["commitment"]
        secrets[p["party"]] = secret
    output = v.beacon_output(round_id, bytes.fromhex(vectors["anchor_root"]), secrets)
    assert output.hex() == vectors["output"]
    words = v._words(output)
    stream = bytes.fromhex(vectors["stream_first_two_blocks"])
    assert [next(words) for _ in range(8)] == [
        int.from_bytes(stream[i : i + 8], "big") for i in range(0, 64, 8)
    ]
    for n, cells in vectors["draws"].items():
        assert v.beacon_draw(output, vectors["population"], int(n)) == cells
    small = vectors["small_bound"]
    assert v.beacon_draw(output, small["population"], 3) == small["draw"]


def test_checkpoint_vectors() -> None:
    vectors = load("checkpoints.json")
    log_key = v.Key.parse(vectors["log_key"]["verifier_key"])
    witness = v.Key.parse(vectors["witness_key"]["verifier_key"])
    note = vectors["signed_checkpoint"].rstrip("\n") + "\n" + vectors["cosignature_line"]
    checkpoint = v.open_checkpoint(note.encode("utf-8"), log_key, [witness])
    assert checkpoint.body.decode("utf-8") == vectors["checkpoint_body"]
    assert checkpoint.cosigned_by == ("witness.example",)
    message = base64.b64decode(vectors["cosigned_message_b64"])
    assert message == b"cosignature/v1\ntime %d\n" % vectors["cosignature_timestamp"] + (
        checkpoint.body
    )
    forged = note.replace("\n2\n", "\n3\n", 1)
    with pytest.raises(v.Failure, match="does not verify"):
        v.open_checkpoint(forged.encode("utf-8"), log_key, [witness])


# --- whole agreements -------------------------------------------------------------------


def _cvid_state(directory: Path, at: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = "import sys; from cvid.cli import main; sys.argv = ['cvid', *sys.argv[1:]]; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "status", str(directory), "--at", at, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def _agrees_with_cvid(audit: v.Audit, state: dict[str, Any]) -> None:
    assert audit.events == audit.size > 0
    assert audit.reveals >= 1
    assert audit.beacon_reveals >= 1
    assert audit.draws >= 1
    for name, cells in audit.complete.items():
        assert sorted(cells) == sorted(state["declarations"][name]["revealed"])


def test_the_shipped_published_agreement(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "audit")
    roadmap = yaml.safe_load((FIXTURE / "agreement" / "roadmap.yaml").read_text("utf-8"))
    audit = v.audit(FIXTURE / "tiles", roadmap, (FIXTURE / "vkey").read_text("utf-8"))
    assert audit.size == 271
    assert set(audit.cosigned_by) == {"witness.kz.example", "witness.ch.example"}
    _agrees_with_cvid(audit, _cvid_state(tmp_path / "audit" / "agreement", "2027-09-15"))


@pytest.mark.slow
def test_a_freshly_built_demo(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "cvid.demo", "--no-serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    vkey = re.search(r"--vkey '([^']+)'", result.stdout)
    assert vkey is not None, result.stdout[-2000:]
    out = tmp_path / "demo-out"
    roadmap = yaml.safe_load((out / "agreement" / "roadmap.yaml").read_text("utf-8"))
    audit = v.audit(out / "tiles", roadmap, vkey.group(1))
    assert len(audit.cosigned_by) >= 2
    _agrees_with_cvid(audit, _cvid_state(out / "agreement", "2027-09-15"))


# --- canonical JSON against cvid's ----------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_agrees_with_cvid(value: Any) -> None:
    try:
        expected = canonical(value)
    except Exception:  # what cvid cannot encode (lone surrogates) is not compared
        return
    assert v.jcs(value) == expected
