"""A holder's device records, kept off the log in an encrypted file.

One file per committed period, in the escrow file's format
(:func:`cvid.escrow.store.save_sealed`: scrypt, AES-256-GCM, mode 0600, never
overwritten) with the format name ``cvid-records-1``. The plaintext is the canonical
JSON of the device, the period, the records and their salts; loading recomputes the
root, so a holder can always show which commitment a file belongs to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cvid._jcs import canonical, parse_json
from cvid.errors import EscrowFileError, JSONFormatError, MonitoringError
from cvid.escrow.commit import SALT_SIZE, RandomBytes
from cvid.escrow.store import load_sealed, save_sealed
from cvid.monitor.records import Period, parse_time, time_text

FORMAT = "cvid-records-1"


def period_json(period: Period) -> bytes:
    """The plaintext of a records file."""
    return canonical(
        {
            "device": period.device,
            "start": time_text(period.start),
            "end": time_text(period.end),
            "records": [dict(r) for r in period.records],
            "salts": [s.hex() for s in period.salts],
            "root": period.root.hex(),
        }
    )


def save_period(
    path: str | os.PathLike[str], period: Period, passphrase: str, *, random_bytes: RandomBytes
) -> None:
    """Encrypt a committed period's records into a new file at ``path``."""
    save_sealed(
        path, period_json(period), passphrase, random_bytes=random_bytes, file_format=FORMAT
    )


def load_period(path: str | os.PathLike[str], passphrase: str) -> Period:
    """Decrypt and check a records file.

    Raises:
        EscrowFileError: it cannot be read or decrypted, or holds a malformed period
            (records out of order, salts of the wrong size, a root that does not match).
    """
    name = os.fspath(path)
    plaintext = load_sealed(path, passphrase, file_format=FORMAT)
    try:
        data = parse_json(plaintext)
        if not isinstance(data, Mapping) or set(data) != {
            "device",
            "start",
            "end",
            "records",
            "salts",
            "root",
        }:
            raise MonitoringError("not a period of records")
        records, salts = data["records"], data["salts"]
        if not isinstance(records, list) or not isinstance(salts, list):
            raise MonitoringError("records and salts must be lists")
        if len(records) != len(salts) or not records:
            raise MonitoringError("one salt per record, and at least one record")
        raw_salts = [bytes.fromhex(s) if isinstance(s, str) else b"" for s in salts]
        if any(len(s) != SALT_SIZE for s in raw_salts):
            raise MonitoringError(f"every salt is {SALT_SIZE} bytes")
        period = Period(
            str(data["device"]),
            parse_time(data["start"]),
            parse_time(data["end"]),
            tuple(records),
            tuple(raw_salts),
        )
        if period.root.hex() != data["root"]:
            raise MonitoringError("the records do not give the file's root")
    except (JSONFormatError, MonitoringError, ValueError) as e:
        raise EscrowFileError(f"{name} holds a malformed period: {e}") from None
    return period
