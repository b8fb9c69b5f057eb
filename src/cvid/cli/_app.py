"""What every command shares: the error-to-exit-code map (the one place), output helpers."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cvid.errors import ConfigError, Error, InputError, StoreError, VerificationError
from cvid.log.note import PRIVATE_KEY_PREFIX

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CODES: list[tuple[type[Error], int]] = [
    (InputError, 2),
    (VerificationError, 3),
    (StoreError, 4),
    (ConfigError, 5),
    (Error, 1),
]

err_console = Console(stderr=True, highlight=False)


Now = Annotated[str | None, typer.Option("--now", help="Time of receipt (default: the clock).")]
"""The ``--now`` option of every command that submits: replays give the history's time."""
Body = Annotated[str | None, typer.Option("--body", help="The body as JSON.")]
BodyFile = Annotated[Path | None, typer.Option("--body-file", help="A file with the body.")]


def exit_code(error: Error) -> int:
    """The process exit code for an error family."""
    return next(code for family, code in EXIT_CODES if isinstance(error, family))


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a cvid Error into one line on stderr and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Error as e:
            fail(str(e))
            raise typer.Exit(exit_code(e)) from e

    return wrapper


def fail(message: str) -> None:
    """The one-line error report every failure gets: ``cvid: error: …`` on stderr."""
    sys.stderr.write("cvid: error: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr (silent when stderr is not a terminal)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def out(text: str) -> None:
    """Write a result to stdout, exactly as given."""
    sys.stdout.write(text)
    sys.stdout.flush()


def out_bytes(data: bytes) -> None:
    """Write bytes to stdout exactly as given: no encoding, no newline added."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


STDIN = "-"
SECRET_KEY_HELP = (
    "a file path, or - for standard input; never the key itself "
    "(command lines are visible to every user of the machine)"
)


def _refuse_key_text(value: str, what: str) -> None:
    # The key is not repeated in the message: it has already leaked to `ps` once.
    if value.strip().startswith(PRIVATE_KEY_PREFIX):
        raise InputError(
            f"{what}: pass a file path, not the key (or - to read it from standard input); "
            "a key on the command line is visible to every user of the machine"
        )


def read_secret_key(value: Path, what: str) -> str:
    """The first line of the file ``value`` names (``-``: standard input): a private key.

    Key text itself is refused: a command line is visible to every user (``ps``).

    Raises:
        InputError: ``value`` is a private key rather than a path to one.
        ConfigError: the file cannot be read.
    """
    text = str(value)
    _refuse_key_text(text, what)
    if text == STDIN:
        return sys.stdin.readline().strip()
    try:
        return value.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what} from {value}: {e}") from e


def read_passphrase(path: Path | None, env: str) -> str:
    """The passphrase of an encrypted store: the first line of ``path``, else ``$env``.

    Raises:
        InputError: the file cannot be read, or neither is given.
    """
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").rstrip("\n")
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from e
    value = os.environ.get(env)
    if not value:
        raise InputError(f"give --passphrase-file or set {env}")
    return value


def read_public_key(value: str, what: str) -> str:
    """``value`` itself if it is (public) key text, else the first line of the file it names.

    Raises:
        InputError: ``value`` is a private key.
        ConfigError: the file cannot be read.
    """
    _refuse_key_text(value, what)
    path = Path(value)
    if "+" in value and not path.exists():
        return value.strip()
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what} from {value}: {e}") from e


def write_new_key(keyfile: Path, text: str) -> None:
    """Write a secret key to a new file, mode 0600; never overwrite one.

    Raises:
        InputError: the file exists or cannot be created.
    """
    try:
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise InputError(f"{keyfile} exists; refusing to overwrite a key") from e
    except OSError as e:
        raise InputError(f"cannot create {keyfile}: {e.strerror}") from e
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
