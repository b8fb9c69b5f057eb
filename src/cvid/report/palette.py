"""One status palette for the dashboard, the report and the terminal.

Colour never carries meaning alone: every status is shown with its words and a
symbol, and the colours differ in lightness as well as hue so that readers who do
not tell red from green still tell "done" from "violated". Each colour takes white
text at a contrast of at least 4.5:1 (WCAG AA).

Sanctions are not "good news" when in force: their colours are their own
(``sanction-*``), never the green of a step done.
"""

from __future__ import annotations

DASH = "\u2013"  # an en dash: neither good nor bad
GOOD, OPEN, WAITING, NEUTRAL = "#1a7f37", "#1d4ed8", "#6d28d9", "#4b5563"
LATE, BAD, WAIVED, HELD = "#9a3412", "#b91c1c", "#0f766e", "#92400e"

_TONES: dict[str, tuple[str, str]] = {
    # status: (colour, symbol)
    "verified": (GOOD, "✓"),
    "complete": (GOOD, "✓"),
    "done": (GOOD, "✓"),
    "met": (GOOD, "✓"),
    "in-compliance": (GOOD, "✓"),
    "in_force": (GOOD, "✓"),  # a guarantee in force
    "continued": (GOOD, "✓"),
    "confirmed": (BAD, "✕"),
    "open": (OPEN, "○"),
    "given": (OPEN, "○"),
    "due": (LATE, "!"),
    "reported": (WAITING, "◐"),
    "performed": (WAITING, "◐"),
    "blocked": (NEUTRAL, DASH),
    "pending": (NEUTRAL, DASH),
    "withdrawn": (NEUTRAL, DASH),
    "ended": (NEUTRAL, DASH),
    "closed": (NEUTRAL, DASH),
    "not judged": (NEUTRAL, DASH),
    "not-in-effect": (NEUTRAL, DASH),
    "overdue": (LATE, "!"),
    "late": (LATE, "!"),
    "unverified": (LATE, "?"),
    "violated": (BAD, "✕"),
    "missed": (BAD, "✕"),
    "failed": (BAD, "✕"),
    "short": (BAD, "✕"),
    "exceeded": (BAD, "✕"),
    "reimposed": (BAD, "↺"),
    "rejected": (NEUTRAL, DASH),
    "waived": (WAIVED, "≈"),
    # continuity of knowledge (continuous monitoring)
    "maintained": (GOOD, "✓"),
    "at-risk": (LATE, "!"),
    "lost": (BAD, "✕"),
    "not-established": (NEUTRAL, DASH),
    "suspended": (HELD, "‖"),
    # monitoring devices: their reporting, their seals, and their gaps
    "reporting": (GOOD, "✓"),
    "silent": (LATE, "!"),
    "removed": (NEUTRAL, DASH),
    "not-installed": (NEUTRAL, DASH),
    "seal-closed": (GOOD, "✓"),
    "seal-open": (LATE, "!"),
    "seal-tampered": (BAD, "✕"),
    "gap-interval": (NEUTRAL, DASH),
    "gap-at-risk": (LATE, "!"),
    "gap-lost": (BAD, "✕"),
    # sanctions measures: in force is pressure, not good news; suspended is relief
    "sanction-in-force": (LATE, "⚑"),
    "sanction-reimposed": (BAD, "↺"),
    "sanction-suspended": (OPEN, "‖"),
}

STATUS_COLOURS: dict[str, str] = {k: v[0] for k, v in _TONES.items()}

_WORDS = {
    "in_force": "in force",
    "in-compliance": "in compliance",
    "not-in-effect": "not in effect",
    "sanction-in-force": "in force",
    "sanction-reimposed": "re-imposed",
    "sanction-suspended": "suspended (relief)",
    "reimposed": "re-imposed",
    "at-risk": "at risk",
    "not-established": "not established",
    "not-installed": "not installed",
    "seal-closed": "sealed",
    "seal-open": "seal open",
    "seal-tampered": "seal tampered",
    "gap-interval": "within tolerance",
    "gap-at-risk": "continuity at risk",
    "gap-lost": "continuity lost",
}


def status_label(status: str) -> str:
    """A status in words, as every page writes it."""
    return _WORDS.get(status, status.replace("_", " ").replace("-", " "))


def status_symbol(status: str) -> str:
    """The symbol shown beside a status's colour (colour never stands alone)."""
    return _TONES.get(status, (NEUTRAL, "•"))[1]


def measure_status(status: str, since: object) -> str:
    """The palette key of a sanctions measure: in force from the outset, re-imposed
    (in force again since a moment), or suspended."""
    if status == "suspended":
        return "sanction-suspended"
    if since is not None:
        return "sanction-reimposed"
    return "sanction-in-force"


__all__ = ["STATUS_COLOURS", "measure_status", "status_label", "status_symbol"]
