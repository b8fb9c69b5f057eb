"""``cvid ref nwfz`` and ``cvid ref cica``: the sourced reference data, as tables or JSON.

Unconfirmed ([U]) values always carry a visible ``[U]`` mark, derived ones ``[D]``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cvid.cli._app import handle_errors, out
from cvid.errors import InputError
from cvid.reference import Cbm, cbm_catalogue, cica, cica_members, pending_protocols, zones

ref_app = typer.Typer(
    help="Reference data: NWFZs and CICA, every fact sourced.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print(table: Table) -> None:
    console = Console(width=160, highlight=False, record=True, file=None)
    with console.capture() as capture:
        console.print(table)
    out(capture.get())


@ref_app.command("nwfz")
@handle_errors
def nwfz(
    pending: Annotated[
        bool,
        typer.Option("--pending", help="Only protocols awaiting a P5 signature or ratification."),
    ] = False,
    as_json: Json = False,
) -> None:
    """List nuclear-weapon-free zones (and proposed ones) and each P5 member's protocol status."""
    if pending:
        items = pending_protocols()
        if as_json:
            doc = [
                {
                    "zone": p.zone,
                    "protocol": p.protocol,
                    "member": p.member,
                    "awaiting": p.awaiting,
                    "status": p.fact.to_dict(),
                }
                for p in items
            ]
            out(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            return
        table = Table(title="Protocols awaiting a P5 member")
        for col in ("zone", "protocol", "member", "awaiting", "status"):
            table.add_column(col)
        for p in items:
            table.add_row(p.zone, p.protocol, p.member, p.awaiting, p.fact.text())
        _print(table)
        return
    data = zones()
    if as_json:
        zdoc: list[dict[str, Any]] = [
            {
                "id": z.id,
                "name": z.name,
                "region": z.region,
                "kind": z.kind,
                "status": z.status,
                "facts": {k: f.to_dict() for k, f in z.facts},
                "protocols": [
                    {
                        "id": p.id,
                        "subject": p.subject.to_dict(),
                        "p5": {
                            s.member: {
                                "signature": s.signature.to_dict(),
                                "ratification": s.ratification.to_dict(),
                            }
                            for s in p.p5
                        },
                    }
                    for p in z.protocols
                ],
            }
            for z in data
        ]
        out(json.dumps(zdoc, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="Nuclear-weapon-free zones", show_lines=True)
    for col in ("zone", "dates", "protocol", "P5 signature / ratification"):
        table.add_column(col)
    for z in data:
        dates = "\n".join(f"{k}: {f.text()}" for k, f in z.facts)
        if not z.protocols:
            table.add_row(z.name, dates, "-", "-")
        for i, prot in enumerate(z.protocols):
            status = "\n".join(
                f"{s.member}: {s.signature.text()} / {s.ratification.text()}" for s in prot.p5
            )
            table.add_row(z.name if i == 0 else "", dates if i == 0 else "", prot.id, status)
    _print(table)


def _members(on: str | None, as_json: bool) -> None:
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError as e:
        raise InputError(f"--on {on!r} is not a date (YYYY-MM-DD)") from e
    m = cica_members(day)
    if as_json:
        doc = {
            "on": day.isoformat(),
            "row": None if m.row is None else m.row.when,
            "count": None if m.count is None else m.count.to_dict(),
            "members": None if m.members is None else m.members.to_dict(),
            "uncertain": m.uncertain,
        }
        out(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"CICA members on {day.isoformat()}")
    table.add_column("fact")
    table.add_column("value")
    table.add_column("source")
    if m.row is None:
        table.add_row("count", "no members before the 1999 Declaration", "")
    else:
        table.add_row("table row", m.row.when, "")
        table.add_row("count", m.row.count.text(), m.row.count.source)
        if m.row.date is not None:
            table.add_row("date", m.row.date.text(), m.row.date.source)
        if m.members is not None:
            table.add_row("members", m.members.text(), m.members.source)
        if m.uncertain:
            table.add_row("note", "exact date of a change near this day is unknown [U]", "")
    _print(table)
    return


@ref_app.command("cica")
@handle_errors
def cica_command(
    members: Annotated[bool, typer.Option("--members", help="Show membership on a day.")] = False,
    on: Annotated[
        str | None, typer.Option("--on", help="The day (YYYY-MM-DD); default today.")
    ] = None,
    as_json: Json = False,
) -> None:
    """List CICA members, observers and confidence-building measures."""
    if on is not None and not members:
        raise InputError("--on needs --members")
    if members:
        _members(on, as_json)
        return
    data = cica()
    cat = cbm_catalogue()
    if as_json:
        full = {
            "membership": [
                {
                    "when": r.when,
                    "count": r.count.to_dict(),
                    "joined": None if r.joined is None else r.joined.to_dict(),
                    "date": None if r.date is None else r.date.to_dict(),
                }
                for r in data.membership
            ],
            "observers": {
                "states": data.observer_states.to_dict(),
                "organizations": data.observer_organizations.to_dict(),
            },
            "chairs": [{"state": c.state, "period": c.period.to_dict()} for c in data.chairs],
            "cbm_catalogue": {
                "adopted": cat.adopted.to_dict(),
                "updated": cat.updated.to_dict(),
                "dimensions": [
                    {"name": d.name, "measures": [f.to_dict() for f in d.measures]}
                    for d in cat.dimensions
                ],
                "ids": list(cat.measures()),
            },
        }
        out(json.dumps(full, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="CICA", show_lines=True)
    table.add_column("item")
    table.add_column("value")
    table.add_column("source")
    for r in data.membership:
        joined = f" (+{r.joined.text()})" if r.joined is not None else ""
        date = f"; date {r.date.text()}" if r.date is not None else ""
        table.add_row(f"members, {r.when}", f"{r.count.text()}{joined}{date}", r.count.source)
    table.add_row("observer states", data.observer_states.text(), data.observer_states.source)
    table.add_row(
        "observer organizations",
        data.observer_organizations.text(),
        data.observer_organizations.source,
    )
    for c in data.chairs:
        table.add_row("chair", f"{c.state} {c.period.text()}", c.period.source)
    for d in cat.dimensions:
        for f in d.measures:
            # A known measure shows the id a road-map step names in `cica_measure`.
            label = f"CBM: {d.name}" + (f"\nid: {f.id}" if isinstance(f, Cbm) else "")
            table.add_row(label, f.text(), f.source)
    _print(table)
