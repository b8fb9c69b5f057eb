"""Names in place of ids: what the dashboard and the report write for a step, a phase,
a party (its short name where one is given), a measure, a guarantee or a rule; the
engine's sentences in the reader's language (:mod:`cvid.report.sentences`); and
conditions written as nested lists of names rather than one long ``any of (…)`` line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from cvid import i18n
from cvid.engine.conditions import describe
from cvid.i18n import N_
from cvid.report.sentences import translate
from cvid.roadmap import model as m

OWED = {  # cvid.engine.state.Obligation.kind: what a party must do now
    "carry out": N_("carry out"),
    "verify": N_("verify"),
    "sign": N_("sign"),
    "perform": N_("perform"),
    "confirm": N_("confirm"),
}
PURPOSES = {  # a Council draft's purpose
    "endorse": N_("endorse the road map"),
    "continue_relief": N_("continue the relief"),
    "other": N_("other"),
}


SHOWN_KEPT = 10_000  # lines kept as shown (see Names.text)


@dataclass(frozen=True)
class Names:
    """Every id of one road map and the name a reader sees for it."""

    steps: dict[str, str]
    phases: dict[str, str]
    parties: dict[str, str]  # full names
    short: dict[str, str]  # short names (the full name when none is given)
    measures: dict[str, str]
    guarantees: dict[str, str]
    rules: dict[str, str]
    words: dict[str, str]  # ids replaced in running text (see :meth:`text`)
    # the road map's text as written, which the engine quotes in its sentences (a
    # Council procedure), and its translation (see :meth:`text`)
    phrases: dict[str, str] = field(default_factory=dict)
    # lines already shown, by (language, line): a page shows the same reasons many times
    _shown: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, rm: m.RoadMap, written: m.RoadMap | None = None) -> Names:
        """The names of ``rm``; ``written``: the road map as written when ``rm`` is its
        translation (:func:`cvid.roadmap.translations.localized`), whose text the
        engine's sentences quote."""
        steps = {s.id: s.title for ph in rm.phases for s in ph.steps}
        phases = {ph.id: ph.title for ph in rm.phases}
        short = {p.id: p.short_name or p.name for p in rm.parties}
        measures = {x.id: x.title for x in rm.measures}
        guarantees = {g.id: g.title for g in rm.guarantees}
        rules = {r.id: r.title for r in _rules(rm)}
        # In running text only ids that cannot be ordinary words: with a hyphen or a
        # digit (a phase called "freeze" stays the word "freeze"), and party ids.
        words = {
            k: v
            for table in (rules, measures, guarantees, phases, steps)
            for k, v in table.items()
            if "-" in k or any(c.isdigit() for c in k)
        }
        words.update(short)
        phrases = {}
        if written is not None:
            shown = {c.id: c.council_procedure for c in rm.consequences}
            for c in written.consequences:
                said = shown.get(c.id)
                if c.council_procedure and said and said != c.council_procedure:
                    phrases[c.council_procedure] = said
            aid = {r.id: r.aid for r in rm.rewards}
            for r in written.rewards:
                for english, local in zip(r.aid, aid.get(r.id, []), strict=False):
                    if english != local:
                        phrases[english] = local
        return cls(
            steps=steps,
            phases=phases,
            parties={p.id: p.name for p in rm.parties},
            short=short,
            measures=measures,
            guarantees=guarantees,
            rules=rules,
            words=words,
            phrases=phrases,
        )

    def subject(self, ident: str) -> str:
        """The name of a step, phase, guarantee, measure or rule (the id if none)."""
        for table in (self.steps, self.phases, self.guarantees, self.measures, self.rules):
            if ident in table:
                return table[ident]
        return ident

    def party(self, ident: str) -> str:
        return self.short.get(ident, ident)

    def text(self, line: str) -> str:
        """``line`` (an engine reason or alert) in the language being rendered, with
        the road map's text it quotes in that language (where :attr:`phrases` has it)
        and each known step, phase or party id that stands as a whole word replaced by
        its name."""
        key = (i18n.current.get(), line)
        shown = self._shown.get(key)
        if shown is None:
            if len(self._shown) >= SHOWN_KEPT:
                self._shown.clear()
            shown = self._shown[key] = self._text(line)
        return shown

    def _text(self, line: str) -> str:
        line = translate(line)
        for said, shown in self.phrases.items():
            if said in line:
                line = line.replace(said, shown)
        out = []
        for word in _words(line):
            core = word.strip(".,;:()'\"")
            if core and core in self.words:
                out.append(word.replace(core, self.words[core]))
            else:
                out.append(word)
        return "".join(out)

    def conditions(self, rm: m.RoadMap) -> dict[str, Markup]:
        """Each reward's and consequence's condition, as :meth:`condition` writes it."""
        return {r.id: self.condition(r.when) for r in _rules(rm)}

    def condition(self, cond: m.Condition) -> Markup:
        """``cond`` as nested HTML lists of names (safe markup)."""
        return Markup(self._condition(cond))

    def _condition(self, cond: m.Condition) -> str:
        if isinstance(cond, m.All | m.AnyOf):
            parts = cond.all if isinstance(cond, m.All) else cond.any
            if len(parts) == 1:
                return self._condition(parts[0])
            head = (
                i18n.gettext_("all of these:")
                if isinstance(cond, m.All)
                else i18n.gettext_("any one of these:")
            )
            items = "".join(f"<li>{self._condition(c)}</li>" for c in parts)
            return f'<span class="cond-op">{escape(head)}</span><ul class="cond">{items}</ul>'
        if isinstance(cond, m.Not):
            head = escape(i18n.gettext_("not:"))
            return f'<span class="cond-op">{head}</span> {self._condition(cond.not_)}'
        return escape(self._leaf(cond))

    def _leaf(self, cond: m.Condition) -> str:
        if isinstance(cond, m.Verified):
            return i18n.gettext_("%(what)s — verified") % {"what": self.subject(cond.verified)}
        if isinstance(cond, m.Reported):
            return i18n.gettext_("%(what)s — reported") % {"what": self.subject(cond.reported)}
        if isinstance(cond, m.Overdue):
            what, grace = self.subject(cond.overdue.step), cond.overdue.grace_days
            if grace:
                return i18n.ngettext_(
                    "%(what)s — overdue by more than %(num)s day",
                    "%(what)s — overdue by more than %(num)s days",
                    grace,
                ) % {"what": what, "num": grace}
            return i18n.gettext_("%(what)s — overdue") % {"what": what}
        if isinstance(cond, m.Violated) and cond.violated != "any":
            return i18n.gettext_("%(what)s — violated") % {"what": self.subject(cond.violated)}
        if isinstance(cond, m.GuaranteeInForce):
            what = self.subject(cond.guarantee_in_force)
            return i18n.gettext_("%(what)s — in force") % {"what": what}
        return self.text(describe(cond))


def _rules(rm: m.RoadMap) -> list[m.Reward | m.Consequence]:
    return [*rm.rewards, *rm.consequences]


def _words(line: str) -> list[str]:
    """``line`` split into words and the spaces between them (joined, the line again)."""
    out: list[str] = []
    word = ""
    for ch in line:
        if ch.isspace():
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


__all__ = ["OWED", "PURPOSES", "Names"]
