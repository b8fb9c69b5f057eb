"""The public dashboard: server-rendered pages over one agreement's :class:`Source`.

Pages: the overview (state at any moment, ``?at=``), a page per step and per party,
the ledger explorer (entries, the signed checkpoint and its cosignatures, and each
entry's inclusion proof, which the reader's browser checks itself), declarations in
escrow and inspections, and the reference data (NWFZs, CICA). Everything but the
charts and the in-browser proof check reads with JavaScript off.

Every link is relative, so one router can be mounted under any prefix, more than once
in one app. Unknown ids give a 404 page and a bad ``?at=`` a 400 page.

What this module does not do: write anything, read the clock (the moment shown by
default is ``source.now()``), or trust its own proof check: the server lists the
proof and the browser recomputes it from the entry and the signed checkpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cvid.engine.conditions import overdue_graces, references
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import Error, InputError
from cvid.events.authz import AdmittedEvent
from cvid.log import merkle
from cvid.log.checkpoint import Checkpoint, open_checkpoint
from cvid.log.note import Note, Verifier
from cvid.reference import cica, pending_protocols, zones
from cvid.reference._facts import Fact
from cvid.report import STATUS_COLOURS, _timeline
from cvid.roadmap.model import Phase, Step
from cvid.service.source import Source

HERE = Path(__file__).parent
STATIC = HERE / "static"
PAGE_SIZE = 100
MAX_CHART_POINTS = 60
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INDEX = re.compile(r"0|[1-9][0-9]{0,18}")
_MEDIA = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_SUMMARY_FIELDS = (
    "step",
    "outcome",
    "guarantee",
    "draft",
    "title",
    "vote",
    "declaration",
    "inspection",
    "round",
    "item",
    "to",
    "reason",
    "note",
)

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = lambda value: moment_text(value) or "—"


def _fact_text(fact: Fact) -> str:
    return ", ".join(fact.value) if isinstance(fact.value, tuple) else str(fact.value)


_env.filters["fact_value"] = _fact_text


class PageError(InputError):
    """A request the dashboard answers with an error page (404, 400)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def parse_at(text: str | None, now: dt.datetime) -> tuple[dt.datetime, str | None]:
    """Read ``?at=``: a date (00:00 UTC, as the CLI's ``--at``) or an RFC 3339 time.

    Returns the moment and the text to carry in links (None: the service's clock).

    Raises:
        InputError: anything else, including a time without an offset.
    """
    if text is None or not text.strip():
        return now, None
    text = text.strip()
    bad = InputError(
        f"?at={text[:64]!r} is not a date (YYYY-MM-DD) or an RFC 3339 time "
        "(for example 2027-03-01T12:00:00Z)"
    )
    try:
        if _DATE.fullmatch(text):
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC), text
        if len(text) > 40 or "T" not in text.upper():
            raise bad
        when = dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as e:
        raise bad from e
    if when.tzinfo is None:
        raise InputError(f"?at={text!r} has no time zone; add 'Z' for UTC")
    return when.astimezone(dt.UTC), text


def _summary(event: AdmittedEvent) -> str:
    """A line saying what an event is about, from the fields readers look for."""
    body = event.body.model_dump(by_alias=True)
    parts = [f"{k}: {body[k]}" for k in _SUMMARY_FIELDS if isinstance(body.get(k), str)]
    if event.type == "declaration.revealed":
        parts.append("cells revealed with proof")
    if event.type == "inspection.planned":
        parts.append("cells: " + ", ".join(body.get("cells", [])))
    return "; ".join(parts)


def _event_row(event: AdmittedEvent) -> dict[str, Any]:
    return {
        "index": event.index,
        "type": event.type,
        "party": event.party,
        "seq": event.signed.event.seq,
        "time": event.time,
        "summary": _summary(event),
    }


def _escrow_event(event: AdmittedEvent, declaration: str) -> bool:
    body = event.body.model_dump()
    return body.get("declaration") == declaration or event.type == "inspection.reported"


class _Dashboard:
    """The pages of one agreement; each handler renders from ``source`` alone."""

    def __init__(self, source: Source) -> None:
        self.source = source

    # --- shared -----------------------------------------------------------------------

    def render(
        self,
        template: str,
        *,
        depth: int,
        at: str | None = None,
        status: int = 200,
        section: str = "",
        **context: Any,
    ) -> HTMLResponse:
        base = "../" * depth or "./"
        query = "?" + _urlencode({"at": at}) if at else ""
        rm = self.source.roadmap

        def link(path: str, *, keep_at: bool = True) -> str:
            return base + path + (query if keep_at else "")

        page = _env.get_template(template).render(
            base=base,
            link=link,
            at=at,
            section=section,
            title_of_agreement=rm.agreement.title,
            agreement_id=rm.agreement.id,
            colours=STATUS_COLOURS,
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def error(self, e: PageError, depth: int) -> HTMLResponse:
        return self.render(
            "error.html.j2",
            depth=depth,
            status=e.status,
            title=e.title,
            message=e.message,
        )

    def moment(self, at: str | None) -> tuple[dt.datetime, str | None]:
        try:
            return parse_at(at, self.source.now())
        except InputError as e:
            raise PageError(400, "Not a date", str(e)) from e

    def parties(self) -> dict[str, str]:
        return {p.id: p.name for p in self.source.roadmap.parties}

    def events_until(self, moment: dt.datetime) -> list[AdmittedEvent]:
        return [e for e in self.source.events() if e.time <= moment]

    def steps(self) -> dict[str, tuple[Phase, Step]]:
        return {s.id: (ph, s) for ph in self.source.roadmap.phases for s in ph.steps}

    def clock_note(self, moment: dt.datetime) -> str:
        now = self.source.now()
        if moment > now:
            return f"after the service's clock ({moment_text(now)}): as if nothing more is logged"
        return ""

    # --- overview ---------------------------------------------------------------------

    def overview(self, at: str | None) -> HTMLResponse:
        moment, at = self.moment(at)
        state = self.source.state(moment)
        rm = self.source.roadmap
        return self.render(
            "overview.html.j2",
            depth=0,
            at=at,
            section="overview",
            roadmap=rm,
            state=state,
            digest=self.source.digest,
            parties=self.parties(),
            timeline=_timeline(rm, state),
            clock_note=self.clock_note(moment),
            now=self.source.now(),
        )

    # --- steps and parties ------------------------------------------------------------

    def step(self, step_id: str, at: str | None) -> HTMLResponse:
        phase, spec = self._step_spec(step_id)
        moment, at = self.moment(at)
        state = self.source.state(moment)
        rm = self.source.roadmap
        st = state.steps[step_id]
        related = set(st.events)
        for event in self.events_until(moment):
            if getattr(event.body, "step", None) == step_id:
                related.add(event.index)
        events = self.source.events()
        rewards = [
            (r, state.rules[r.id])
            for r in rm.rewards
            if {step_id, phase.id} & set(references(r.when))
        ]
        consequences = [
            (c, state.rules[c.id], dict(overdue_graces(c.when)).get(step_id))
            for c in rm.consequences
            if step_id in dict(overdue_graces(c.when))
        ]
        return self.render(
            "step.html.j2",
            depth=1,
            at=at,
            phase=phase,
            spec=spec,
            st=st,
            state=state,
            parties=self.parties(),
            phase_ids={p.id for p in rm.phases},
            rewards=rewards,
            consequences=consequences,
            obligations=[o for o in state.obligations if o.subject == step_id],
            events=[_event_row(events[i]) for i in sorted(related)],
            clock_note=self.clock_note(moment),
        )

    def _step_spec(self, step_id: str) -> tuple[Phase, Step]:
        found = self.steps().get(step_id)
        if found is None:
            raise PageError(404, "No such step", f"This road map has no step {step_id!r}.")
        return found

    def party(self, party_id: str, at: str | None) -> HTMLResponse:
        rm = self.source.roadmap
        spec = next((p for p in rm.parties if p.id == party_id), None)
        if spec is None:
            raise PageError(404, "No such party", f"This road map has no party {party_id!r}.")
        moment, at = self.moment(at)
        state = self.source.state(moment)
        steps = self.steps()
        return self.render(
            "party.html.j2",
            depth=1,
            at=at,
            spec=spec,
            state=state,
            parties=self.parties(),
            obligations=[o for o in state.obligations if o.party == party_id],
            steps_owed=[(s, state.steps[s.id]) for _, s in steps.values() if s.actor == party_id],
            steps_verified=[
                (s, state.steps[s.id])
                for _, s in steps.values()
                if s.verification is not None and party_id in s.verification.by
            ],
            guarantees=[
                (g, state.guarantees[g.id]) for g in rm.guarantees if party_id in g.guarantors
            ],
            events=[_event_row(e) for e in self.events_until(moment) if e.party == party_id],
            clock_note=self.clock_note(moment),
        )

    # --- ledger -----------------------------------------------------------------------

    def checkpoint_view(self) -> dict[str, Any] | None:
        """The latest checkpoint as the server reads it (the browser checks it again)."""
        note = self.source.checkpoint()
        if note is None:
            return None
        view: dict[str, Any] = {"note": note.decode("utf-8", "replace")}
        try:
            checkpoint, _ = open_checkpoint(note, Verifier.from_text(self.source.log_key))
            view["checkpoint"] = checkpoint
            view["root_hex"] = checkpoint.root_hash.hex()
            view["log_signature"] = "valid"
        except Error as e:
            view["checkpoint"] = None
            view["log_signature"] = f"does not verify: {e}"
        policy = self.source.witness_policy
        if policy is not None:
            try:
                result = policy.check(note)
            except Error as e:
                view["witness_error"] = str(e)
            else:
                view["witnesses"] = result
                view["cosigned_at"] = {
                    c.name: dt.datetime.fromtimestamp(c.timestamp, dt.UTC)
                    for c in result.cosignatures
                }
        return view

    def ledger(self, start: str | None) -> HTMLResponse:
        events = self.source.events()
        first = 0
        if start:
            if not _INDEX.fullmatch(start):
                raise PageError(400, "Not an entry number", f"?start={start[:32]!r} is not.")
            first = min(int(start), max(len(events) - 1, 0))
        shown = events[first : first + PAGE_SIZE]
        return self.render(
            "ledger.html.j2",
            depth=0,
            section="ledger",
            size=len(events),
            first=first,
            rows=[_event_row(e) for e in shown],
            previous=max(first - PAGE_SIZE, 0) if first > 0 else None,
            next=first + PAGE_SIZE if first + PAGE_SIZE < len(events) else None,
            cp=self.checkpoint_view(),
            log_key=self.source.log_key,
            policy=self.source.witness_policy,
            parties=self.parties(),
        )

    def _index(self, index: str) -> int:
        n = len(self.source.events())
        if not _INDEX.fullmatch(index) or int(index) >= n:
            raise PageError(
                404, "No such entry", f"The log has no entry {index[:32]!r} ({n} entries)."
            )
        return int(index)

    def entry(self, index: str) -> HTMLResponse:
        i = self._index(index)
        event = self.source.events()[i]
        raw = self.source.entry(i)
        cp = self.checkpoint_view()
        size = cp["checkpoint"].tree_size if cp and cp.get("checkpoint") else None
        proof = self.source.inclusion_proof(i, size) if size is not None and i < size else None
        return self.render(
            "entry.html.j2",
            depth=1,
            section="ledger",
            row=_event_row(event),
            event_json=json.dumps(event.signed.to_dict(), indent=2, ensure_ascii=False),
            entry_b64=base64.b64encode(raw).decode("ascii"),
            entry_size=len(raw),
            leaf_hex=merkle.leaf_hash(raw).hex(),
            cp=cp,
            size=size,
            proof=proof,
            path_hex=[p.hex() for p in proof.proof] if proof else [],
            parties=self.parties(),
            has_witnesses=self.source.witness_policy is not None,
            total=len(self.source.events()),
        )

    def proof_json(self, index: str) -> JSONResponse:
        """What the browser needs to check entry ``index`` against the signed checkpoint."""
        try:
            i = self._index(index)
        except PageError as e:
            return JSONResponse({"detail": e.message}, status_code=404)
        note = self.source.checkpoint()
        if note is None:
            return JSONResponse({"detail": "no checkpoint has been published yet"}, 404)
        try:
            checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
        except Error as e:
            return JSONResponse({"detail": f"the latest checkpoint is malformed: {e}"}, 502)
        if i >= checkpoint.tree_size:
            detail = (
                f"entry {i} is newer than the latest checkpoint "
                f"(tree size {checkpoint.tree_size}); a later checkpoint will cover it"
            )
            return JSONResponse({"detail": detail}, 404)
        policy = self.source.witness_policy
        doc = {
            "leaf_index": i,
            "entry": base64.b64encode(self.source.entry(i)).decode("ascii"),
            "checkpoint": note.decode("utf-8"),
            "log_key": self.source.log_key,
            "witnesses": None
            if policy is None
            else {
                "threshold": policy.threshold,
                "keys": [w.to_text() for w in policy.witnesses],
            },
            "inclusion": self.source.inclusion_proof(i, checkpoint.tree_size).to_dict(),
        }
        return JSONResponse(doc, headers={"Cache-Control": "no-store"})

    # --- escrow -----------------------------------------------------------------------

    def escrow(self, at: str | None) -> HTMLResponse:
        moment, at = self.moment(at)
        state = self.source.state(moment)
        events = self.events_until(moment)
        inspections: dict[str, dict[str, Any]] = {}
        for e in events:
            body = e.body.model_dump()
            if e.type == "inspection.planned":
                inspections[body["inspection"]] = {"plan": e, "body": body, "report": None}
            elif e.type == "inspection.reported" and body["inspection"] in inspections:
                inspections[body["inspection"]]["report"] = (e, body["findings"])
        titles = (
            {d.id: d.title for d in self.source.roadmap.escrow.declarations}
            if (self.source.roadmap.escrow)
            else {}
        )
        series = {d: self._confidence_series(d, events, state) for d in state.declarations}
        return self.render(
            "escrow.html.j2",
            depth=0,
            at=at,
            section="escrow",
            state=state,
            titles=titles,
            inspections=inspections,
            series=series,
            chart=_script_json(
                {
                    d: {"x": [_plot_time(p[0]) for p in s], "y": [p[1] for p in s]}
                    for d, s in series.items()
                }
            ),
            parties=self.parties(),
            clock_note=self.clock_note(moment),
        )

    def _confidence_series(
        self, declaration: str, events: Sequence[AdmittedEvent], state: AgreementState
    ) -> list[tuple[dt.datetime, float, int | None]]:
        """(moment, confidence %, entry) after each event that can move the confidence."""
        moved = {e.time: e.index for e in events if _escrow_event(e, declaration)}
        moments = sorted(moved)
        if len(moments) > MAX_CHART_POINTS:  # keep the first and the newest
            moments = [moments[0], *moments[-(MAX_CHART_POINTS - 1) :]]
        out: list[tuple[dt.datetime, float, int | None]] = []
        for moment in moments:
            d = self.source.state(moment).declarations.get(declaration)
            if d is not None:
                out.append((moment, round(d.confidence * 100, 2), moved[moment]))
        if not out or out[-1][0] != state.at:
            now = state.declarations[declaration]
            out.append((state.at, round(now.confidence * 100, 2), None))
        return out

    # --- reference --------------------------------------------------------------------

    def reference(self) -> HTMLResponse:
        nwfz, data = zones(), cica()
        return self.render(
            "reference.html.j2",
            depth=0,
            section="reference",
            zones=nwfz,
            pending=pending_protocols(nwfz),
            cica=data,
            catalogue=data.catalogue,
        )


def _plot_time(moment: dt.datetime) -> str:
    """A moment as Plotly's date axis reads it (UTC, no offset)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _script_json(value: Any) -> str:
    """JSON to put inside a <script> element: no '<', '>' or '&' can end it early."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _urlencode(params: dict[str, str | None]) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


def _static_files() -> dict[str, Path]:
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in _MEDIA}
    plotly = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    files["plotly.min.js"] = Path(str(plotly))
    return files


def _guard(dash: _Dashboard, depth: int, page: Callable[[], HTMLResponse]) -> HTMLResponse:
    try:
        return page()
    except PageError as e:
        return dash.error(e, depth)


def dashboard_router(source: Source) -> APIRouter:
    """The dashboard's pages for one agreement, to mount under any prefix.

    Args:
        source: what the pages read (the service's open agreement).

    Returns:
        A router with ``/``, ``/steps/{id}``, ``/parties/{id}``, ``/ledger``,
        ``/ledger/{index}``, ``/ledger/{index}/proof.json``, ``/escrow``,
        ``/reference`` and ``/static/{name}``.
    """
    dash = _Dashboard(source)
    static = _static_files()
    router = APIRouter()
    html: dict[str, Any] = {"response_class": HTMLResponse, "include_in_schema": False}

    @router.get("/", **html)
    def overview(at: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.overview(at))

    @router.get("/steps/{step_id}", **html)
    def step(step_id: str, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.step(step_id, at))

    @router.get("/parties/{party_id}", **html)
    def party(party_id: str, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.party(party_id, at))

    @router.get("/ledger", **html)
    def ledger(start: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.ledger(start))

    @router.get("/ledger/{index}", **html)
    def entry(index: str) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.entry(index))

    @router.get("/ledger/{index}/proof.json", include_in_schema=False)
    def proof(index: str) -> JSONResponse:
        return dash.proof_json(index)

    @router.get("/escrow", **html)
    def escrow(at: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.escrow(at))

    @router.get("/reference", **html)
    def reference() -> HTMLResponse:
        return _guard(dash, 0, dash.reference)

    @router.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        path = static.get(name)
        if path is None:
            e = PageError(404, "Not found", f"There is no file {name[:64]!r} here.")
            return dash.error(e, 1)
        return FileResponse(
            path,
            media_type=_MEDIA[path.suffix],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return router


__all__ = ["PageError", "dashboard_router", "parse_at"]
