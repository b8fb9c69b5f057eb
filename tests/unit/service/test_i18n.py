"""The dashboard's languages: a complete French catalogue, and the choice of language."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI

from cvid import i18n
from cvid.errors import InputError
from cvid.report import render_html
from cvid.report.palette import STATUS_COLOURS, status_label
from cvid.service.app import FrozenSource
from cvid.service.dashboard import HERE, dashboard_router
from tests.service_support import build_agreement

REPORT = Path(render_html.__code__.co_filename).parent


def _template_messages() -> set[str | tuple[str, str]]:
    """Every text the dashboard's and the report's templates and code mark for translation."""
    method_map = [("**.j2", "jinja2"), ("**.py", "python")]
    options = {"**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
    # the Python code marks its text with cvid.i18n's functions
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "gettext_": None,
        "ngettext_": (1, 2),
    }
    keywords["N_"] = None
    found: set[str | tuple[str, str]] = set()
    for where in (HERE, REPORT):
        for _file, _line, message, _comments, _context in extract_from_dir(
            where, method_map, options_map=options, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_the_french_catalogue_translates_every_marked_text() -> None:
    with (i18n.LOCALE / "fr.po").open("rb") as f:
        catalog = read_po(f, locale="fr")
    translated = {
        (m.id if isinstance(m.id, str) else (m.id[0], m.id[1])): m.string for m in catalog if m.id
    }
    wanted = _template_messages()
    wanted |= {status_label(s) for s in STATUS_COLOURS}
    assert len(wanted) > 90
    missing = [w for w in wanted if not translated.get(w)]
    assert missing == []
    for key, value in translated.items():
        values = [value] if isinstance(value, str) else list(value or ())
        assert all(values), key
        source = key if isinstance(key, str) else key[1]
        for placeholder in set(re.findall(r"%\([a-z]+\)s", source)) | {"%(moment)s", "%(n)s"}:
            assert (placeholder in source) == all(placeholder in v for v in values), key


def test_the_catalogue_compiles_on_load() -> None:
    fr = i18n.translations("fr")
    assert fr.gettext("Phase timeline") == "Chronologie des phases"
    assert fr.ngettext("%(num)s day left", "%(num)s days left", 1) == "%(num)s jour restant"
    assert fr.ngettext("%(num)s day left", "%(num)s days left", 5) == "%(num)s jours restants"
    assert i18n.translations("en").gettext("Phase timeline") == "Phase timeline"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "en"),
        ("fr", None, None, "fr"),
        ("xx", "fr", None, "fr"),
        (None, None, "fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        (None, None, "de, en;q=0.5, fr;q=0.4", "en"),
        (None, None, "de", "en"),
        ("en", "fr", "fr", "en"),
        (None, None, "fr;q=nonsense, en;q=0.1", "en"),
    ],
)
def test_the_language_of_a_request(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(query, cookie, accept) == expected


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenSource]:
    built = build_agreement(Path(tmp_path_factory.mktemp("i18n")) / "agreement")
    yield built
    built.agreement.close()


def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cvid.test") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(go())


def test_pages_in_french(source: FrozenSource) -> None:
    app = FastAPI()
    app.include_router(dashboard_router(source))
    english = _get(app, "/")
    assert english.headers["content-language"] == "en"
    assert '<html lang="en">' in english.text
    french = _get(app, "/?lang=fr")
    assert french.headers["content-language"] == "fr"
    assert '<html lang="fr">' in french.text
    assert "cvid_lang=fr" in french.headers["set-cookie"]
    assert "Chronologie des phases" in french.text
    assert "Phase timeline" not in french.text
    assert "rétablie" in french.text  # the re-imposed measure's status
    # the road map's own French: its titles, as translated in the template, else as written
    assert "Geler les installations de Yongbyon sous la surveillance de l&#39;AIEA" in french.text
    assert "Freeze the Yongbyon facilities under IAEA monitoring" not in french.text
    assert "Freeze the Yongbyon facilities under IAEA monitoring" in english.text
    assert "RPDC" in french.text
    by_cookie = _get(app, "/steps/disable-5mwe", cookie="cvid_lang=fr")
    assert "Les événements qui l'attestent" in by_cookie.text
    by_header = _get(app, "/parties/dprk", **{"accept-language": "fr-FR,fr;q=0.9"})
    assert "Ce qu'elle doit maintenant" in by_header.text
    assert "set-cookie" not in by_header.headers  # only an explicit choice is remembered


def test_the_report_in_french(source: FrozenSource) -> None:
    state = source.state(source.now())
    english = render_html(source.roadmap, state, digest=source.digest)
    french = render_html(source.roadmap, state, digest=source.digest, lang="fr")
    assert '<html lang="en">' in english
    assert "Phase timeline" in english
    assert '<html lang="fr">' in french
    assert "Chronologie des phases" in french
    assert "Phase timeline" not in french
    assert "état au 2027-10-31" in french  # the timeline's label, too
    assert "événements signés" in french
    assert "Neutraliser le réacteur de 5 MWe" in french
    assert "Neutraliser le réacteur de 5 MWe" not in english
    with pytest.raises(InputError, match="no report in 'xx'"):
        render_html(source.roadmap, state, digest=source.digest, lang="xx")


def test_the_engine_sentences_in_french(source: FrozenSource) -> None:
    """Reasons and alerts are the engine's English in the state, French on French pages."""
    app = FastAPI()
    app.include_router(dashboard_router(source))
    english, french = _get(app, "/"), _get(app, "/?lang=fr")
    late = "due before 2027-07-31 09:00 UTC; reported late on 2027-09-11 09:00 UTC, not verified"
    assert late in english.text
    assert late not in french.text
    assert (
        "due avant le 2027-07-31 09:00 UTC ; déclarée en retard le 2027-09-11 09:00 UTC, "
        "non vérifiée" in french.text
    )
    assert "confirmée par AIEA le 2027-02-01 09:00 UTC" in french.text  # then the id's name
    assert "opens a Council procedure" in english.text  # an alert
    assert "opens a Council procedure" not in french.text
    assert "ouvre une procédure du Conseil" in french.text
    assert "suspendue (conséquence " in french.text  # a measure's reason, the rule's kind
    party = _get(app, "/parties/dprk?lang=fr")
    assert "à accomplir par RPDC" in party.text
    assert "to carry out" not in party.text
    state = source.state(source.now())
    assert state.steps["disable-5mwe"].reason.startswith("due before 2027-07-31")  # unchanged


def test_the_engine_sentences_in_the_french_report(source: FrozenSource) -> None:
    state = source.state(source.now())
    english = render_html(source.roadmap, state, digest=source.digest)
    french = render_html(source.roadmap, state, digest=source.digest, lang="fr")
    assert "0 of 5 guarantors signed" in english  # a guarantee's reason
    assert "0 garants sur 5 ont signé" in french
    assert "guarantors signed" not in french
    assert "ouvre une procédure du Conseil" in french
    assert "due avant le 2027-04-04 09:00 UTC ; non déclarée" in french
    assert "due before 2027-04-04 09:00 UTC; not reported" in english
