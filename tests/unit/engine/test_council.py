"""Security Council tallies under Charter Art. 23 and 27, against a brute-force reading."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.engine.council import VOTES, Tally, tally
from cvid.roadmap.model import Council

P5 = ("chn", "fra", "gbr", "rus", "usa")
ELECTED = tuple(f"e{n:02d}" for n in range(1, 11))
MEMBERS = frozenset(P5 + ELECTED)
PERMANENT = frozenset(P5)
CHARTER = Council()  # 15 members, 9 affirmative votes, permanent veto


def charter_tally(votes: dict[str, str], *, procedural: bool = False) -> Tally:
    return tally(votes, members=MEMBERS, permanent=PERMANENT, rule=CHARTER, procedural=procedural)


def cast(yes: int = 0, no: int = 0, abstain: int = 0, *, p5_no: int = 0) -> dict[str, str]:
    """Votes of the fifteen: the first ``p5_no`` permanent members vote no; the other
    members, in order, cast the remaining yes, no and abstain votes; the rest are absent."""
    others = [*P5[p5_no:], *ELECTED]
    choices = ["yes"] * yes + ["no"] * (no - p5_no) + ["abstain"] * abstain
    return {
        **dict.fromkeys(P5[:p5_no], "no"),
        **dict(zip(others[: len(choices)], choices, strict=True)),
    }


def article_27(
    votes: dict[str, str],
    *,
    members: list[str],
    permanent: list[str],
    affirmative: int,
    veto: bool,
    procedural: bool,
) -> bool:
    """Art. 27 written out member by member: enough affirmative votes among the members
    and, on a non-procedural matter, no permanent member voting against."""
    affirmative_votes = 0
    for member in members:
        if votes.get(member) == "yes":
            affirmative_votes += 1
    if affirmative_votes < affirmative:
        return False
    if procedural or not veto:
        return True
    return all(votes.get(member) != "no" for member in permanent)


def test_charter_defaults() -> None:
    assert (CHARTER.size, CHARTER.affirmative_votes, CHARTER.permanent_veto) == (15, 9, True)


@pytest.mark.parametrize(
    ("votes", "adopted", "reason"),
    [
        pytest.param(cast(yes=15), True, "adopted 15-0-0", id="unanimous"),
        pytest.param(cast(yes=9, no=6), True, "adopted 9-6-0", id="nine-yes-six-elected-no"),
        pytest.param(
            cast(yes=8, no=7),
            False,
            "not adopted 8-7-0: 8 affirmative votes, 9 required",
            id="eight-yes",
        ),
        pytest.param(
            cast(yes=13, no=1, abstain=1, p5_no=1),
            False,
            "not adopted 13-1-1: vetoed by a permanent member: chn",
            id="one-veto",
        ),
        pytest.param(
            cast(yes=10, no=2, abstain=3, p5_no=2),
            False,
            "not adopted 10-2-3: vetoed by a permanent member: chn, fra",
            id="two-vetoes",
        ),
        pytest.param(
            cast(yes=4, no=9, abstain=2, p5_no=3),
            False,
            "not adopted 4-9-2: 4 affirmative votes, 9 required; "
            "vetoed by a permanent member: chn, fra, gbr",
            id="4-9-2",
        ),
        pytest.param(cast(yes=9), True, "adopted 9-0-0", id="six-absent"),
        pytest.param(
            cast(yes=8), False, "not adopted 8-0-0: 8 affirmative votes, 9 required", id="absent"
        ),
    ],
)
def test_tally_table(votes: dict[str, str], adopted: bool, reason: str) -> None:
    result = charter_tally(votes)
    assert result.adopted is adopted
    assert result.reason == reason


def test_abstention_of_permanent_members_does_not_block() -> None:
    votes = {**dict.fromkeys(P5, "abstain"), **dict.fromkeys(ELECTED[:9], "yes")}
    result = charter_tally(votes)
    assert result.adopted
    assert result.reason == "adopted 9-0-5"
    assert result.vetoed_by == ()
    assert result.abstain == tuple(sorted(P5))
    assert result.absent == (ELECTED[9],)


def test_2025_snapback_continuation_vote() -> None:
    """SC/16175, 19 Sep 2025: the draft continuing the relief failed 4-9-2."""
    yes = ["rus", "chn", "e01", "e02"]
    no = ["usa", "gbr", "fra", "e03", "e04", "e05", "e06", "e07", "e08"]
    abstain = ["e09", "e10"]
    votes = {
        **dict.fromkeys(yes, "yes"),
        **dict.fromkeys(no, "no"),
        **dict.fromkeys(abstain, "abstain"),
    }
    result = charter_tally(votes)
    assert not result.adopted
    assert result.counts == "4-9-2"
    assert result.vetoed_by == ("fra", "gbr", "usa")
    assert result.reason == (
        "not adopted 4-9-2: 4 affirmative votes, 9 required; "
        "vetoed by a permanent member: fra, gbr, usa"
    )
    # Procedural, it still fails: the votes are short, the veto does not apply.
    procedural = charter_tally(votes, procedural=True)
    assert not procedural.adopted
    assert procedural.vetoed_by == ()
    assert procedural.reason == "not adopted 4-9-2: 4 affirmative votes, 9 required"


def test_procedural_matters_have_no_veto() -> None:
    votes = cast(yes=9, no=5, abstain=1, p5_no=5)
    assert not charter_tally(votes).adopted
    result = charter_tally(votes, procedural=True)
    assert result.adopted
    assert result.vetoed_by == ()
    assert result.reason == "adopted 9-5-1"
    assert not charter_tally(cast(yes=8, no=7, p5_no=5), procedural=True).adopted


def test_a_rule_without_veto() -> None:
    rule = Council(permanent_veto=False)
    votes = cast(yes=9, no=6, p5_no=5)
    result = tally(votes, members=MEMBERS, permanent=PERMANENT, rule=rule)
    assert result.adopted
    assert result.vetoed_by == ()


def test_votes_of_non_members_are_ignored() -> None:
    votes = {**cast(yes=8), "deu": "yes", "jpn": "yes", "ind": "no"}
    result = charter_tally(votes)
    assert not result.adopted
    assert "deu" not in result.yes
    assert "ind" not in result.no
    assert result.counts == "8-0-0"
    assert len(result.absent) == 7


def test_absent_members_are_listed_and_count_for_nothing() -> None:
    result = charter_tally({"usa": "yes", "e01": "no"})
    assert result.yes == ("usa",)
    assert result.no == ("e01",)
    assert result.abstain == ()
    assert result.absent == tuple(sorted(MEMBERS - {"usa", "e01"}))
    assert result.reason == "not adopted 1-1-0: 1 affirmative votes, 9 required"
    empty = charter_tally({})
    assert empty.absent == tuple(sorted(MEMBERS))
    assert empty.reason == "not adopted 0-0-0: 0 affirmative votes, 9 required"


def test_the_road_maps_own_numbers() -> None:
    """A five-member council needing three votes, as in the test road map."""
    rule = Council(size=5, affirmative_votes=3)
    members = frozenset({"usa", "chn", "e1", "e2", "e3"})
    permanent = frozenset({"usa", "chn"})
    yes3 = {"usa": "yes", "e1": "yes", "e2": "yes", "chn": "abstain"}
    assert tally(yes3, members=members, permanent=permanent, rule=rule).reason == "adopted 3-0-1"
    vetoed = {**yes3, "chn": "no"}
    result = tally(vetoed, members=members, permanent=permanent, rule=rule)
    assert result.reason == "not adopted 3-1-0: vetoed by a permanent member: chn"


def test_every_vote_of_a_small_council() -> None:
    """All 4^5 ways five members can vote (yes, no, abstain, absent), both kinds of matter."""
    members = ["usa", "chn", "e1", "e2", "e3"]
    permanent = ["usa", "chn"]
    rule = Council(size=5, affirmative_votes=3)
    for choice in itertools.product((*VOTES, None), repeat=len(members)):
        votes = {m: v for m, v in zip(members, choice, strict=True) if v is not None}
        for procedural in (False, True):
            result = tally(
                votes,
                members=frozenset(members),
                permanent=frozenset(permanent),
                rule=rule,
                procedural=procedural,
            )
            expected = article_27(
                votes,
                members=members,
                permanent=permanent,
                affirmative=3,
                veto=True,
                procedural=procedural,
            )
            assert result.adopted is expected, (votes, procedural)


VOTERS = [*P5, *ELECTED, "deu", "jpn", "bra"]  # the last three are not members


@settings(max_examples=500, deadline=None)
@given(
    choice=st.fixed_dictionaries({}, optional=dict.fromkeys(VOTERS, st.sampled_from(VOTES))),
    procedural=st.booleans(),
    veto=st.booleans(),
    affirmative=st.integers(min_value=1, max_value=15),
)
def test_tally_matches_article_27(
    choice: dict[str, str], procedural: bool, veto: bool, affirmative: int
) -> None:
    rule = Council(affirmative_votes=affirmative, permanent_veto=veto)
    result = tally(choice, members=MEMBERS, permanent=PERMANENT, rule=rule, procedural=procedural)
    expected = article_27(
        choice,
        members=sorted(MEMBERS),
        permanent=list(P5),
        affirmative=affirmative,
        veto=veto,
        procedural=procedural,
    )
    assert result.adopted is expected
    # The four groups partition the fifteen members; non-members appear nowhere.
    groups = [*result.yes, *result.no, *result.abstain, *result.absent]
    assert sorted(groups) == sorted(MEMBERS)
    for name, group in (("yes", result.yes), ("no", result.no), ("abstain", result.abstain)):
        assert list(group) == sorted(m for m in MEMBERS if choice.get(m) == name)
    if expected:
        assert result.reason == f"adopted {result.counts}"
    else:
        assert result.reason.startswith(f"not adopted {result.counts}: ")
    vetoers = (
        () if procedural or not veto else tuple(sorted(p for p in P5 if choice.get(p) == "no"))
    )
    assert result.vetoed_by == vetoers
    assert ("vetoed by a permanent member" in result.reason) is bool(vetoers)
    assert ("affirmative votes" in result.reason) is (len(result.yes) < affirmative)
