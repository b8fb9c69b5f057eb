"""Write the specification's test vectors (docs/spec/vectors/*.json) from cvid itself.

Every input is fixed (keys from fixed seeds, salts and secrets from SHA-256 of fixed
labels; Ed25519 signatures are deterministic), so the output is the same bytes on every
run: ``tests/spec/test_vectors.py`` regenerates the files and compares them.

    python scripts/spec_vectors.py [OUT_DIR]     (default: docs/spec/vectors)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cvid._jcs import canonical
from cvid.escrow.commit import Item, Partition, commit, commitment, leaf_data, record_json
from cvid.escrow.reveal import Reveal, reveal_cells, verify_reveal
from cvid.events.envelope import DOMAIN, Event, sign_event
from cvid.log.checkpoint import Checkpoint, sign_checkpoint
from cvid.log.cosignature import CosignatureSigner, cosign, cosigned_message
from cvid.log.merkle import leaf_hash, mth_of_leaf_hashes
from cvid.log.note import Signer
from cvid.log.tiles import encode_bundle
from cvid.verification.beacon import beacon_output, draw, secret_commitment

ROOT = Path(__file__).resolve().parents[1]
ROADMAP_DIGEST = "sha256:" + hashlib.sha256(b"cvid spec vectors road map").hexdigest()


def fixed(label: str) -> bytes:
    """32 bytes that anyone can recompute: SHA-256 of a label."""
    return hashlib.sha256(label.encode("utf-8")).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def events() -> dict[str, Any]:
    parties = ["alpha", "beta"]
    signers = {p: Signer.generate(p, seed=fixed(f"party key {p}")) for p in parties}
    specs: list[tuple[str, str, int, dict[str, Any]]] = [
        ("beacon.committed", "alpha", 1, {"round": "r1", "commitment": "ab" * 32}),
        (
            "inspection.reported",
            "beta",
            7,
            {
                "inspection": "insp-1",
                "findings": [
                    {
                        "cell": "c2",
                        "confirmed": ["item-2"],
                        "discrepancies": [
                            {
                                "item": "item-3",
                                "attribute": "mass_kg",
                                "declared": 12.5,
                                "found": 1e-7,
                            },
                        ],
                        "undeclared": [
                            {
                                "category": "centrifuge",
                                "description": "Zürich → Ōsaka “x”",
                                "quantity": 100000000000000000000000.0,
                            },
                        ],
                    }
                ],
            },
        ),
    ]
    vectors: list[dict[str, Any]] = []
    for n, (kind, party, seq, body) in enumerate(specs):
        event = Event(
            agreement="spec-example",
            roadmap=ROADMAP_DIGEST,
            type=kind,
            party=party,
            seq=seq,
            time=dt.datetime(2027, 1, 4, 9, 0, n, 250_000 * n, tzinfo=dt.UTC),
            body=body,
        )
        signed = sign_event(event, signers[party])
        entry = signed.to_bytes()
        vectors.append(
            {
                "event": event.to_dict(),
                "jcs_event": canonical(event.to_dict()).decode("utf-8"),
                "signed_message_b64": b64(DOMAIN + canonical(event.to_dict())),
                "key_id": signed.key_id.hex(),
                "signature_b64": b64(signed.signature),
                "entry": entry.decode("utf-8"),
                "leaf_hash": leaf_hash(entry).hex(),
            }
        )
    entries = [v["entry"].encode("utf-8") for v in vectors]
    good = vectors[0]["entry"]
    tampered_body = good.replace('"round":"r1"', '"round":"r2"')
    not_canonical = good.replace('{"event":{', '{"event": {', 1)
    return {
        "about": "Signed events (docs/spec/events.md): envelope, signature, log entry.",
        "keys": [
            {
                "party": p,
                "seed_hex": fixed(f"party key {p}").hex(),
                "verifier_key": signers[p].verifier.to_text(),
            }
            for p in parties
        ],
        "valid": vectors,
        "invalid": [
            {"entry": tampered_body, "why": "body changed after signing: bad-signature"},
            {"entry": not_canonical, "why": "not canonical JSON: not-canonical"},
            {
                "entry": good.replace(vectors[0]["key_id"], "00000000"),
                "why": "no key of the party has this key id: unregistered-key",
            },
        ],
        "bundle_b64": b64(encode_bundle(entries)),
        "tree_root": mth_of_leaf_hashes([leaf_hash(e) for e in entries]).hex(),
    }


def escrow() -> dict[str, Any]:
    partition = Partition(("c1", "c2", "c3", "c4", "c5"))
    items = [
        Item("item-1", "warhead", "c2", {"serial": "W-0001", "mass_kg": 250.5}),
        Item("item-2", "warhead", "c2", {"serial": "W-0002", "mass_kg": 250}),
        Item("item-3", "material", "c4", {"form": "oxide", "mass_kg": 12.5}),
        Item("item-4", "centrifuge", "c5", {"count": 164, "note": "cascade “A”"}),
    ]

    def random_bytes(size: int) -> bytes:  # salt i: SHA-256("salt i")
        return b"".join(fixed(f"salt {i}") for i in range(size // 32))

    esc = commit(items, partition, random_bytes=random_bytes)
    leaves = []
    for index, (record, salt) in enumerate(esc.leaves):
        digest = commitment(salt, record)
        data = leaf_data(record["cell"], digest)
        leaves.append(
            {
                "index": index,
                "record": record,
                "record_jcs": record_json(record).decode("utf-8"),
                "salt_b64": b64(salt),
                "commitment": digest.hex(),
                "leaf_data": data.decode("utf-8"),
                "leaf_hash": leaf_hash(data).hex(),
            }
        )
    reveals: list[dict[str, Any]] = []
    for cell in partition.cells:
        for reveal in reveal_cells(esc, [cell], max_leaves=1 if cell == "c2" else 200):
            verified = verify_reveal(reveal, root=esc.root, size=esc.size, partition=partition)
            reveals.append(
                {
                    "cell": cell,
                    "reveal": reveal.to_dict(),
                    "opened": [[leaf.index, leaf.cell] for leaf in verified.leaves],
                    "boundaries": [list(b) for b in verified.boundaries],
                }
            )
    # A reveal of c2 that stops after its first leaf, without the leaf after the run:
    # the proof verifies, but c2 is not shown complete.
    first_only = next(r for r in reveals if r["cell"] == "c2")["reveal"]
    # A reveal with one salt changed: its leaf no longer gives the root.
    bad = Reveal.from_dict(reveals[0]["reveal"])
    record, salt = bad.leaves[0]
    changed = Reveal(bad.start, ((record, bytes(32)),), bad.before, bad.after, bad.proof)
    return {
        "about": "Escrow (docs/spec/escrow.md): records, commitments, leaves, tree, reveals.",
        "partition": list(partition.cells),
        "items": [i.to_dict() for i in items],
        "leaves": leaves,
        "root": esc.root.hex(),
        "size": esc.size,
        "reveals": reveals,
        "incomplete_run": {"reveal": first_only, "why": "c2's second leaf is not revealed"},
        "invalid": [{"reveal": changed.to_dict(), "why": "a salt changed: root mismatch"}],
    }


def beacon() -> dict[str, Any]:
    round_id = "round-2027-1"
    parties = ["iaea", "dprk", "usa", "chn"]
    secrets = {p: fixed(f"beacon secret {p}") for p in parties}
    anchor = fixed("anchor root")
    output = beacon_output(round_id, anchor, secrets)
    population = [f"r{r}-c{c}" for r in range(1, 5) for c in range(1, 6)]
    draws = {str(n): draw(output, population, n) for n in (0, 1, 5, 20)}
    stream = b"".join(hashlib.sha256(output + i.to_bytes(8, "big")).digest() for i in range(2))
    return {
        "about": "The inspection beacon (docs/spec/beacon.md): commitment, output, draw.",
        "round": round_id,
        "participants": [
            {
                "party": p,
                "secret": secrets[p].hex(),
                "commitment": secret_commitment(round_id, p, secrets[p]).hex(),
            }
            for p in parties
        ],
        "anchor_root": anchor.hex(),
        "output": output.hex(),
        "stream_first_two_blocks": stream.hex(),
        "population": population,
        "draws": draws,
        "small_bound": {
            "why": "a population of 3: words at or above 2^64 - (2^64 mod 3) are rejected",
            "population": ["a", "b", "c"],
            "draw": draw(output, ["a", "b", "c"], 3),
        },
    }


def checkpoints() -> dict[str, Any]:
    origin = "cvid.example/spec-example"
    log_signer = Signer.generate(origin, seed=fixed("log key"))
    witness = CosignatureSigner.generate("witness.example", seed=fixed("witness key"))
    entries = [e["entry"].encode("utf-8") for e in events()["valid"]]
    root = mth_of_leaf_hashes([leaf_hash(e) for e in entries])
    body = Checkpoint(origin, len(entries), root).to_text()
    note = sign_checkpoint(Checkpoint(origin, len(entries), root), log_signer)
    timestamp = 1_798_000_000
    cosignature_line = cosign(body, witness, at=timestamp)
    return {
        "about": "Checkpoints and cosignatures (docs/spec/log.md).",
        "log_key": {
            "seed_hex": fixed("log key").hex(),
            "verifier_key": log_signer.verifier.to_text(),
        },
        "witness_key": {
            "seed_hex": fixed("witness key").hex(),
            "verifier_key": witness.verifier.to_text(),
        },
        "checkpoint_body": body.decode("utf-8"),
        "signed_checkpoint": note.decode("utf-8"),
        "cosignature_timestamp": timestamp,
        "cosigned_message_b64": b64(cosigned_message(body, timestamp)),
        "cosignature_line": cosignature_line.decode("utf-8"),
    }


FILES = {
    "events.json": events,
    "escrow.json": escrow,
    "beacon.json": beacon,
    "checkpoints.json": checkpoints,
}


def render() -> dict[str, bytes]:
    """Each vector file's name and bytes (UTF-8 JSON, two-space indent, final newline)."""
    return {
        name: (json.dumps(make(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        for name, make in FILES.items()
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "spec" / "vectors"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in render().items():
        (out / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
