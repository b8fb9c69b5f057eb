"""The engine's sentences in the reader's language (ADR 0018).

The engine writes its reasons, alerts and details in English, each from a marked
template (:func:`cvid.sentences.say`); the state and the API keep them so. Where text
is shown (the dashboard, the HTML report), :func:`translate` reads a sentence back:
it matches the sentence against the templates the language's catalogue translates
(context ``engine``, one regular expression per template, compiled once, the most
specific first), and writes the translation with the fields it captured. A field is
shown according to its name (:data:`FIELDS`): a moment, a date, a number or an id as
it is; a word of the engine's vocabulary (a violation's kind, a measure's verb) by its
own catalogue entry (context ``engine:<field>``); a party's own words (a note, a
ground) as they were written; a nested sentence (a cause, a condition) translated in
turn. A sentence no template matches whole is cut into its clauses at ``"; "`` and
each clause read alone; what still matches nothing stays as written, in English:
information is never lost.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from cvid import i18n
from cvid._ids import ID_PATTERN
from cvid.engine import state
from cvid.event_types import EVENT_TYPES
from cvid.events import bodies
from cvid.events.authz_life import End
from cvid.sentences import CONTEXT

MOMENT = r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2} UTC)?"
DATE = r"\d{4}-\d{2}-\d{2}"
NUMBER = r"-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|inf|nan)"
ID = ID_PATTERN.removeprefix("^").removesuffix("$")
IDS = f"{ID}(?:, {ID})*"
ANY = r".+?"


@dataclass(frozen=True)
class Kind:
    """How a field is matched (``pattern``) and shown (``show``)."""

    pattern: str
    show: str  # "as-is", "percent", "word", "sentence", "sentences", "parts"


AS_IS_KINDS = {
    "moment": Kind(MOMENT, "as-is"),
    "date": Kind(DATE, "as-is"),
    "number": Kind(NUMBER, "as-is"),
    "percent": Kind(NUMBER + "%", "percent"),
    "votes": Kind(r"\d+-\d+-\d+", "as-is"),
    "id": Kind(ID, "as-is"),
    "ids": Kind(IDS, "as-is"),
    "zone": Kind(r"[A-Za-z0-9_+/-]{1,64}", "as-is"),
    "event type": Kind(r"[a-z][a-z_]*(?:\.[a-z][a-z_]*){1,3}", "as-is"),
    "token": Kind(r"\S+", "as-is"),  # a time as an event wrote it
    "unit": Kind(r"[^\s;,()]+", "as-is"),
    "quoted": Kind(r"'[^']*'", "as-is"),
    "own words": Kind(r".*?", "as-is"),  # a party's or the road map's own text
}
SENTENCE = Kind(ANY, "sentence")
SENTENCES = Kind(ANY, "sentences")  # nested sentences joined by ", "
PARTS = Kind(r"\d+ [a-z]+(?: \d+ [a-z]+)*", "parts")  # "1 year 6 months": a duration

WORDS: dict[str, tuple[str, ...]] = {
    "kind": typing.get_args(typing.get_type_hints(state.Violation)["kind"]),
    "rule_kind": typing.get_args(typing.get_type_hints(state.RuleState)["kind"]),
    "status": typing.get_args(typing.get_type_hints(End)["status"]),
    "verb": tuple(t.removeprefix("measure.") for t in EVENT_TYPES if t.startswith("measure.")),
    "basis": typing.get_args(typing.get_type_hints(state.LimitValue)["basis"]),
    "finding": typing.get_args(typing.get_type_hints(bodies.Determination)["outcome"]),
    "counted": typing.get_args(typing.get_type_hints(state.QuotaState)["counts"]),
    "milestone": ("adoption", "start"),  # else a step's or a phase's id
}
"""The engine's words a field may hold, each translated under ``engine:<field>``."""


def _word(field: str) -> Kind:
    words = sorted(WORDS[field], key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return Kind(f"(?:{alternatives}|{ID})" if field == "milestone" else alternatives, "word")


_AS_IS = {
    "moment": ("when", "since", "effective", "start", "end"),
    "date": ("date", "period"),
    "number": (
        *("n", "count", "have", "need", "days", "threshold", "index", "last"),
        *("missing", "total", "value", "declared", "found", "min", "max"),
        *("margin", "sigmas", "limit_value"),
    ),
    "percent": ("percent",),
    "votes": ("counts",),
    "id": (
        *("party", "sender", "against", "obliged", "step", "measure", "guarantee"),
        *("rule", "item", "declaration", "cell", "limit", "device", "area"),
        *("obligation", "allegation", "decision", "draft", "resolution", "body"),
        *("round", "quota", "category", "attribute", "state", "to", "ref"),
        "allegation_kind",
    ),
    "ids": ("parties", "steps", "measures", "commitments", "cells"),
    "zone": ("zone",),
    "event type": ("event_type",),
    "token": ("stamp",),
    "unit": ("unit",),
    "quoted": ("arrangement",),
    "own words": (
        *("note", "ground", "procedure", "aid", "error", "subject", "blockers"),
        "who",
    ),
}

FIELDS: dict[str, Kind] = {
    **{name: AS_IS_KINDS[kind] for kind, names in _AS_IS.items() for name in names},
    **{name: _word(name) for name in WORDS},
    **dict.fromkeys(
        (
            *("reason", "why", "detail", "violation", "condition", "finder", "effect"),
            *("cause", "bound", "deadline", "anchor", "measurement", "rule_text", "by"),
        ),
        SENTENCE,
    ),
    "conditions": SENTENCES,
    "deadlines": SENTENCES,
    "duration": PARTS,
}
"""Every field a template may name, and how it is matched and shown."""

_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Template:
    msgid: str
    msgstr: str
    pattern: re.Pattern[str]
    anchor: str  # its longest literal stretch: a sentence without it cannot match
    weight: tuple[int, int]  # literal characters, fewer free fields: most specific first


def _compile(msgid: str, msgstr: str) -> _Template:
    out, literal, pos, seen, free = [], [], 0, set(), 0
    for m in _FIELD.finditer(msgid):
        literal.append(msgid[pos : m.start()])
        out.append(re.escape(msgid[pos : m.start()]))
        name = m.group(1)
        if name in seen:
            out.append(f"(?P={name})")
        else:
            seen.add(name)
            kind = FIELDS[name]
            free += kind.pattern in (ANY, r".*?")
            out.append(f"(?P<{name}>{kind.pattern})")
        pos = m.end()
    literal.append(msgid[pos:])
    out.append(re.escape(msgid[pos:]))
    return _Template(
        msgid,
        msgstr,
        re.compile("".join(out), re.DOTALL),
        max(literal, key=len),
        (sum(map(len, literal)), -free),
    )


@dataclass
class _Reading:
    """A translation and the pieces of it left in English (matched by no template)."""

    text: str
    missed: list[str]

    @property
    def cost(self) -> int:
        return sum(map(len, self.missed))


_NEUTRAL = re.compile(f"(?:{MOMENT}|{NUMBER}|{ID}|{IDS})?")


class Sentences:
    """The templates one language translates, and the reading of sentences into it."""

    def __init__(self, pairs: list[tuple[str, str]], word: Callable[[str, str], str]) -> None:
        self.templates = sorted(
            (_compile(msgid, msgstr) for msgid, msgstr in pairs),
            key=lambda t: t.weight,
            reverse=True,
        )
        self.word = word

    def read(self, text: str) -> _Reading:
        """``text`` translated, and what of it no template matched."""
        best = self._whole(text)
        if best is not None and not best.missed:
            return best
        parts = _split(text, "; ")
        if len(parts) > 1:
            joined = self._joined(parts, "; ")
            if best is None or joined.cost < best.cost:
                best = joined
        if best is not None:
            return best
        return _Reading(text, [] if _NEUTRAL.fullmatch(text) else [text])

    def _whole(self, text: str) -> _Reading | None:
        """The reading of ``text`` by the first template that matches it whole and
        leaves nothing in English (else by the first that matches at all)."""
        first = None
        for t in self.templates:
            if t.anchor not in text:
                continue
            m = t.pattern.fullmatch(text)
            if m is None:
                continue
            reading = self._fill(t, m)
            if not reading.missed:
                return reading
            first = first or reading
        return first

    def _fill(self, t: _Template, m: re.Match[str]) -> _Reading:
        values, missed = {}, []
        for name, value in m.groupdict().items():
            kind = FIELDS[name]
            if kind.show == "as-is":
                values[name] = value
            elif kind.show == "percent":
                values[name] = value.removesuffix("%") + " %"
            elif kind.show == "word":
                values[name] = self.word(name, value)
            else:
                if kind.show == "sentence":
                    reading = self.read(value)
                elif kind.show == "sentences":
                    reading = self._joined(_split(value, ", "), ", ")
                else:  # the parts of a duration, each read alone
                    reading = self._joined(re.findall(r"\d+ [a-z]+", value), " ")
                values[name] = reading.text
                missed += reading.missed
        return _Reading(t.msgstr.format_map(values), missed)

    def _joined(self, parts: list[str], sep: str = ", ") -> _Reading:
        """Parts cut at ``sep`` read again in runs: from each part, the longest run of
        parts a template matches whole; a part no run matches stays as written."""
        out, missed, i = [], [], 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                run = sep.join(parts[i:j])
                reading = self._whole(run)
                if reading is not None and not reading.missed:
                    break
                if j == i + 1 and reading is None:  # the part alone, matched by nothing
                    reading = _Reading(run, [] if _NEUTRAL.fullmatch(run) else [run])
            assert reading is not None
            out.append(reading.text)
            missed += reading.missed
            i = j
        return _Reading(self.word("separator", sep).join(out), missed)


def _split(text: str, sep: str) -> list[str]:
    """``text`` cut at each ``sep`` outside parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


@cache
def sentences(lang: str) -> Sentences | None:
    """The engine's templates ``lang`` translates (None: English, the text as written)."""
    catalog = i18n.catalogue(lang)
    if catalog is None:
        return None
    pairs = [
        (m.id, m.string)
        for m in catalog
        if m.context == CONTEXT and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    ]
    gnu = i18n.translations(lang)
    return Sentences(pairs, lambda field, word: gnu.pgettext(f"{CONTEXT}:{field}", word))


@lru_cache(maxsize=20_000)
def reading(text: str, lang: str) -> tuple[str, tuple[str, ...]]:
    """``text`` in ``lang``, and the pieces of it no template matched."""
    known = sentences(lang)
    if known is None:
        return text, ()
    got = known.read(text)
    return got.text, tuple(got.missed)


def translate(text: str, lang: str | None = None) -> str:
    """An engine sentence in ``lang`` (default: the language being rendered)."""
    return reading(text, lang or i18n.current.get())[0]


def word(value: str, field: str) -> str:
    """One of the engine's words (:data:`WORDS`) in the language being rendered."""
    return i18n.pgettext_(f"{CONTEXT}:{field}", value)


__all__ = ["FIELDS", "WORDS", "Kind", "Sentences", "reading", "sentences", "translate", "word"]
