"""Notices a ministry's systems can follow without watching a page: the alerts and the
deadlines of an agreement's state, as an Atom feed (RFC 4287) or as webhook payloads.

Every notice has a stable id (the same alert or deadline always gets the same id, in
every language), so a feed reader or a webhook receiver sees each one once. The words
are in the language of :data:`cvid.i18n.current` (English unless a caller chooses
another: the dashboard's feeds take ``?lang=``); the alerts are the engine's. Pure: the
moment is the state's own ``at``; nothing here reads a clock or the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Literal

from cvid import i18n
from cvid.engine.state import AgreementState, moment_text
from cvid.report.names import Names
from cvid.roadmap.model import RoadMap

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"  # xml:lang
NoticeKind = Literal["alert", "deadline", "overdue"]
KINDS: tuple[NoticeKind, ...] = ("alert", "deadline", "overdue")
_ALERT_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}) UTC)?: ")


@dataclass(frozen=True)
class Notice:
    """One alert or deadline. ``link`` is relative to the dashboard's root."""

    id: str
    kind: NoticeKind
    title: str
    summary: str
    updated: dt.datetime
    parties: tuple[str, ...]
    link: str

    def payload(self, agreement: str) -> dict[str, Any]:
        """The webhook body (the Standard Webhooks shape: type, timestamp, data)."""
        return {
            "type": f"cvid.{self.kind}",
            "timestamp": self.updated.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "agreement": agreement,
                "id": self.id,
                "title": self.title,
                "summary": self.summary,
                "parties": list(self.parties),
                "link": self.link,
            },
        }


def _id(agreement: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join((agreement, *parts)).encode()).hexdigest()
    return f"msg_{digest[:32]}"


def _shortened(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters, cut between words (an id stays whole)."""
    if len(text) <= n:
        return text
    head = text[: n - 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:") + "…"


def _alert_time(text: str, fallback: dt.datetime) -> dt.datetime:
    found = _ALERT_TIME.match(text)
    if found is None:
        return fallback
    day, clock = found.group(1), found.group(2) or "00:00"
    return dt.datetime.fromisoformat(f"{day}T{clock}:00+00:00")


def notices(
    roadmap: RoadMap,
    state: AgreementState,
    *,
    within_days: int = 30,
    names: Names | None = None,
) -> list[Notice]:
    """The alerts of ``state``, what is overdue, and the deadlines due within
    ``within_days`` of ``state.at``; newest first. ``names``: the names to write (those
    of a translation of ``roadmap``; default: its own); who an alert concerns is read
    from ``roadmap`` as written, so it is the same in every language."""
    names = names or Names.of(roadmap)
    agreement = roadmap.agreement.id
    out: list[Notice] = []
    for alert in state.alerts:
        words = set(re.split(r"[^\w-]+", alert))
        mentioned = tuple(
            sorted(
                p.id
                for p in roadmap.parties
                if p.id in words
                or p.name in alert
                or (p.short_name and re.search(rf"\b{re.escape(p.short_name)}\b", alert))
            )
        )
        text = names.text(alert)
        out.append(
            Notice(
                id=_id(agreement, "alert", alert),
                kind="alert",
                title=_shortened(text, 120),
                summary=text,
                updated=_alert_time(alert, state.at),
                parties=mentioned,
                link="",
            )
        )
    horizon = state.at + dt.timedelta(days=within_days)
    seen: dict[tuple[NoticeKind, str, dt.datetime, str], list[str]] = {}
    for o in state.owed:
        if o.due is None or o.kind not in ("carry out", "verify") or o.due > horizon:
            continue
        kind: NoticeKind = "overdue" if o.due < state.at else "deadline"
        seen.setdefault((kind, o.kind, o.due, o.subject), []).append(o.party)
    for (notice_kind, what, due, subject), parties in seen.items():
        values = {
            "moment": moment_text(due),
            "who": ", ".join(names.party(p) for p in parties),
            "what": names.subject(subject),
        }
        if notice_kind == "overdue" and what == "verify":
            title = i18n.gettext_("Overdue since %(moment)s: %(who)s to verify %(what)s")
        elif notice_kind == "overdue":
            title = i18n.gettext_("Overdue since %(moment)s: %(who)s to carry out %(what)s")
        elif what == "verify":
            title = i18n.gettext_("Deadline %(moment)s: %(who)s to verify %(what)s")
        else:
            title = i18n.gettext_("Deadline %(moment)s: %(who)s to carry out %(what)s")
        title %= values
        out.append(
            Notice(
                id=_id(agreement, notice_kind, what, subject, due.isoformat(), *sorted(parties)),
                kind=notice_kind,
                title=title,
                summary=title,
                updated=due,
                parties=tuple(sorted(parties)),
                link=f"steps/{subject}",
            )
        )
    return sorted(out, key=lambda n: (n.updated, n.id), reverse=True)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _urn(text: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, text).urn


def atom(
    roadmap: RoadMap,
    state: AgreementState,
    items: list[Notice],
    *,
    scope: str,
    self_url: str,
    site_url: str,
    title: str,
    query: str = "",
) -> bytes:
    """An Atom feed of ``items`` (UTF-8 XML): ``scope`` names it (``agreement``, or
    ``party/<id>``) in its stable id; ``site_url`` is the dashboard's root, ending in /,
    and ``query`` what every link to a page carries (``?lang=fr``). Its words, and its
    ``xml:lang``, are those of :data:`cvid.i18n.current`."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": i18n.current.get()})
    _text(feed, "id", _urn(f"{roadmap.agreement.origin}/feed/{scope}"))
    _text(feed, "title", title)
    _text(feed, "updated", _stamp(max([state.at, *(n.updated for n in items)])))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    author_name = i18n.gettext_("cvid engine: %(agreement)s")
    _text(author, "name", author_name % {"agreement": roadmap.agreement.title})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": self_url})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": site_url + query})
    subtitle = i18n.gettext_("Alerts and deadlines on %(moment)s")
    _text(feed, "subtitle", subtitle % {"moment": moment_text(state.at)})
    for n in items:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", _urn(f"{roadmap.agreement.origin}/{n.id}"))
        _text(entry, "title", n.title)
        _text(entry, "updated", _stamp(n.updated))
        href = site_url + n.link + query
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": href})
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": n.kind})
        _text(entry, "summary", n.summary)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


__all__ = ["ATOM", "KINDS", "Notice", "NoticeKind", "atom", "notices"]
