"""Translations in a road map: validated where they are written, shown in their language,
and part of the road map's identity without changing its meaning."""

from __future__ import annotations

import re

import pytest

from cvid.errors import RoadmapError
from cvid.roadmap import digest, from_json, load, loads, to_json
from cvid.roadmap.translations import localized, state_word
from tests.kit import MINI

TEXT = MINI.read_text(encoding="utf-8")
FRENCH = """
translations:
  fr:
    agreement: {title: Une petite feuille de route par phases}
    parties:
      north: {name: État qui désarme, short_name: Nord}
    phases:
      freeze: {title: Gel}
    steps:
      freeze-reactor: {title: Geler le réacteur A, action: Arrêter le réacteur A}
      declare: {title: Déclarer le stock}
    measures:
      m-oil: {title: Plafond pétrolier}
    guarantees:
      g-nsa: {title: Garantie négative de sécurité}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    return info.value.problems


def _line_of(text: str, needle: str) -> int:
    return [n + 1 for n, line in enumerate(text.splitlines()) if needle in line][-1]


def test_a_road_map_in_french_shows_french_and_falls_back_to_the_text_as_written() -> None:
    original = load(MINI)
    translated = loads(TEXT + FRENCH)
    fr = localized(translated, "fr")
    assert fr.agreement.title == "Une petite feuille de route par phases"
    north = next(p for p in fr.parties if p.id == "north")
    assert (north.name, north.short_name) == ("État qui désarme", "Nord")
    assert fr.parties[1].name == "United States"  # not translated: as written
    assert [ph.title for ph in fr.phases] == ["Gel", "Disablement"]
    steps = {s.id: s for ph in fr.phases for s in ph.steps}
    assert steps["freeze-reactor"].title == "Geler le réacteur A"
    assert steps["freeze-reactor"].action == "Arrêter le réacteur A"
    assert steps["declare"].title == "Déclarer le stock"
    assert steps["declare"].action == next(
        s.action for ph in original.phases for s in ph.steps if s.id == "declare"
    )
    assert fr.measures[0].title == "Plafond pétrolier"
    assert fr.guarantees[0].title == "Garantie négative de sécurité"
    # only text changes: every id, deadline and rule is the one written
    assert [s.id for ph in fr.phases for s in ph.steps] == [
        s.id for ph in original.phases for s in ph.steps
    ]
    assert [s.deadline for ph in fr.phases for s in ph.steps] == [
        s.deadline for ph in original.phases for s in ph.steps
    ]
    assert fr.rewards == original.rewards
    # a language with no translation, and English: the road map as written
    assert localized(translated, "ru") is translated
    assert localized(translated, "en") is translated


def test_translations_are_stated_content_and_part_of_the_identity() -> None:
    original = load(MINI)
    translated = loads(TEXT + FRENCH)
    assert digest(translated) != digest(original)  # a translation is stated content
    assert digest(loads(TEXT + "translations: {}\n")) == digest(original)  # none stated
    again = from_json(to_json(translated))
    assert again == translated
    assert digest(again) == digest(translated)


MORE_FRENCH = """
    phases:
      freeze: {title: Gel, source: Résolution X}
    steps:
      freeze-reactor:
        title: Geler le réacteur A
        action: Arrêter le réacteur A sous scellés
        method: Scellés posés par l'inspectorat
        source: Accord, art. 2
    items:
      reactor-a: {title: Réacteur A}
    rewards:
      relief-1: {title: Première tranche d'allègement, source: "Accord, art. 3"}
    consequences:
      late-freeze:
        title: Gel en retard
        council_procedure: Le Conseil examine le manquement au gel.
    states: {frozen: gelé, stored: entreposé}
"""


def test_every_text_a_reader_sees_can_be_translated() -> None:
    fr = localized(loads(TEXT + "translations:\n  fr:" + MORE_FRENCH), "fr")
    assert fr.phases[0].source == "Résolution X"
    step = fr.phases[0].steps[0]
    assert (step.title, step.action, step.source) == (
        "Geler le réacteur A",
        "Arrêter le réacteur A sous scellés",
        "Accord, art. 2",
    )
    assert step.verification is not None
    assert step.verification.method == "Scellés posés par l'inspectorat"
    assert step.verification.by == ["iaea"]  # who verifies is the same in every language
    assert fr.inventory.items[0].title == "Réacteur A"
    assert fr.inventory.items[0].category == "reactor"
    assert (fr.rewards[0].title, fr.rewards[0].source) == (
        "Première tranche d'allègement",
        "Accord, art. 3",
    )
    assert fr.rewards[0].when == load(MINI).rewards[0].when
    assert fr.consequences[0].council_procedure == "Le Conseil examine le manquement au gel."
    assert fr.consequences[1].title == "Irreversibility breached"  # as written
    translated = loads(TEXT + "translations:\n  fr:" + MORE_FRENCH)
    assert state_word(translated, "fr", "frozen") == "gelé"
    assert state_word(translated, "fr", "stored") == "entreposé"  # a category's own state
    assert state_word(translated, "fr", "removed") == "removed"  # not translated
    assert state_word(translated, "en", "frozen") == "frozen"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("relief-1: {", "relief-2: {", "'relief-2', which is not a reward"),
        ("late-freeze:", "early-freeze:", "'early-freeze', which is not a consequence"),
        ("reactor-a: {", "reactor-z: {", "'reactor-z', which is not an inventory item"),
        ("stored: entreposé", "melted: fondu", "'melted', which is not a lifecycle state"),
        ("freeze-reactor:\n", "declare:\n", "gives a verification method for 'declare'"),
    ],
)
def test_each_new_kind_of_translation_names_what_the_road_map_has(
    old: str, new: str, fragment: str
) -> None:
    changed = MORE_FRENCH.replace(old, new, 1)
    assert changed != MORE_FRENCH, old
    problems = _problems(TEXT + "translations:\n  fr:" + changed)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"),
    [
        ("      declare: {", "      no-such-step: {", "no-such-step", "not a step"),
        ("      north: {", "      nobody: {", "nobody", "not a party"),
        ("      m-oil: {", "      m-none: {", "m-none", "not a measure"),
        ("    phases:\n      freeze:", "    phases:\n      thaw:", "thaw:", "not a phase"),
        ("  fr:\n", "  French:\n", "French", "French"),
        ("{title: Gel}", "{titel: Gel}", "titel", "titel"),
        ("{title: Gel}", "{}", "freeze: {}", "at least one text"),
        ("short_name: Nord}", "short_name: " + "N" * 41 + "}", "short_name", "40"),
    ],
)
def test_each_mistake_in_a_translation_is_named_with_its_position(
    old: str, new: str, marker: str, fragment: str
) -> None:
    text = TEXT + FRENCH.replace(old, new, 1)
    assert text != TEXT + FRENCH, old
    problems = _problems(text)
    matching = [p for p in problems if fragment in p]
    assert matching, problems
    line = _line_of(text, marker)
    assert re.match(rf"rm\.yaml:{line}:\d+: ", matching[0]), (matching[0], line)


def test_a_reward_s_aid_is_translated_item_by_item() -> None:
    from cvid import i18n
    from cvid.report.names import Names

    text = TEXT + FRENCH + "    rewards:\n      relief-1: {aid: [Fioul lourd]}\n"
    written = loads(text, name="rm.yaml")
    french = localized(written, "fr")
    assert french.rewards[0].aid == ["Fioul lourd"]
    token = i18n.current.set("fr")
    try:
        shown = Names.of(french, written).text("aid: Heavy fuel oil")
    finally:
        i18n.current.reset(token)
    assert "Fioul lourd" in shown
    assert "Heavy" not in shown
    wrong = TEXT + FRENCH + "    rewards:\n      relief-1: {aid: [Fioul, Diesel]}\n"
    assert any("2 aid items for 'relief-1', which has 1" in p for p in _problems(wrong))
