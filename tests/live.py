"""Real servers for tests: an ASGI app under uvicorn on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from cvid._connections import ConnectionLimits, server_config

STARTUP_S = 30.0
PROCESS_STARTUP_S = 60.0
CVID = Path(sys.executable).parent / "cvid"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, *, connections: ConnectionLimits | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread (lifespan included); yield its base URL.

    With ``connections``, within those limits, as ``cvid serve`` serves.
    """
    port = free_port()
    if connections is None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    else:
        config = server_config(app, connections, host="127.0.0.1", port=port, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_S)


@contextmanager
def cvid_serve(directory: Path, *arguments: str) -> Iterator[str]:
    """``cvid serve`` (without examples) in a process of its own, with ``arguments``;
    yields its URL once it answers, and stops it afterwards."""
    port = free_port()
    command = [str(CVID), "serve", str(directory), "--port", str(port), "--no-examples"]
    output = directory.parent / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*command, *arguments],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PROCESS_STARTUP_S
        while True:
            if process.poll() is not None:
                text = output.read_text(errors="replace")
                raise AssertionError(f"cvid serve exited {process.returncode}: {text}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("cvid serve did not answer in time")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
