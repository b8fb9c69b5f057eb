"""What every command shares: the error-to-exit-code map (the one place), output helpers."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cvid.errors import ConfigError, Error, InputError, StoreError, VerificationError

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
