"""``cvid roadmap …``, ``cvid agreement …``, ``cvid event …``, ``cvid status``, ``cvid report``.

Thin over :mod:`cvid.roadmap`, :mod:`cvid.agreement`, :mod:`cvid.engine` and
:mod:`cvid.report`. Times on the command line are RFC 3339 (``2027-01-05T12:00:00Z``)
or a bare date (midnight UTC). ``--now`` sets the time of receipt used for the
clock-skew check; it exists for exercises and for replaying a dated history, and
defaults to the system clock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cvid import agreement as ag
from cvid._jcs import parse_json
from cvid._when import parse_when
from cvid.cli import _replay as replaying
from cvid.cli._app import (
    SECRET_KEY_HELP,
    Body,
    BodyFile,
    Now,
    exit_code,
    fail,
    handle_errors,
    out,
    out_bytes,
    read_secret_key,
)
from cvid.cli._render import inert
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import EventRejectedError, InputError, JSONFormatError, RoadmapError
from cvid.events.bodies import EVENT_TYPES, AmendmentProposed
from cvid.events.envelope import Event, sign_event
from cvid.log.note import Signer
from cvid.report import KEEP, MAX_KEEP, STATUS_COLOURS, render_html, state_to_dict
from cvid.roadmap import loader

roadmap_app = typer.Typer(help="Road-map files: validate, schema.", no_args_is_help=True)
agreement_app = typer.Typer(help="Agreement directories.", no_args_is_help=True)
event_app = typer.Typer(help="Signed events: sign, submit.", no_args_is_help=True)

T = TypeVar("T")

Dir = Annotated[Path, typer.Argument(help="The agreement directory.")]
Database = Annotated[
    str | None, typer.Option("--database", help="A postgresql:// URL instead of DIR/log.db.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reverify = Annotated[
    bool,
    typer.Option(
        "--reverify",
        help="Admit every logged entry again (signatures and all), without the snapshot.",
    ),
]


def _now(text: str | None, option: str = "--now") -> dt.datetime:
    return parse_when(text, option) if text else dt.datetime.now(dt.UTC).replace(microsecond=0)


def _event_type(name: str) -> str:
    if name not in EVENT_TYPES:
        raise InputError(f"unknown event type {name!r}; the types are: {', '.join(EVENT_TYPES)}")
    return name


def _body(text: str | None, file: Path | None) -> dict[str, Any]:
    if text is not None and file is not None:
        raise InputError("give --body or --body-file, not both")
    raw = b"{}"
    if text is not None:
        raw = text.encode("utf-8")
    elif file is not None:
        try:
            raw = file.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {file}: {e.strerror}") from e
    try:
        body = parse_json(raw, what="body")
    except JSONFormatError as e:
        raise InputError(str(e)) from e
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object")
    return body


# --- roadmap ----------------------------------------------------------------------------


@contextmanager
def _each_problem() -> Iterator[None]:
    """Report a road map's problems one per line, each a ``cvid: error:`` line."""
    try:
        yield
    except RoadmapError as e:
        for problem in e.problems:
            fail(problem)
        raise typer.Exit(exit_code(e)) from e


@roadmap_app.command("validate")
@handle_errors
def roadmap_validate(file: Annotated[Path, typer.Argument(help="A road-map YAML file.")]) -> None:
    """Check a road-map file; print a summary, or every problem with its line and column."""
    with _each_problem():
        roadmap = loader.load(file)
    steps = sum(len(ph.steps) for ph in roadmap.phases)
    out(
        f"{file}: valid road map {roadmap.agreement.id!r}: {len(roadmap.parties)} parties, "
        f"{len(roadmap.phases)} phases, {steps} steps, {len(roadmap.rewards)} rewards, "
        f"{len(roadmap.consequences)} consequences\n{loader.digest(roadmap)}\n"
    )


@roadmap_app.command("schema")
@handle_errors
def roadmap_schema() -> None:
    """Print the JSON Schema of road-map files (generated from the model)."""
    out(loader.schema_text())


# --- agreement --------------------------------------------------------------------------


@agreement_app.command("init")
@handle_errors
def agreement_init(
    directory: Dir,
    template: Annotated[
        str | None,
        typer.Option("--template", help="A shipped road map: " + ", ".join(ag.template_names())),
    ] = None,
    roadmap: Annotated[
        Path | None, typer.Option("--roadmap", help="A road-map file without keys.")
    ] = None,
    adopt_at: Annotated[
        str | None, typer.Option("--adopt-at", help="When every party adopts it (default: now).")
    ] = None,
    no_adopt: Annotated[
        bool, typer.Option("--no-adopt", help="Create it, but adopt nothing.")
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="For replaying a dated history: 'event submit' then refuses to run "
            "without --now (delete DIR/replay to go live). Needs --adopt-at or --no-adopt.",
        ),
    ] = False,
    database: Database = None,
) -> None:
    """Create DIR: keys for every party, the log, the road map, and the adoption events."""
    if (template is None) == (roadmap is None):
        raise InputError("give exactly one of --template or --roadmap")
    if replay and adopt_at is None and not no_adopt and not _has_history(template):
        raise InputError(
            "--replay needs --adopt-at (when the parties adopted it) or --no-adopt: "
            "a history is not adopted today"
        )
    when = None if no_adopt else _now(adopt_at, "--adopt-at")
    with _each_problem():
        if template is not None:
            agreement = ag.create_from_template(
                directory, template, adopt_at=when, database=database
            )
        else:
            assert roadmap is not None
            data = ag.read_keyless(roadmap)
            agreement = ag.create(directory, data, adopt_at=when, database=database)
    with agreement:
        rm = agreement.roadmap
        out(
            f"created agreement {rm.agreement.id!r} in {directory}\n"
            f"road map {agreement.gate.digest}\n"
            f"keys for {len(rm.parties)} parties in {directory / ag.KEYS_DIR}\n"
            f"log {rm.agreement.origin!r}: {agreement.log.size()} entries\n"
        )
    if replay:
        replaying.mark(directory)
        out(f"replaying history: 'cvid event submit {directory}' needs --now\n")


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise InputError(f"{option} {text[:64]!r} is not a date (YYYY-MM-DD)") from e


@agreement_app.command("amend")
@handle_errors
def agreement_amend(
    directory: Dir,
    roadmap: Annotated[
        Path, typer.Option("--roadmap", help="The new version: a road-map file, keys included.")
    ],
    effective: Annotated[
        str, typer.Option("--effective", help="The date from which it governs (YYYY-MM-DD).")
    ],
    party: Annotated[str, typer.Option("--party", help="The proposing party (key in DIR/keys).")],
    amendment: Annotated[
        str, typer.Option("--id", help="The amendment's id, which consents name.")
    ] = "amendment-1",
    time: Annotated[
        str | None, typer.Option("--time", help="The proposal's time (default: --now).")
    ] = None,
    now: Now = None,
    database: Database = None,
) -> None:
    """Propose a new road-map version: kept as DIR/versions/<hex>.yaml, it governs from
    --effective once the parties the road map names consent ('agreement consent')."""
    replaying.require_now(directory, now)
    received = _now(now)
    when = parse_when(time, "--time") if time else received
    with ag.Agreement.open(directory, database=database) as agreement:
        with _each_problem(), _hints(now_given=now is not None):
            admitted = agreement.propose_amendment(
                agreement.signer(party),
                roadmap,
                amendment=amendment,
                effective=_date(effective, "--effective"),
                time=when,
                now=received,
            )
        body = admitted.body
        assert isinstance(body, AmendmentProposed)
        out(
            f"proposed amendment {amendment!r} by {party} at index {admitted.index}: "
            f"road map {body.digest} from {body.effective}\n"
        )


@agreement_app.command("consent")
@handle_errors
def agreement_consent(
    directory: Dir,
    amendment: Annotated[str, typer.Option("--id", help="The amendment's id.")],
    party: Annotated[str, typer.Option("--party", help="The consenting party (key in DIR/keys).")],
    time: Annotated[
        str | None, typer.Option("--time", help="The consent's time (default: --now).")
    ] = None,
    now: Now = None,
    database: Database = None,
) -> None:
    """Sign a party's consent to a proposed amendment."""
    replaying.require_now(directory, now)
    received = _now(now)
    when = parse_when(time, "--time") if time else received
    with ag.Agreement.open(directory, database=database) as agreement:
        with _hints(now_given=now is not None):
            admitted = agreement.act(
                agreement.signer(party),
                "amendment.consented",
                {"amendment": amendment},
                time=when,
                now=received,
            )
        out(f"{party} consented to {amendment!r} at index {admitted.index}\n")


def _has_history(template: str | None) -> bool:
    """Whether a shipped road map comes with its dated history (adoption included)."""
    if template is None:
        return False
    path = ag.template_path(template)
    return path.with_name(f"{template}{ag.HISTORY}.yaml").is_file()


# --- events -----------------------------------------------------------------------------


@event_app.command("sign")
@handle_errors
def event_sign(
    roadmap: Annotated[Path, typer.Option("--roadmap", help="The adopted road-map file.")],
    key: Annotated[Path, typer.Option("--key", help=f"The party's key: {SECRET_KEY_HELP}.")],
    event_type: Annotated[str, typer.Option("--type", help="The event type, e.g. step.reported.")],
    seq: Annotated[int, typer.Option("--seq", help="The party's next sequence number.")],
    body: Body = None,
    body_file: BodyFile = None,
    time: Annotated[
        str | None, typer.Option("--time", help="The event time (default: now).")
    ] = None,
) -> None:
    """Sign an event offline and print the entry to submit (the party's key never leaves).

    The output is the entry's exact bytes, with no newline after them: what the API's
    POST /api/v1/events and 'event submit --entry' take.
    """
    with _each_problem():
        rm = loader.load(roadmap)
    signer = _read_signer(key)
    event = Event(
        agreement=rm.agreement.id,
        roadmap=loader.digest(rm),
        type=_event_type(event_type),
        party=signer.name,
        seq=seq,
        time=_now(time),
        body=_body(body, body_file),
    )
    out_bytes(sign_event(event, signer).to_bytes())


def _read_signer(path: Path) -> Signer:
    return Signer.from_text(read_secret_key(path, "--key"))


@event_app.command("submit")
@handle_errors
def event_submit(
    directory: Dir,
    entry: Annotated[
        Path | None, typer.Option("--entry", help="A signed entry (from 'event sign').")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Sign as this party (key in DIR/keys).")
    ] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="The event type.")] = None,
    body: Body = None,
    body_file: BodyFile = None,
    time: Annotated[
        str | None, typer.Option("--time", help="The event time (default: --now).")
    ] = None,
    now: Now = None,
    database: Database = None,
) -> None:
    """Submit an event: a signed --entry, or one signed here with --party's key.

    A past-dated event (a replay) needs --now, the time it was received.
    """
    replaying.require_now(directory, now)
    received = _now(now)
    with ag.Agreement.open(directory, database=database) as agreement:
        if entry is not None:
            if party or event_type or body or body_file or time:
                raise InputError("--entry goes alone: the entry is already signed")
            try:
                data = entry.read_bytes().rstrip(b"\n")
            except OSError as e:
                raise InputError(f"cannot read {entry}: {e.strerror}") from e
            with _hints(now_given=now is not None):
                admitted = agreement.submit(data, now=received)
        else:
            if party is None or event_type is None:
                raise InputError("give --entry, or --party and --type")
            when = parse_when(time, "--time") if time else received
            signer = agreement.signer(party)
            with _hints(now_given=now is not None):
                admitted = agreement.act(
                    signer, _event_type(event_type), _body(body, body_file), time=when, now=received
                )
        event = admitted.signed.event
        out(f"logged {event.type} by {event.party} (seq {event.seq}) at index {admitted.index}\n")


@contextmanager
def _hints(*, now_given: bool) -> Iterator[None]:
    """Add what to do next to the refusals a newcomer meets first."""
    try:
        yield
    except EventRejectedError as e:
        if e.reason == "clock-skew" and not now_given:
            raise EventRejectedError(
                e.reason,
                f"{e}; to replay a dated history, give --now with the time each event was "
                "received (and see 'agreement init --replay')",
            ) from e
        if e.reason == "unknown-type":
            raise EventRejectedError(
                e.reason, f"{e}; the types are: {', '.join(EVENT_TYPES)}"
            ) from e
        raise


# --- status and report ------------------------------------------------------------------


def _state(
    directory: Path, at: str | None, database: str | None, reverify: bool = False
) -> tuple[ag.Agreement, AgreementState]:
    agreement = ag.Agreement.open(directory, database=database, reverify=reverify)
    # Nothing timed before now less the admission skew can be admitted any more: the
    # fold kept in the snapshot may advance that far (cvid.engine.incremental).
    horizon = dt.datetime.now(dt.UTC) - agreement.gate.skew
    return agreement, agreement.state(at=_now(at, "--at"), horizon=horizon)


def _badge(status: str) -> Text:
    return inert(status, STATUS_COLOURS.get(status, "white"))


@handle_errors
def status(
    directory: Dir,
    at: Annotated[str | None, typer.Option("--at", help="Show the state at this time.")] = None,
    as_json: Json = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Every item of every list (by default, the newest --keep of each)."
        ),
    ] = False,
    keep: Annotated[
        int,
        typer.Option(
            "--keep",
            min=0,
            max=MAX_KEEP,
            help="Show the newest this many items of each list (JSON: `<key>_total` counts "
            "them all, `cut` names the lists cut).",
        ),
    ] = KEEP,
    database: Database = None,
    reverify: Reverify = False,
) -> None:
    """Where the agreement stands: phases, steps, guarantees, sanctions, consequences."""
    agreement, state = _state(directory, at, database, reverify)
    with agreement:
        if as_json:
            data = state_to_dict(state, None if full else keep)
            out(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            return
        _print_status(agreement, state, None if full else keep)


def _force(state: AgreementState) -> str:
    """Whether the agreement is in force, since and until when, or how it ended."""
    life = state.life
    if life.status in ("expired", "terminated"):
        return f"{life.status} on {moment_text(life.since)} ({life.reason})"
    if not state.in_force:
        return "not in force"
    until = f", until {moment_text(life.until)}" if life.until is not None else ""
    return f"in force since {moment_text(state.adopted_at)}{until}"


def _newest(items: Collection[T], keep: int | None) -> tuple[list[T], int]:
    """The newest ``keep`` of ``items`` (all of them for None), and how many are left out."""
    if keep is None or len(items) <= keep:
        return list(items), 0
    seq = items if isinstance(items, Sequence) else tuple(items)
    return list(seq[len(seq) - keep :]), len(seq) - keep


def _earlier(console: Console, n: int, what: str) -> None:
    if n:
        console.print(f"… and {n} earlier {what} (--full shows them all)")


def _print_status(agreement: ag.Agreement, state: AgreementState, keep: int | None) -> None:
    console = Console(highlight=False, width=160)
    rm = agreement.roadmap
    force = _force(state)
    console.print(
        Text.assemble(
            inert(rm.agreement.title, "bold"),
            " (",
            inert(state.agreement),
            f") at {moment_text(state.at)}: {force}",
        )
    )
    phases = Table("phase", "status", "done", "complete", title="Phases")
    for ph in state.phases.values():
        phases.add_row(
            inert(ph.id), _badge(ph.status), f"{ph.done}/{ph.total}", moment_text(ph.complete_at)
        )
    console.print(phases)
    steps = Table("step", "actor", "status", "due", "why", title="Steps")
    for st in state.steps.values():
        late = " (late)" if st.late else ""
        steps.add_row(
            inert(st.id),
            inert(st.actor),
            _badge(st.status) + late,
            moment_text(st.due),
            inert(st.reason),
        )
    console.print(steps)
    if state.guarantees:
        table = Table("guarantee", "status", "signed", "missing", "why", title="Guarantees")
        for g in state.guarantees.values():
            table.add_row(
                inert(g.id),
                _badge(g.status),
                f"{len(g.signed_by)}/{g.threshold}",
                inert(", ".join(g.missing)),
                inert(g.reason),
            )
        console.print(table)
    if state.measures:
        table = Table("measure", "status", "since", "why", title="Sanctions measures")
        for ms in state.measures.values():
            table.add_row(inert(ms.id), _badge(ms.status), moment_text(ms.since), inert(ms.reason))
        console.print(table)
    if state.drafts:
        table = Table("draft", "purpose", "tabled", "outcome", title="Council drafts")
        drafts, earlier = _newest(state.drafts.values(), keep)
        for d in drafts:
            outcome = d.tally.reason if d.tally else f"voting: {len(d.votes)} votes cast"
            table.add_row(inert(d.id), inert(d.purpose), moment_text(d.tabled_at), inert(outcome))
        console.print(table)
        _earlier(console, earlier, "drafts")
    snapbacks, earlier = _newest(state.snapbacks, keep)
    _earlier(console, earlier, "snapback windows")
    for w in snapbacks:
        console.print(
            Text.assemble(
                "snapback: notified by ",
                inert(w.notified_by),
                f" {moment_text(w.notified_at)}, closes {moment_text(w.closes_at)}: ",
                inert(w.outcome, "bold"),
                " (",
                inert(w.reason),
                ")",
            )
        )
    _print_verification(console, state, keep)
    _print_recurring(console, state)
    rules = Table("rule", "fired", "when", "effects", title="Rewards and consequences")
    for r in state.rules.values():
        rules.add_row(
            inert(f"{r.kind} {r.id}"),
            moment_text(r.fired_at) or "no",
            inert(r.condition),
            inert("; ".join(r.effects)),
        )
    console.print(rules)
    alerts, earlier = _newest(state.alerts, keep)
    _earlier(console, earlier, "alerts")
    for alert in alerts:
        console.print(Text.assemble(("alert", "bold red"), " ", inert(alert)))


@handle_errors
def _print_verification(console: Console, state: AgreementState, keep: int | None) -> None:
    if state.declarations:
        table = Table(
            "declaration",
            "revealed",
            "escrowed",
            "clean",
            "confidence",
            "violations",
            title="Declarations",
        )
        for d in state.declarations.values():
            found, before = _newest(d.violations, keep)
            table.add_row(
                inert(d.id),
                f"{len(d.revealed)}/{d.cells}",
                inert(", ".join(d.escrowed) or "none"),
                str(len(d.inspected_clean)),
                f"{d.confidence:.1%}",
                inert("; ".join(found) + (f"; and {before} earlier" if before else "")),
            )
        console.print(table)
    if state.beacon_rounds:
        table = Table(
            "round", "committed", "revealed", "reveal by", "missed", title="Beacon rounds"
        )
        rounds, earlier = _newest(state.beacon_rounds.values(), keep)
        for r in rounds:
            table.add_row(
                inert(r.id),
                inert(", ".join(r.committed)),
                inert(", ".join(r.revealed)),
                moment_text(r.reveal_by),
                inert(", ".join(r.missed)),
            )
        console.print(table)
        _earlier(console, earlier, "beacon rounds")
    if state.custody:
        table = Table("item", "holder", "in transit to", "flags", title="Chains of custody")
        for c in state.custody.values():
            flags, before = _newest(c.flags, keep)
            table.add_row(
                inert(c.item),
                inert(c.holder),
                inert(c.in_transit_to or ""),
                inert("; ".join(flags) + (f"; and {before} earlier" if before else "")),
            )
        console.print(table)
    if state.limits:
        table = Table("limit", "party", "status", "value", "bound", "since", title="Limits")
        for lim in state.limits.values():
            value = "" if lim.value is None else f"{lim.value:g} {lim.unit} ({lim.basis})"
            table.add_row(
                inert(lim.id),
                inert(lim.party),
                _badge(lim.status),
                inert(value),
                inert(lim.bound),
                moment_text(lim.since),
            )
        console.print(table)
    if state.continuity:
        table = Table(
            "item or facility", "status", "since", "cause", title="Continuity of knowledge"
        )
        for rec in state.continuity.values():
            table.add_row(
                inert(rec.item), _badge(rec.status), moment_text(rec.since), inert(rec.cause)
            )
        console.print(table)


def _print_recurring(console: Console, state: AgreementState) -> None:
    if state.obligations:
        table = Table("obligation", "party", "next due", "occurrences", "why", title="Recurring")
        for o in state.obligations.values():
            tally: dict[str, int] = {}
            for occ in o.occurrences:
                tally[occ.status] = tally.get(occ.status, 0) + 1
            table.add_row(
                inert(o.id),
                inert(o.party),
                o.next_due or "",
                ", ".join(f"{n} {k}" for k, n in tally.items()),
                inert(o.reason),
            )
        console.print(table)
    if state.quotas:
        table = Table("quota", "party", "bounds", "this period", title="Inspection quotas")
        for q in state.quotas.values():
            bounds = ", ".join(
                x
                for x in (
                    f"at least {q.at_least}" if q.at_least is not None else "",
                    f"at most {q.at_most}" if q.at_most is not None else "",
                )
                if x
            )
            now = q.periods[-1] if q.periods else None
            table.add_row(
                inert(q.id),
                inert(q.party),
                f"{bounds} {q.counts}",
                f"{now.count} ({now.status})" if now else "",
            )
        console.print(table)


@handle_errors
def report(
    directory: Dir,
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    at: Annotated[str | None, typer.Option("--at", help="Report the state at this time.")] = None,
    database: Database = None,
    reverify: Reverify = False,
    lang: Annotated[
        str, typer.Option("--lang", help="The report's language: en (default) or fr.")
    ] = "en",
) -> None:
    """Write a one-page HTML report of the agreement's state, with a phase timeline."""
    agreement, state = _state(directory, at, database, reverify)
    with agreement:
        html = render_html(agreement.roadmap, state, digest=agreement.gate.digest, lang=lang)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {output}: {e.strerror}") from e
    out(f"wrote {output}\n")
