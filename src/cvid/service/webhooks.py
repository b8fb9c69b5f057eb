"""Signed webhooks: each new alert or deadline POSTed to the endpoints a configuration
file names, signed as the Standard Webhooks scheme has it.

Every delivery carries three headers: ``webhook-id`` (the notice's stable id, the same
on a retry), ``webhook-timestamp`` (seconds since the epoch, when it is sent) and
``webhook-signature``: ``v1,`` then the base64 of HMAC-SHA256 under the endpoint's
secret of ``id.timestamp.body``. A secret is written ``whsec_`` + base64 of its bytes.
A receiver checks the signature and refuses old timestamps (replays).

The configuration (YAML or JSON)::

    endpoints:
      - url: https://ministry.example/cvid-hook
        secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
        party: dprk            # optional: only notices that concern this party
        kinds: [alert, overdue] # optional: alert, deadline, overdue (default: all)
    within_days: 30           # deadlines are announced this many days ahead

What was delivered is remembered in a JSON file beside the configuration (one list
of ids per endpoint), so running again sends only what is new; a failed delivery is
not recorded and is tried again on the next run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cvid import _yaml
from cvid.engine.state import AgreementState
from cvid.errors import InputError
from cvid.report.feeds import Notice, notices
from cvid.roadmap.model import RoadMap

SECRET_PREFIX = "whsec_"
TIMEOUT_S = 10.0


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    secret: str
    party: str | None = None
    kinds: tuple[Literal["alert", "deadline", "overdue"], ...] = ("alert", "deadline", "overdue")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http or https URL")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        secret_bytes(value)
        return value


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    within_days: int = Field(default=30, ge=0, le=3650)


def secret_bytes(secret: str) -> bytes:
    """The key of a ``whsec_`` secret.

    Raises:
        ValueError: not ``whsec_`` + base64 of at least 24 bytes.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as e:
        raise ValueError("a secret is whsec_ followed by base64") from e
    if len(key) < 24:
        raise ValueError("a secret must hold at least 24 bytes")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64(HMAC-SHA256(key, id.ts.body))."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def load_config(path: Path) -> Config:
    """Read a webhook configuration file.

    Raises:
        InputError: unreadable, not YAML/JSON, or not a valid configuration.
    """
    try:
        data = _yaml.load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        what = _yaml.describe(e, str(path)) if isinstance(e, yaml.YAMLError) else str(e)
        raise InputError(f"{path} is not YAML or JSON: {what}") from e
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise InputError(f"{path}: {problems}") from e


@dataclass(frozen=True)
class Delivery:
    url: str
    id: str
    status: int | None  # None: no answer
    error: str = ""


def _wanted(endpoint: Endpoint, notice: Notice) -> bool:
    if notice.kind not in endpoint.kinds:
        return False
    return endpoint.party is None or endpoint.party in notice.parties


def deliver(
    config: Config,
    roadmap: RoadMap,
    state: AgreementState,
    *,
    sent: dict[str, list[str]],
    now: Callable[[], int],
    client: httpx.Client,
) -> list[Delivery]:
    """POST every notice not yet in ``sent[url]`` to each endpoint; record successes
    (2xx) in ``sent``. ``now`` gives the ``webhook-timestamp``."""
    agreement = roadmap.agreement.id
    items = sorted(notices(roadmap, state, within_days=config.within_days), key=_oldest)
    out: list[Delivery] = []
    for endpoint in config.endpoints:
        done = sent.setdefault(endpoint.url, [])
        for notice in items:
            if notice.id in done or not _wanted(endpoint, notice):
                continue
            body = json.dumps(notice.payload(agreement), ensure_ascii=False).encode()
            timestamp = now()
            headers = {
                "content-type": "application/json",
                "webhook-id": notice.id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(endpoint.secret, notice.id, timestamp, body),
            }
            try:
                response = client.post(endpoint.url, content=body, headers=headers)
            except httpx.HTTPError as e:
                out.append(Delivery(endpoint.url, notice.id, None, str(e)))
                continue
            out.append(Delivery(endpoint.url, notice.id, response.status_code))
            if 200 <= response.status_code < 300:
                done.append(notice.id)
    return out


def _oldest(notice: Notice) -> tuple[Any, str]:
    return notice.updated, notice.id


def read_sent(path: Path) -> dict[str, list[str]]:
    """What earlier runs delivered (empty when the file does not exist yet)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
        for k, v in data.items()
    ):
        raise InputError(f"{path} is not a record of delivered webhooks")
    return data


def write_sent(path: Path, sent: dict[str, list[str]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(sent, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


__all__ = [
    "Config",
    "Delivery",
    "Endpoint",
    "deliver",
    "load_config",
    "read_sent",
    "secret_bytes",
    "sign",
    "write_sent",
]
