"""One registration per event type: body, admission rules, reducer; the Council's vote
closing rule (an outside review closed another member's draft before anyone voted)."""

from __future__ import annotations

import datetime as dt

import pytest

from cvid.engine.evaluate import REDUCERS
from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.events.authz import DEFAULT_PERMISSIONS, KINDS
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")
T1 = T0 + dt.timedelta(days=1)
DRAFT = {"draft": "d-1", "title": "Continue relief", "purpose": "continue_relief"}


@pytest.mark.parametrize("event_type", sorted(b.BODIES))
def test_every_type_has_its_body_rules_and_reducer(event_type: str) -> None:
    kind = KINDS[event_type]
    assert callable(kind.check)
    assert callable(kind.record)
    assert event_type in REDUCERS
    assert DEFAULT_PERMISSIONS[event_type] == kind.roles


def test_the_three_tables_name_the_same_types() -> None:
    assert set(KINDS) == set(REDUCERS) == set(b.BODIES) == set(b.EVENT_TYPES)


def adopted(data: dict[str, object] | None = None) -> Kit:
    kit = Kit(data)
    kit.adopt(T0)
    kit.act("usa", "council.draft.tabled", DRAFT, time=T1)
    return kit


@pytest.mark.parametrize("member", ["chn", "e1", "e2", "e3"])
def test_a_member_cannot_close_another_members_draft(member: str) -> None:
    kit = adopted()
    before = kit.history.size
    with pytest.raises(EventRejectedError) as e:
        kit.act(member, "council.vote.closed", {"draft": "d-1"}, time=T1)
    assert e.value.reason == "unauthorised"
    assert "only the member that tabled 'd-1' (usa)" in str(e.value)
    assert kit.history.size == before
    assert not kit.history.drafts["d-1"].closed
    kit.act("usa", "council.vote.closed", {"draft": "d-1"}, time=T1)
    assert kit.history.drafts["d-1"].closed


def with_presidency() -> dict[str, object]:
    data = mini_data()
    data["council"]["presidency"] = [
        {"party": "chn", "from": dt.date(2027, 1, 1)},
        {"party": "e2", "from": dt.date(2027, 2, 1)},
    ]
    data["parties"].append({"id": "sec", "name": "Secretariat", "roles": ["secretariat"]})
    return data


def test_only_the_presidency_of_the_day_or_the_secretariat_closes_a_vote() -> None:
    kit = adopted(with_presidency())
    for party in ("usa", "e2"):  # the sponsor, and next month's president
        with pytest.raises(EventRejectedError, match=r"only the presidency \(chn\)"):
            kit.act(party, "council.vote.closed", {"draft": "d-1"}, time=T1)
    kit.act("chn", "council.vote.closed", {"draft": "d-1"}, time=T1)
    kit.act("usa", "council.draft.tabled", DRAFT | {"draft": "d-2"}, time=at("2027-02-01"))
    with pytest.raises(EventRejectedError, match=r"presidency \(e2\)"):
        kit.act("chn", "council.vote.closed", {"draft": "d-2"}, time=at("2027-02-01"))
    kit.act("sec", "council.vote.closed", {"draft": "d-2"}, time=at("2027-02-01"))
    assert kit.history.drafts["d-2"].closed


def test_votes_count_the_council_of_their_day() -> None:
    """Elected members rotate on 1 January: a 2027 member cannot vote in 2028, and the
    tally counts the members seated when the vote closes."""
    data = mini_data()
    data["council"]["terms"] = [
        {"party": "e1", "from": dt.date(2026, 1, 1), "until": dt.date(2027, 12, 31)},
        {"party": "e2", "from": dt.date(2026, 1, 1), "until": dt.date(2027, 12, 31)},
        {"party": "e3", "from": dt.date(2028, 1, 1)},
    ]
    kit = adopted(data)
    with pytest.raises(EventRejectedError) as e:
        kit.act("e3", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    assert e.value.reason == "not-a-member"
    for member in ("usa", "chn", "e1"):
        kit.act(member, "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    kit.act("usa", "council.vote.closed", {"draft": "d-1"}, time=T1)
    tally = kit.evaluate(T1).drafts["d-1"].tally
    assert tally is not None
    assert tally.adopted
    assert tally.absent == ("e2",)
    later = at("2028-01-01T00:00:00")
    kit.act("usa", "council.draft.tabled", DRAFT | {"draft": "d-2"}, time=later)
    with pytest.raises(EventRejectedError, match="e1 is not a Council member on 2028-01-01"):
        kit.act("e1", "council.vote.cast", {"draft": "d-2", "vote": "yes"}, time=later)
    kit.act("e3", "council.vote.cast", {"draft": "d-2", "vote": "no"}, time=later)


def test_terms_are_checked_when_the_road_map_loads() -> None:
    from cvid.errors import RoadmapError
    from cvid.roadmap.loader import from_data

    data = mini_data()
    data["council"]["terms"] = [{"party": "north", "from": dt.date(2027, 1, 1)}]
    with pytest.raises(RoadmapError, match="needs one of the roles council_elected"):
        from_data(data)


def test_an_unknown_zone_is_a_load_error() -> None:
    from cvid.errors import RoadmapError
    from cvid.roadmap.loader import from_data

    data = mini_data()
    data["agreement"]["zone"] = "Mars/Olympus_Mons"
    with pytest.raises(RoadmapError, match="unknown time zone 'Mars/Olympus_Mons'"):
        from_data(data)
    data["agreement"]["zone"] = "America/New_York"
    assert from_data(data).agreement.zone == "America/New_York"


def test_a_vote_closes_by_itself_at_its_stated_deadline() -> None:
    kit = Kit()
    kit.adopt(T0)
    deadline = "2027-01-03T18:00:00Z"
    with pytest.raises(EventRejectedError, match="vote_by must come after"):
        kit.act("usa", "council.draft.tabled", DRAFT | {"vote_by": "2027-01-03T08:00:00Z"}, time=T1)
    kit.act("usa", "council.draft.tabled", DRAFT | {"vote_by": deadline}, time=T1)
    for member in ("usa", "chn", "e1"):
        kit.act(member, "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    closes = at("2027-01-03T18:00:00")
    before = kit.evaluate(closes - dt.timedelta(seconds=1)).drafts["d-1"]
    assert before.closed_at is None
    after = kit.evaluate(closes).drafts["d-1"]
    assert after.closed_at == closes
    assert after.tally is not None
    assert after.tally.adopted
    for party, kind, body in (
        ("e2", "council.vote.cast", {"draft": "d-1", "vote": "no"}),
        ("usa", "council.vote.closed", {"draft": "d-1"}),
    ):
        with pytest.raises(EventRejectedError) as e:
            kit.act(party, kind, body, time=closes)
        assert e.value.reason == "vote-closed"
        assert "closed at its stated deadline, 2027-01-03T18:00:00Z" in str(e.value)
