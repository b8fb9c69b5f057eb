"""Nuclear-weapon-free zones, their protocols and each P5 member's status, from facts.md."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cvid.errors import ReferenceDataError
from cvid.reference._facts import Fact, fact, items, mapping, read_yaml, text

P5 = ("chn", "fra", "rus", "gbr", "usa")
STATUSES = ("established", "proposed")
"""A zone in the data is either established (in the facts file) or only proposed."""


@dataclass(frozen=True)
class MemberStatus:
    """One P5 member's signature and ratification of one protocol."""

    member: str
    signature: Fact
    ratification: Fact


@dataclass(frozen=True)
class Protocol:
    """A protocol of a zone treaty, with every P5 member's status."""

    id: str
    subject: Fact
    p5: tuple[MemberStatus, ...]


@dataclass(frozen=True)
class Zone:
    """A zone (or zone-like treaty or status), its dated facts and its protocols.

    ``status`` is ``established`` for the zones of the facts file and ``proposed`` for
    a zone only proposed (no treaty exists: its protocols are none, its facts say who
    proposed it and what this project's road maps propose).
    """

    id: str
    name: str
    region: str
    kind: str
    facts: tuple[tuple[str, Fact], ...]
    protocols: tuple[Protocol, ...]
    status: str = "established"

    @property
    def proposed(self) -> bool:
        """True for a zone that is only a proposal."""
        return self.status == "proposed"

    def all_facts(self) -> list[Fact]:
        """Every fact of the zone, its protocols and their P5 statuses."""
        found = [f for _, f in self.facts]
        for p in self.protocols:
            found.append(p.subject)
            for s in p.p5:
                found += [s.signature, s.ratification]
        return found


@dataclass(frozen=True)
class Pending:
    """A protocol awaiting one P5 member's signature or ratification."""

    zone: str
    protocol: str
    member: str
    awaiting: str  # "signature" or "ratification"
    fact: Fact


def _protocol(raw: object, where: str) -> Protocol:
    record = mapping(raw, where)
    p5 = mapping(record.get("p5"), f"{where}.p5")
    if set(p5) != set(P5):
        raise ReferenceDataError(f"{where}.p5: expected exactly {list(P5)}, got {sorted(p5)}")
    statuses = []
    for member in P5:
        status = mapping(p5[member], f"{where}.p5.{member}")
        statuses.append(
            MemberStatus(
                member=member,
                signature=fact(status.get("signature"), f"{where}.p5.{member}.signature"),
                ratification=fact(status.get("ratification"), f"{where}.p5.{member}.ratification"),
            )
        )
    return Protocol(
        id=text(record.get("id"), f"{where}.id"),
        subject=fact(record.get("subject"), f"{where}.subject"),
        p5=tuple(statuses),
    )


def load_zones(path: Path | None = None) -> tuple[Zone, ...]:
    """Load and validate the zones file (the packaged one unless ``path`` is given).

    Raises:
        ReferenceDataError: a fact without a source, a confidence not C/D/U, a bad shape.
    """
    data = read_yaml("nwfz.yaml", path)
    found = []
    for i, raw in enumerate(items(data.get("zones"), "zones")):
        where = f"zones[{i}]"
        z = mapping(raw, where)
        facts = mapping(z.get("facts"), f"{where}.facts")
        status = z.get("status", "established")
        if status not in STATUSES:
            raise ReferenceDataError(
                f"{where}.status: {status!r} is not one of {', '.join(STATUSES)}"
            )
        protocols = items(z.get("protocols"), f"{where}.protocols")
        if status == "proposed" and protocols:
            raise ReferenceDataError(f"{where}.protocols: a proposed zone has no protocols yet")
        found.append(
            Zone(
                id=text(z.get("id"), f"{where}.id"),
                name=text(z.get("name"), f"{where}.name"),
                region=text(z.get("region"), f"{where}.region"),
                kind=text(z.get("kind"), f"{where}.kind"),
                facts=tuple((k, fact(v, f"{where}.facts.{k}")) for k, v in facts.items()),
                protocols=tuple(
                    _protocol(p, f"{where}.protocols[{j}]") for j, p in enumerate(protocols)
                ),
                status=status,
            )
        )
    return tuple(found)


@cache
def zones() -> tuple[Zone, ...]:
    """Every zone in the packaged data, in the order of facts.md, proposals last."""
    return load_zones()


def pending_protocols(data: tuple[Zone, ...] | None = None) -> list[Pending]:
    """Which protocol awaits which P5 member's signature or ratification.

    A status whose value starts with ``not signed`` awaits signature; one that starts
    with ``not ratified`` (after a signature) awaits ratification. Unknown statuses are
    not listed: they are not known to be pending. A proposed zone has no protocol yet.
    """
    found = []
    for zone in zones() if data is None else data:
        for protocol in zone.protocols:
            for s in protocol.p5:
                sig, rat = str(s.signature.value), str(s.ratification.value)
                if sig.startswith("not signed"):
                    found.append(Pending(zone.id, protocol.id, s.member, "signature", s.signature))
                elif rat.startswith("not ratified"):
                    found.append(
                        Pending(zone.id, protocol.id, s.member, "ratification", s.ratification)
                    )
    return found
