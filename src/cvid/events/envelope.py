"""The signed envelope every event travels in, and its one canonical byte form.

An event is ``{"v": 1, "agreement", "roadmap", "type", "party", "seq", "time",
"body"}``. Its signature is Ed25519 over ``DOMAIN || JCS(event)``: the domain
prefix keeps an event signature from ever being valid as a signed-note or
cosignature signature made with the same key. The log entry is exactly
``JCS({"event": event, "signature": {"key_id": hex, "value": base64}})``;
:meth:`SignedEvent.from_bytes` refuses anything that is not already in that form,
so the bytes that were signed are the bytes that are logged.

What this module does not do: decide whether the signer may submit the event, or
whether its sequence number or time are acceptable (:mod:`cvid.events.authz`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cvid._ids import ID_PATTERN
from cvid._jcs import MAX_SAFE_INTEGER, canonical, parse_json
from cvid.errors import EventRejectedError, EventSignatureError, JSONFormatError
from cvid.log.note import ED25519_SIGNATURE_SIZE, KEY_ID_SIZE, NoteVerifier, Signer

VERSION = 1
DOMAIN = b"cvid-event-v1\n"
MAX_EVENT_BYTES = 65_535  # one tlog-tiles entry
EVENT_FIELDS = frozenset({"v", "agreement", "roadmap", "type", "party", "seq", "time", "body"})
SIGNATURE_FIELDS = frozenset({"key_id", "value"})

_ID = re.compile(ID_PATTERN)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TYPE = re.compile(r"^[a-z]+(?:\.[a-z_]+)+$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z$")
_KEY_ID = re.compile(r"^[0-9a-f]{8}$")


def format_time(when: dt.datetime) -> str:
    """Return the one RFC 3339 form cvid writes: UTC, ``Z``, microseconds only if any."""
    if when.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    when = when.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat, not strftime: %Y does not zero-pad years before 1000 on every platform.
    return when.isoformat(timespec="microseconds" if when.microsecond else "seconds") + "Z"


def parse_time(text: str) -> dt.datetime:
    """Parse a time in the form :func:`format_time` writes, and no other.

    Raises:
        EventRejectedError: ``bad-time``, not that exact form or not a real date.
    """
    if not _TIME.fullmatch(text):
        raise EventRejectedError("bad-time", f"time {text!r} is not RFC 3339 UTC ('...T...Z')")
    try:
        when = dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    except ValueError as e:
        raise EventRejectedError("bad-time", f"time {text!r} is not a real date and time") from e
    if format_time(when) != text:
        raise EventRejectedError(
            "bad-time", f"time {text!r} is not canonical (write {format_time(when)!r})"
        )
    return when


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


@dataclass(frozen=True, kw_only=True)
class Event:
    """An unsigned event. Construction checks the envelope's shape, not the body's."""

    agreement: str
    roadmap: str
    type: str
    party: str
    seq: int
    time: dt.datetime
    body: dict[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.agreement, str) or not _ID.fullmatch(self.agreement):
            raise _reject("bad-envelope", f"agreement {self.agreement!r} is not an identifier")
        if not isinstance(self.roadmap, str) or not _DIGEST.fullmatch(self.roadmap):
            raise _reject("bad-envelope", "roadmap must be 'sha256:' and 64 lowercase hex digits")
        if not isinstance(self.type, str) or not _TYPE.fullmatch(self.type):
            raise _reject("bad-envelope", f"type {self.type!r} is not an event type name")
        if not isinstance(self.party, str) or not _ID.fullmatch(self.party):
            raise _reject("bad-envelope", f"party {self.party!r} is not an identifier")
        if type(self.seq) is not int or not 1 <= self.seq <= MAX_SAFE_INTEGER:
            raise _reject("bad-envelope", "seq must be an integer from 1")
        if not isinstance(self.time, dt.datetime) or self.time.utcoffset() != dt.timedelta(0):
            raise _reject("bad-envelope", "time must be an aware UTC datetime")
        if not isinstance(self.body, dict):
            raise _reject("bad-envelope", "body must be a JSON object")

    def to_dict(self) -> dict[str, Any]:
        """Return the event as the JSON object that is signed."""
        return {
            "v": VERSION,
            "agreement": self.agreement,
            "roadmap": self.roadmap,
            "type": self.type,
            "party": self.party,
            "seq": self.seq,
            "time": format_time(self.time),
            "body": self.body,
        }

    @classmethod
    def from_dict(cls, value: Any) -> Event:
        """Read an event object, refusing unknown, missing or mistyped fields.

        Raises:
            EventRejectedError: ``bad-envelope``, ``unknown-field``, ``bad-time``.
        """
        if not isinstance(value, dict):
            raise _reject("bad-envelope", "event must be a JSON object")
        unknown = sorted(set(value) - EVENT_FIELDS)
        if unknown:
            raise _reject("unknown-field", f"unknown event field {unknown[0]!r}")
        missing = sorted(EVENT_FIELDS - set(value))
        if missing:
            raise _reject("bad-envelope", f"event field {missing[0]!r} is missing")
        if value["v"] != VERSION or type(value["v"]) is not int:
            raise _reject("bad-envelope", f"unsupported envelope version {value['v']!r}")
        if not isinstance(value["time"], str):
            raise _reject("bad-time", "time must be a string")
        return cls(
            agreement=value["agreement"],
            roadmap=value["roadmap"],
            type=value["type"],
            party=value["party"],
            seq=value["seq"],
            time=parse_time(value["time"]),
            body=value["body"],
        )

    def signing_bytes(self) -> bytes:
        """Return the bytes an Ed25519 signature covers: ``DOMAIN || JCS(event)``."""
        return DOMAIN + canonical(self.to_dict())


@dataclass(frozen=True)
class SignedEvent:
    """An event with one Ed25519 signature by a key of the submitting party."""

    event: Event
    key_id: bytes
    signature: bytes
    #: ``JCS(event)``, cut from a canonical entry when parsed (saves re-serializing)
    event_json: bytes | None = field(default=None, compare=False, repr=False)

    def signing_bytes(self) -> bytes:
        """``DOMAIN || JCS(event)``: what the signature covers."""
        if self.event_json is None:
            return self.event.signing_bytes()
        return DOMAIN + self.event_json

    def body_size(self) -> int:
        """The length of ``JCS(body)``."""
        if self.event_json is None:
            return len(canonical(self.event.body))
        # JCS sorts keys: {"agreement":…,"body":…,"party":…,…}. The agreement and
        # everything after the body are plain strings and integers, whose quotes are
        # escaped, so the first ',"body":' and the last ',"party":' are the top level.
        start = self.event_json.index(b',"body":') + len(b',"body":')
        return self.event_json.rindex(b',"party":') - start

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_SIZE:
            raise EventSignatureError("bad-signature", "key_id must be 4 bytes")
        if len(self.signature) != ED25519_SIGNATURE_SIZE:
            raise EventSignatureError("bad-signature", "an Ed25519 signature is 64 bytes")

    def to_dict(self) -> dict[str, Any]:
        """Return the signed envelope as a JSON object."""
        return {
            "event": self.event.to_dict(),
            "signature": {
                "key_id": self.key_id.hex(),
                "value": base64.b64encode(self.signature).decode("ascii"),
            },
        }

    def to_bytes(self) -> bytes:
        """Return the log entry: the canonical JSON of :meth:`to_dict`."""
        return canonical(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes, *, max_size: int = MAX_EVENT_BYTES) -> SignedEvent:
        """Parse a log entry, which must be canonical JSON and at most ``max_size`` bytes.

        Raises:
            EventRejectedError: ``oversize``, ``bad-json``, ``not-canonical``,
                ``unknown-field``, ``bad-envelope``, ``bad-time``.
            EventSignatureError: ``missing-signature``, ``bad-signature``.
        """
        if len(data) > max_size:
            raise _reject("oversize", f"event is {len(data)} bytes, more than {max_size}")
        try:
            value = parse_json(data, what="event")
        except JSONFormatError as e:
            raise _reject("bad-json", str(e)) from e
        if not isinstance(value, dict):
            raise _reject("bad-envelope", "a signed event is a JSON object")
        unknown = sorted(set(value) - {"event", "signature"})
        if unknown:
            raise _reject(
                "unknown-field", f"unknown field {unknown[0]!r} beside event and signature"
            )
        if "event" not in value:
            raise _reject("bad-envelope", "no 'event'")
        sig = value.get("signature")
        if sig is None:
            raise EventSignatureError("missing-signature", "the event is not signed")
        event = Event.from_dict(value["event"])
        key_id, signature = _read_signature(sig)
        try:
            if canonical(value) != data:
                raise _reject("not-canonical", "the event is not in canonical JSON (RFC 8785) form")
        except JSONFormatError as e:  # lone surrogates: JSON allows them, JCS cannot sort them
            raise _reject("bad-json", str(e)) from e
        # The entry is canonical, so it is '{"event":' JCS(event) ',"signature":' JCS(sig) '}',
        # and JCS(sig) holds only hex and base64: the last ',"signature":' is the top level.
        event_json = data[len(_EVENT_PREFIX) : data.rindex(_SIGNATURE_INFIX)]
        return cls(event, key_id, signature, event_json)

    @classmethod
    def from_logged(cls, data: bytes) -> SignedEvent:
        """Parse an entry already admitted to the log and bound by a verified snapshot
        (:mod:`cvid.snapshot`): no canonical-form or signature check (they were made
        when it was admitted, and the log's root fixes its bytes).

        Raises:
            EventRejectedError: the entry is not an event envelope at all.
        """
        try:
            value = json.loads(data)  # strict parsing was done at admission
            fields, sig = value["event"], value["signature"]
            event = Event(
                agreement=fields["agreement"],
                roadmap=fields["roadmap"],
                type=fields["type"],
                party=fields["party"],
                seq=fields["seq"],
                time=dt.datetime.fromisoformat(fields["time"][:-1]).replace(tzinfo=dt.UTC),
                body=fields["body"],
            )
            key_id, signature = bytes.fromhex(sig["key_id"]), base64.b64decode(sig["value"])
        except (ValueError, KeyError, TypeError) as e:
            raise _reject("bad-envelope", f"a logged entry is not an event: {e}") from e
        event_json = data[len(_EVENT_PREFIX) : data.rindex(_SIGNATURE_INFIX)]
        return cls(event, key_id, signature, event_json)


_EVENT_PREFIX = b'{"event":'
_SIGNATURE_INFIX = b',"signature":'


def _read_signature(sig: Any) -> tuple[bytes, bytes]:
    if not isinstance(sig, dict) or set(sig) != SIGNATURE_FIELDS:
        raise EventSignatureError("bad-signature", "signature must be {'key_id', 'value'}")
    key_id, value = sig["key_id"], sig["value"]
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise EventSignatureError(
            "bad-signature", "signature key_id must be 8 lowercase hex digits"
        )
    if not isinstance(value, str):
        raise EventSignatureError("bad-signature", "signature value must be base64 text")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise EventSignatureError("bad-signature", "signature value is not base64") from e
    if base64.b64encode(raw).decode("ascii") != value:
        raise EventSignatureError("bad-signature", "signature value is not canonical base64")
    if len(raw) != ED25519_SIGNATURE_SIZE:
        raise EventSignatureError("bad-signature", "an Ed25519 signature is 64 bytes")
    return bytes.fromhex(key_id), raw


def sign_event(event: Event, signer: Signer) -> SignedEvent:
    """Sign ``event`` with ``signer``, whose key name must be the event's party.

    Raises:
        EventSignatureError: ``wrong-key``, the key is named for another party.
    """
    if signer.name != event.party:
        raise EventSignatureError(
            "wrong-key", f"key {signer.name!r} cannot sign for party {event.party!r}"
        )
    return SignedEvent(event, signer.key_id, signer.sign_message(event.signing_bytes()))


def verify_signature(
    signed: SignedEvent, keys: Sequence[NoteVerifier], *, verified: NoteVerifier | None = None
) -> NoteVerifier:
    """Check the signature against the submitting party's registered keys.

    ``verified`` is a key already found to verify this very signature (by another
    process, :mod:`cvid.service.precheck`): when it is the registered key the
    signature names, the signature is not checked again.

    Returns:
        The key that verified it.

    Raises:
        EventSignatureError: ``unregistered-key`` (no key of the party has that
            key ID) or ``bad-signature`` (it does not verify).
    """
    party = signed.event.party
    for key in keys:
        if key.name == party and key.key_id == signed.key_id:
            if verified is not None and key == verified:
                return key
            if not key.verify(signed.signing_bytes(), signed.signature):
                raise EventSignatureError(
                    "bad-signature", f"signature by {party!r} does not verify"
                )
            return key
    raise EventSignatureError(
        "unregistered-key", f"key {signed.key_id.hex()} is not registered for party {party!r}"
    )
