"""A generated adversarial suite: thousands of hostile submissions against a real history.

A realistic history is built first (adoption, reports, verifications, guarantees, two
Council votes), then a seeded generator makes attacks against it, by category:
forged and borrowed signatures, tampered and replayed entries, sequence games,
truncation, unknown fields, oversized bodies, clock skew, the wrong agreement or
road map, types a party may not submit, unknown types, and JSON that is valid but
not canonical. Every attack must be refused, for the reason its category
predicts, and must leave the History exactly as it was.

Each attack is built from an entry that would be admitted as it stands (the
"templates" are checked to be admissible), so that the one thing the attacker
changed is what gets it refused.
"""

from __future__ import annotations

import base64
import collections
import copy
import datetime as dt
import hashlib
import json
import random
import re
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cvid._ids import ID_PATTERN
from cvid._jcs import MAX_SAFE_INTEGER, canonical
from cvid.errors import EventRejectedError, EventSignatureError
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.events.envelope import DOMAIN, EVENT_FIELDS, format_time
from cvid.log.note import Signer
from tests.kit import Kit, at, seeded_signer

SEED = 0xC51D_2027
T0 = at("2027-01-02T09:00:00")
DAY = dt.timedelta(days=1)
NOW = T0 + 21 * DAY
SKEW = dt.timedelta(seconds=300)
MIN_CASES = 10_000

Body = dict[str, Any]
Json = dict[str, Any]

# --- the history ------------------------------------------------------------------------

D_ENDORSE, D_DISPUTE = "res-2301", "res-2302"

SCRIPT: list[tuple[dt.timedelta, str, str, Body]] = [
    (DAY, "north", "step.reported", {"step": "freeze-reactor", "note": "Reactor A shut down."}),
    (
        3 * DAY,
        "iaea",
        "step.verified",
        {
            "step": "freeze-reactor",
            "outcome": "confirmed",
            "items": {"reactor-a": "frozen"},
            "note": "Seals intact \u2014 v\u00e9rifi\u00e9 sur place",
        },
    ),
    (
        5 * DAY,
        "north",
        "step.reported",
        {"step": "declare", "note": 'D\u00e9claration: 10 "t\u00eates" \u2622 / \U0001d511'},
    ),
    (6 * DAY, "iaea", "inventory.observed", {"items": {"stock-1": "declared"}}),
    (7 * DAY, "usa", "guarantee.signed", {"guarantee": "g-nsa"}),
    (7 * DAY, "chn", "guarantee.signed", {"guarantee": "g-nsa"}),
    (
        8 * DAY,
        "usa",
        "council.draft.tabled",
        {
            "draft": D_ENDORSE,
            "title": "Endorsing the freeze",
            "purpose": "endorse",
            "suspend_measures": ["m-oil"],
        },
    ),
    (9 * DAY, "usa", "council.vote.cast", {"draft": D_ENDORSE, "vote": "yes"}),
    (9 * DAY, "chn", "council.vote.cast", {"draft": D_ENDORSE, "vote": "yes"}),
    (9 * DAY, "e1", "council.vote.cast", {"draft": D_ENDORSE, "vote": "yes"}),
    (9 * DAY, "e2", "council.vote.cast", {"draft": D_ENDORSE, "vote": "abstain"}),
    (9 * DAY, "e3", "council.vote.cast", {"draft": D_ENDORSE, "vote": "no"}),
    (10 * DAY, "usa", "council.vote.closed", {"draft": D_ENDORSE}),
    (
        12 * DAY,
        "e2",
        "council.draft.tabled",
        {
            "draft": D_DISPUTE,
            "title": "The dispute over the declaration",
            "purpose": "other",
            "chapter": "VI",
            "dispute_parties": ["usa", "chn"],
        },
    ),
    (13 * DAY, "usa", "council.vote.cast", {"draft": D_DISPUTE, "vote": "abstain"}),
    (13 * DAY, "e1", "council.vote.cast", {"draft": D_DISPUTE, "vote": "yes"}),
    (
        20 * DAY,
        "north",
        "step.reported",
        {"step": "disable-reactor", "note": "Rods out\tand tagged"},
    ),
]

# Events each party could submit next, at NOW, and have admitted.
TEMPLATES: list[tuple[str, str, Body]] = [
    ("north", "step.reported", {"step": "dismantle-stock", "note": "Begun."}),
    (
        "iaea",
        "step.verified",
        {"step": "disable-reactor", "outcome": "confirmed", "items": {"reactor-a": "disabled"}},
    ),
    ("iaea", "inventory.observed", {"items": {"stock-1": "stored"}, "note": "Counted."}),
    ("usa", "snapback.notified", {"reason": "Significant non-performance."}),
    ("chn", "council.vote.cast", {"draft": D_DISPUTE, "vote": "abstain"}),
    ("chn", "guarantee.withdrawn", {"guarantee": "g-nsa", "reason": "Reconsidered."}),
    ("e3", "council.vote.cast", {"draft": D_DISPUTE, "vote": "no"}),
    ("e2", "council.vote.closed", {"draft": D_DISPUTE}),
    (
        "e3",
        "council.draft.tabled",
        {"draft": "res-2303", "title": "Continuing relief", "purpose": "continue_relief"},
    ),
    ("ops", "step.waived", {"step": "dismantle-stock", "reason": "Superseded."}),
]


@dataclass
class World:
    """The kit with its history built, and the entries that made it."""

    kit: Kit
    logged: list[tuple[bytes, AdmittedEvent]]


def build_world() -> World:
    kit = Kit()
    logged: list[tuple[bytes, AdmittedEvent]] = []
    steps: list[tuple[dt.timedelta, str, str, Body]] = [
        (dt.timedelta(0), p, "agreement.adopted", {}) for p in ("north", "usa", "chn")
    ]
    for offset, party, event_type, body in steps + SCRIPT:
        data = kit.signed(party, event_type, body, time=T0 + offset)
        logged.append((data, kit.submit(data, now=T0 + offset)))
    return World(kit, logged)


# --- attacks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    category: str
    data: bytes
    now: dt.datetime
    expect: frozenset[str]


def expect(*reasons: str) -> frozenset[str]:
    return frozenset(reasons)


ALPHABET = [
    *"abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;-_'",
    *["\u00e9", "\u00df", "\u2622", "\u2014", "\U0001d511", "\u4e2d", "\u2028", "\u00a0"],
    *["\t", "\n", '"', "\\", "/", "\x01", "\x7f", "<", "&"],
]
WORDS = ["alg", "kid", "sig", "nonce", "priority", "x", "__proto__", "constructor", "Step"]
WORDS += ["step ", "evidence", "signature2", "\u00e9v\u00e9nement", "", "id", "hash", "prev", "v2"]


class Adversary:
    """Makes attacks against one world, reproducibly from ``rng``."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.kit = world.kit
        self.rng = rng
        self.intruder = seeded_signer("mallory", "intruder")
        self.doubles = {p: seeded_signer(p, "double") for p in self.kit.signers}

    # --- building blocks ------------------------------------------------------------------

    def text(self, low: int = 1, high: int = 40) -> str:
        return "".join(self.rng.choice(ALPHABET) for _ in range(self.rng.randint(low, high)))

    def ident(self, low: int = 1, high: int = 20) -> str:
        """A random identifier (lowercase, digits, ``. _ -`` inside)."""
        alnum = string.ascii_lowercase + string.digits
        n = self.rng.randint(low, high)
        inner = "".join(self.rng.choice(alnum + "._-") for _ in range(n - 2))
        out = self.rng.choice(alnum) + (inner + self.rng.choice(alnum) if n > 1 else "")
        assert re.fullmatch(ID_PATTERN, out)
        return out

    def template(self) -> tuple[str, str, Body]:
        party, event_type, body = self.rng.choice(TEMPLATES)
        return party, event_type, self.vary(body)

    def vary(self, body: Body) -> Body:
        """A copy of ``body`` with fresh free text, where it has any."""
        body = copy.deepcopy(body)
        for key in ("note", "reason", "title"):
            if key in body and self.rng.random() < 0.7:
                body[key] = self.text()
        return body

    def event(
        self, party: str, event_type: str, body: Body, *, seq: int | None = None, **fields: Any
    ) -> Json:
        """``party``'s next event (or ``seq``) as a JSON object, ``fields`` changed.

        Its time is up to four minutes before NOW: within the skew, and after every
        event already logged.
        """
        when = NOW - dt.timedelta(microseconds=self.rng.randrange(240 * 10**6))
        value = self.kit.event(party, event_type, body, time=when, seq=seq).to_dict()
        value.update(fields)
        return value

    def sign(
        self, event: Json, signer: Signer | None = None, *, key_id: bytes | None = None
    ) -> Json:
        signer = signer or self.kit.signers[event["party"]]
        sig = signer.sign_message(DOMAIN + canonical(event))
        return {
            "event": event,
            "signature": {
                "key_id": (key_id or signer.key_id).hex(),
                "value": base64.b64encode(sig).decode(),
            },
        }

    def entry(self, event: Json, signer: Signer | None = None) -> bytes:
        return canonical(self.sign(event, signer))

    def good(self) -> bytes:
        """An admissible entry: a template with fresh text, signed by its party."""
        return self.entry(self.event(*self.template()))

    def bases(self) -> list[bytes]:
        """Admissible entries and already logged ones, for byte-level mutation."""
        return [self.good() for _ in range(3)] + [self.rng.choice(self.world.logged)[0]]

    # --- the categories -------------------------------------------------------------------

    def forged_random(self) -> Iterator[Attack]:
        value = self.sign(self.event(*self.template()))
        value["signature"]["value"] = base64.b64encode(self.rng.randbytes(64)).decode()
        yield Attack("forged-random-bytes", canonical(value), NOW, expect("bad-signature"))

    def forged_bits(self) -> Iterator[Attack]:
        value = self.sign(self.event(*self.template()))
        raw = bytearray(base64.b64decode(value["signature"]["value"]))
        for bit in self.rng.sample(range(512), self.rng.randint(1, 4)):
            raw[bit // 8] ^= 1 << (bit % 8)
        value["signature"]["value"] = base64.b64encode(bytes(raw)).decode()
        yield Attack("forged-flipped-bits", canonical(value), NOW, expect("bad-signature"))

    def tampered_after_signing(self) -> Iterator[Attack]:
        value = self.sign(self.event(*self.template()))
        event = value["event"]
        choice = self.rng.randrange(5)
        if choice == 0:
            event["body"]["note"] = self.text()
        elif choice == 1:
            event["seq"] += self.rng.choice([1, 2, 1000])
        elif choice == 2:
            event["time"] = format_time(NOW + dt.timedelta(seconds=self.rng.randint(1, 200)))
        elif choice == 3:
            event["type"] = self.rng.choice([t for t in b.EVENT_TYPES if t != event["type"]])
        else:
            event["body"] = {}
        yield Attack("tampered-after-signing", canonical(value), NOW, expect("bad-signature"))

    def other_party_key(self) -> Iterator[Attack]:
        victim, event_type, body = self.template()
        event = self.event(victim, event_type, body)
        thief = self.kit.signers[self.rng.choice([p for p in self.kit.signers if p != victim])]
        variant = self.rng.randrange(4)
        if variant == 0:  # another party's key, under its own key ID
            value, reason = self.sign(event, thief), "unregistered-key"
        elif variant == 1:  # another party's key, claiming the victim's key ID
            key_id = self.kit.signers[victim].key_id
            value, reason = self.sign(event, thief, key_id=key_id), "bad-signature"
        elif variant == 2:  # a key named for the victim that the road map never registered
            value, reason = self.sign(event, self.doubles[victim]), "unregistered-key"
        else:  # an outsider's key
            value, reason = self.sign(event, self.intruder), "unregistered-key"
        yield Attack("other-party-key", canonical(value), NOW, expect(reason))

    def tampered_old_seq(self) -> Iterator[Attack]:
        _, admitted = self.rng.choice(self.world.logged)
        event = admitted.signed.event.to_dict()
        body = event["body"]
        choice = self.rng.randrange(4)
        if choice == 0 or not body:
            body["note"] = self.text()
        elif "vote" in body:
            body["vote"] = self.rng.choice(
                [v for v in ("yes", "no", "abstain") if v != body["vote"]]
            )
        elif "outcome" in body:
            body["outcome"] = "failed"
        elif "step" in body:
            body["step"] = self.rng.choice(["declare", "dismantle-stock", "freeze-reactor"])
            body["note"] = self.text()
        else:
            body[self.rng.choice(list(body))] = self.ident()
        if self.rng.random() < 0.5:
            event["time"] = format_time(NOW)
        yield Attack(
            "tampered-resigned-old-seq", self.entry(event), NOW, expect("replayed-sequence")
        )

    def replay(self) -> Iterator[Attack]:
        data, admitted = self.rng.choice(self.world.logged)
        now = self.rng.choice([admitted.time, NOW, NOW + self.rng.randint(1, 10**6) * SKEW / 1000])
        yield Attack("replayed-entry", data, now, expect("replayed-sequence"))

    def future_seq(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        expected = self.kit.history.seq.get(party, 0) + 1
        jump = self.rng.choice(
            [self.rng.randint(1, 3), self.rng.randint(4, 10**6), MAX_SAFE_INTEGER - expected]
        )
        event = self.event(party, event_type, body, seq=expected + jump)
        yield Attack("future-seq", self.entry(event), NOW, expect("sequence-gap"))

    def stale_seq(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        last = self.kit.history.seq.get(party, 0)
        if last == 0:
            return
        event = self.event(party, event_type, body, seq=self.rng.randint(1, last))
        yield Attack("stale-seq", self.entry(event), NOW, expect("replayed-sequence"))

    def unknown_field_envelope(self) -> Iterator[Attack]:
        value = self.sign(self.event(*self.template()))
        name = self.rng.choice([*WORDS, self.ident()])
        if self.rng.random() < 0.5:
            if name in {"event", "signature"}:
                name = "events"
            value[name] = self.json_value()
        else:
            if name in EVENT_FIELDS:
                name += "_"
            value["event"][name] = self.json_value()
            value = self.sign(value["event"])  # the intruding field is signed too
        yield Attack("unknown-field-envelope", canonical(value), NOW, expect("unknown-field"))

    def unknown_field_signature(self) -> Iterator[Attack]:
        value = self.sign(self.event(*self.template()))
        sig = value["signature"]
        variant = self.rng.randrange(3)
        if variant == 0:
            name = self.rng.choice([*WORDS, self.ident()])
            sig[name if name not in sig else name + "2"] = self.json_value()
        elif variant == 1:  # a misspelt field
            sig[self.rng.choice(["keyid", "key-id", "kid", "keyId"])] = sig.pop("key_id")
        else:
            sig[self.rng.choice(["sig", "signature", "val"])] = sig.pop("value")
        yield Attack("unknown-field-signature", canonical(value), NOW, expect("bad-signature"))

    def unknown_field_body(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        known = set(b.BODIES[event_type].model_fields)
        name = self.rng.choice([*WORDS, self.ident(), "Note", "steps", "items_", "vote "])
        if name in known:
            name += "_x"
        body[name] = self.json_value()
        event = self.event(party, event_type, body)
        yield Attack("unknown-field-body", self.entry(event), NOW, expect("unknown-field"))

    def oversized(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        limit = self.kit.roadmap.agreement.max_body_bytes
        if self.rng.random() < 0.6:  # the entry fits, the body does not
            target = self.rng.randint(limit + 1, limit + 400)
        else:  # the entry itself is too long
            target = self.rng.randint(self.kit.gate.max_size + 1, 70_000)
        shape = self.rng.randrange(3)
        key = next((k for k in ("note", "reason", "title") if k in body), "padding")
        if shape == 0:
            body[key] = ""
            body[key] = "x" * (target - len(canonical(body)))
        elif shape == 1:
            filler = [self.ident(8, 8) for _ in range(target // 11 + 1)]
            body["padding"] = filler
        else:
            for i in range(target // 12 + 1):
                body[f"k{i:06d}"] = 1
        assert len(canonical(body)) > limit
        event = self.event(party, event_type, body)
        yield Attack("oversized", self.entry(event), NOW, expect("oversize"))

    def clock_skew(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        beyond = self.rng.choice(
            [
                dt.timedelta(microseconds=self.rng.randint(1, 10**6)),
                dt.timedelta(seconds=self.rng.randint(1, 86_400)),
                dt.timedelta(days=self.rng.randint(1, 3650)),
            ]
        )
        when = NOW + (SKEW + beyond) * self.rng.choice([1, -1])
        event = self.event(party, event_type, body, time=format_time(when))
        yield Attack("clock-skew", self.entry(event), NOW, expect("clock-skew"))

    def wrong_agreement(self) -> Iterator[Attack]:
        name = self.rng.choice(
            ["mini2", "minii", "mini.x", "m1ni", "maxi", "min", "mini-roadmap", self.ident()]
        )
        if name == "mini":
            name = "mini0"
        event = self.event(*self.template(), agreement=name)
        yield Attack("wrong-agreement", self.entry(event), NOW, expect("wrong-agreement"))

    def wrong_roadmap(self) -> Iterator[Attack]:
        digest = self.kit.gate.digest
        variant = self.rng.randrange(3)
        if variant == 0:
            wrong = "sha256:" + self.rng.randbytes(32).hex()
        elif variant == 1:  # one hex digit changed
            at_ = self.rng.randrange(7, len(digest))
            digit = self.rng.choice([c for c in "0123456789abcdef" if c != digest[at_]])
            wrong = digest[:at_] + digit + digest[at_ + 1 :]
        else:  # the hash of something else that looks like a road map
            wrong = "sha256:" + hashlib.sha256(self.text().encode()).hexdigest()
        event = self.event(*self.template(), roadmap=wrong)
        yield Attack("wrong-roadmap", self.entry(event), NOW, expect("wrong-roadmap"))

    def unauthorised_type(self) -> Iterator[Attack]:
        party, event_type = self.rng.choice(FORBIDDEN)
        body = self.vary(self.rng.choice([t[2] for t in TEMPLATES if t[1] == event_type]))
        event = self.event(party, event_type, body)
        yield Attack("unauthorised-type", self.entry(event), NOW, expect("unauthorised-type"))

    def unknown_type(self) -> Iterator[Attack]:
        party, _, body = self.template()
        near = ["step.report", "step.reported_", "council.vote", "council.vote.casted"]
        near += ["agreement.adopted.twice", "snapback.notify", "guarantee.signed_", "step.waive"]
        near += ["agreement.withdrawn", "inventory.destroyed", "log.truncated", "step.undone"]
        root = self.rng.choice(["step", "agreement", "council", "guarantee", "snapback", "x"])
        made = (
            root + "." + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(6))
        )
        event_type = self.rng.choice([*near, made])
        assert event_type not in b.BODIES
        event = self.event(party, event_type, body)
        yield Attack("unknown-type", self.entry(event), NOW, expect("unknown-type"))

    def whitespace(self) -> Iterator[Attack]:
        base = self.rng.choice(self.bases())
        text = base.decode()
        _, gaps = scan(text)
        for _ in range(self.rng.randint(1, 3)):
            at_ = self.rng.choice(gaps)
            ws = "".join(self.rng.choice(" \t\n\r") for _ in range(self.rng.randint(1, 3)))
            text = text[:at_] + ws + text[at_:]
            _, gaps = scan(text)
        yield self.same_value("non-canonical-whitespace", base, text.encode())

    def key_order(self) -> Iterator[Attack]:
        base = self.rng.choice(self.bases())
        value = json.loads(base)
        objects = [o for o in walk(value) if len(o) >= 2]
        target = self.rng.choice(objects)
        keys = list(target)
        while keys == list(target):
            self.rng.shuffle(keys)
        items = [(k, target.pop(k)) for k in list(target)]
        target.update(sorted(items, key=lambda kv: keys.index(kv[0])))
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        yield self.same_value("non-canonical-key-order", base, text.encode())

    def escapes(self) -> Iterator[Attack]:
        base = self.rng.choice(self.bases())
        text = base.decode()
        plain, _ = scan(text)
        for _ in range(self.rng.randint(1, 2)):
            at_ = self.rng.choice(plain)
            text = text[:at_] + escape(text[at_], self.rng) + text[at_ + 1 :]
            plain, _ = scan(text)
        yield self.same_value("non-canonical-escape", base, text.encode())

    def same_value(self, category: str, base: bytes, data: bytes) -> Attack:
        """Another spelling of ``base``: the same JSON value, other bytes."""
        assert data != base
        assert canonical(json.loads(data)) == base
        return Attack(category, data, NOW, expect("not-canonical"))

    # --- more of the same, beyond the brief -----------------------------------------------

    def malformed_envelope(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        event = self.event(party, event_type, body)
        name, bad, reason = self.rng.choice(MALFORMED)
        if bad is MISSING:
            del event[name]
        else:
            event[name] = bad
        signed = self.entry(event, self.kit.signers[party])
        yield Attack("malformed-envelope", signed, NOW, expect(reason))

    def context(self) -> Iterator[Attack]:
        party, event_type, body, reason = self.rng.choice(CONTEXT)
        body = copy.deepcopy(body)
        if "note" in b.BODIES[event_type].model_fields and "note" not in body:
            body["note"] = self.text()
        event = self.event(party, event_type, body)
        yield Attack("context", self.entry(event), NOW, expect(reason))

    def time_regression(self) -> Iterator[Attack]:
        party, event_type, body = self.template()
        last = self.kit.history.last_time.get(party)
        if last is None:
            return
        back = dt.timedelta(microseconds=self.rng.randint(1, 300 * 10**6))
        event = self.event(party, event_type, body, time=format_time(last - back))
        yield Attack("time-regression", self.entry(event), last, expect("time-regression"))

    def strict_json(self) -> Iterator[Attack]:
        text = self.good().decode()
        variant = self.rng.randrange(6)
        if variant == 0:  # a duplicate member, in any object, with the same or another value
            member = self.rng.choice(list(MEMBER.finditer(text)))
            dup = member.group(0)
            if self.rng.random() < 0.5:
                dup = dup.split(":")[0] + ":" + self.rng.choice(["1", '"x"', "null", "{}"])
            text = text[: member.end()] + "," + dup + text[member.end() :]
        elif variant == 1:
            text = text.replace(
                '"body":{', '"body":{"n":' + self.rng.choice(["NaN", "Infinity", "-Infinity"]) + ","
            )
        elif variant == 2:
            big = self.rng.choice([2**53, -(2**53), 10**20, 10**30 + self.rng.randint(0, 99)])
            text = text.replace('"body":{', f'"body":{{"n":{big},')
        elif variant == 3:
            text = text.replace(
                '"body":{', '"body":{"n":1e' + str(self.rng.randint(309, 999)) + ","
            )
        elif variant == 4:
            text = text.replace(
                '"body":{', '"body":{"\\ud8' + self.rng.choice("0123456789ab") + '0":1,'
            )
        else:
            raw = text.encode()
            at_ = raw.index(b'"party":"') + 9
            junk = self.rng.choice(
                [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80"]
            )
            yield Attack("strict-json", raw[:at_] + junk + raw[at_:], NOW, expect("bad-json"))
            return
        yield Attack("strict-json", text.encode(), NOW, expect("bad-json"))

    def truncations(self, whole: int, sampled: int) -> Iterator[Attack]:
        """Every prefix of ``whole`` entries, and ``sampled`` prefixes of each of the rest."""
        entries = [self.good() for _ in range(whole)] + [d for d, _ in self.world.logged]
        for i, data in enumerate(entries):
            lengths = range(len(data)) if i < whole else self.rng.sample(range(len(data)), sampled)
            for n in lengths:
                yield Attack("truncated", data[:n], NOW, expect("bad-json"))

    def json_value(self) -> Any:
        return self.rng.choice(
            [
                *(None, True, 0, -1, self.rng.randint(-(2**53) + 1, 2**53 - 1), [], {}),
                *(self.text(), [self.text(), 1], {"a": self.text()}),
            ]
        )


MISSING = object()

MALFORMED: list[tuple[str, Any, str]] = [
    ("seq", 0, "bad-envelope"),
    ("seq", -1, "bad-envelope"),
    ("seq", 2.5, "bad-envelope"),
    ("seq", "2", "bad-envelope"),
    ("seq", True, "bad-envelope"),
    ("seq", None, "bad-envelope"),
    ("v", 2, "bad-envelope"),
    ("v", 0, "bad-envelope"),
    ("v", "1", "bad-envelope"),
    ("v", True, "bad-envelope"),
    ("agreement", "MINI", "bad-envelope"),
    ("agreement", "", "bad-envelope"),
    ("agreement", "mini ", "bad-envelope"),
    ("agreement", 1, "bad-envelope"),
    ("roadmap", "sha256:" + "A" * 64, "bad-envelope"),
    ("roadmap", "sha256:" + "a" * 63, "bad-envelope"),
    ("roadmap", "a" * 64, "bad-envelope"),
    ("type", "Step.Reported", "bad-envelope"),
    ("type", "step", "bad-envelope"),
    ("type", "", "bad-envelope"),
    ("type", "step.reported\n", "bad-envelope"),
    ("party", "North", "bad-envelope"),
    ("party", "north\u0000", "bad-envelope"),
    ("party", ["north"], "bad-envelope"),
    ("body", [], "bad-envelope"),
    ("body", None, "bad-envelope"),
    ("body", "{}", "bad-envelope"),
    ("time", "2027-01-23T09:00:00+00:00", "bad-time"),
    ("time", "2027-01-23T09:00:00", "bad-time"),
    ("time", "2027-01-23T09:00Z", "bad-time"),
    ("time", "2027-01-23t09:00:00z", "bad-time"),
    ("time", "2027-01-23T09:00:00.000000Z", "bad-time"),
    ("time", "2027-01-23T09:00:00.5Z", "bad-time"),
    ("time", "2027-02-29T09:00:00Z", "bad-time"),
    ("time", "2027-01-23T23:59:60Z", "bad-time"),
    ("time", 1800000000, "bad-time"),
    ("time", MISSING, "bad-envelope"),
    ("seq", MISSING, "bad-envelope"),
    ("body", MISSING, "bad-envelope"),
    ("v", MISSING, "bad-envelope"),
]

# (party, type) pairs the fixture's permissions refuse before anything else is looked at.
FORBIDDEN: list[tuple[str, str]] = (
    [(p, "step.waived") for p in ("usa", "chn", "e1", "e2", "e3", "iaea")]
    + [(p, "inventory.observed") for p in ("north", "usa", "chn", "e1", "e2", "e3", "ops")]
    + [
        (p, t)
        for p in ("north", "iaea", "ops")
        for t in ("council.draft.tabled", "council.vote.cast", "council.vote.closed")
    ]
)

CONTEXT: list[tuple[str, str, Body, str]] = [
    ("north", "agreement.adopted", {}, "duplicate"),
    ("e1", "agreement.adopted", {}, "unauthorised"),
    ("usa", "council.vote.cast", {"draft": D_ENDORSE, "vote": "no"}, "vote-closed"),
    ("e3", "council.vote.closed", {"draft": D_ENDORSE}, "vote-closed"),
    ("e1", "council.vote.cast", {"draft": D_DISPUTE, "vote": "no"}, "duplicate"),
    ("chn", "council.vote.cast", {"draft": D_DISPUTE, "vote": "no"}, "must-abstain"),
    ("chn", "council.vote.cast", {"draft": D_DISPUTE, "vote": "yes"}, "must-abstain"),
    ("usa", "guarantee.signed", {"guarantee": "g-nsa"}, "duplicate"),
    (
        "e3",
        "council.draft.tabled",
        {"draft": D_ENDORSE, "title": "t", "purpose": "other"},
        "duplicate",
    ),
    ("iaea", "step.verified", {"step": "declare", "outcome": "confirmed"}, "unauthorised"),
    ("usa", "step.reported", {"step": "freeze-reactor"}, "unauthorised"),
    ("e1", "snapback.notified", {"reason": "No."}, "unauthorised"),
    ("e1", "guarantee.signed", {"guarantee": "g-nsa"}, "unauthorised"),
    ("north", "step.reported", {"step": "teleport"}, "unknown-reference"),
    ("iaea", "inventory.observed", {"items": {"stock-9": "stored"}}, "unknown-reference"),
    ("iaea", "inventory.observed", {"items": {"stock-1": "frozen"}}, "bad-body"),
    ("ops", "step.waived", {"step": "teleport", "reason": "r"}, "unknown-reference"),
    # a party never waives its own obligation, whatever the permissions say
    ("north", "step.waived", {"step": "dismantle-stock", "reason": "r"}, "unauthorised"),
    ("e1", "council.vote.cast", {"draft": "res-9999", "vote": "yes"}, "unknown-reference"),
    (
        "e3",
        "council.draft.tabled",
        {"draft": "res-9", "title": "t", "purpose": "other", "reimpose_measures": ["m-gold"]},
        "unknown-reference",
    ),
    ("usa", "guarantee.withdrawn", {"guarantee": "g-x", "reason": "r"}, "unknown-reference"),
    ("iaea", "step.verified", {"step": "disable-reactor", "outcome": "maybe"}, "bad-body"),
    ("e3", "council.vote.cast", {"draft": D_DISPUTE, "vote": "perhaps"}, "bad-body"),
    ("iaea", "inventory.observed", {"items": []}, "bad-body"),
    ("iaea", "inventory.observed", {"items": {}}, "bad-body"),
    ("north", "step.reported", {"step": "Declare"}, "bad-body"),
    ("north", "step.reported", {"step": "declare", "note": ""}, "bad-body"),
    ("north", "step.reported", {"step": "declare", "note": "x" * 4001}, "bad-body"),
    ("north", "step.reported", {"note": "where is the step?"}, "bad-body"),
    ("north", "step.reported", {"step": 7}, "bad-body"),
]


MEMBER = re.compile(
    r'"(?:seq|v|key_id|value|party|type|agreement|time|draft|step|vote|reason)":(?:"[^"\\]*"|\d+)'
)


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside ``value``, outermost first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def scan(text: str) -> tuple[list[int], list[int]]:
    """Indices of unescaped characters inside strings, and of the gaps between tokens."""
    plain: list[int] = []
    gaps = {0, len(text)}
    in_string, i = False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 6 if text[i + 1] == "u" else 2
                continue
            if c == '"':
                in_string = False
            else:
                plain.append(i)
        elif c == '"':
            in_string = True
        elif c in "{}[],:":
            gaps.update((i, i + 1))
        i += 1
    return plain, sorted(gaps)


def escape(c: str, rng: random.Random) -> str:
    """Another JSON spelling of the one character ``c``."""
    if c == "/" and rng.random() < 0.5:
        return "\\/"
    code = ord(c)
    if code > 0xFFFF:
        code -= 0x10000
        units = [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    else:
        units = [code]
    out = "".join(f"\\u{u:04x}" for u in units)
    return out.upper().replace("\\U", "\\u") if rng.random() < 0.5 else out


# --- the run ----------------------------------------------------------------------------

PLAN: list[tuple[str, int]] = [
    ("forged_random", 700),
    ("forged_bits", 700),
    ("tampered_after_signing", 400),
    ("other_party_key", 800),
    ("tampered_old_seq", 700),
    ("replay", 500),
    ("future_seq", 500),
    ("stale_seq", 600),
    ("unknown_field_envelope", 500),
    ("unknown_field_signature", 300),
    ("unknown_field_body", 500),
    ("oversized", 300),
    ("clock_skew", 600),
    ("wrong_agreement", 400),
    ("wrong_roadmap", 400),
    ("unauthorised_type", 600),
    ("unknown_type", 400),
    ("whitespace", 500),
    ("key_order", 500),
    ("escapes", 500),
    ("malformed_envelope", 400),
    ("context", 600),
    ("time_regression", 300),
    ("strict_json", 400),
]

# The categories the brief asks for; each must produce refusals.
REQUIRED = {
    "forged-random-bytes",
    "forged-flipped-bits",
    "other-party-key",
    "tampered-resigned-old-seq",
    "replayed-entry",
    "future-seq",
    "stale-seq",
    "truncated",
    "unknown-field-envelope",
    "unknown-field-signature",
    "unknown-field-body",
    "oversized",
    "clock-skew",
    "wrong-agreement",
    "wrong-roadmap",
    "unauthorised-type",
    "unknown-type",
    "non-canonical-whitespace",
    "non-canonical-key-order",
    "non-canonical-escape",
}


def attacks(adversary: Adversary) -> Iterator[Attack]:
    for method, count in PLAN:
        make: Callable[[], Iterator[Attack]] = getattr(adversary, method)
        for _ in range(count):
            yield from make()
    yield from adversary.truncations(whole=4, sampled=40)


@dataclass
class Tally:
    cases: int = 0
    distinct: set[bytes] = field(default_factory=set)
    by_category: collections.Counter[str] = field(default_factory=collections.Counter)
    by_reason: collections.Counter[str] = field(default_factory=collections.Counter)
    by_pair: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{self.cases} adversarial cases ({len(self.distinct)} distinct), all refused"]
        lines += ["by category:"]
        for category, n in sorted(self.by_category.items()):
            reasons = ", ".join(
                f"{r} {m}" for (c, r), m in sorted(self.by_pair.items()) if c == category
            )
            lines.append(f"  {category:28} {n:6}  ({reasons})")
        lines += ["by reason:"]
        lines += [f"  {reason:28} {n:6}" for reason, n in sorted(self.by_reason.items())]
        return "\n".join(lines)


def test_the_templates_are_admissible() -> None:
    """Every attack starts from one of these; as they stand, they would be admitted."""
    world = build_world()
    kit = world.kit
    for party, event_type, body in TEMPLATES:
        data = kit.signed(party, event_type, body, time=NOW)
        kit.gate.admit(data, kit.history, now=NOW)
    assert {t[0] for t in TEMPLATES} == set(kit.signers) - {"e1"}
    assert kit.gate.in_force(kit.history)
    assert kit.history.size == len(world.logged) == 20


def test_the_generator_is_reproducible() -> None:
    def first(n: int) -> list[bytes]:
        made = attacks(Adversary(build_world(), random.Random(SEED)))
        return [next(made).data for _ in range(n)]

    assert first(300) == first(300)


@pytest.mark.slow
def test_adversarial_submissions_are_all_refused() -> None:
    started = time.perf_counter()
    world = build_world()
    kit = world.kit
    snapshot, text = copy.deepcopy(kit.history), repr(kit.history)
    # the randomised entries attacks start from are admissible as they stand
    sampler = Adversary(world, random.Random(~SEED))
    for _ in range(300):
        kit.gate.admit(sampler.good(), kit.history, now=NOW)
    tally = Tally()
    for attack in attacks(Adversary(world, random.Random(SEED))):
        tally.cases += 1
        tally.distinct.add(hashlib.sha256(attack.data + attack.now.isoformat().encode()).digest())
        try:
            kit.gate.admit(attack.data, kit.history, now=attack.now)
        except (EventRejectedError, EventSignatureError) as e:
            reason = e.reason
        except Exception as e:  # anything else is a crash on hostile input
            tally.failures.append(
                f"{attack.category}: {type(e).__name__}: {e}: {attack.data!r:.300}"
            )
            continue
        else:
            tally.failures.append(f"{attack.category}: ADMITTED {attack.data!r:.300}")
            continue
        tally.by_category[attack.category] += 1
        tally.by_reason[reason] += 1
        tally.by_pair[attack.category, reason] += 1
        if reason not in attack.expect:
            tally.failures.append(
                f"{attack.category}: {reason} not {sorted(attack.expect)}: {attack.data!r:.300}"
            )
        if kit.history != snapshot:
            tally.failures.append(f"{attack.category}: the history changed")
            break
    elapsed = time.perf_counter() - started
    print(f"\n{tally.report()}\nin {elapsed:.1f} s")
    assert tally.failures == []
    assert kit.history == snapshot
    assert repr(kit.history) == text
    assert tally.cases >= MIN_CASES
    assert len(tally.distinct) >= MIN_CASES
    assert set(tally.by_category) >= REQUIRED
    assert all(n >= 100 for n in tally.by_category.values()), tally.by_category
    assert sum(tally.by_reason.values()) == tally.cases
