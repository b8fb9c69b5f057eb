"""Renderings of an agreement's state: plain data for JSON, and a one-page HTML report.

The HTML report is self-contained (inline CSS and SVG, no script, no network) so it
can be mailed, archived or opened offline. Rendering reads no clock: the moment
shown is the state's own ``at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from cvid import i18n
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import InputError
from cvid.report import sentences, timeline
from cvid.report.names import OWED, PURPOSES, Names
from cvid.report.palette import STATUS_COLOURS, measure_status, status_label, status_symbol
from cvid.roadmap.model import Consequence, Reward, RoadMap
from cvid.roadmap.translations import localized

if TYPE_CHECKING:
    from jinja2 import Environment


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELDS.get(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


KEEP = 100  # list items in a bounded state document, by default: the newest
MAX_KEEP = 1000
GROWING = ("drafts", "beacon_rounds", "decisions")
"""The state's keyed collections that grow with the log (one entry per Council draft
tabled, beacon round, joint-body decision proposed), each in the order its first event
was logged. Every other keyed collection is bounded by the road map: its steps, phases,
guarantees, parties, items (``custody``), declarations, limits, obligations, devices...
(the lists inside them are cut like any other)."""

_SEQUENCES = (list, tuple)


def _escape(token: str) -> str:
    """A JSON pointer's reference token for ``token`` (RFC 6901)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _Cutter:
    """Converts to plain data keeping the newest ``keep`` items of every list, before
    converting them, and notes the JSON pointer of each list it cut."""

    __slots__ = ("cut", "keep")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.cut: list[str] = []

    def put(
        self, out: dict[str, Any], key: str, value: Any, pointer: str, keep: int | None = None
    ) -> None:
        """``out[key]`` = ``value``; if it is a list longer than ``keep`` (default: the
        cutter's), its tail, and then ``out[key + "_total"]``, its full length."""
        n = self.keep if keep is None else keep
        if type(value) in _SEQUENCES and len(value) > n:
            out[key] = self.items(self.tail(value, pointer, n), pointer)
            out[key + "_total"] = len(value)
        else:
            out[key] = self.value(value, pointer)

    def tail(self, value: Any, pointer: str, keep: int) -> Any:
        self.cut.append(pointer)
        return value[len(value) - keep :]

    def items(self, value: Any, pointer: str) -> list[Any]:
        out = []
        for i, item in enumerate(value):
            if type(item) in _SCALARS:
                out.append(item)
                continue
            here = f"{pointer}/{i}"
            if type(item) in _SEQUENCES and len(item) > self.keep:  # a list in a list: no total
                out.append(self.items(self.tail(item, here, self.keep), here))
            else:
                out.append(self.value(item, here))
        return out

    def value(self, value: Any, pointer: str) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        names = _FIELDS.get(kind)
        if names is None:
            if isinstance(value, dt.datetime):
                return value.isoformat().replace("+00:00", "Z")
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
            elif isinstance(value, dict):
                out: dict[str, Any] = {}
                for key, item in value.items():
                    self.put(out, key, item, f"{pointer}/{_escape(str(key))}")
                return out
            elif isinstance(value, _SEQUENCES):
                return self.items(value, pointer)
            else:
                return value
        out = {}
        for name in names:
            self.put(out, name, getattr(value, name), f"{pointer}/{name}")
        return out


def _fields(keys: Collection[str] | None) -> list[str]:
    names = _FIELDS.get(AgreementState) or tuple(f.name for f in dataclasses.fields(AgreementState))
    return [n for n in names if keys is None or n == "at" or n in keys]


def _newest(collection: dict[str, Any], n: int) -> dict[str, Any]:
    """The last ``n`` entries of ``collection``, in its order, without copying the rest."""
    if n >= len(collection):
        return collection
    return dict(reversed(list(itertools.islice(reversed(collection.items()), n))))


def state_to_dict(
    state: AgreementState,
    keep: int | None = None,
    *,
    keys: Collection[str] | None = None,
    keep_of: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The state as JSON-ready data (times as RFC 3339 UTC strings).

    Args:
        keep: None: everything. A number: a bounded document, whatever the log holds.
            Every list longer than ``keep`` holds only its newest ``keep`` items (its
            last: the lists that grow are in time or log order) and the object holding
            it gets ``<key>_total``, the list's full length; each collection of
            :data:`GROWING` holds its newest ``keep`` entries, with ``<key>_total``
            always. The lists are cut before they are converted. The top level gets
            ``cut``: the JSON pointer (RFC 6901) of every list and collection cut, in
            document order; each resolves in the document returned.
        keys: only these top-level keys (and ``at``); default: every one.
        keep_of: a different ``keep`` for some top-level lists or collections
            (``{"drafts": 20}``); the lists inside them keep ``keep``.
    """
    if keep is None:
        return {name: _plain(getattr(state, name)) for name in _fields(keys)}
    cutter = _Cutter(keep)
    out: dict[str, Any] = {}
    for name in _fields(keys):
        value = getattr(state, name)
        n = keep_of.get(name, keep) if keep_of else keep
        pointer = "/" + name
        if name in GROWING:
            if len(value) > n:
                cutter.cut.append(pointer)
            out[name] = cutter.value(_newest(value, n), pointer)
            out[name + "_total"] = len(value)
        else:
            cutter.put(out, name, value, pointer, n)
    out["cut"] = cutter.cut
    return out


MAX_POINTER_CHARS = 500


def state_item(value: Any) -> Any:
    """One item of the state (a list's, a collection's) as JSON-ready data, whole."""
    return _plain(value)


def state_list(state: AgreementState, pointer: str, keep: int | None = KEEP) -> list[Any]:
    """The whole list (or collection of :data:`GROWING`: its values, in order) that
    ``pointer`` names in the state document bounded with ``keep`` (a pointer of its
    ``cut``; None: the whole document). Read from the state, not its plain data.

    Raises:
        InputError: ``pointer`` is not a JSON pointer, names nothing in the document,
            or names something other than a list or such a collection.
    """
    if not pointer.startswith("/") or len(pointer) > MAX_POINTER_CHARS:
        raise InputError(
            f"a path is a JSON pointer of at most {MAX_POINTER_CHARS} characters, "
            "such as /limits/<id>/history"
        )
    value: Any = state
    tokens = [_unescape(t) for t in pointer[1:].split("/")]
    for token in tokens:
        value = _step(value, token, keep)
    if isinstance(value, dict) and len(tokens) == 1 and tokens[0] in GROWING:
        return list(value.values())
    if type(value) not in _SEQUENCES:
        raise InputError(f"{pointer} is not a list of the state")
    return list(value)


def _step(value: Any, token: str, keep: int | None) -> Any:
    """One reference token of a pointer, from ``value``."""
    missing = InputError(f"the state has no {token!r} there")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if token not in {f.name for f in dataclasses.fields(value)}:
            raise missing
        return getattr(value, token)
    if isinstance(value, dict):
        if token not in value:
            raise missing
        return value[token]
    if type(value) in _SEQUENCES:
        if not token.isdecimal() or not token.isascii() or (token != "0" and token[0] == "0"):
            raise InputError(f"{token!r} is not a list index")
        i, n = int(token), len(value)
        shown = n if keep is None else min(n, keep)  # the document holds the last ones
        if i >= shown:
            raise InputError(f"index {i} is beyond the {shown} items the document holds")
        return value[n - shown + i]
    raise missing


def _when(value: dt.datetime | None) -> str:
    return moment_text(value) or "—"


def _table_word(table: Mapping[str, str], value: str) -> str:
    """``value`` in the report's language by ``table`` (else as given)."""
    return i18n.gettext_(table[value]) if value in table else value.replace("_", " ")


@functools.cache
def _env() -> Environment:
    """The report's Jinja environment (Jinja2 is in the core install; imported on use)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("cvid.report", "."),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        i18n.gettext_, i18n.ngettext_, newstyle=True
    )
    env.filters["when"] = _when
    env.filters["status_label"] = lambda status: i18n.gettext_(status_label(status))
    env.filters["status_symbol"] = status_symbol
    env.filters["sentence"] = sentences.translate  # an engine sentence in the report's language
    env.filters["engine_word"] = sentences.word
    env.filters["owed_kind"] = functools.partial(_table_word, OWED)
    env.filters["draft_purpose"] = functools.partial(_table_word, PURPOSES)
    env.globals["measure_status"] = measure_status
    return env


def render_html(
    roadmap: RoadMap, state: AgreementState, *, digest: str, lang: str = i18n.DEFAULT
) -> str:
    """A readable one-page HTML report of ``state``, with a phase timeline (the same
    component as the dashboard's, without links), in ``lang`` (see :mod:`cvid.i18n`).

    Raises:
        InputError: ``lang`` is not one of :data:`cvid.i18n.LANGUAGES`.
    """
    if lang not in i18n.LANGUAGES:
        known = ", ".join(i18n.LANGUAGES)
        raise InputError(f"no report in {lang!r}; the languages are: {known}")
    template = _env().get_template("report.html.j2")
    written, roadmap = roadmap, localized(roadmap, lang)  # the text in ``lang``; same ids
    names = Names.of(roadmap, written)
    token = i18n.current.set(lang)
    try:
        return _render(
            template, roadmap, state, digest=digest, names=names, lang=lang, written=written
        )
    finally:
        i18n.current.reset(token)


def _render(
    template: Any,
    roadmap: RoadMap,
    state: AgreementState,
    *,
    digest: str,
    names: Names,
    lang: str,
    written: RoadMap,
) -> str:
    rules: list[Reward | Consequence] = [*written.rewards, *written.consequences]
    html: str = template.render(
        lang=lang,
        roadmap=roadmap,
        state=state,
        digest=digest,
        colours=STATUS_COLOURS,
        timeline=timeline.build(
            roadmap,
            state,
            now_label=i18n.gettext_("state on"),
            undated_text=lambda n: (
                i18n.ngettext_("%(n)s step without a date yet", "%(n)s steps without a date yet", n)
                % {"n": n}
            ),
        ),
        parties=dict(names.short),
        names=names,
        conditions=names.conditions(roadmap),
        # the engine names rules by their titles as written (what is owed in return for)
        rule_titles={r.title: names.rules.get(r.id, r.title) for r in rules},
        limit_titles={x.id: x.title for x in roadmap.limits},
    )
    return html


__all__ = [
    "GROWING",
    "KEEP",
    "MAX_KEEP",
    "MAX_POINTER_CHARS",
    "STATUS_COLOURS",
    "render_html",
    "state_item",
    "state_list",
    "state_to_dict",
]
