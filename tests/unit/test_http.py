"""cvid._http: the page policy allows no inline style or script, by hash or otherwise."""

from __future__ import annotations

from cvid._http import PAGE_POLICY


def test_the_page_policy_allows_nothing_inline() -> None:
    directives = dict(part.strip().split(" ", 1) for part in PAGE_POLICY.split(";"))
    assert directives["style-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "sha256-" not in PAGE_POLICY
    assert directives["default-src"] == "'none'"
