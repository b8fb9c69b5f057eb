"""Translations of a road map's text: what the dashboard and the report show in another
language, beside the text as written.

A road map may carry, in one ``translations`` section, for each language (an ISO 639
code such as ``fr``), the translated title of the agreement and the translated text of
its parties (name, short name), phases (title), steps (title, action), measures
(title) and guarantees (title, text), each found by its id::

    translations:
      fr:
        agreement: {title: Feuille de route}
        phases:
          freeze: {title: Gel}
        steps:
          yongbyon-freeze: {title: Geler les installations de Yongbyon}

Every field is optional: what is not translated is shown as written. A translation is
stated content, so it is part of the road map's digest (ADR 0016); it changes no
meaning: ids, deadlines, rules and conditions are the same in every language. The
references (each id names a thing of its kind) are checked by :func:`check`;
:func:`localized` gives the road map with the text of one language. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from cvid._ids import STRICT, Id, Text

if TYPE_CHECKING:
    from cvid.roadmap.model import RoadMap

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
"""An ISO 639 language code in lowercase: ``fr``, ``ru``, ``zh``, ``ar``, ``es``."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class _Text(BaseModel):
    model_config = STRICT

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not any(v is not None for v in self.__dict__.values()):
            raise ValueError("a translation gives at least one text")
        return self


class AgreementText(_Text):
    """The agreement's title in another language."""

    title: Text | None = None


class PartyText(_Text):
    """A party's name and short name in another language."""

    name: Text | None = None
    short_name: ShortText | None = None


class PhaseText(_Text):
    """A phase's title in another language."""

    title: Text | None = None


class StepText(_Text):
    """A step's title and action in another language."""

    title: Text | None = None
    action: Text | None = None


class MeasureText(_Text):
    """A sanctions measure's title in another language."""

    title: Text | None = None


class GuaranteeText(_Text):
    """A security guarantee's title and text in another language."""

    title: Text | None = None
    text: Text | None = None


class Translation(BaseModel):
    """The road map's text in one language, each thing found by its id."""

    model_config = STRICT

    agreement: AgreementText | None = None
    parties: dict[Id, PartyText] = Field(default_factory=dict)
    phases: dict[Id, PhaseText] = Field(default_factory=dict)
    steps: dict[Id, StepText] = Field(default_factory=dict)
    measures: dict[Id, MeasureText] = Field(default_factory=dict)
    guarantees: dict[Id, GuaranteeText] = Field(default_factory=dict)


Translations = dict[Language, Translation]


def check(roadmap: RoadMap) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each translation of a thing the road map does not have: (path, message)."""
    known = {
        "parties": ({p.id for p in roadmap.parties}, "party"),
        "phases": ({ph.id for ph in roadmap.phases}, "phase"),
        "steps": ({s.id for ph in roadmap.phases for s in ph.steps}, "step"),
        "measures": ({x.id for x in roadmap.measures}, "measure"),
        "guarantees": ({g.id for g in roadmap.guarantees}, "guarantee"),
    }
    for lang, tr in roadmap.translations.items():
        for section, (ids, kind) in known.items():
            for ident in getattr(tr, section):
                if ident not in ids:
                    yield (
                        ("translations", lang, section, ident),
                        f"the {lang!r} translation names {ident!r}, which is not a {kind} "
                        "of this road map",
                    )


def _apply(obj: Any, text: BaseModel | None) -> Any:
    if text is None:
        return obj
    given = {k: v for k, v in text.__dict__.items() if v is not None}
    return obj.model_copy(update=given) if given else obj


def localized(roadmap: RoadMap, lang: str) -> RoadMap:
    """``roadmap`` with its text in ``lang`` where a translation gives it, and as written
    elsewhere. Only text changes: every id, date and rule stays, so state computed from
    the road map applies to the copy. Show the copy; identify with the original."""
    tr = roadmap.translations.get(lang)
    if tr is None:
        return roadmap
    phases = [
        _apply(ph, tr.phases.get(ph.id)).model_copy(
            update={"steps": [_apply(s, tr.steps.get(s.id)) for s in ph.steps]}
        )
        for ph in roadmap.phases
    ]
    return roadmap.model_copy(
        update={
            "agreement": _apply(roadmap.agreement, tr.agreement),
            "parties": [_apply(p, tr.parties.get(p.id)) for p in roadmap.parties],
            "phases": phases,
            "measures": [_apply(x, tr.measures.get(x.id)) for x in roadmap.measures],
            "guarantees": [_apply(g, tr.guarantees.get(g.id)) for g in roadmap.guarantees],
        }
    )


__all__ = [
    "AgreementText",
    "GuaranteeText",
    "Language",
    "MeasureText",
    "PartyText",
    "PhaseText",
    "StepText",
    "Translation",
    "Translations",
    "check",
    "localized",
]
