"""Private keys reach commands as files or standard input, never as command-line text.

A command line is visible to every user of the machine (``ps``), so each option that
takes a private key refuses key text with one line saying to pass a path, and never
repeats the key; ``-`` reads the key from standard input. Run as a user runs them:
the installed script, in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cvid.log.cosignature import CosignatureSigner
from cvid.log.note import Signer
from cvid.log.store import open_store
from cvid.log.tlog import Log
from tests.kit import MINI

CVID = Path(sys.executable).parent / "cvid"
ORIGIN = "example.org/log"
LOG_KEY = Signer.generate(ORIGIN, seed=b"\x11" * 32)
WITNESS_KEY = CosignatureSigner.generate("witness.example", seed=b"\x12" * 32)
PARTY_KEY = Signer.generate("iaea", seed=b"\x13" * 32)


def run(cwd: Path, *args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["COLUMNS"] = "200"  # --help on one line per option
    return subprocess.run(
        [str(CVID), *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    with Log.create(open_store(tmp_path / "log.db", create=True), ORIGIN) as log:
        log.append([b"one", b"two"])
    (tmp_path / "log.key").write_text(LOG_KEY.to_text() + "\n")
    (tmp_path / "log.vkey").write_text(LOG_KEY.verifier.to_text() + "\n")
    return tmp_path


def _refused(result: subprocess.CompletedProcess[bytes], key_text: str) -> None:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert result.stdout == b""
    assert err.startswith("cvid: error: "), err
    assert err.count("\n") == 1, err
    assert "pass a file path, not the key" in err
    secret = key_text.rsplit("+", 1)[1]
    assert secret not in err, "the error repeats the key"


@pytest.mark.parametrize(
    ("args", "key_text"),
    [
        (("log", "checkpoint", "--db", "log.db", "--key"), LOG_KEY.to_text()),
        (("log", "export-tiles", "--db", "log.db", "--out", "tiles", "--key"), LOG_KEY.to_text()),
        (
            ("witness", "serve", "--log-key", "log.vkey", "--state", "w.db", "--key"),
            WITNESS_KEY.to_text(),
        ),
        (
            ("event", "sign", "--roadmap", str(MINI), "--type", "inventory.observed",
             "--seq", "1", "--key"),
            PARTY_KEY.to_text(),
        ),
        (("log", "verify-note", "log.db", "--vkey"), LOG_KEY.to_text()),
    ],
    ids=["log-checkpoint", "log-export-tiles", "witness-serve", "event-sign", "verify-note-vkey"],
)  # fmt: skip
def test_key_text_on_the_command_line_is_refused(
    workspace: Path, args: tuple[str, ...], key_text: str
) -> None:
    before = sorted(p.name for p in workspace.iterdir())
    _refused(run(workspace, *args, key_text), key_text)
    assert sorted(p.name for p in workspace.iterdir()) == before, "the command wrote files"


def test_key_text_is_refused_with_surrounding_spaces(workspace: Path) -> None:
    text = f"  {LOG_KEY.to_text()}\n"
    _refused(run(workspace, "log", "checkpoint", "--db", "log.db", "--key", text), text.strip())


def test_a_key_file_and_standard_input_both_work(workspace: Path) -> None:
    from_file = run(workspace, "log", "checkpoint", "--db", "log.db", "--key", "log.key")
    assert from_file.returncode == 0, from_file.stderr.decode()
    assert from_file.stdout.startswith(f"{ORIGIN}\n2\n".encode())
    from_stdin = run(
        workspace,
        "log",
        "checkpoint",
        "--db",
        "log.db",
        "--key",
        "-",
        stdin=(LOG_KEY.to_text() + "\n").encode(),
    )
    assert from_stdin.returncode == 0, from_stdin.stderr.decode()
    assert from_stdin.stdout.startswith(f"{ORIGIN}\n2\n".encode())


@pytest.mark.parametrize(
    "command",
    [
        ("log", "checkpoint"),
        ("log", "export-tiles"),
        ("witness", "serve"),
        ("event", "sign"),
    ],
    ids="-".join,
)
def test_help_says_to_pass_a_path(workspace: Path, command: tuple[str, ...]) -> None:
    result = run(workspace, *command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.decode().replace("│", " ").split())
    assert "a file path, or - for standard input; never the key itself" in text, text
