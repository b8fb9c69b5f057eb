"""RFC 9457 problem documents: every refusal, with its status, reason and detail.

One table maps cvid's errors to HTTP statuses, as the CLI maps them to exit codes.
A refused event's ``reason`` is admission's stable code (``replayed-sequence``,
``unauthorised``, ...), also used as the last part of the problem ``type``.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from cvid.errors import (
    ConfigError,
    Error,
    EventRejectedError,
    EventSignatureError,
    InputError,
    OverloadedError,
    RateLimitedError,
    RequestTooLargeError,
    StorageQuotaError,
    StoreError,
    TreeSizeError,
    VerificationError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:cvid:problem:"

_BAD_REQUEST = {
    "bad-json",
    "bad-envelope",
    "not-canonical",
    "unknown-field",
    "bad-body",
    "bad-unit",
    "bad-time",
    "unknown-type",
}
_FORBIDDEN = {
    "bad-signature",
    "missing-signature",
    "unregistered-key",
    "wrong-key",
    "unauthorised",
    "unauthorised-type",
    "must-abstain",
    "not-a-member",
    "not-holder",
    "withdrawn",
    "suspended",
    "unknown-party",
    "outside-mandate",
    "device-key",
    "bad-device-signature",
}
_CONFLICT = {
    "replayed-sequence",
    "sequence-gap",
    "duplicate",
    "time-regression",
    "vote-closed",
    "beacon-closed",
    "beacon-open",
    "beacon-incomplete",
    "not-in-force",
    "no-hand-over",
    "not-reported",
    "not-ready",
    "not-suspended",
    "decision-closed",
    "not-open",
    "not-performed",
    "quota-exceeded",
    "ended",
    "no-extensions-left",
    "changes-history",
    "overlapping-period",
    "device-removed",
    "device-not-installed",
}
# Refused for how much was sent, not for what: a client may send it again later (429,
# with Retry-After), as a party over its rate (``rate-limited``).
_TOO_MANY = {"storage-quota"}
_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the log",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Refused by the agreement's rules",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
    504: "Timed out",
}


def status_for_reason(reason: str) -> int:
    """The HTTP status of a refused event, by admission's reason code."""
    if reason == "oversize":
        return 413
    if reason in _BAD_REQUEST:
        return 400
    if reason in _FORBIDDEN:
        return 403
    if reason in _TOO_MANY:
        return 429
    if reason in _CONFLICT:
        return 409
    return 422


def classify(error: Error) -> tuple[int, str]:
    """``(status, reason)`` for any cvid error."""
    if isinstance(error, EventRejectedError | EventSignatureError):
        return status_for_reason(error.reason), error.reason
    if isinstance(error, RequestTooLargeError):
        return 413, "too-large"
    if isinstance(error, RateLimitedError):
        return 429, "rate-limited"
    if isinstance(error, OverloadedError):
        return 503, "overloaded"
    if isinstance(error, TreeSizeError):
        return 404, "out-of-range"
    if isinstance(error, InputError):
        return 400, "bad-request"
    if isinstance(error, VerificationError):
        return 422, "verification-failed"
    if isinstance(error, StoreError):
        return 503, "store-unavailable"
    if isinstance(error, ConfigError):
        return 503, "misconfigured"
    return 500, "internal"


def problem(
    status: int, reason: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + reason,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "reason": reason,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def error_problem(error: Error, **extra: Any) -> JSONResponse:
    """The problem document for a cvid error."""
    status, reason = classify(error)
    headers = {"Retry-After": "1"} if status in {429, 503} else None
    if isinstance(error, StorageQuotaError):  # until the party's next UTC day
        headers = {"Retry-After": str(error.retry_after)}
        extra = {"retry_after": error.retry_after, **extra}
    return problem(status, reason, str(error), headers=headers, **extra)
