"""The party page lists the party's recurring obligations and what it owes of them."""

from __future__ import annotations

from cvid.report import STATUS_COLOURS
from cvid.report.names import Names
from cvid.service import dashboard
from tests.kit import Kit, at
from tests.recurring_kit import recurring_data


def _link(path: str, *, keep_at: bool = True) -> str:
    return "../" + path + ("?at=x" if keep_at else "")


def test_party_page_shows_recurring_obligations() -> None:
    kit = Kit(recurring_data())
    kit.adopt(at("2027-01-10"))
    state = kit.evaluate(at("2027-08-02"))
    spec = next(p for p in kit.roadmap.parties if p.id == "south")
    html = dashboard._env.get_template("party.html.j2").render(
        base="../",
        link=_link,
        at=None,
        section="",
        title_of_agreement=kit.roadmap.agreement.title,
        agreement_id=kit.roadmap.agreement.id,
        colours=STATUS_COLOURS,
        spec=spec,
        state=state,
        parties={p.id: p.name for p in kit.roadmap.parties},
        names=Names.of(kit.roadmap),
        lang="en",
        languages={"en": "English"},
        obligations=[o for o in state.owed if o.party == "south"],
        steps_owed=[],
        steps_verified=[],
        guarantees=[],
        listing=dashboard.empty_listing(fixed={"party"}),
        here="parties/south",
        event_types=[],
        step_ids=[],
        clock_note="",
        rule_titles={},
        obligation_titles={"exchange": "Exchange of data"},
    )
    assert "Recurring obligations" in html
    assert 'data-obligation="exchange.south"' in html
    assert "Exchange of data</td>" in html  # its title in the reader's language
    assert (
        '2027-07-31 <span class="badge status-missed"><span class="sym" aria-hidden="true">✕'
        "</span> missed</span>"
    ) in html
    assert "perform <code>exchange.south</code>" in html
    assert "south to perform by the end of 2028-01-31" in html
