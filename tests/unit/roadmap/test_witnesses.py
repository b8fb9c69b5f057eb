"""The road map's witnesses: keys checked, threshold bounded, keys generated at init."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from cvid.agreement import create
from cvid.errors import AgreementError, RoadmapError
from cvid.log.checkpoint import Checkpoint
from cvid.log.cosignature import CosignatureSigner, add_cosignatures, cosign
from cvid.log.note import Note
from cvid.roadmap import loads
from tests.kit import MINI, mini_data, with_keys


def _witnessed(members: list[dict[str, str]], threshold: int) -> str:
    data, _ = with_keys(mini_data())
    data["witnesses"] = {"threshold": threshold, "members": members}
    return yaml.safe_dump(data, sort_keys=False)


def _key(name: str, seed: bytes = b"w" * 32) -> str:
    return CosignatureSigner.generate(name, seed=seed).verifier.to_text()


def test_witnessed_road_map_loads() -> None:
    members = [
        {"id": f"w{n}.example", "name": f"W{n}", "key": _key(f"w{n}.example", bytes([n]) * 32)}
        for n in (1, 2)
    ]
    roadmap = loads(_witnessed(members, 2), name="rm.yaml")
    assert roadmap.witnesses is not None
    assert roadmap.witnesses.threshold == 2


@pytest.mark.parametrize(
    ("members", "threshold", "fragment"),
    [
        ([{"id": "w1.example", "name": "W"}], 2, "threshold 2 is above the 1 witnesses"),
        (
            [{"id": "w1.example", "name": "W"}, {"id": "w1.example", "name": "W"}],
            1,
            "duplicate witness 'w1.example'",
        ),
        ([{"id": "w1.example", "name": "W", "key": "nonsense"}], 1, "not a cosignature/v1"),
        (
            [{"id": "w1.example", "name": "W", "key": _key("w2.example")}],
            1,
            "key is named 'w2.example', not 'w1.example'",
        ),
        (
            [
                {"id": "w1.example", "name": "W", "key": _key("w1.example")},
                {"id": "w1.example", "name": "W", "key": _key("w1.example")},
            ],
            1,
            "the same key is listed twice",
        ),
    ],
)
def test_bad_witness_sections_are_refused(
    members: list[dict[str, str]], threshold: int, fragment: str
) -> None:
    with pytest.raises(RoadmapError) as info:
        loads(_witnessed(members, threshold), name="rm.yaml")
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_a_party_key_is_not_a_witness_key() -> None:
    data, _ = with_keys(mini_data())
    party_key = data["parties"][0]["keys"][0]
    text = _witnessed([{"id": data["parties"][0]["id"], "name": "W", "key": party_key}], 1)
    with pytest.raises(RoadmapError, match="not a cosignature/v1"):
        loads(text, name="rm.yaml")


def test_init_generates_witness_keys_and_the_policy_counts_them(tmp_path: Path) -> None:
    data = mini_data()
    data["witnesses"] = {
        "threshold": 2,
        "members": [{"id": f"w{n}.example", "name": f"W{n}"} for n in (1, 2, 3)],
    }
    agreement = create(tmp_path / "ag", data, adopt_at=None)
    with agreement:
        assert (
            tmp_path / "ag" / "keys" / "witnesses" / "w1.example.key"
        ).stat().st_mode & 0o777 == 0o600
        policy = agreement.witness_policy()
        assert policy is not None
        assert [w.name for w in policy.witnesses] == ["w1.example", "w2.example", "w3.example"]
        note = agreement.log.checkpoint(agreement.log_signer())
        text = Note.from_bytes(note).text
        lines = [
            cosign(text, agreement.witness_signer(f"w{n}.example"), at=1_700_000_000)
            for n in (1, 3)
        ]
        result = policy.verify(add_cosignatures(note, lines))
        assert result.signed == ("w1.example", "w3.example")
        assert Checkpoint.from_text(text).tree_size == 0
        with pytest.raises(AgreementError, match="no key for witness"):
            agreement.witness_signer("w9.example")


def test_without_witnesses_there_is_no_policy(tmp_path: Path) -> None:
    with create(
        tmp_path / "ag", mini_data(), adopt_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ) as ag:
        assert ag.witness_policy() is None
    assert MINI.is_file()
