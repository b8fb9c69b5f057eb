"""A writer process for the concurrency and crash tests.

Usage: python -m tests.integration.writer LOCATION NAME COUNT BATCH

Appends COUNT entries named ``NAME:i`` in batches of BATCH and, after each append
returns, prints ``index entry`` for every acknowledged entry (flushed at once): what
the parent reads is exactly what the log acknowledged.
"""

from __future__ import annotations

import sys

from cvid.log.store import open_store
from cvid.log.tlog import Log


def main(location: str, name: str, count: int, batch: int) -> None:
    log = Log(open_store(location))  # never closed: the process may be killed
    for start in range(0, count, batch):
        entries = [f"{name}:{i}".encode() for i in range(start, min(count, start + batch))]
        indices = log.append(entries)
        sys.stdout.write(
            "".join(f"{i} {e.decode()}\n" for i, e in zip(indices, entries, strict=True))
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
