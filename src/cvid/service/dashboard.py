"""The public dashboard: server-rendered pages over one agreement's :class:`Source`.

Pages: the overview (state at any moment, ``?at=``), a page per step and per party,
the ledger explorer (entries, the signed checkpoint and its cosignatures, and each
entry's inclusion proof, which the reader's browser checks itself), declarations in
escrow and inspections, the reference data (NWFZs, CICA), and a small Monte Carlo
simulation of the road map under a shipped scenario. Everything but the in-browser
proof check reads with JavaScript off: the charts are SVG drawn on the server.

Every link is relative, so one router can be mounted under any prefix, more than once
in one app. Unknown ids give a 404 page and a bad ``?at=`` (or simulation query) a
400 page.

What this module does not do: write anything, read the clock (the moment shown by
default is ``source.now()``), or trust its own proof check: the server lists the
proof and the browser recomputes it from the entry and the signed checkpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from cvid import i18n
from cvid._when import parse_when
from cvid.engine.conditions import overdue_graces, references
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import Error, InputError, ScenarioError
from cvid.events.authz import AdmittedEvent
from cvid.events.bodies import BODIES
from cvid.i18n import N_
from cvid.log import merkle
from cvid.log.checkpoint import Checkpoint, open_checkpoint
from cvid.log.note import Note, Verifier
from cvid.reference import cica, pending_protocols, zones
from cvid.reference._facts import Fact
from cvid.report import STATUS_COLOURS, charts, feeds, sentences
from cvid.report import timeline as tl
from cvid.report.names import OWED, PURPOSES, Names
from cvid.report.palette import measure_status, status_label, status_symbol
from cvid.roadmap.model import (
    Consequence,
    Deadline,
    FirstEventAnchor,
    Phase,
    ResolutionAnchor,
    Reward,
    RoadMap,
    Step,
)
from cvid.roadmap.translations import localized, state_word
from cvid.service import listing
from cvid.service.headline import headline
from cvid.service.listing import Cursor, EventFilter
from cvid.service.monitoring_page import basis_word, facility_page, kind_word, monitoring_page
from cvid.service.source import Source
from cvid.sim import figures
from cvid.sim import scenario as sc
from cvid.sim.montecarlo import SimulationResult, simulate

HERE = Path(__file__).parent
STATIC = HERE / "static"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500  # ?limit= on a page that lists events
DRAFTS_SHOWN = 50  # the overview's table of Council drafts: the newest
INSPECTIONS_SHOWN = 20  # the escrow page's inspections: the newest
ALERTS_SHOWN = 100  # the overview's alerts, violations and snapback windows: the newest
ROUNDS_SHOWN = 50  # the escrow page's beacon rounds: the newest
ESCROW_TYPES = frozenset(
    {
        "declaration.committed",
        "declaration.revealed",
        "inspection.planned",
        "inspection.conducted",
        "inspection.reported",
        "beacon.committed",
        "beacon.revealed",
        "custody.handed_over",
        "custody.received",
    }
)
MAX_CHART_POINTS = 60
MIN_RUNS, MAX_RUNS, DEFAULT_RUNS = 10, 5000, 500  # 5000 runs take about a second
MAX_SEED, DEFAULT_SEED = 2**32 - 1, 1
OVERVIEWS_KEPT = 8  # overview pages kept (a few hundred kB each)
SIMULATIONS_KEPT = 16  # results cached per (scenario, runs, seed)
UNDETECTED_ROWS = 10  # the expected-undetected table: the horizon in this many steps
_INDEX = re.compile(r"0|[1-9][0-9]{0,18}")
_MEDIA = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
ATOM_MEDIA = "application/atom+xml; charset=utf-8"
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
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
    i18n.gettext_, i18n.ngettext_, newstyle=True
)
_env.filters["when"] = lambda value: moment_text(value) or "—"
_env.filters["day"] = lambda value: value.astimezone(dt.UTC).date().isoformat()


def _fact_text(fact: Fact) -> str:
    return ", ".join(fact.value) if isinstance(fact.value, tuple) else str(fact.value)


_env.filters["fact_value"] = _fact_text


def _status_word(status: str) -> str:
    """A status's word in the reader's language."""
    return i18n.gettext_(status_label(status))


_env.filters["status_label"] = _status_word
_ROLES = {  # cvid.roadmap.model.Role, in words
    "disarming_state": N_("disarming state"),
    "guarantor": N_("guarantor"),
    "party": N_("party"),
    "verifier": N_("verifier"),
    "council_permanent": N_("permanent Council member"),
    "council_elected": N_("elected Council member"),
    "operator": N_("operator"),
    "witness": N_("witness"),
    "secretariat": N_("secretariat"),
}
_RULE_KINDS = {"reward": N_("reward"), "consequence": N_("consequence")}


def _word(table: Mapping[str, str]) -> Callable[[str], str]:
    """A filter writing a value of ``table`` in the reader's language (else as given)."""

    def word(value: str) -> str:
        return i18n.gettext_(table[value]) if value in table else value.replace("_", " ")

    return word


# The labels of the reference data's facts (cvid/reference/data), and the kinds of zones
# and protocol steps it lists; a label the data adds is shown as its key.
_FACT_KEYS = {
    "opened": N_("opened for signature"),
    "signed": N_("signature"),
    "in_force": N_("entry into force"),
    "declared": N_("declaration"),
    "parties": N_("parties"),
    "scope": N_("scope"),
    "statement": N_("statement"),
    "proposal": N_("proposal"),
    "precedent": N_("precedent"),
    "treaty": N_("treaty"),
    "regional_states": N_("regional states"),
    "p5_protocol": N_("P5 protocol"),
    "cica_platform": N_("CICA platform"),
    "security_guarantees_called_for": N_("security guarantees called for"),
    "unga_resolution": N_("UNGA resolution"),
    "domestic_law": N_("domestic law"),
    "p5_joint_statement": N_("P5 joint statement"),
    "parallel_declarations": N_("parallel declarations"),
    "protocol_obstacles": N_("protocol obstacles"),
    "date": N_("date"),
    "place": N_("place"),
    "signatories": N_("signatories"),
}
_ZONE_KINDS = {
    "regional treaty": N_("regional treaty"),
    "regional treaty (proposed)": N_("regional treaty (proposed)"),
    "single-state status": N_("single-state status"),
    "global treaty": N_("global treaty"),
}
_AWAITING = {"signature": N_("signature"), "ratification": N_("ratification")}
_env.filters["fact_key"] = _word(_FACT_KEYS)
_env.filters["zone_kind"] = _word(_ZONE_KINDS)
_env.filters["awaiting"] = _word(_AWAITING)
_env.filters["role"] = _word(_ROLES)
_env.filters["owed_kind"] = _word(OWED)
_env.filters["rule_kind"] = _word(_RULE_KINDS)
_env.filters["draft_purpose"] = _word(PURPOSES)
_env.filters["device_kind"] = kind_word
_env.filters["balance_basis"] = basis_word
_env.filters["status_symbol"] = status_symbol
_env.filters["sentence"] = sentences.translate  # an engine sentence in the reader's language
_env.filters["engine_word"] = sentences.word
_env.globals["measure_status"] = measure_status


def _badge(status: str, key: str | None = None) -> Markup:
    """A status as a badge: its symbol and its word (a function, not a macro: the
    overview shows hundreds, and a macro call costs five times as much)."""
    shown = key or status
    symbol, word = escape(status_symbol(shown)), escape(_status_word(shown))
    return Markup(
        f'<span class="badge status-{escape(shown)}"><span class="sym" aria-hidden="true">'
        f"{symbol}</span> {word}</span>"
    )


_env.globals["badge"] = _badge
_env.globals["span"] = None  # the signed log's days (Dashboard.span), given per page
_env.filters["percent"] = lambda share: f"{share * 100:.1f} %"
_env.filters["days"] = lambda days: (
    "—"
    if days is None
    else i18n.ngettext_("%(num)s day", "%(num)s days", round(days)) % {"num": f"{days:,.0f}"}
)


class Footnotes:
    """Numbered sources for one page: the same source text gets the same number."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def ref(self, source: str) -> int:
        return self.numbers.setdefault(source, len(self.numbers) + 1)

    def items(self) -> list[tuple[int, str]]:
        return [(n, text) for text, n in self.numbers.items()]


class PageError(InputError):
    """A request the dashboard answers with an error page (404, 400, 503)."""

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
    try:
        return parse_when(text, "?at="), text
    except InputError as e:
        raise InputError(
            f"{e}; give a date (YYYY-MM-DD) or an RFC 3339 time such as 2027-03-01T12:00:00Z"
        ) from e


_FIELD_LABELS = {  # the fields of _SUMMARY_FIELDS, as a row names them
    "step": N_("step"),
    "outcome": N_("outcome"),
    "guarantee": N_("guarantee"),
    "draft": N_("draft"),
    "title": N_("title"),
    "vote": N_("vote"),
    "declaration": N_("declaration"),
    "inspection": N_("inspection"),
    "round": N_("round"),
    "item": N_("item"),
    "to": N_("to"),
    "reason": N_("reason"),
    "note": N_("note"),
}


def _summary(event: AdmittedEvent) -> str:
    """A line saying what an event is about, from the fields readers look for (the
    field names in the reader's language; the values as signed)."""
    body = event.body.model_dump(by_alias=True)
    parts = [
        i18n.gettext_("%(field)s: %(value)s")
        % {"field": i18n.gettext_(_FIELD_LABELS[k]), "value": body[k]}
        for k in _SUMMARY_FIELDS
        if isinstance(body.get(k), str)
    ]
    if event.type == "declaration.revealed":
        parts.append(i18n.gettext_("cells revealed with proof"))
    if event.type == "inspection.planned":
        parts.append(
            i18n.gettext_("%(field)s: %(value)s")
            % {"field": i18n.gettext_("cells"), "value": ", ".join(body.get("cells", []))}
        )
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


Query = Mapping[str, str]
# the events that can move a declaration's confidence (see _escrow_event)
_MOVES_CONFIDENCE = (
    "declaration.committed",
    "declaration.revealed",
    "inspection.planned",
    "inspection.reported",
)


@dataclass(frozen=True)
class _Listing:
    """A page of events with its filter form's values and the links around it."""

    rows: list[dict[str, Any]]
    form: dict[str, str]  # the filter's fields as given (to refill the form)
    fixed: frozenset[str]  # fields the page itself sets (not in the form)
    limit: int
    first: str | None  # query strings (``?...``) of the pages around this one
    previous: str | None
    next: str | None
    newest: str | None
    filtered: bool


def empty_listing(*, fixed: set[str] | None = None) -> _Listing:
    """A first page with no events and no filter (for rendering a template alone)."""
    form = dict.fromkeys(("party", "type", "step", "q", "since", "until"), "")
    return _Listing([], form, frozenset(fixed or ()), PAGE_SIZE, None, None, None, None, False)


def _words(text: str, **values: Any) -> Markup:
    """``text`` translated, its placeholders filled with ``values`` (escaped unless markup)."""
    return Markup(escape(i18n.gettext_(text))) % values


def _duration(d: Deadline) -> str:
    parts = []
    if d.years:
        parts.append(i18n.ngettext_("%(num)s year", "%(num)s years", d.years) % {"num": d.years})
    if d.months:
        parts.append(
            i18n.ngettext_("%(num)s month", "%(num)s months", d.months) % {"num": d.months}
        )
    if d.days:
        parts.append(i18n.ngettext_("%(num)s day", "%(num)s days", d.days) % {"num": d.days})
    return ", ".join(parts)


def deadline_words(
    d: Deadline, names: Names, phase_ids: set[str], link: Callable[[str], str]
) -> Markup:
    """A step's deadline as the road map states it, in the reader's language, with a link
    to the step or phase it counts from."""
    if d.date is not None:
        return Markup(escape(d.date.isoformat()))
    if d.earliest_of or d.latest_of:
        listed = Markup("; ").join(
            deadline_words(x, names, phase_ids, link) for x in d.earliest_of or d.latest_of or []
        )
        if d.earliest_of:
            return _words(N_("whichever comes first: %(list)s"), list=listed)
        return _words(N_("whichever comes last: %(list)s"), list=listed)
    after = d.after
    anchor: Markup
    if isinstance(after, ResolutionAnchor):
        anchor = _words(N_("the Council adopts %(resolution)s"), resolution=after.resolution)
    elif isinstance(after, FirstEventAnchor):
        anchor = _words(
            N_("the first %(type)s event"), type=Markup("<code>%s</code>") % after.first
        )
    elif after == "start":
        anchor = _words(N_("the road map's start"))
    elif after == "adoption":
        anchor = _words(N_("adoption"))
    elif after in phase_ids:
        there = Markup('<a href="%s#phase-%s">%s</a>') % (link(""), after, names.subject(after))
        anchor = _words(N_("the phase %(phase)s is complete"), phase=there)
    else:
        step = str(after)
        there = Markup('<a href="%s">%s</a>') % (link("steps/" + step), names.subject(step))
        anchor = _words(N_("%(step)s is done"), step=there)
    duration = _duration(d)
    if duration:
        return _words(N_("%(duration)s after %(anchor)s"), duration=duration, anchor=anchor)
    return _words(N_("when %(anchor)s"), anchor=anchor)


_env.globals["deadline_words"] = deadline_words


def _no_party(party_id: str) -> PageError:
    return PageError(
        404,
        i18n.gettext_("No such party"),
        i18n.gettext_("This road map has no party %(id)s.") % {"id": repr(party_id)},
    )


def _escrow_event(event: AdmittedEvent, declaration: str) -> bool:
    body = event.body.model_dump()
    return body.get("declaration") == declaration or event.type == "inspection.reported"


class _Dashboard:
    """The pages of one agreement; each handler renders from ``source`` alone."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._scenarios: tuple[dict[str, sc.Scenario], dict[str, str]] | None = None
        # per query and language: the view's words are in the reader's language
        self._simulations: OrderedDict[tuple[_SimulationQuery, str], _SimulationView] = (
            OrderedDict()
        )
        self._simulating = threading.Lock()
        self._simulations_lock = threading.Lock()
        self._names: dict[str, str] | None = None  # party names, for the text search
        # the road map's text, and its names, in each language read so far
        self._localized: dict[str, tuple[RoadMap, Names]] = {}
        # overview pages rendered, by what they show (see overview); each keeps its state
        self._overviews: OrderedDict[tuple[object, ...], tuple[AgreementState, bytes]] = (
            OrderedDict()
        )
        self._overviews_lock = threading.Lock()

    # --- shared -----------------------------------------------------------------------

    def _in_language(self) -> tuple[RoadMap, Names]:
        lang = i18n.current.get()
        if lang not in self._localized:
            rm = localized(self.source.roadmap, lang)
            self._localized[lang] = (rm, Names.of(rm, self.source.roadmap))
        return self._localized[lang]

    @property
    def rm(self) -> RoadMap:
        """The road map to show: its text in the reader's language where it gives one
        (the state and the digest are the original's; only text differs)."""
        return self._in_language()[0]

    @property
    def names(self) -> Names:
        """Names for ids, in the reader's language where the road map gives them."""
        return self._in_language()[1]

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
        rm = self.rm

        def link(path: str, *, keep_at: bool = True) -> str:
            return base + path + (query if keep_at else "")

        lang = i18n.current.get()
        original = self.source.roadmap

        page = _env.get_template(template).render(
            base=base,
            link=link,
            at=at,
            section=section,
            title_of_agreement=rm.agreement.title,
            agreement_id=rm.agreement.id,
            colours=STATUS_COLOURS,
            names=self.names,
            span=context.pop("span") if "span" in context else self.span(),
            lang=lang,
            languages=i18n.LANGUAGES,
            state_word=lambda state: state_word(original, lang, state),
            rule_titles=self.rule_titles(),
            obligation_titles={o.id: o.title for o in rm.obligations},
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def rule_titles(self) -> dict[str, str]:
        """Each reward's and consequence's title as written, to its title in the reader's
        language (the engine names rules by their titles: what a party owes in return for)."""
        rm = self.source.roadmap
        written: list[Reward | Consequence] = [*rm.rewards, *rm.consequences]
        shown = self.names.rules
        return {r.title: shown.get(r.id, r.title) for r in written}

    def span(self) -> dict[str, str] | None:
        """The days the signed log covers, first to last, and a moment inside them for the
        time-travel control's example (so a page about 1991 to 2014 proposes no later year)."""
        events = self.source.events()
        if not events:
            return None
        first, last = events[0].time.astimezone(dt.UTC), events[-1].time.astimezone(dt.UTC)
        middle = first + (last - first) / 2
        return {
            "first": first.date().isoformat(),
            "last": last.date().isoformat(),
            "example": f"{middle.date().isoformat()}T12:00:00Z",
        }

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
            message = i18n.gettext_(
                "?at=%(value)s is neither a date nor an RFC 3339 time with its offset; give a "
                "date (YYYY-MM-DD) or an RFC 3339 time such as 2027-03-01T12:00:00Z"
            ) % {"value": repr((at or "").strip()[:64])}
            raise PageError(400, i18n.gettext_("Not a date"), message) from e

    def parties(self) -> dict[str, str]:
        """Each party's short name (its name when the road map gives none)."""
        return dict(self.names.short)

    def steps(self) -> dict[str, tuple[Phase, Step]]:
        return {s.id: (ph, s) for ph in self.rm.phases for s in ph.steps}

    def index(self) -> listing.EventIndex:
        source = self.source
        return listing.index_of(source, source.events(), listing.step_ids(source.roadmap))

    def describe(self, event: AdmittedEvent) -> str:
        """What a row shows of an event, for the text search."""
        if self._names is None:
            self._names = dict(Names.of(self.source.roadmap).short)  # any language's
        name = self._names.get(event.party, event.party)
        return f"#{event.index} {event.type} {event.party} {name} {_summary(event)}"

    def listed(
        self,
        query: Query,
        *,
        at: str | None = None,
        party: str | None = None,
        until: dt.datetime | None = None,
        types: frozenset[str] = frozenset(),
        candidates: Sequence[int] | None = None,
    ) -> _Listing:
        """One page of events for ``query`` (filter, cursor, limit), within what the
        page fixes (a party, events up to its moment, some types, a candidate list).

        Raises:
            PageError: a malformed filter, limit or cursor (400).
        """
        fixed = {"party"} if party is not None else set()
        form = {k: query.get(k, "").strip()[:1000] for k in ("party", "type", "step", "q")}
        form |= {k: query.get(k, "").strip()[:64] for k in ("since", "until")}
        try:
            limit = _whole(query.get("limit") or None, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
            cursor_text, start = query.get("cursor"), query.get("start")
            cursor = Cursor.decode(cursor_text) if cursor_text else None
            if cursor is None and start:
                if not _INDEX.fullmatch(start):
                    raise InputError(f"?start={start[:32]!r} is not an entry number")
                cursor = Cursor(min(int(start), len(self.source.events())))
            chosen = listing.parse_types([form["type"]]) if form["type"] else frozenset()
            if types:
                chosen = (chosen & types) if chosen else types
                if not chosen:
                    chosen = frozenset({"-"})  # none of the page's types: matches nothing
            since = parse_when(form["since"], "since") if form["since"] else None
            latest = parse_when(form["until"], "until") if form["until"] else None
            f = EventFilter(
                party=party if party is not None else (form["party"] or None),
                types=chosen,
                step=form["step"] or None,
                since=since,
                until=min(latest, until) if latest and until else (latest or until),
                text=listing.parse_text(form["q"]),
            )
            events = self.source.events()
            index = self.index()
            pool = index.candidates(f, len(events))
            if candidates is not None and isinstance(pool, range):
                pool = [i for i in candidates if i < len(events)]
            elif candidates is not None:
                allowed = set(pool)
                pool = [i for i in candidates if i in allowed]
            found = listing.page(events, f, cursor, limit, candidates=pool, describe=self.describe)
        except Error as e:
            raise PageError(400, i18n.gettext_("Not a valid list"), str(e)) from e
        keep = {k: v for k, v in form.items() if v and k not in fixed}
        if at:
            keep["at"] = at
        if limit != PAGE_SIZE:
            keep["limit"] = str(limit)

        def there(c: Cursor | None) -> str | None:
            return "?" + _urlencode({**keep, "cursor": c.encode() if c else None})

        return _Listing(
            rows=[_event_row(e) for e in found.events],
            form=form,
            fixed=frozenset(fixed),
            limit=limit,
            first=there(None) if cursor is not None else None,
            previous=there(found.previous) if found.previous else None,
            next=there(found.next) if found.next else None,
            newest=there(Cursor(len(events), forward=False)) if found.next else None,
            filtered=any(v for k, v in form.items() if k not in fixed),
        )

    def list_context(self) -> dict[str, Any]:
        """What the filter form offers: parties, event types and steps."""
        return {
            "event_types": sorted(BODIES),
            "step_ids": sorted(self.steps()),
        }

    def clock_note(self, moment: dt.datetime) -> str:
        now = self.source.now()
        if moment > now:
            return i18n.gettext_(
                "after the service's clock (%(moment)s): as if nothing more is logged"
            ) % {"moment": moment_text(now)}
        return ""

    # --- overview ---------------------------------------------------------------------

    def overview(self, at: str | None) -> HTMLResponse:
        """The overview; the same page again while nothing it shows has changed (readers
        polling "now" share one rendering per state: 50 ms of the interpreter each at a
        million events)."""
        moment, at = self.moment(at)
        state = self.source.state(moment)
        # besides the state, what the page shows that changes: read once, for key and page
        shown: dict[str, Any] = {
            "checkpoint_size": self._checkpoint_size(),
            "span": self.span(),
            "clock_note": self.clock_note(moment),
        }
        key = (id(state), i18n.current.get(), at, json.dumps(shown))
        with self._overviews_lock:
            kept = self._overviews.get(key)
        if kept is not None and kept[0] is state:
            return HTMLResponse(kept[1])
        page = self._overview(state, at, shown)
        with self._overviews_lock:
            self._overviews[key] = (state, bytes(page.body))
            while len(self._overviews) > OVERVIEWS_KEPT:
                self._overviews.popitem(last=False)
        return page

    def _overview(
        self, state: AgreementState, at: str | None, shown: dict[str, Any]
    ) -> HTMLResponse:
        rm = self.rm
        at_query = "?" + _urlencode({"at": at}) if at else ""
        conditions = self.names.conditions(rm)
        return self.render(
            "overview.html.j2",
            depth=0,
            at=at,
            section="overview",
            roadmap=rm,
            state=state,
            digest=self.source.digest,
            parties=self.parties(),
            headline=headline(rm, state, self.names),
            timeline=tl.build(
                rm,
                state,
                href=lambda sid: f"steps/{sid}{at_query}",
                now_label=i18n.gettext_("shown") if at else i18n.gettext_("now"),
                undated_text=lambda n: (
                    i18n.ngettext_(
                        "%(n)s step without a date yet", "%(n)s steps without a date yet", n
                    )
                    % {"n": n}
                ),
            ),
            conditions=conditions,
            **shown,
            drafts=list(state.drafts.values())[-DRAFTS_SHOWN:],
            alerts=state.alerts[-ALERTS_SHOWN:],
            violations=state.violations[-ALERTS_SHOWN:],
            snapbacks=state.snapbacks[-ALERTS_SHOWN:],
            list_href=functools.partial(self.list_href, state.at),
        )

    def list_href(self, moment: dt.datetime, path: str) -> str | None:
        """The API's pages of the state's list at ``path`` (a JSON pointer) at ``moment``,
        relative to the site's root; None when this dashboard is served without the API
        (a mirror, a shipped example)."""
        if not getattr(self.source, "serves_lists", False):
            return None
        at = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return "api/v1/state/list?" + _urlencode({"path": path, "at": at, "limit": "1000"})

    def _checkpoint_size(self) -> int | None:
        cp = self.checkpoint_view()
        return cp["checkpoint"].tree_size if cp and cp.get("checkpoint") else None

    # --- steps and parties ------------------------------------------------------------

    def step(self, step_id: str, at: str | None, query: Query) -> HTMLResponse:
        phase, spec = self._step_spec(step_id)
        moment, at = self.moment(at)
        state = self.source.state(moment)
        rm = self.rm
        st = state.steps[step_id]
        index = self.index()
        named = [*index.by_step.get(step_id, ()), *index.cites.get(step_id, ())]
        related = sorted(set(st.events).union(named))
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
        sources: list[tuple[str, str]] = []
        if spec.source:
            sources.append((i18n.gettext_("This step"), spec.source))
        if phase.source:
            about = i18n.gettext_("The phase %(phase)s") % {"phase": phase.title}
            sources.append((about, phase.source))
        for rule in [r for r, _ in rewards] + [c for c, _, _ in consequences]:
            if rule.source:
                sources.append((rule.title, rule.source))
        overdue_days = (
            math.floor((moment - st.due).total_seconds() / 86_400)
            if st.due is not None and st.status in ("overdue", "violated") and moment > st.due
            else None
        )
        return self.render(
            "step.html.j2",
            depth=1,
            at=at,
            phase=phase,
            spec=spec,
            st=st,
            state=state,
            parties=self.parties(),
            full_names=dict(self.names.parties),
            sources=sources,
            overdue_days=overdue_days,
            conditions=self.names.conditions(rm),
            phase_ids={p.id for p in rm.phases},
            rewards=rewards,
            consequences=consequences,
            obligations=[
                o
                for o in state.owed
                if o.subject == step_id and o.kind not in ("perform", "confirm")
            ],
            listing=self.listed(query, at=at, until=moment, candidates=related),
            here="steps/" + step_id,
            **self.list_context(),
            clock_note=self.clock_note(moment),
        )

    def _step_spec(self, step_id: str) -> tuple[Phase, Step]:
        found = self.steps().get(step_id)
        if found is None:
            raise PageError(
                404,
                i18n.gettext_("No such step"),
                i18n.gettext_("This road map has no step %(id)s.") % {"id": repr(step_id)},
            )
        return found

    def party(self, party_id: str, at: str | None, query: Query) -> HTMLResponse:
        rm = self.rm
        spec = next((p for p in rm.parties if p.id == party_id), None)
        if spec is None:
            raise _no_party(party_id)
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
            obligations=[o for o in state.owed if o.party == party_id],
            steps_owed=[(s, state.steps[s.id]) for _, s in steps.values() if s.actor == party_id],
            steps_verified=[
                (s, state.steps[s.id])
                for _, s in steps.values()
                if s.verification is not None and party_id in s.verification.by
            ],
            guarantees=[
                (g, state.guarantees[g.id]) for g in rm.guarantees if party_id in g.guarantors
            ],
            listing=self.listed(query, at=at, party=party_id, until=moment),
            here="parties/" + party_id,
            **self.list_context(),
            clock_note=self.clock_note(moment),
        )

    # --- feeds ------------------------------------------------------------------------

    def feed(self, party_id: str | None) -> Response:
        """The Atom feed of alerts and deadlines, for the agreement or one party, in the
        reader's language (its links keep it: ``?lang=``)."""
        rm = self.rm
        if party_id is not None and party_id not in self.names.parties:
            raise _no_party(party_id)
        state = self.source.state(self.source.now())
        items = feeds.notices(self.source.roadmap, state, names=self.names)
        agreement = rm.agreement.title
        if party_id is None:
            scope, root = "agreement", "./"
            title = i18n.gettext_("%(agreement)s: alerts and deadlines") % {"agreement": agreement}
        else:
            items = [n for n in items if party_id in n.parties]
            scope, root = f"party/{party_id}", "../../"
            title = i18n.gettext_("%(party)s: alerts and deadlines (%(agreement)s)") % {
                "party": self.names.parties[party_id],
                "agreement": agreement,
            }
        query = "?" + _urlencode({"lang": i18n.current.get()})
        body = feeds.atom(
            rm,
            state,
            items,
            scope=scope,
            self_url="feed.atom" + query,
            site_url=root,
            title=title,
            query=query,
        )
        return Response(
            body,
            media_type=ATOM_MEDIA,
            headers={
                "Cache-Control": "no-cache",
                "Content-Language": i18n.current.get(),
                "Vary": "Accept-Language, Cookie",
            },
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
            view["log_signature"] = i18n.gettext_("does not verify: %(error)s") % {"error": e}
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

    def ledger(self, query: Query) -> HTMLResponse:
        size = len(self.source.events())
        return self.render(
            "ledger.html.j2",
            depth=0,
            section="ledger",
            size=size,
            listing=self.listed(query),
            here="ledger",
            **self.list_context(),
            cp=self.checkpoint_view(),
            log_key=self.source.log_key,
            policy=self.source.witness_policy,
            parties=self.parties(),
        )

    def _index(self, index: str) -> int:
        n = len(self.source.events())
        if not _INDEX.fullmatch(index) or int(index) >= n:
            raise PageError(
                404,
                i18n.gettext_("No such entry"),
                i18n.ngettext_(
                    "The log has no entry %(index)s (%(num)s entry).",
                    "The log has no entry %(index)s (%(num)s entries).",
                    n,
                )
                % {"index": repr(index[:32]), "num": n},
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
            proof_text={key: i18n.gettext_(text) for key, text in PROOF_TEXT.items()},
        )

    def proof_json(self, index: str) -> JSONResponse:
        """What the browser needs to check entry ``index`` against the signed checkpoint
        (a refusal's ``detail`` in the reader's language: the page shows it)."""
        try:
            i = self._index(index)
        except PageError as e:
            return JSONResponse({"detail": e.message}, status_code=404)
        note = self.source.checkpoint()
        if note is None:
            detail = i18n.gettext_("no checkpoint has been published yet")
            return JSONResponse({"detail": detail}, 404)
        try:
            checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
        except Error as e:
            detail = i18n.gettext_("the latest checkpoint is malformed: %(error)s") % {"error": e}
            return JSONResponse({"detail": detail}, 502)
        if i >= checkpoint.tree_size:
            detail = i18n.gettext_(
                "entry %(index)s is newer than the latest checkpoint (tree size %(size)s); "
                "a later checkpoint will cover it"
            ) % {"index": i, "size": checkpoint.tree_size}
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

    def escrow(self, at: str | None, query: Query) -> HTMLResponse:
        moment, at = self.moment(at)
        state = self.source.state(moment)
        events = self.source.events()
        index = self.index()
        planned = [
            events[i]
            for i in index.by_type.get("inspection.planned", [])
            if i < len(events) and events[i].time <= moment
        ]
        shown = planned[-INSPECTIONS_SHOWN:]
        inspections: dict[str, dict[str, Any]] = {}
        for e in shown:
            body = e.body.model_dump()
            inspections[body["inspection"]] = {"plan": e, "body": body, "report": None}
        for i in index.by_type.get("inspection.reported", []):
            if i >= len(events) or events[i].time > moment:
                continue
            body = events[i].body.model_dump()
            if body["inspection"] in inspections:
                inspections[body["inspection"]]["report"] = (events[i], body["findings"])
        titles = {d.id: d.title for d in self.rm.escrow.declarations} if (self.rm.escrow) else {}
        moving = sorted(
            i for t in _MOVES_CONFIDENCE for i in index.by_type.get(t, []) if i < len(events)
        )
        escrow_events = [events[i] for i in moving if events[i].time <= moment]
        series = {d: self._confidence_series(d, escrow_events, state) for d in state.declarations}
        return self.render(
            "escrow.html.j2",
            depth=0,
            at=at,
            section="escrow",
            state=state,
            titles=titles,
            inspections=inspections,
            inspections_hidden=len(planned) - len(shown),
            series=series,
            priors={d.id: self._prior_text(d.cells) for d in state.declarations.values()},
            charts={
                d: charts.line_chart(
                    [
                        charts.Series(
                            i18n.gettext_("confidence nothing is hidden"),
                            [p[0] for p in points],
                            [p[1] / 100 for p in points],
                        )
                    ],
                    label=i18n.gettext_("Confidence in completeness of %(name)s over time")
                    % {"name": titles.get(d, d)},
                    x_title=i18n.gettext_("moment (UTC)"),
                    y_title=i18n.gettext_("confidence"),
                    percent=True,
                    y_max=1.0,
                    steps=True,
                )
                for d, points in series.items()
            },
            parties=self.parties(),
            rounds=list(state.beacon_rounds.values())[-ROUNDS_SHOWN:],
            list_href=functools.partial(self.list_href, moment),
            listing=self.listed(query, at=at, until=moment, types=ESCROW_TYPES),
            here="escrow",
            **self.list_context(),
            clock_note=self.clock_note(moment),
        )

    def _prior_text(self, cells: int) -> str:
        """The road map's prior on the hidden cells, in words: the confidence depends on it."""
        escrow = self.source.roadmap.escrow
        if escrow is None:
            return ""
        prior = escrow.prior
        if prior.kind == "binomial":
            return i18n.gettext_(
                "assuming the road map's prior: each cell hides something with "
                "probability %(q)s, independently of the others"
            ) % {"q": f"{prior.q * 100:g} %"}
        return i18n.gettext_(
            "assuming the road map's prior: any number of falsified cells from 0 to "
            "%(max)s, each equally likely before the inspections"
        ) % {"max": min(prior.max_hidden, cells)}

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
            notes=Footnotes(),
            zone_names={z.id: z.name for z in nwfz},
            zones=nwfz,
            pending=pending_protocols(nwfz),
            cica=data,
            catalogue=data.catalogue,
        )

    # --- simulation -------------------------------------------------------------------

    def shipped_scenarios(self) -> tuple[dict[str, sc.Scenario], dict[str, str]]:
        """The shipped scenarios that fit this road map, and why each other one does not."""
        if self._scenarios is None:
            fitting: dict[str, sc.Scenario] = {}
            misfits: dict[str, str] = {}
            for name in sc.shipped_names():
                # By path rather than load_named: a file of that name in the service's
                # working directory must not stand in for the shipped scenario.
                try:
                    scenario = sc.load(sc.SHIPPED / f"{name}.yaml")
                    fitting[name] = sc.check(scenario, self.source.roadmap)
                except ScenarioError as e:
                    misfits[name] = str(e)
            self._scenarios = fitting, misfits
        return self._scenarios

    def simulation(self, scenario: str | None, runs: str | None, seed: str | None) -> HTMLResponse:
        fitting, misfits = self.shipped_scenarios()
        query: _SimulationQuery | None = None
        view: _SimulationView | None = None
        if scenario is not None or runs is not None or seed is not None:
            query = _SimulationQuery(
                scenario=_scenario_name(scenario, fitting, misfits),
                runs=_whole(runs, "runs", DEFAULT_RUNS, MIN_RUNS, MAX_RUNS),
                seed=_whole(seed, "seed", DEFAULT_SEED, 0, MAX_SEED),
            )
            view = self.simulated(query, fitting[query.scenario])
        chosen = query or _SimulationQuery(next(iter(fitting), ""), DEFAULT_RUNS, DEFAULT_SEED)
        return self.render(
            "simulation.html.j2",
            depth=0,
            section="simulation",
            scenarios=fitting,
            misfits=misfits,
            chosen=chosen,
            scenario=fitting.get(chosen.scenario),
            view=view,
            phase_titles={p.id: p.title for p in self.rm.phases},
            limits={"min_runs": MIN_RUNS, "max_runs": MAX_RUNS, "max_seed": MAX_SEED},
        )

    def simulated(self, query: _SimulationQuery, scenario: sc.Scenario) -> _SimulationView:
        """The view of one simulation, from the cache or run now (one at a time).

        Raises:
            PageError: 503 while another simulation runs (requests do not queue up
                behind it, holding the server's threads), 400 if it cannot run.
        """
        key = (query, i18n.current.get())
        with self._simulations_lock:
            view = self._simulations.get(key)
            if view is not None:
                self._simulations.move_to_end(key)
                return view
        if not self._simulating.acquire(blocking=False):
            raise PageError(
                503,
                i18n.gettext_("Busy"),
                i18n.gettext_("Another simulation is running; try again in a few seconds."),
            )
        try:
            try:
                result = simulate(
                    self.source.roadmap,
                    scenario,
                    runs=query.runs,
                    rng=np.random.default_rng(query.seed),
                )
            except Error as e:  # cvid's own refusal: a page saying why, not a 500
                raise PageError(400, i18n.gettext_("The simulation cannot run"), str(e)) from e
            view = _simulation_view(result, self.names)
        finally:
            self._simulating.release()
        with self._simulations_lock:
            self._simulations[key] = view
            if len(self._simulations) > SIMULATIONS_KEPT:
                self._simulations.popitem(last=False)
        return view


@dataclass(frozen=True)
class _SimulationQuery:
    scenario: str
    runs: int
    seed: int


@dataclass(frozen=True)
class _SimulationView:
    """What the simulation page shows of one result (cached, so read-only)."""

    runs: int
    trials: int
    completed: float
    completion_days: dict[str, float | None]  # mean, p10, p50, p90; None: no run completed
    detected: float
    false_alarm: float
    phases: tuple[tuple[str, float, float], ...]  # phase, detected before it, by its end
    undetected: tuple[tuple[float, float], ...]  # day, expected items hidden and undetected
    hidden: str
    replayed: int
    # element id, heading, about, the chart drawn as SVG on the server
    charts: tuple[tuple[str, str, str, Markup], ...]


_CHARTS = {  # marked for translation; translated when a page is drawn
    "completion": (
        N_("Completion time"),
        N_("The share of runs in which every phase is complete, by day."),
    ),
    "detection": (
        N_("Detection of hidden items, by phase"),
        N_(
            "The probability that hidden items are detected before each phase starts "
            "and by the time it ends."
        ),
    ),
    "undetected": (
        N_("Expected undetected items"),
        N_(
            "The expected number of hidden items not yet detected, over time, from the "
            "items kept back at the outset."
        ),
    ),
    "trajectories": (
        N_("Sanctions and guarantees in force"),
        N_(
            "The share of the runs replayed through the compliance engine in which each "
            "measure and guarantee is in force, over time."
        ),
    ),
}


# What the in-browser proof check (static/proof.js) writes, by key: the entry page hands
# them to the script translated, in a data attribute (no inline script: the page policy
# forbids it). Placeholders are filled in by the script.
PROOF_TEXT = {
    "unavailable": N_(
        "Not checked: this page is not in a secure context (https or localhost), so the "
        "browser offers no WebCrypto."
    ),
    "no-proof": N_("the server sent no proof: %(detail)s"),
    "root-only": N_(
        "Root verified by your browser; the checkpoint's signatures were not checked: %(reason)s."
    ),
    "no-ed25519": N_("this browser cannot verify Ed25519 (%(error)s)"),
    "verified": N_(
        "Proof verified by your browser: entry %(index)s is in the log's signed tree of "
        "%(size)s entries; the log's signature is valid."
    ),
    "verified-witnessed": N_(
        "Proof verified by your browser: entry %(index)s is in the log's signed tree of "
        "%(size)s entries; the log's signature is valid; %(cosigned)s witnesses cosigned it "
        "(%(threshold)s needed)."
    ),
    "failed": N_("Proof check FAILED: %(reason)s"),
    "what-entry": N_("the entry"),
    "what-signature": N_("a signature"),
    "what-key": N_("a key"),
    "what-root": N_("the checkpoint's root hash"),
    "bad-base64": N_("%(what)s is not valid base64"),
    "wrong-entry": N_("the proof is for entry %(index)s, not entry %(page)s"),
    "leaf": N_("leaf hash = SHA-256(0x00 ‖ entry of %(bytes)s bytes) = %(hash)s (RFC 9162 §2.1.1)"),
    "path-size": N_("path[%(k)s] is not a 32-byte hash"),
    "leaf-index": N_("step 1: leaf index %(index)s is not below tree size %(size)s"),
    "walk": N_("fn = %(fn)s, sn = %(sn)s, r = leaf hash (RFC 9162 §2.1.3.2 steps 2-3)"),
    "too-long": N_("step 4.a: the path has more hashes than a tree of %(size)s needs"),
    "left": N_(
        "path[%(k)s] is the left sibling: r = SHA-256(0x01 ‖ path[%(k)s] ‖ r) = %(hash)s "
        "(step 4.b.i)"
    ),
    "right": N_(
        "path[%(k)s] is the right sibling: r = SHA-256(0x01 ‖ r ‖ path[%(k)s]) = %(hash)s "
        "(step 4.b, otherwise)"
    ),
    "too-short": N_("step 5: the path ends before the root (sn = %(sn)s, not 0)"),
    "no-blank-line": N_("the checkpoint note has no blank line before its signatures"),
    "few-lines": N_("the checkpoint needs origin, size and root lines"),
    "bad-size": N_("the checkpoint's tree size is not a number"),
    "bad-signature-line": N_("a signature line does not start with '%(dash)s'"),
    "root-length": N_("the checkpoint's root hash is not 32 bytes"),
    "key-format": N_("a key is not in the signed-note key format"),
    "key-type": N_("key %(name)s is not an Ed25519 key of type %(type)s"),
    "key-id": N_("key %(name)s: its id %(id)s does not match the key"),
    "checkpoint": N_("checkpoint: origin %(origin)s, tree size %(size)s, root %(root)s"),
    "size-mismatch": N_(
        "the proof is for a tree of %(size)s entries, the checkpoint for %(checkpoint)s"
    ),
    "root-mismatch": N_("the computed root %(computed)s is not the checkpoint's root %(root)s"),
    "in-tree": N_("computed root = checkpoint root: entry %(index)s is in the signed tree"),
    "origin": N_("the log key's name %(name)s is not the checkpoint's origin"),
    "no-log-signature": N_("the checkpoint has no signature by the log key %(name)s"),
    "bad-log-signature": N_("the log's Ed25519 signature on the checkpoint is invalid"),
    "log-signature": N_("the log's Ed25519 signature on the checkpoint is valid (key %(key)s)"),
    "no-cosignature": N_("witness %(name)s: no cosignature"),
    "cosignature-length": N_("witness %(name)s: the cosignature is not 8 + 64 bytes"),
    "bad-cosignature": N_("witness %(name)s: the cosignature is invalid"),
    "cosignature": N_("witness %(name)s: cosignature valid (cosignature/v1, time %(time)s)"),
    "too-few-witnesses": N_(
        "%(cosigned)s of %(threshold)s required witnesses cosigned the checkpoint"
    ),
}


def _behaviour_text(behaviour: sc.Behaviour, names: Names) -> str:
    match behaviour.kind:
        case "hide":
            return i18n.ngettext_(
                "keeps %(num)s item back from its declaration from the outset",
                "keeps %(num)s items back from its declaration from the outset",
                behaviour.items,
            ) % {"num": behaviour.items}
        case "divert":
            return i18n.ngettext_(
                "diverts %(num)s item when the phase %(phase)s starts",
                "diverts %(num)s items when the phase %(phase)s starts",
                behaviour.items,
            ) % {"num": behaviour.items, "phase": names.subject(behaviour.phase or "")}
        case "refuse_reveal":
            return i18n.gettext_("never carries out the reveal step %(step)s") % {
                "step": names.subject(behaviour.step or "")
            }
        case _:
            return i18n.gettext_("complies: declares everything and carries out every step")


def _simulation_view(result: SimulationResult, names: Names) -> _SimulationView:
    s = result.summary
    rows = np.linspace(0, s.grid_days.size - 1, UNDETECTED_ROWS + 1).round().astype(int)
    drawn = tuple(
        (
            f"figure-{name}",
            i18n.gettext_(_CHARTS[name][0]),
            i18n.gettext_(_CHARTS[name][1]),
            _svg_chart(name, fig, names),
        )
        for name, fig in figures.simulation_figures(result).items()
    )
    return _SimulationView(
        runs=s.runs,
        trials=s.trials,
        completed=s.completed,
        completion_days={k: v if math.isfinite(v) else None for k, v in s.completion_days.items()},
        detected=s.detected,
        false_alarm=s.false_alarm,
        phases=tuple(
            (p, s.detection_before_phase[p], s.detection_by_phase_end[p]) for p in result.phases
        ),
        undetected=tuple((float(s.grid_days[i]), float(s.expected_undetected[i])) for i in rows),
        hidden=_behaviour_text(result.scenario.behaviour, names),
        replayed=len(result.trajectories),
        charts=drawn,
    )


_SERIES = {  # the simulation figures' series (cvid.sim.figures), as the charts name them
    "complete": N_("runs complete"),
    "before the phase starts": N_("before the phase starts"),
    "by its end": N_("by its end"),
}


def _series_name(name: str) -> str:
    return i18n.gettext_(_SERIES[name]) if name in _SERIES else name


def _svg_chart(name: str, fig: Any, names: Names) -> Markup:
    """One of the simulation's figures drawn as SVG on the server, in the site's theme
    (shares as percentages, names for ids); the figure supplies the numbers."""
    traces = list(fig.data)
    days = i18n.gettext_("days after the agreement's start")
    label = i18n.gettext_(_CHARTS[name][0])
    if name == "detection":
        return charts.bar_chart(
            [names.subject(str(p)) for p in traces[0].x] if traces else [],
            [(_series_name(str(t.name)), [float(v) for v in t.y]) for t in traces],
            label=label,
            y_title=i18n.gettext_("probability"),
            percent=True,
        )
    series = []
    for t in traces:
        named = _series_name(str(t.name or ""))
        kind, _, ident = named.partition(" ")
        if kind in ("measure", "guarantee") and ident:
            what = i18n.gettext_("measure") if kind == "measure" else i18n.gettext_("guarantee")
            named = f"{names.subject(ident)} ({what})"
        series.append(
            charts.Series(
                named,
                [float(x) for x in t.x],
                [float(y) for y in t.y],
                dashed=kind == "guarantee",
            )
        )
    if name == "undetected":
        return charts.line_chart(
            series, label=label, x_title=days, y_title=i18n.gettext_("items"), percent=False
        )
    y_title = (
        i18n.gettext_("runs complete") if name == "completion" else i18n.gettext_("runs in force")
    )
    return charts.line_chart(
        series,
        label=label,
        x_title=days,
        y_title=y_title,
        percent=True,
        y_max=1.0,
        steps=True,
    )


def _whole(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A simulation query value: a whole number in [low, high], else a 400 page."""
    if text is None:
        return default
    text = text.strip()
    if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
        raise PageError(
            400,
            i18n.gettext_("Not a valid %(name)s") % {"name": name},
            i18n.gettext_("?%(name)s=%(value)s is not a whole number from %(low)s to %(high)s.")
            % {"name": name, "value": repr(text[:32]), "low": low, "high": high},
        )
    return int(text)


def _scenario_name(
    text: str | None, fitting: dict[str, sc.Scenario], misfits: dict[str, str]
) -> str:
    """The scenario a query names (default: the first that fits), else a 400 page."""
    if text is None and fitting:
        return next(iter(fitting))
    if text is None:
        raise PageError(
            400,
            i18n.gettext_("No scenario to run"),
            i18n.gettext_("No shipped scenario fits this road map, so none can run."),
        )
    if text in fitting:
        return text
    if text in misfits:
        raise PageError(
            400,
            i18n.gettext_("The scenario does not fit"),
            i18n.gettext_("Scenario %(name)s does not fit this road map: %(why)s")
            % {"name": repr(text), "why": misfits[text]},
        )
    known = ", ".join(fitting) or i18n.gettext_("none fits this road map")
    raise PageError(
        400,
        i18n.gettext_("No such scenario"),
        i18n.gettext_("There is no scenario %(name)s (%(known)s).")
        % {"name": repr(text[:64]), "known": known},
    )


def _urlencode(params: dict[str, str | None]) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


def _static_files() -> dict[str, Path]:
    return {p.name: p for p in STATIC.iterdir() if p.suffix in _MEDIA}


def _language(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language"),
    )


def _in_language(request: Request, answer: Callable[[], Response]) -> Response:
    """``answer()`` in the request's language (a feed, the proof's JSON): ``?lang=``, the
    cookie or ``Accept-Language``, as for a page, but no cookie is set."""
    token = i18n.current.set(_language(request))
    try:
        return answer()
    finally:
        i18n.current.reset(token)


def _feed_or_error(dash: _Dashboard, party_id: str | None, depth: int) -> Response:
    try:
        return dash.feed(party_id)
    except PageError as e:
        return dash.error(e, depth)


def _guard(
    dash: _Dashboard, depth: int, page: Callable[[], HTMLResponse], request: Request
) -> HTMLResponse:
    """Render ``page`` in the request's language; an error page for a PageError."""
    asked = request.query_params.get("lang")
    lang = _language(request)
    token = i18n.current.set(lang)
    try:
        try:
            response = page()
        except PageError as e:
            response = dash.error(e, depth)
    finally:
        i18n.current.reset(token)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    if asked in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86_400, samesite="lax", httponly=True)
    return response


def dashboard_router(source: Source) -> APIRouter:
    """The dashboard's pages for one agreement, to mount under any prefix.

    Args:
        source: what the pages read (the service's open agreement).

    Returns:
        A router with ``/``, ``/feed.atom``, ``/steps/{id}``, ``/parties/{id}``,
        ``/parties/{id}/feed.atom``, ``/ledger``,
        ``/ledger/{index}``, ``/ledger/{index}/proof.json``, ``/escrow``, ``/monitoring``,
        ``/monitoring/{item}``,
        ``/reference``, ``/simulation`` and ``/static/{name}``.
    """
    dash = _Dashboard(source)
    static = _static_files()
    router = APIRouter()
    html: dict[str, Any] = {"response_class": HTMLResponse, "include_in_schema": False}

    @router.get("/", **html)
    def overview(request: Request, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.overview(at), request)

    @router.get("/steps/{step_id}", **html)
    def step(request: Request, step_id: str, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.step(step_id, at, request.query_params), request)

    @router.get("/parties/{party_id}", **html)
    def party(request: Request, party_id: str, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.party(party_id, at, request.query_params), request)

    @router.get("/feed.atom", include_in_schema=False)
    def feed(request: Request) -> Response:
        return _in_language(request, lambda: _feed_or_error(dash, None, 0))

    @router.get("/parties/{party_id}/feed.atom", include_in_schema=False)
    def party_feed(request: Request, party_id: str) -> Response:
        return _in_language(request, lambda: _feed_or_error(dash, party_id, 2))

    @router.get("/ledger", **html)
    def ledger(request: Request) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.ledger(request.query_params), request)

    @router.get("/ledger/{index}", **html)
    def entry(request: Request, index: str) -> HTMLResponse:
        return _guard(dash, 1, lambda: dash.entry(index), request)

    @router.get("/ledger/{index}/proof.json", include_in_schema=False)
    def proof(request: Request, index: str) -> Response:
        return _in_language(request, lambda: dash.proof_json(index))

    @router.get("/escrow", **html)
    def escrow(request: Request, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: dash.escrow(at, request.query_params), request)

    @router.get("/monitoring", **html)
    def monitoring(request: Request, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 0, lambda: monitoring_page(dash, at), request)

    @router.get("/monitoring/{item}", **html)
    def facility(request: Request, item: str, at: str | None = None) -> HTMLResponse:
        return _guard(dash, 1, lambda: facility_page(dash, item, at), request)

    @router.get("/reference", **html)
    def reference(request: Request) -> HTMLResponse:
        return _guard(dash, 0, dash.reference, request)

    @router.get("/simulation", **html)
    def simulation(
        request: Request,
        scenario: str | None = None,
        runs: str | None = None,
        seed: str | None = None,
    ) -> HTMLResponse:
        # A sync route: FastAPI runs it in its threadpool, so a simulation (at most
        # MAX_RUNS runs, about a second) does not block the event loop.
        return _guard(dash, 0, lambda: dash.simulation(scenario, runs, seed), request)

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
