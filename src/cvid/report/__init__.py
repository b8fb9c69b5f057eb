"""Renderings of an agreement's state: plain data for JSON, and a one-page HTML report.

The HTML report is self-contained (inline CSS and SVG, no script, no network) so it
can be mailed, archived or opened offline. Rendering reads no clock: the moment
shown is the state's own ``at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from cvid import i18n
from cvid.engine.state import AgreementState, moment_text
from cvid.errors import InputError
from cvid.report import sentences, timeline
from cvid.report.names import Names
from cvid.report.palette import STATUS_COLOURS, measure_status, status_label, status_symbol
from cvid.roadmap.model import RoadMap
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


def state_to_dict(state: AgreementState) -> dict[str, Any]:
    """The state as JSON-ready data (times as RFC 3339 UTC strings)."""
    out: dict[str, Any] = _plain(state)
    return out


def _when(value: dt.datetime | None) -> str:
    return moment_text(value) or "—"


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
    roadmap = localized(roadmap, lang)  # the text in ``lang`` where it is given; same ids
    names = Names.of(roadmap)
    token = i18n.current.set(lang)
    try:
        return _render(template, roadmap, state, digest=digest, names=names, lang=lang)
    finally:
        i18n.current.reset(token)


def _render(
    template: Any, roadmap: RoadMap, state: AgreementState, *, digest: str, names: Names, lang: str
) -> str:
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
    )
    return html


__all__ = ["STATUS_COLOURS", "render_html", "state_to_dict"]
