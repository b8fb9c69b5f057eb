"""CICA: membership over time, observers, founding documents, chairs and the CBM catalogue."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cvid._ids import ID_PATTERN
from cvid.errors import ReferenceDataError
from cvid.reference._facts import Fact, day, fact, items, mapping, read_yaml, text


@dataclass(frozen=True)
class MembershipRow:
    """One row of the membership table; ``start``/``known_by`` bound when it applies."""

    when: str
    start: dt.date
    known_by: dt.date
    count: Fact
    joined: Fact | None
    date: Fact | None
    members: Fact | None


@dataclass(frozen=True)
class Membership:
    """What is known of CICA's membership on a day.

    ``members`` holds the names when the facts give them, else None. ``uncertain`` is
    True when the day falls where a later change's exact date is not known.
    """

    on: dt.date
    row: MembershipRow | None
    uncertain: bool

    @property
    def count(self) -> Fact | None:
        """The member count on the day (None before the 1999 Declaration)."""
        return None if self.row is None else self.row.count

    @property
    def members(self) -> Fact | None:
        """The member names, where the facts list them."""
        return None if self.row is None else self.row.members


@dataclass(frozen=True)
class Document:
    """A founding document."""

    name: str
    facts: tuple[tuple[str, Fact], ...]


@dataclass(frozen=True)
class Chair:
    """A chairing state and its period."""

    state: str
    period: Fact


@dataclass(frozen=True)
class Cbm(Fact):
    """A known confidence-building measure: a fact with a stable id a road map can name.

    The id is this project's name for the measure (CICA numbers none in the facts file).
    """

    id: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping, with the id first."""
        return {"id": self.id, **super().to_dict()}


@dataclass(frozen=True)
class Dimension:
    """A dimension of the CBM catalogue and its measures.

    A known measure is a :class:`Cbm`; where the facts list none, the one entry is an
    ``unknown`` placeholder (a plain U fact, with no id).
    """

    name: str
    listed: Fact
    measures: tuple[Fact, ...]


@dataclass(frozen=True)
class CbmCatalogue:
    """The CICA Catalogue of Confidence Building Measures."""

    adopted: Fact
    updated: Fact
    cooperative_approach: Fact
    dimensions: tuple[Dimension, ...]

    def measures(self) -> dict[str, tuple[str, Cbm]]:
        """Every known measure by id, with the name of its dimension, in catalogue order."""
        return {
            m.id: (d.name, m) for d in self.dimensions for m in d.measures if isinstance(m, Cbm)
        }


@dataclass(frozen=True)
class Cica:
    """Everything the facts file says about CICA."""

    proposed: Fact
    founding_documents: tuple[Document, ...]
    membership: tuple[MembershipRow, ...]
    observer_states: Fact
    observer_organizations: Fact
    observers_as_of: Fact
    observer_notes: tuple[tuple[str, Fact], ...]
    chairs: tuple[Chair, ...]
    catalogue: CbmCatalogue

    def all_facts(self) -> list[Fact]:
        """Every fact in the data."""
        found = [self.proposed, self.observer_states, self.observer_organizations]
        found += [self.observers_as_of] + [f for _, f in self.observer_notes]
        for d in self.founding_documents:
            found += [f for _, f in d.facts]
        for r in self.membership:
            found += [f for f in (r.count, r.joined, r.date, r.members) if f is not None]
        found += [c.period for c in self.chairs]
        cat = self.catalogue
        found += [cat.adopted, cat.updated, cat.cooperative_approach]
        for dim in cat.dimensions:
            found += [dim.listed, *dim.measures]
        return found


def _measure(raw: object, where: str) -> Fact:
    """A measure: ``id`` plus a fact, or an ``unknown`` U placeholder without an id."""
    record = dict(mapping(raw, where))
    if "id" not in record:
        found = fact(record, where)
        if found.value != "unknown" or not found.unconfirmed:
            raise ReferenceDataError(
                f"{where}: a known measure needs an 'id' (only an 'unknown' U placeholder has none)"
            )
        return found
    ident = text(record.pop("id"), f"{where}.id")
    if not re.fullmatch(ID_PATTERN, ident):
        raise ReferenceDataError(f"{where}.id: {ident!r} is not a valid id")
    found = fact(record, where)
    return Cbm(value=found.value, source=found.source, confidence=found.confidence, id=ident)


def _optional(raw: dict[str, object], key: str, where: str) -> Fact | None:
    return fact(raw[key], f"{where}.{key}") if key in raw else None


def load_cica(path: Path | None = None) -> Cica:
    """Load and validate the CICA file (the packaged one unless ``path`` is given).

    Raises:
        ReferenceDataError: a fact without a source, a confidence not C/D/U, a bad shape.
    """
    data = read_yaml("cica.yaml", path)
    docs = []
    for i, raw in enumerate(items(data.get("founding_documents"), "founding_documents")):
        where = f"founding_documents[{i}]"
        d = mapping(raw, where)
        docs.append(
            Document(
                name=text(d.get("name"), f"{where}.name"),
                facts=tuple((k, fact(v, f"{where}.{k}")) for k, v in d.items() if k != "name"),
            )
        )
    rows = []
    for i, raw in enumerate(items(data.get("membership"), "membership")):
        where = f"membership[{i}]"
        r = mapping(raw, where)
        rows.append(
            MembershipRow(
                when=text(r.get("when"), f"{where}.when"),
                start=day(r.get("start"), f"{where}.start"),
                known_by=day(r.get("known_by"), f"{where}.known_by"),
                count=fact(r.get("count"), f"{where}.count"),
                joined=_optional(r, "joined", where),
                date=_optional(r, "date", where),
                members=_optional(r, "members", where),
            )
        )
    obs = mapping(data.get("observers"), "observers")
    notes = mapping(obs.get("notes", {}), "observers.notes")
    cat = mapping(data.get("cbm_catalogue"), "cbm_catalogue")
    dims = []
    for i, raw in enumerate(items(cat.get("dimensions"), "cbm_catalogue.dimensions")):
        where = f"cbm_catalogue.dimensions[{i}]"
        d = mapping(raw, where)
        dims.append(
            Dimension(
                name=text(d.get("name"), f"{where}.name"),
                listed=fact(d.get("listed"), f"{where}.listed"),
                measures=tuple(
                    _measure(m, f"{where}.measures[{j}]")
                    for j, m in enumerate(items(d.get("measures"), f"{where}.measures"))
                ),
            )
        )
    seen: set[str] = set()
    for dim in dims:
        for m in dim.measures:
            if isinstance(m, Cbm):
                if m.id in seen:
                    raise ReferenceDataError(f"cbm_catalogue: duplicate measure id {m.id!r}")
                seen.add(m.id)
    return Cica(
        proposed=fact(data.get("proposed"), "proposed"),
        founding_documents=tuple(docs),
        membership=tuple(sorted(rows, key=lambda r: r.known_by)),
        observer_states=fact(obs.get("states"), "observers.states"),
        observer_organizations=fact(obs.get("organizations"), "observers.organizations"),
        observers_as_of=fact(obs.get("as_of"), "observers.as_of"),
        observer_notes=tuple((k, fact(v, f"observers.notes.{k}")) for k, v in notes.items()),
        chairs=tuple(
            Chair(
                state=text(mapping(c, f"chairs[{i}]").get("state"), f"chairs[{i}].state"),
                period=fact(mapping(c, f"chairs[{i}]").get("period"), f"chairs[{i}].period"),
            )
            for i, c in enumerate(items(data.get("chairs"), "chairs"))
        ),
        catalogue=CbmCatalogue(
            adopted=fact(cat.get("adopted"), "cbm_catalogue.adopted"),
            updated=fact(cat.get("updated"), "cbm_catalogue.updated"),
            cooperative_approach=fact(
                cat.get("cooperative_approach"), "cbm_catalogue.cooperative_approach"
            ),
            dimensions=tuple(dims),
        ),
    )


@cache
def cica() -> Cica:
    """The packaged CICA data."""
    return load_cica()


def cica_members(on: dt.date) -> Membership:
    """CICA's membership on a day: the latest table row known to hold by then.

    ``uncertain`` is set when a later row may already apply (its exact date is unknown),
    or when the row itself carries an unconfirmed date.
    """
    rows = cica().membership
    known = [r for r in rows if r.known_by <= on]
    row = known[-1] if known else None
    later_maybe = any(r.start <= on < r.known_by for r in rows if row is None or r != row)
    unconfirmed = row is not None and row.date is not None and row.date.unconfirmed
    return Membership(on=on, row=row, uncertain=later_maybe or unconfirmed)


def cbm_catalogue() -> CbmCatalogue:
    """The CBM catalogue: its dates and five dimensions with their measures."""
    return cica().catalogue


@cache
def cbm_ids() -> tuple[str, ...]:
    """The ids of the known measures of the packaged catalogue, in catalogue order."""
    return tuple(cbm_catalogue().measures())
