"""Agreement directories kept for replaying a dated history.

``cvid agreement init --replay`` leaves a ``replay`` file in the directory. While it is
there, ``cvid event submit`` refuses to run without ``--now``: a forgotten ``--now``
would log the event as received today, and its party's every later past-dated event
would then be refused (event times never go back). Deleting the file ends the replay;
the agreement then takes events as they arrive. The log and the road map do not know
about this file: it guards the command line only.
"""

from __future__ import annotations

from pathlib import Path

from cvid.errors import InputError

REPLAY_FILE = "replay"
_TEXT = (
    "This agreement replays a dated history: 'cvid event submit' needs --now (the time\n"
    "each event was received). Delete this file once the history is replayed.\n"
)


def mark(directory: Path) -> None:
    """Mark ``directory`` (an agreement) as replaying history.

    Raises:
        InputError: the file cannot be written.
    """
    try:
        (directory / REPLAY_FILE).write_text(_TEXT, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write {directory / REPLAY_FILE}: {e.strerror}") from e


def replaying(directory: Path) -> bool:
    """Whether ``directory`` was initialised for replaying history."""
    return (directory / REPLAY_FILE).is_file()


def require_now(directory: Path, now: str | None) -> None:
    """Refuse a submission without ``--now`` to an agreement that replays history.

    Raises:
        InputError: ``directory`` is replaying and ``now`` is None.
    """
    if now is None and replaying(directory):
        raise InputError(
            f"{directory} replays a dated history (agreement init --replay): give --now, "
            f"the time the event was received (delete {directory / REPLAY_FILE} to go live)"
        )
