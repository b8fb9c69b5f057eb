"""The engine's sentences in French (ADR 0018): every template marked and translated, no
sentence left unmarked, and every sentence of the shipped road maps' states read back.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

import cvid
from cvid import _yaml, i18n
from cvid.agreement import template_path
from cvid.engine import AgreementState, evaluate
from cvid.events.authz import AdmittedEvent
from cvid.report import sentences as rs
from cvid.report.names import Names
from cvid.roadmap.loader import load
from cvid.sentences import CONTEXT, say
from tests import sentence_corpus as corpus
from tests.service_support import DRAFT_TITLE
from tests.unit.engine.test_evaluate import MOMENTS, PLANS, Plan, build

SRC = Path(cvid.__file__).parent
FIELD = re.compile(r"\{([^{}]*)\}")
# Outside the engine, the functions whose words become the engine's reasons.
FEEDERS = {
    "roadmap/joint.py": {"rule_text"},
    "roadmap/finders.py": {"describe"},
    "events/authz_life.py": {"end", "not_in_force_message", "not_in_force_reason"},
}
# Phrases in the engine that are values, not sentences (kinds and statuses of the state).
VALUES = {"carry out", "not judged", "%Y-%m-%d %H:%M UTC"}


def _marking_modules() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "from cvid.sentences import say" in path.read_text(encoding="utf-8"):
            yield path


def _say_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "say":
            yield node


def marked() -> dict[str, list[str]]:
    """Every template the source marks, with where (``say("...")`` calls)."""
    found: dict[str, list[str]] = {}
    for path in _marking_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for call in _say_calls(tree):
            where = f"{path.relative_to(SRC)}:{call.lineno}"
            template = call.args[0] if call.args else None
            assert isinstance(template, ast.Constant), where
            assert isinstance(template.value, str), where
            found.setdefault(template.value, []).append(where)
    return found


def _catalogue() -> dict[tuple[str | None, str], str]:
    with (i18n.LOCALE / "fr.po").open("rb") as f:
        catalog = read_po(f, locale="fr")
    return {
        (m.context, m.id): m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


def test_every_marked_template_is_translated_and_only_those() -> None:
    templates = marked()
    assert len(templates) > 200
    french = {k[1]: v for k, v in _catalogue().items() if k[0] == CONTEXT}
    assert sorted(set(templates) - set(french)) == []  # marked, not translated
    assert sorted(set(french) - set(templates)) == []  # translated, no longer marked
    for template, translation in french.items():
        fields = FIELD.findall(template)
        assert translation, template
        assert set(FIELD.findall(translation)) == set(fields), template
        assert all(f in rs.FIELDS for f in fields), template  # a field the display knows
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), template  # no format spec


def test_templates_without_fields_are_translated_too() -> None:
    french = {k[1]: v for k, v in _catalogue().items() if k[0] == CONTEXT}
    plain = [t for t in marked() if not FIELD.search(t)]
    assert "not reported" in plain
    assert all(french.get(t) for t in plain)


def test_the_engine_words_are_translated() -> None:
    catalogue = _catalogue()
    for field, words in rs.WORDS.items():
        assert words, field
        for word in words:
            assert catalogue.get((f"{CONTEXT}:{field}", word)), (field, word)
    assert catalogue[(f"{CONTEXT}:separator", "; ")] == " ; "


def test_no_two_templates_read_alike() -> None:
    """Two templates with the same pattern would make a sentence's reading a guess."""
    patterns: dict[str, str] = {}
    for template in marked():
        shape = FIELD.sub(lambda m: rs.FIELDS[m.group(1)].pattern, template)
        assert shape not in patterns, (template, patterns.get(shape))
        patterns[shape] = template


def _phrase(text: str) -> bool:
    return " " in text and re.search("[A-Za-z]", text) is not None


def _unmarked(path: Path, functions: set[str] | None = None) -> list[str]:
    """Phrases in ``path`` (in ``functions`` only, when given) written outside ``say``:
    f-strings and string literals with words, except in errors and docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def ancestors(node: ast.AST) -> Iterator[ast.AST]:
        while node in parents:
            node = parents[node]
            yield node

    def exempt(node: ast.AST) -> bool:
        up = list(ancestors(node))
        if isinstance(parents.get(node), ast.Expr):  # a docstring
            return True
        if any(isinstance(p, ast.Raise | ast.Assert) for p in up):  # an error's message
            return True
        if any(isinstance(p, ast.Call) and getattr(p.func, "id", "") == "say" for p in up):
            return True  # a template, or a value formatted for one
        if functions is not None:
            return not any(isinstance(p, ast.FunctionDef) and p.name in functions for p in up)
        return False

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if isinstance(parents.get(node), ast.JoinedStr) or node.value in VALUES:
                continue
            text = node.value
        else:
            continue
        if _phrase(text) and not exempt(node):
            found.append(f"{path.name}:{getattr(node, 'lineno', 0)}: {text!r}")
    return found


def test_no_engine_sentence_is_left_unmarked() -> None:
    found = [x for path in sorted((SRC / "engine").glob("*.py")) for x in _unmarked(path)]
    for name, functions in FEEDERS.items():
        found += _unmarked(SRC / name, functions)
    assert found == []


def test_the_unmarked_check_finds_an_unmarked_sentence(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "def f(x, t):\n"
        "    why = f'{x} has gone'\n"
        "    also = 'a plain sentence'\n"
        "    joined = 'waiting for {}'.format(x)\n"
        "    fine = say('{x} has gone', x=x, when=f'{t} days later')\n"
        "    ref = f'due:{x}'\n"
        "    raise ValueError(f'{x} is not a step')\n",
        encoding="utf-8",
    )
    found = [line.split(": ", 1)[1] for line in _unmarked(module)]
    assert found == ["' has gone'", "'a plain sentence'", "'waiting for {}'"]


# --- reading the sentences back -------------------------------------------------------

SAMPLES: dict[str, str] = {
    "moment": "2027-03-04 05:06 UTC",
    "date": "2027-03-04",
    "number": "12",
    "percent": "95%",
    "votes": "9-3-3",
    "id": "step-2.b",
    "ids": "dprk, usa, iaea",
    "zone": "Asia/Pyongyang",
    "event type": "step.verified",
    "token": "2027-03-04T05:06:07Z",
    "unit": "kg",
    "quoted": "'arrangement-1'",
    "own words": "a note, with (its own) words",
}
NESTED: dict[str, tuple[str, str]] = {  # a sentence for each field that holds one, in French
    "reason": ("its duration ran out", "sa durée est écoulée"),
    "why": ("signed by its guarantors", "signée par ses garants"),
    "detail": ("responsible: north", "responsable : north"),
    "violation": (
        "north found it not carried out on 2027-03-04",
        "north a constaté le 2027-03-04 qu'elle n'avait pas été accomplie",
    ),
    "condition": ("freeze verified", "freeze vérifiée"),
    "finder": ("a Council determination", "une constatation du Conseil"),
    "effect": ("waive freeze", "lever l'étape freeze"),
    "cause": ("cam-1 reported again", "cam-1 rend compte de nouveau"),
    "bound": ("≤ 300 kg", "≤ 300 kg"),
    "deadline": ("the end of 2027-03-04", "la fin du 2027-03-04"),
    "anchor": ("the adoption", "l'adoption"),
    "measurement": ("iaea measured 4.5 % on 2027-03-04", "iaea a mesuré 4.5 % le 2027-03-04"),
    "rule_text": ("consensus of its members", "le consensus de ses membres"),
    "by": ("the Council (resolution r-1)", "le Conseil (résolution r-1)"),
    "conditions": (
        "freeze verified, any of (a verified, b reported)",
        "freeze vérifiée, l'une des conditions (a vérifiée, b déclarée)",
    ),
    "deadlines": (
        "the end of 2027-03-04, 30 days after the adoption",
        "la fin du 2027-03-04, 30 jours après l'adoption",
    ),
    "duration": ("1 year 2 months 3 days", "1 an 2 mois 3 jours"),
}


def _sample(name: str) -> str:
    if name in NESTED:
        return NESTED[name][0]
    if name in rs.WORDS:
        return rs.WORDS[name][-1]
    kind = next(k for k, v in rs.AS_IS_KINDS.items() if v is rs.FIELDS[name])
    return SAMPLES[kind]


def test_every_template_reads_back_as_itself() -> None:
    """Each template, filled with sample values, reads back in French as that template's
    translation with the same values (nested sentences and words translated too)."""
    french = {k[1]: v for k, v in _catalogue().items() if k[0] == CONTEXT}
    reader = rs.sentences("fr")
    assert reader is not None
    for template, translation in french.items():
        values = {name: _sample(name) for name in FIELD.findall(template)}
        english = say(template, **values)
        shown = {}
        for name, value in values.items():
            kind = rs.FIELDS[name]
            if kind.show == "word":
                shown[name] = i18n.translations("fr").pgettext(f"{CONTEXT}:{name}", value)
            elif kind.show == "percent":
                shown[name] = value.replace("%", " %")
            elif kind.show == "as-is":
                shown[name] = value
            else:
                shown[name] = NESTED[name][1]
        got = reader.read(english)
        assert got.missed == [], template
        assert got.text == translation.format_map(shown), template


def test_nested_samples_are_read_whole() -> None:
    for name, (english, french) in NESTED.items():
        if rs.FIELDS[name].show != "sentence":
            continue  # a list: read as a field of its template
        assert rs.reading(english, "fr") == (french, ()), english


@pytest.mark.parametrize(
    ("english", "french"),
    [
        (
            "due before 2027-03-04; reported late on 2027-03-06, not verified; "
            "performed early, before freeze was done",
            "due avant le 2027-03-04 ; déclarée en retard le 2027-03-06, non vérifiée ; "
            "accomplie par anticipation, avant que freeze soit accomplie",
        ),
        (
            "2027-03-04: limit leu back in compliance: iaea measured 290 kg (≤ 300 kg)",
            "2027-03-04 : limite leu de nouveau respectée : iaea a mesuré 290 kg (≤ 300 kg)",
        ),
        (  # a clause no template knows stays as written; the others are read
            "due before 2027-03-04; something the engine never wrote",
            "due avant le 2027-03-04 ; something the engine never wrote",
        ),
        (
            "reward r-1 (all of (d: c1, c2 revealed, not (x verified)), found by 2 of a, b)",
            "contrepartie r-1 (toutes les conditions (d : cellules c1, c2 révélées, non (x "
            "vérifiée)), constaté par 2 parmi a, b)",
        ),
    ],
)
def test_sentences_in_french(english: str, french: str) -> None:
    assert rs.translate(english, "fr") == french
    assert rs.translate(english, "en") == english


def test_what_no_template_matches_is_kept_and_reported() -> None:
    text, missed = rs.reading("a line from elsewhere; due before 2027-03-04", "fr")
    assert text == "a line from elsewhere ; due avant le 2027-03-04"
    assert missed == ("a line from elsewhere",)
    assert rs.reading("step-1, step-2", "fr") == ("step-1, step-2", ())  # ids: nothing to say


def test_names_text_translates_then_names() -> None:
    roadmap = load(template_path("dprk-phased"))
    names = Names.of(roadmap)
    token = i18n.current.set("fr")
    try:
        text = names.text("dprk to carry out before 2027-03-04")
    finally:
        i18n.current.reset(token)
    assert text == f"à accomplir par {names.party('dprk')} avant le 2027-03-04"


# --- the corpus: every sentence of the shipped road maps' states ------------------------


def _free_text(value: object) -> Iterator[str]:
    """The text the events' bodies carry (notes, reasons, grounds, details...)."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _free_text(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _free_text(v)


def _check_states(
    states: Iterator[tuple[str, AgreementState]], own_words: set[str]
) -> dict[str, int]:
    counts = {"states": 0, "sentences": 0, "clauses": 0}
    for label, state in states:
        counts["states"] += 1
        for where, text in corpus.sentences(state):
            counts["sentences"] += 1
            counts["clauses"] += len(text.split("; "))
            _, missed = rs.reading(text, "fr")
            # what is left in English is the parties' own words, never the engine's
            left = [m for m in missed if not any(m in words for words in own_words)]
            assert left == [], (label, where, text)
    return counts


def _shipped_own_words() -> set[str]:
    words = set()
    for name in corpus.TEMPLATES:
        history = template_path(name).with_name(f"{name}.history.yaml")
        if history.is_file():
            words |= set(_free_text(_yaml.load(history.read_text(encoding="utf-8"))))
    return words


def test_every_sentence_of_the_shipped_road_maps_is_read(tmp_path: Path) -> None:
    own = _shipped_own_words() | {DRAFT_TITLE}
    counts = _check_states(corpus.shipped(tmp_path), own)
    assert counts["states"] > 80
    assert counts["sentences"] > 5000


def test_every_sentence_of_simulated_runs_is_read() -> None:
    counts = _check_states(corpus.simulated(30), {"simulated inspection found hidden items"})
    assert counts["states"] > 150


def _events_words(events: list[AdmittedEvent]) -> set[str]:
    return {w for ev in events for w in _free_text(ev.body)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS, when=MOMENTS)
def test_every_sentence_of_a_random_history_is_read(plan: Plan, when: dt.datetime) -> None:
    kit = build(plan)
    states = ((f"plan@{when}", evaluate(kit.roadmap, kit.events, at=when)),)
    _check_states(iter(states), _events_words(kit.events))
