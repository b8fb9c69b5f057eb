"""The one error hierarchy of cvid.

Every exception cvid raises derives from :class:`Error`. The families say who is
at fault, which is what a caller needs to decide what to do:

* :class:`InputError`: a bad file, argument or request; the user can fix it.
* :class:`VerificationError`: a proof, signature or threshold failed; someone
  may be cheating, and the data must not be trusted.
* :class:`StoreError`: the storage backend failed or holds something it should not.
* :class:`ConfigError`: cvid was set up wrongly (missing key, unknown backend).

Low-level exceptions are translated at the boundary (``raise X(...) from e``),
and the CLI and the service map these families to exit codes and HTTP statuses
in one place each. This module does no I/O.

:func:`require_extra` is the one place that says which optional part of cvid
(``pip install 'cvid[EXTRA]'``) a command needs when a package it imports is missing.
"""

from __future__ import annotations

import importlib.util


class Error(Exception):
    """Base of every error cvid raises."""


# --- families ---------------------------------------------------------------------------


class InputError(Error):
    """Bad input: a malformed file, argument or request that the user can fix."""


class VerificationError(Error):
    """A proof, signature or threshold check failed: the data is not to be trusted."""


class StoreError(Error):
    """The storage backend failed, or holds data that contradicts itself."""


class ConfigError(Error):
    """cvid is configured wrongly: a missing key file, an unknown database URL scheme."""


# --- the log ----------------------------------------------------------------------------


class SnapshotError(StoreError):
    """A snapshot cannot be used (no key, a wrong tag, another log or road map): it is
    reported and ignored, never raised to the caller of open (ADR 0014)."""


class TreeSizeError(InputError):
    """A leaf index or tree size is out of range for the request."""


class EntryError(InputError):
    """An entry cannot be logged (for example, it is longer than a tile entry may be)."""


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify."""


class KeyFormatError(InputError):
    """A signer or verifier key is not in the signed-note key format."""


class NoteFormatError(InputError):
    """A signed note is malformed (text, signature lines or encoding)."""


class SignatureError(VerificationError):
    """A signature is invalid, or no trusted key signed the note."""


class CheckpointFormatError(InputError):
    """A checkpoint body is not a valid C2SP tlog-checkpoint."""


class WitnessPolicyError(VerificationError):
    """Fewer witnesses cosigned a checkpoint than the policy requires."""


class TileError(InputError):
    """A tile path or tile contents are malformed."""


class AuditError(VerificationError):
    """A log's entries, tiles and checkpoints do not agree: the log cannot be trusted."""


class LogNotFoundError(StoreError):
    """No log has been initialised in this store."""


class LogExistsError(StoreError):
    """A log is already initialised in this store (with another origin)."""


class AppendConflictError(StoreError):
    """A conditional append found the log at another size than expected; retry."""


class StoreCorruptError(StoreError):
    """Stored data contradicts itself (for example, a tile shorter than the tree size)."""


# --- road maps, events and the engine ---------------------------------------------------


class JSONFormatError(InputError):
    """Bytes are not strict JSON, or hold a value canonical JSON cannot represent."""


class RoadmapError(InputError):
    """A road-map file is malformed or inconsistent.

    ``problems`` holds one line per problem, each ``file:line:column: message`` when
    the position is known, so that every mistake in a file is reported at once.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in the road map"
        super().__init__(head if len(problems) == 1 else head + ":\n" + "\n".join(problems))


class EventRejectedError(InputError):
    """A submitted event breaks the agreement's rules and was not logged.

    ``reason`` is a stable machine-readable code (``replayed-sequence``,
    ``unauthorised-type``, ...); the message says precisely what was wrong.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class StorageQuotaError(EventRejectedError):
    """A party has logged its road map's bytes for the day (reason ``storage-quota``).

    ``retry_after`` is the number of seconds from the refused event's time to the next
    UTC day, when the party's count starts again (at least 1).
    """

    REASON = "storage-quota"

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(self.REASON, message)


class EventSignatureError(SignatureError):
    """A submitted event's signature is missing, malformed or does not verify."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class AgreementError(ConfigError):
    """An agreement directory is missing, incomplete, or was set up wrongly."""


# --- verification: inspection sampling and the randomness beacon -----------------------


class SamplingError(InputError):
    """An inspection-sampling request is out of range or cannot be met.

    For example ``k > N``, a probability outside [0, 1], or a detection goal that no
    number of inspections reaches when each inspection may miss a falsified cell.
    """


class BeaconError(InputError):
    """A beacon round, secret, anchor root or draw request is malformed."""


class RevealError(VerificationError):
    """A revealed beacon secret does not match the party's commitment."""


# --- the declaration escrow -------------------------------------------------------------


class DeclarationError(InputError):
    """A declaration is malformed: a bad partition, item or record, or a cell not in it."""


class EscrowError(VerificationError):
    """A reveal does not match the escrow's commitment: its records, salts, order or proof."""


class MonitoringError(InputError):
    """Device records that cannot be committed or revealed: malformed, out of time order,
    or a reveal that does not match its commitment."""


class EscrowFileError(InputError):
    """An escrow file cannot be written or read: it exists, is malformed, or will not decrypt."""


# --- reference data ---------------------------------------------------------------------


class ReferenceDataError(ConfigError):
    """A packaged reference-data file is malformed: a fact lacks a source or a valid confidence."""


# --- simulation and the inspection game -------------------------------------------------


class ScenarioError(InputError):
    """A simulation scenario or sweep grid is malformed or does not fit its road map."""


class GameError(InputError):
    """Inspection-game payoffs or probabilities are out of range."""


# --- the service and its witnesses ------------------------------------------------------


class WitnessError(VerificationError):
    """A witness refused a checkpoint, or returned a cosignature that does not verify."""


class ServiceError(ConfigError):
    """The service cannot start or reach what it was configured with."""


class RequestTooLargeError(InputError):
    """A request body is larger than the service or witness accepts; nothing was read."""


class RateLimitedError(InputError):
    """A party submitted more events than its rate allows; nothing was appended."""


class OverloadedError(ServiceError):
    """The queue of waiting events is full; retry later. Nothing was appended."""


# --- optional parts of the install ------------------------------------------------------

EXTRAS: dict[str, tuple[str, ...]] = {
    "service": ("fastapi", "uvicorn", "starlette", "swagger_ui_bundle"),
    "sim": ("numpy", "scipy", "plotly", "dask", "distributed", "pyarrow", "pandas"),
    "postgres": ("psycopg",),
}
"""Each optional part of cvid (``pip install 'cvid[EXTRA]'``) and the modules it brings."""


class MissingExtraError(ConfigError):
    """A command needs an optional part of cvid that is not installed.

    Attributes:
        extra: the extra to install (``service``, ``sim`` or ``postgres``).
        missing: the modules that could not be found.
    """

    def __init__(self, extra: str, missing: list[str], what: str) -> None:
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{what} needs cvid's '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'cvid[{extra}]'"
        )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken half-install
        return False


def require_extra(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported.

    Args:
        extra: a key of :data:`EXTRAS`.
        what: what needs it, for the message (``"cvid serve"``).
        modules: the top-level modules to look for (default: all of the extra's).

    Raises:
        MissingExtraError: one of the modules is not installed.
        KeyError: ``extra`` is not one of :data:`EXTRAS` (a programming error).
    """
    wanted = EXTRAS[extra] if modules is None else modules
    missing = [name for name in wanted if not _importable(name)]
    if missing:
        raise MissingExtraError(extra, missing, what)
