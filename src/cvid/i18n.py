"""The languages of the dashboard and the report: gettext catalogues read with Babel,
and the choice of language for each request.

Catalogues ship as ``locale/<lang>.po`` and are compiled when first used (Babel reads
the ``.po`` and writes the ``.mo`` in memory). English is the source language. A
dashboard request's language comes from ``?lang=`` (remembered in a cookie), else
the cookie, else the browser's ``Accept-Language``, else English; the report's from
``cvid report --lang``. Templates mark their text with
``{% trans %}`` / ``_()``; those calls read the language of the request being
rendered from a context variable, so one Jinja environment serves every language.
"""

from __future__ import annotations

import contextvars
import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "cvid"
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT = "en"
COOKIE = "cvid_lang"

current: contextvars.ContextVar[str] = contextvars.ContextVar("cvid_lang", default=DEFAULT)


@cache
def catalogue(lang: str) -> Catalog | None:
    """The catalogue of ``lang`` as read from its ``.po`` (None: English, or none)."""
    path = LOCALE / f"{lang}.po"
    if lang == DEFAULT or not path.is_file():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the text as written)."""
    catalog = catalogue(lang)
    if catalog is None:
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_(message: str) -> str:
    return translations(current.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(current.get()).ngettext(singular, plural, n)


def pgettext_(context: str, message: str) -> str:
    return translations(current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined; it is translated (with
    :func:`gettext_`) where it is shown."""
    return message


def negotiate(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a request (see the module's docstring)."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    ranked: list[tuple[float, str]] = []
    for part in (accept or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES:
            ranked.append((weight, primary))
    return max(ranked, key=lambda r: r[0])[1] if ranked else DEFAULT


__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "catalogue",
    "current",
    "gettext_",
    "negotiate",
    "ngettext_",
    "pgettext_",
    "translations",
]
