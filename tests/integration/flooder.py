"""One party flooding the service, in a process of its own, for the flood test.

Usage: python -m tests.integration.flooder PORT SECONDS CONNECTIONS BATCH_FILE

Until its standard input is closed, or for SECONDS at most, CONNECTIONS keep-alive
connections send the batch in BATCH_FILE again and again, each as soon as the
previous answer is in. The batch is the party's next
events, all valid but the last: refused, it can be sent for ever, and each time the
service admits every valid event before it meets the bad one. Then the flooder
prints one JSON line: how many answers of each status it got.

The client is raw HTTP/1.1: it must cost far less per request than the server does,
as it shares the machine with it.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter
from typing import BinaryIO


def _post(sock: socket.socket, reader: BinaryIO, body: bytes) -> int:
    head = (
        "POST /api/v1/events/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-ndjson\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode("ascii") + body)
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    reader.read(length)
    return status


def main(port: int, seconds: float, connections: int, batch_file: str) -> None:
    with open(batch_file, "rb") as f:
        batch = f.read()
    until = time.monotonic() + seconds
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def flood() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            reader = sock.makefile("rb")
            while time.monotonic() < until and not stop.is_set():
                status = _post(sock, reader, batch)
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=flood) for _ in range(connections)]
    for thread in threads:
        thread.start()

    def wait_for_the_end() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_the_end, daemon=True).start()
    for thread in threads:
        thread.join()
    print(json.dumps({str(status): n for status, n in sorted(statuses.items())}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
