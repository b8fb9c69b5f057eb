"""The sentences the engine writes: each one a marked template with named fields.

Every reason, alert, violation detail, cause and outcome the engine (and what it
reads: the life of the agreement, a joint body's rule, a finder) puts into the state
is written by :func:`say` from a literal English template, e.g.
``say("{party} has withdrawn from the agreement", party=party)``. The result is the
plain English string, exactly what an f-string would give: the state, its JSON and
the API stay in English. Marking the templates is what lets them be listed in the
gettext catalogues (context ``engine``) and a sentence be shown in another language
where text is shown (:mod:`cvid.report.sentences`, ADR 0018).

Rules for a template: a string literal at the call (never built), fields named
``{name}`` without a format spec (format the value at the call), and the field
names the display knows (:data:`cvid.report.sentences.FIELDS`). Pure; no I/O.
"""

from __future__ import annotations

CONTEXT = "engine"
"""The gettext context of the engine's templates in the catalogues."""


def say(template: str, /, **fields: object) -> str:
    """``template`` with its ``{name}`` fields filled in: the English sentence."""
    return template.format_map(fields)


__all__ = ["CONTEXT", "say"]
