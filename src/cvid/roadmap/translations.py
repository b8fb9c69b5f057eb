"""Translations of a road map's text: what the dashboard and the report show in another
language, beside the text as written.

A road map may carry, in one ``translations`` section, for each language (an ISO 639
code such as ``fr``), the translated text of what a reader sees: the agreement's title;
its parties (name, short name), phases (title, source), steps (title, action,
verification method, source), measures (title, source), guarantees (title, text,
source), rewards (title, source), consequences (title, Council procedure, source),
limits (title, source), recurring obligations (title, action, source), declarations in
escrow and inventory items (title, source), material balance areas (title), each found
by its id;
and the words for the lifecycle states items reach (``states``)::

    translations:
      fr:
        agreement: {title: Feuille de route}
        phases:
          freeze: {title: Gel}
        steps:
          yongbyon-freeze: {title: Geler les installations de Yongbyon}
        states: {frozen: gelé}

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
    """A phase's title and source in another language."""

    title: Text | None = None
    source: Text | None = None


class StepText(_Text):
    """A step's title, action, verification method and source in another language."""

    title: Text | None = None
    action: Text | None = None
    method: Text | None = None
    source: Text | None = None


class MeasureText(_Text):
    """A sanctions measure's title and source in another language."""

    title: Text | None = None
    source: Text | None = None


class GuaranteeText(_Text):
    """A security guarantee's title, text and source in another language."""

    title: Text | None = None
    text: Text | None = None
    source: Text | None = None


class RewardText(_Text):
    """A reward's title, aid and source in another language (the aid item by item, in
    the road map's order)."""

    title: Text | None = None
    aid: list[Text] | None = None
    source: Text | None = None


class ConsequenceText(_Text):
    """A consequence's title, Council procedure and source in another language."""

    title: Text | None = None
    council_procedure: Text | None = None
    source: Text | None = None


class LimitText(_Text):
    """A limit's title and source in another language."""

    title: Text | None = None
    source: Text | None = None


class ObligationText(_Text):
    """A recurring obligation's title, action and source in another language."""

    title: Text | None = None
    action: Text | None = None
    source: Text | None = None


class DeclarationText(_Text):
    """A declaration's title and source in another language."""

    title: Text | None = None
    source: Text | None = None


class ItemText(_Text):
    """An inventory item's title and source in another language."""

    title: Text | None = None
    source: Text | None = None


class BalanceAreaText(_Text):
    """A material balance area's title in another language."""

    title: Text | None = None


class Translation(BaseModel):
    """The road map's text in one language, each thing found by its id."""

    model_config = STRICT

    agreement: AgreementText | None = None
    parties: dict[Id, PartyText] = Field(default_factory=dict)
    phases: dict[Id, PhaseText] = Field(default_factory=dict)
    steps: dict[Id, StepText] = Field(default_factory=dict)
    measures: dict[Id, MeasureText] = Field(default_factory=dict)
    guarantees: dict[Id, GuaranteeText] = Field(default_factory=dict)
    rewards: dict[Id, RewardText] = Field(default_factory=dict)
    consequences: dict[Id, ConsequenceText] = Field(default_factory=dict)
    limits: dict[Id, LimitText] = Field(default_factory=dict)
    obligations: dict[Id, ObligationText] = Field(default_factory=dict)
    declarations: dict[Id, DeclarationText] = Field(default_factory=dict)
    items: dict[Id, ItemText] = Field(default_factory=dict)
    balance_areas: dict[Id, BalanceAreaText] = Field(default_factory=dict)
    states: dict[Id, ShortText] = Field(default_factory=dict)


Translations = dict[Language, Translation]


def check(roadmap: RoadMap) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each translation of a thing the road map does not have: (path, message)."""
    escrow = roadmap.escrow.declarations if roadmap.escrow else []
    areas = roadmap.monitoring.balance_areas if roadmap.monitoring else []
    states = set(roadmap.lifecycle)
    for category in roadmap.inventory.categories:
        states.update(category.lifecycle or ())
    known = {
        "parties": ({p.id for p in roadmap.parties}, "a party"),
        "phases": ({ph.id for ph in roadmap.phases}, "a phase"),
        "steps": ({s.id for ph in roadmap.phases for s in ph.steps}, "a step"),
        "measures": ({x.id for x in roadmap.measures}, "a measure"),
        "guarantees": ({g.id for g in roadmap.guarantees}, "a guarantee"),
        "rewards": ({r.id for r in roadmap.rewards}, "a reward"),
        "consequences": ({c.id for c in roadmap.consequences}, "a consequence"),
        "limits": ({x.id for x in roadmap.limits}, "a limit"),
        "obligations": ({o.id for o in roadmap.obligations}, "a recurring obligation"),
        "declarations": ({d.id for d in escrow}, "a declaration in escrow"),
        "items": ({i.id for i in roadmap.inventory.items}, "an inventory item"),
        "balance_areas": ({a.id for a in areas}, "a material balance area"),
        "states": (states, "a lifecycle state"),
    }
    for lang, tr in roadmap.translations.items():
        for section, (ids, kind) in known.items():
            for ident in getattr(tr, section):
                if ident not in ids:
                    yield (
                        ("translations", lang, section, ident),
                        f"the {lang!r} translation names {ident!r}, which is not {kind} "
                        "of this road map",
                    )
        for rid, reward in tr.rewards.items():
            spec = next((r for r in roadmap.rewards if r.id == rid), None)
            if reward.aid is not None and spec is not None and len(reward.aid) != len(spec.aid):
                yield (
                    ("translations", lang, "rewards", rid, "aid"),
                    f"the {lang!r} translation gives {len(reward.aid)} aid items for {rid!r}, "
                    f"which has {len(spec.aid)}",
                )
        for sid, text in tr.steps.items():
            step = next((s for ph in roadmap.phases for s in ph.steps if s.id == sid), None)
            if text.method is not None and step is not None and step.verification is None:
                yield (
                    ("translations", lang, "steps", sid, "method"),
                    f"the {lang!r} translation gives a verification method for {sid!r}, "
                    "which has no verification",
                )


def _apply(obj: Any, text: BaseModel | None, *, skip: tuple[str, ...] = ()) -> Any:
    if text is None:
        return obj
    given = {k: v for k, v in text.__dict__.items() if v is not None and k not in skip}
    return obj.model_copy(update=given) if given else obj


def _step(step: Any, text: StepText | None) -> Any:
    out = _apply(step, text, skip=("method",))
    if text is not None and text.method is not None and step.verification is not None:
        method = step.verification.model_copy(update={"method": text.method})
        out = out.model_copy(update={"verification": method})
    return out


def localized(roadmap: RoadMap, lang: str) -> RoadMap:
    """``roadmap`` with its text in ``lang`` where a translation gives it, and as written
    elsewhere. Only text changes: every id, date and rule stays, so state computed from
    the road map applies to the copy. Show the copy; identify with the original."""
    tr = roadmap.translations.get(lang)
    if tr is None:
        return roadmap
    phases = [
        _apply(ph, tr.phases.get(ph.id)).model_copy(
            update={"steps": [_step(s, tr.steps.get(s.id)) for s in ph.steps]}
        )
        for ph in roadmap.phases
    ]
    update: dict[str, Any] = {
        "agreement": _apply(roadmap.agreement, tr.agreement),
        "parties": [_apply(p, tr.parties.get(p.id)) for p in roadmap.parties],
        "phases": phases,
        "measures": [_apply(x, tr.measures.get(x.id)) for x in roadmap.measures],
        "guarantees": [_apply(g, tr.guarantees.get(g.id)) for g in roadmap.guarantees],
        "rewards": [_apply(r, tr.rewards.get(r.id)) for r in roadmap.rewards],
        "consequences": [_apply(c, tr.consequences.get(c.id)) for c in roadmap.consequences],
        "limits": [_apply(x, tr.limits.get(x.id)) for x in roadmap.limits],
        "obligations": [_apply(o, tr.obligations.get(o.id)) for o in roadmap.obligations],
        "inventory": roadmap.inventory.model_copy(
            update={"items": [_apply(i, tr.items.get(i.id)) for i in roadmap.inventory.items]}
        ),
    }
    if roadmap.escrow is not None:
        declarations = [_apply(d, tr.declarations.get(d.id)) for d in roadmap.escrow.declarations]
        update["escrow"] = roadmap.escrow.model_copy(update={"declarations": declarations})
    if roadmap.monitoring is not None:
        areas = [_apply(a, tr.balance_areas.get(a.id)) for a in roadmap.monitoring.balance_areas]
        update["monitoring"] = roadmap.monitoring.model_copy(update={"balance_areas": areas})
    return roadmap.model_copy(update=update)


def state_word(roadmap: RoadMap, lang: str, state: str) -> str:
    """The word for the lifecycle state ``state`` in ``lang`` (the id where none is given)."""
    tr = roadmap.translations.get(lang)
    return tr.states.get(state, state) if tr is not None else state


__all__ = [
    "AgreementText",
    "BalanceAreaText",
    "ConsequenceText",
    "DeclarationText",
    "GuaranteeText",
    "ItemText",
    "Language",
    "LimitText",
    "MeasureText",
    "ObligationText",
    "PartyText",
    "PhaseText",
    "RewardText",
    "StepText",
    "Translation",
    "Translations",
    "check",
    "localized",
    "state_word",
]
