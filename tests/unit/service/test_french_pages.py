"""Every dashboard page of the demo's agreement, read in French, without a browser: no
text of the interface is left in English.

The demo (``make demo``) builds the ``dprk-phased`` agreement with a history that
touches every page: the Council, the freeze, escrow and inspections, monitoring devices,
a material balance, a missed deadline. Each page is rendered with ``?lang=fr`` and its
visible text (and the attributes a reader meets: titles, labels, placeholders) is
checked twice:

- no piece of it is one of the catalogue's English messages whose French differs;
- no word of it belongs to the English the dashboard can write (the words of the
  catalogue's English messages and of the road map as written, less every word that also
  occurs in French, in the catalogue or in the road map's French).

What the pages show as it was signed or stated is left out of both checks: the engine's
reasons and alerts (translated by another change), the events' bodies, the reference
data's facts and the simulation scenarios' own titles, and ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from markupsafe import escape
from pydantic import BaseModel
from typer.testing import CliRunner

from cvid import demo, i18n
from cvid.agreement import Agreement
from cvid.cli import app as cli
from cvid.engine.conditions import describe
from cvid.reference import cica, zones
from cvid.report.feeds import ATOM
from cvid.report.names import Names
from cvid.report.sentences import reading
from cvid.roadmap import model as m
from cvid.roadmap.translations import localized
from cvid.service.app import FrozenSource
from cvid.service.dashboard import PROOF_TEXT, dashboard_router
from cvid.sim import scenario as sc

WORD = re.compile(r"[^\W\d_]{2,}")  # a word of two letters or more
IDENT = re.compile(r"\S*[-_.\d/?=]\S*")  # ids, dates, numbers, paths, URLs, queries
PLACEHOLDER = re.compile(r"%\([a-z]+\)s|\{[a-z_]+\}")  # gettext and engine templates
# the engine's prose (another change translates it) and other text as the engine wrote it
ENGINE_FIELDS = {"reason", "alerts", "cause", "effects", "condition", "detail", "violations"}
# values of these fields are the engine's words for states: the pages must translate them
ENUM_FIELDS = {"status", "kind", "basis", "beyond", "seal", "standing", "purpose", "outcome"}
SHOWN = ("title", "aria-label", "alt", "placeholder", "data-label")


class _Text(HTMLParser):
    """What a reader sees of a page: text outside code, and the attributes of ``SHOWN``."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "pre", "code"):
            self._hidden += 1
        self.chunks += [v for k, v in attrs if k in SHOWN and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "pre", "code"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.chunks.append(" ".join(data.split()))


def _chunks(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.chunks


def _strings(value: Any, under: str = "") -> Iterator[tuple[str, str]]:
    """Every string in ``value`` (dataclasses, models, mappings, sequences), with the name
    of the field it is found under."""
    if isinstance(value, str):
        yield under, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), f.name)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), name)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, under)
            yield from _strings(v, under)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v, under)


def _words(texts: Iterable[str]) -> set[str]:
    return {w.lower() for t in texts for w in WORD.findall(PLACEHOLDER.sub(" ", t))}


def _leaves(cond: m.Condition) -> Iterator[m.Condition]:
    if isinstance(cond, m.All | m.AnyOf):
        for part in cond.all if isinstance(cond, m.All) else cond.any:
            yield from _leaves(part)
    elif isinstance(cond, m.Not):
        yield from _leaves(cond.not_)
    else:
        yield cond


@dataclasses.dataclass
class Demo:
    source: FrozenSource
    app: FastAPI
    pages: dict[str, int]  # path (query included) to the status it answers with
    data: list[str]  # text shown as signed or stated: left out of the checks
    english: set[str]  # words only the English of the dashboard has
    messages: list[re.Pattern[str]]  # the catalogue's English messages, French differing
    directory: Path  # the agreement's


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    demo.main(out, serve=False)
    agreement = Agreement.open(out / "agreement")
    # a month after the disablement deadline: steps overdue, a consequence fired
    source = FrozenSource(agreement, demo.day(240))
    assert max(e.time for e in agreement.events) < source.now()
    app = FastAPI()
    app.include_router(dashboard_router(source))
    rm = source.roadmap
    french = localized(rm, "fr")
    state = source.state(source.now())
    earlier = source.state(dt.datetime(2027, 1, 2, tzinfo=dt.UTC))
    items = sorted(state.continuity)
    pages = {
        "/": 200,
        "/?at=2027-01-02": 200,  # before the road map is in force
        "/ledger": 200,
        "/escrow": 200,
        "/monitoring": 200,
        "/reference": 200,
        "/simulation": 200,
        "/simulation?runs=10&seed=3": 200,
        "/steps/no-such-step": 404,
        "/parties/no-such-party": 404,
        "/ledger/100000": 404,
        "/monitoring/no-such-item": 404,
        "/?at=yesterday": 400,
        "/simulation?runs=1": 400,
        "/simulation?scenario=xyz-404": 400,
    }
    pages |= {f"/steps/{s.id}": 200 for ph in rm.phases for s in ph.steps}
    pages |= {f"/parties/{p.id}": 200 for p in rm.parties}
    pages |= {f"/ledger/{i}": 200 for i in range(len(source.events()))}
    pages |= {f"/monitoring/{item}": 200 for item in items}
    assert len(items) == 3
    assert len(pages) > 300

    # what the pages show as signed or stated, in every spelling the pages may give it
    engine = [s for st in (state, earlier) for field, s in _strings(st) if field in ENGINE_FIELDS]
    rules: list[m.Reward | m.Consequence] = [*rm.rewards, *rm.consequences]
    engine += [describe(c) for r in rules for c in _leaves(r.when)]
    names = Names.of(french, rm)  # the road map's text the engine quotes, in French too
    token = i18n.current.set("fr")  # the engine's prose as the French pages show it
    try:
        data = [names.text(s) for s in engine]
    finally:
        i18n.current.reset(token)
    # the road map's text the engine quotes is shown in French where it is translated
    given = rm.translations["fr"].consequences
    english_quotes = [
        c.council_procedure
        for c in rm.consequences
        if c.council_procedure and c.id in given and given[c.id].council_procedure
    ]
    assert english_quotes
    data = [d for d in data if not any(said in d for said in english_quotes)]
    # in English, only what no template reads (a party's own words, a road map's text)
    data += [left for s in engine for left in reading(s, "fr")[1]]
    data += [s for _, s in _strings([e.body for e in source.events()])]
    data += [s for _, s in _strings([*zones(), cica()])]
    data += list(i18n.LANGUAGES.values())  # each language is named in itself
    data += [sc.load(sc.SHIPPED / f"{n}.yaml").title for n in sc.shipped_names()]
    ids = {
        s
        for st in (state, earlier)
        for field, s in _strings(st)
        if field not in ENUM_FIELDS | ENGINE_FIELDS and re.fullmatch(r"[a-z0-9][a-z0-9._-]*", s)
    }
    data += sorted(ids - {"yes", "no", "abstain"})

    with (i18n.LOCALE / "fr.po").open("rb") as f:
        catalog = read_po(f, locale="fr")
    sources, targets = [], []
    messages = []
    for message in catalog:
        if not message.id:
            continue
        ids_ = [message.id] if isinstance(message.id, str) else list(message.id)
        said = message.string
        strs = [said] if isinstance(said, str) else list(said or ())
        sources += ids_
        targets += strs
        for text in ids_:
            literal = PLACEHOLDER.sub(" ", text)
            if text not in strs and any(len(w) > 2 for w in WORD.findall(literal)):
                parts = [re.escape(p) for p in PLACEHOLDER.split(text)]
                messages.append(re.compile(r"\S(?:.*?\S)?".join(parts)))
    written = [s for _, s in _strings(rm) if not re.fullmatch(r"[a-z0-9._:/-]*", s)]
    in_french = [s for _, s in _strings(rm.translations)] + targets
    english = _words(sources + written) - _words(in_french)
    assert {"verified", "deadline", "silent", "camera", "the"} <= english
    data = sorted(set(data), key=len, reverse=True)
    yield Demo(source, app, pages, data, english, messages, out / "agreement")
    agreement.close()


def _get(app: FastAPI, paths: Iterable[str]) -> dict[str, httpx.Response]:
    async def go() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cvid.test") as c:
            return {path: await c.get(path) for path in paths}

    return asyncio.run(go())


def _french(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "lang=fr"


def _own(chunk: str, shown: Demo) -> str:
    """``chunk`` without what is shown as signed or stated."""
    for text in shown.data:
        if text in chunk:  # as a whole: not the letters of a longer word
            chunk = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", " ", chunk)
    return " ".join(chunk.split())


def _english_left(chunk: str, shown: Demo) -> list[str]:
    """The words of ``chunk`` that only the dashboard's English has, once what is shown
    as signed or stated is taken out."""
    words = {w.lower() for w in WORD.findall(IDENT.sub(" ", chunk))}
    if not words & shown.english:
        return []
    own = _own(chunk, shown)
    return sorted({w.lower() for w in WORD.findall(IDENT.sub(" ", own))} & shown.english)


def _untranslated(chunk: str, shown: Demo) -> list[str]:
    """The catalogue's English messages ``chunk`` is (once what is shown as signed or
    stated is taken out)."""
    own = _own(chunk, shown)
    return [p.pattern for p in shown.messages if own and p.fullmatch(own)]


def test_every_page_in_french_leaves_no_english(shown: Demo) -> None:
    answers = _get(shown.app, [_french(p) for p in shown.pages])
    problems: dict[str, list[str]] = {}
    for path, expected in shown.pages.items():
        response = answers[_french(path)]
        assert response.status_code == expected, (path, response.text[:300])
        assert response.headers["content-language"] == "fr", path
        assert '<html lang="fr">' in response.text, path
        for chunk in _chunks(response.text):
            untranslated = _untranslated(chunk, shown)
            left = _english_left(chunk, shown)
            if untranslated or left:
                problems.setdefault(path, []).append(f"{chunk!r}: {untranslated or left}")
    assert problems == {}


def test_the_check_finds_english(shown: Demo) -> None:
    """The same check on the English pages: it finds the interface's English."""
    answers = _get(shown.app, ["/?lang=en", "/monitoring/yongbyon-5mwe?lang=en"])
    for response in answers.values():
        chunks = _chunks(response.text)
        assert sum(bool(_untranslated(c, shown)) for c in chunks) > 20
        assert sum(bool(_english_left(c, shown)) for c in chunks) > 20


def test_the_feeds_in_french(shown: Demo) -> None:
    paths = ["/feed.atom?lang=fr", "/parties/dprk/feed.atom?lang=fr", "/feed.atom"]
    answers = _get(shown.app, paths)
    for path in paths[:2]:
        response = answers[path]
        assert response.status_code == 200
        assert response.headers["content-language"] == "fr"
        feed = ET.fromstring(response.content)
        assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
        links = [link.get("href") or "" for link in feed.iter(f"{{{ATOM}}}link")]
        assert links
        assert all(href.endswith("?lang=fr") for href in links), links
        texts = [feed.findtext(f"{{{ATOM}}}{tag}") or "" for tag in ("title", "subtitle")]
        texts.append(feed.findtext(f"{{{ATOM}}}author/{{{ATOM}}}name") or "")
        alerts = 0
        for entry in feed.findall(f"{{{ATOM}}}entry"):
            category = entry.find(f"{{{ATOM}}}category")
            assert category is not None
            alerts += category.get("term") == "alert"
            texts += [entry.findtext(f"{{{ATOM}}}{tag}") or "" for tag in ("title", "summary")]
        assert alerts, path
        assert "alertes et échéances" in (feed.findtext(f"{{{ATOM}}}title") or "")
        assert any(t.startswith(("Échéance le ", "En retard depuis le ")) for t in texts), texts
        left = {t: _english_left(t, shown) for t in texts}
        assert {t: w for t, w in left.items() if w} == {}
    english = ET.fromstring(answers["/feed.atom"].content)
    assert english.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert ": alerts and deadlines" in (english.findtext(f"{{{ATOM}}}title") or "")
    # the same notices in both languages: a reader switching language sees no new entry
    french = ET.fromstring(answers["/feed.atom?lang=fr"].content)
    assert [e.text for e in english.iter(f"{{{ATOM}}}id")][1:] == [
        e.text for e in french.iter(f"{{{ATOM}}}id")
    ][1:]


def test_the_report_in_french(shown: Demo, tmp_path: Path) -> None:
    """``cvid report --lang fr``: the same checks as the pages', the engine's prose
    included; the rules, limits and Council procedures by the road map's French."""
    out = tmp_path / "report.html"
    at = shown.source.now().isoformat()
    args = ["report", str(shown.directory), "--out", str(out), "--lang", "fr", "--at", at]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    problems = [
        f"{chunk!r}: {_untranslated(chunk, shown) or _english_left(chunk, shown)}"
        for chunk in _chunks(html)
        if _untranslated(chunk, shown) or _english_left(chunk, shown)
    ]
    assert problems == []
    french = localized(shown.source.roadmap, "fr")
    for c in french.consequences:
        assert f"{escape(c.title)}</td>" in html, c.id
        assert c.council_procedure is None or escape(c.council_procedure) in html, c.id
    for r in french.rewards:
        assert f"{escape(r.title)}</td>" in html, r.id
    written = [c.council_procedure for c in shown.source.roadmap.consequences]
    assert [p for p in written if p and escape(p) in html] == []


def test_the_proof_check_speaks_the_page_language(shown: Demo) -> None:
    """What the browser's proof check writes comes with the page, in its language; so do
    the refusals of the proof's JSON, which the check shows."""
    size = len(shown.source.events())
    answers = _get(shown.app, ["/ledger/0?lang=fr", f"/ledger/{size}/proof.json?lang=fr"])
    page = _Sections(answers["/ledger/0?lang=fr"].text)
    assert page.proof["data-proof-url"] == "../ledger/0/proof.json?lang=fr"
    text = json.loads(page.proof["data-text"])
    assert set(text) == set(PROOF_TEXT)
    assert {key for key, french in text.items() if french == PROOF_TEXT[key]} == set()
    for key, french in text.items():  # the script fills in the same placeholders
        assert set(PLACEHOLDER.findall(french)) == set(PLACEHOLDER.findall(PROOF_TEXT[key]))
    detail = answers[f"/ledger/{size}/proof.json?lang=fr"].json()["detail"]
    assert detail == f"Le journal n'a pas d'entrée '{size}' ({size} entrées).", detail


class _Sections(HTMLParser):
    """The attributes of the entry page's proof section."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.proof: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and ("id", "proof") in attrs:
            self.proof = {k: v or "" for k, v in attrs}
