"""An actor is linked to its party page only when it is a party (a joint body has none)."""

from __future__ import annotations

from cvid.service import dashboard


def _render(pid: str) -> str:
    template = dashboard._env.from_string(
        '{% import "_macros.html.j2" as m %}{{ m.party_link(link, parties, pid) }}'
    )
    return template.render(link=lambda path: "/" + path, parties={"dprk": "DPRK"}, pid=pid)


def test_a_party_is_linked_to_its_page_by_its_short_name() -> None:
    assert _render("dprk") == '<a href="/parties/dprk">DPRK</a>'


def test_a_joint_body_or_the_council_is_named_without_a_link_to_a_page_that_does_not_exist() -> (
    None
):
    assert _render("joint-commission") == "joint-commission"
    assert "<a" not in _render("council")
