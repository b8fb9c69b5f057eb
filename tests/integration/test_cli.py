"""The ``cvid log`` commands, run as a user runs them: the installed script, in subprocesses."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cvid.errors import ProofError
from cvid.log import merkle
from cvid.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from cvid.log.note import Signer, Verifier
from cvid.log.store import open_store
from cvid.log.tiles import ENTRIES, encode_bundle
from cvid.log.tlog import Log
from tests.support import ref_mth

CVID = Path(sys.executable).parent / "cvid"
ORIGIN = "example.org/log"
COMMANDS = [
    "keygen",
    "init",
    "append",
    "checkpoint",
    "prove-inclusion",
    "prove-consistency",
    "verify-note",
    "verify",
    "export-tiles",
    "verify-tiles",
]


def run(cwd: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run the ``cvid`` script with stderr redirected, as in a script or a cron job."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [str(CVID), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def ok(cwd: Path, *args: str, stdin: bytes = b"") -> str:
    """Run a command that must succeed; return its stdout."""
    result = run(cwd, *args, stdin=stdin)
    assert result.returncode == 0, (args, result.stderr.decode())
    return result.stdout.decode()


def stored_entries(db: str) -> list[bytes]:
    with Log(open_store(db)) as log:
        return list(log.entries())


def log_state(db: str) -> tuple[int, bytes, list[tuple[int, bytes]], list[tuple[int, int, bytes]]]:
    """Everything a log holds: size, root, kept checkpoints, every tile and bundle."""
    with Log(open_store(db)) as log:
        tiles = [
            (level, index, data)
            for level in (ENTRIES, 0, 1, 2)
            for index, data in log.store.iter_tiles(level)
        ]
        return log.size(), log.root(), log.store.checkpoints(), tiles


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by relative path (a byte-for-byte snapshot)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def checked_inclusion(
    work: Path, db: str, entries: list[bytes], *, index: int, size: int | None, cp: Checkpoint
) -> None:
    """prove-inclusion --json, verified against the signed checkpoint's root only."""
    args = ["log", "prove-inclusion", "--db", db, "--index", str(index), "--json"]
    if size is not None:
        args += ["--size", str(size)]
    data: dict[str, Any] = json.loads(ok(work, *args))
    assert set(data) == {"tree_size", "leaf_index", "leaf_hash", "root_hash", "proof"}
    assert data["tree_size"] == cp.tree_size
    assert data["leaf_index"] == index
    leaf = merkle.leaf_hash(entries[index])  # computed here, not taken from the output
    assert b64(data["leaf_hash"]) == leaf
    assert b64(data["root_hash"]) == cp.root_hash
    proof = [b64(p) for p in data["proof"]]
    merkle.verify_inclusion(
        leaf_hash=leaf,
        leaf_index=index,
        tree_size=cp.tree_size,
        proof=proof,
        root_hash=cp.root_hash,
    )
    with pytest.raises(ProofError):  # the same proof does not prove another entry
        merkle.verify_inclusion(
            leaf_hash=merkle.leaf_hash(entries[index] + b"!"),
            leaf_index=index,
            tree_size=cp.tree_size,
            proof=proof,
            root_hash=cp.root_hash,
        )


def checked_consistency(
    work: Path, db: str, old: Checkpoint, new: Checkpoint, *, explicit_new: bool
) -> None:
    """prove-consistency --json, verified against two signed checkpoints' roots."""
    args = ["log", "prove-consistency", "--db", db, "--old", str(old.tree_size), "--json"]
    if explicit_new:
        args += ["--new", str(new.tree_size)]
    data: dict[str, Any] = json.loads(ok(work, *args))
    assert set(data) == {"old_size", "old_root", "new_size", "new_root", "proof"}
    assert (data["old_size"], data["new_size"]) == (old.tree_size, new.tree_size)
    assert b64(data["old_root"]) == old.root_hash
    assert b64(data["new_root"]) == new.root_hash
    proof = [b64(p) for p in data["proof"]]
    merkle.verify_consistency(
        old_size=old.tree_size,
        new_size=new.tree_size,
        old_root=old.root_hash,
        new_root=new.root_hash,
        proof=proof,
    )
    with pytest.raises(ProofError):  # and it does not link a forged old root
        merkle.verify_consistency(
            old_size=old.tree_size,
            new_size=new.tree_size,
            old_root=bytes(32),
            new_root=new.root_hash,
            proof=proof,
        )


def end_to_end(work: Path, db: str) -> None:
    """The whole story; ``db`` as the user types it (a path relative to ``work``, or a URL)."""
    is_url = db.startswith(("postgresql://", "postgres://"))
    here = db if is_url else str(work / db)  # the same log, for the library (another cwd)
    # keygen: the secret key in a 0600 file, the verifier key printed.
    printed = ok(work, "log", "keygen", ORIGIN, "--out", "log.key")
    assert printed.count("\n") == 1
    vkey = printed.strip()
    keyfile = work / "log.key"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    signer = Signer.from_text(keyfile.read_text().strip())
    assert signer.name == ORIGIN
    assert signer.verifier.to_text() == vkey
    verifier = Verifier.from_text(vkey)
    (work / "log.vkey").write_text(vkey + "\n")

    assert ORIGIN in ok(work, "log", "init", "--db", db, "--origin", ORIGIN)
    assert log_state(here)[:3] == (0, merkle.EMPTY_ROOT, [])

    # append: each file's bytes are one entry, newlines and all.
    files = {
        "two-lines.txt": b"first line\nsecond line\n",
        "empty.bin": b"",
        "binary.bin": b"a\r\nb\x00\xff\r\n",
    }
    for name, data in files.items():
        (work / name).write_bytes(data)
    assert ok(work, "log", "append", "--db", db, *files) == "0\n1\n2\n"
    expected = list(files.values())
    # ... and, with no file, each line of stdin without its newline; \r stays.
    assert ok(work, "log", "append", "--db", db, stdin=b"alpha\n\nbeta\r\ngamma") == "3\n4\n5\n6\n"
    expected += [b"alpha", b"", b"beta\r", b"gamma"]
    assert ok(work, "log", "append", "--db", db, stdin=b"delta\n") == "7\n"
    assert ok(work, "log", "append", "--db", db, stdin=b"\n") == "8\n"  # one empty line
    expected += [b"delta", b""]
    assert ok(work, "log", "append", "--db", db, stdin=b"") == ""  # no line, no entry
    assert stored_entries(here) == expected

    # checkpoint, then verify-note with the printed key (as text and as a file).
    note1 = ok(work, "log", "checkpoint", "--db", db, "--key", "log.key").encode()
    cp1, opened1 = open_checkpoint(note1, verifier)
    assert (cp1.origin, cp1.tree_size, cp1.root_hash) == (ORIGIN, 9, ref_mth(expected))
    (work / "cp1.note").write_bytes(note1)
    for key in (vkey, "log.vkey"):
        result = run(work, "log", "verify-note", "--vkey", key, "cp1.note")
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout == opened1.text == cp1.to_text()
        assert f"signed by {ORIGIN}" in result.stderr.decode()

    bulk = [f"bulk entry {i}".encode() for i in range(300)]
    appended = ok(work, "log", "append", "--db", db, stdin=b"\n".join(bulk) + b"\n")
    assert appended == "".join(f"{i}\n" for i in range(9, 309))
    expected += bulk
    note2 = ok(work, "log", "checkpoint", "--db", db, "--key", "log.key").encode()
    cp2, _ = open_checkpoint(note2, verifier)
    assert (cp2.tree_size, cp2.root_hash) == (309, ref_mth(expected))

    # Proofs, checked with nothing but the merkle verifiers and the signed roots.
    for index, size, cp in [(4, 9, cp1), (8, 9, cp1), (0, None, cp2), (5, None, cp2)]:
        checked_inclusion(work, db, expected, index=index, size=size, cp=cp)
    for index in (255, 256, 308):
        checked_inclusion(work, db, expected, index=index, size=309, cp=cp2)
    checked_consistency(work, db, cp1, cp2, explicit_new=False)
    checked_consistency(work, db, cp1, cp2, explicit_new=True)
    human = ok(work, "log", "prove-inclusion", "--db", db, "--index", "3")
    assert "tree_size: 309" in human
    assert "leaf_index: 3" in human

    # verify: the full audit, kept checkpoints' signatures included.
    report = ok(work, "log", "verify", "--db", db, "--vkey", "log.vkey")
    assert re.fullmatch(
        rf"log '{ORIGIN}' verified: 309 entries, \d+ tiles, \d+ node-cache rows, 2 checkpoints; "
        rf"root {cp2.root_hash.hex()}\n",
        report,
    ), report

    # export-tiles with the latest checkpoint.
    out = ok(work, "log", "export-tiles", "--db", db, "--out", "tiles")
    assert out == "exported size 309 to tiles: 5 files written, 0 unchanged\n"
    tiles = work / "tiles"
    first = files_under(tiles)
    assert set(first) == {
        "checkpoint",
        "tile/entries/000",
        "tile/entries/001.p/53",
        "tile/0/000",
        "tile/0/001.p/53",
        "tile/1/000.p/1",
    }
    assert first["checkpoint"] == note2
    assert first["tile/entries/000"] == encode_bundle(expected[:256])
    assert first["tile/entries/001.p/53"] == encode_bundle(expected[256:])
    assert first["tile/0/000"] == b"".join(merkle.leaf_hash(e) for e in expected[:256])
    again = ok(work, "log", "export-tiles", "--db", db, "--out", "tiles")
    assert again == "exported size 309 to tiles: 0 files written, 5 unchanged\n"
    assert files_under(tiles) == first

    # Grow, export again: only new and grown tiles are written, the old ones untouched.
    past = 1_000_000_000 * 10**9
    for rel in first:
        os.utime(tiles / rel, ns=(past, past))
    more = [f"more {i}".encode() for i in range(300)]
    ok(work, "log", "append", "--db", db, stdin=b"".join(m + b"\n" for m in more))
    expected += more
    out = ok(work, "log", "export-tiles", "--db", db, "--out", "tiles", "--key", "log.key")
    assert out == "exported size 609 to tiles: 5 files written, 2 unchanged\n"
    second = files_under(tiles)
    new_files = {
        "tile/entries/001",
        "tile/entries/002.p/97",
        "tile/0/001",
        "tile/0/002.p/97",
        "tile/1/000.p/2",
    }
    assert set(second) == set(first) | new_files
    for rel in set(first) - {"checkpoint"}:
        assert second[rel] == first[rel], rel
        assert (tiles / rel).stat().st_mtime_ns == past, f"{rel} was rewritten"
    assert (tiles / "checkpoint").stat().st_mtime_ns != past
    cp3, _ = open_checkpoint(second["checkpoint"], verifier)
    assert (cp3.tree_size, cp3.root_hash) == (609, ref_mth(expected))
    assert second["tile/entries/001"] == encode_bundle(expected[256:512])
    assert second["tile/0/002.p/97"] == b"".join(merkle.leaf_hash(e) for e in expected[512:])
    assert not list(tiles.rglob(".tmp-*"))

    # verify-tiles: nothing but the directory and the verifier key.
    out = ok(work, "log", "verify-tiles", "tiles", "--vkey", vkey)
    assert re.fullmatch(
        rf"tiles of '{ORIGIN}' verified: 609 entries, \d+ tiles; root {cp3.root_hash.hex()}\n",
        out,
    ), out
    report = ok(work, "log", "verify", "--db", db, "--vkey", vkey)
    assert ", 3 checkpoints; " in report
    assert stored_entries(here) == expected

    # Failures leave the log exactly as it was.
    before = log_state(here)
    wrong = Signer.generate("other.example/log")
    (work / "other.key").write_text(wrong.to_text() + "\n")
    (work / "big.bin").write_bytes(b"x" * 65536)
    for args, stdin, code in [
        (("append", "--db", db, "empty.bin", "missing.bin"), b"", 2),
        (("append", "--db", db, "empty.bin", "big.bin"), b"", 2),
        (("append", "--db", db), b"fine\n" + b"y" * 65536 + b"\n", 2),
        (("checkpoint", "--db", db, "--key", "other.key"), b"", 5),
    ]:
        result = run(work, "log", *args, stdin=stdin)
        assert result.returncode == code, (args, result.stderr.decode())
        assert result.stderr.decode().startswith("cvid: error: ")
        assert log_state(here) == before, args


def test_end_to_end_sqlite(tmp_path: Path) -> None:
    end_to_end(tmp_path, "log.db")
    assert (tmp_path / "log.db").is_file()
    assert not (tmp_path / "log.db-wal").exists()  # every command closed the database


def test_end_to_end_postgres(tmp_path: Path, postgres_url: str) -> None:
    end_to_end(tmp_path, postgres_url)


# --- bad input ---------------------------------------------------------------------------

SIGNER = Signer.generate(ORIGIN, seed=bytes(32))
IMPOSTOR = Signer.generate(ORIGIN, seed=b"\x02" * 32)  # the log's name, another key


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A directory with a log of 5 entries and one checkpoint, keys, notes and files."""
    with Log.create(open_store(tmp_path / "log.db", create=True), ORIGIN) as log:
        log.append([f"e{i}".encode() for i in range(5)])
        note = log.checkpoint(SIGNER)
    with Log.create(open_store(tmp_path / "fresh.db", create=True), ORIGIN) as log:
        log.append([b"no checkpoint yet"])
    (tmp_path / "log.key").write_text(SIGNER.to_text() + "\n")
    (tmp_path / "other.key").write_text(Signer.generate("other.example/log").to_text() + "\n")
    (tmp_path / "corrupt.key").write_text(SIGNER.to_text()[:-12] + "\n")
    (tmp_path / "good.note").write_bytes(note)
    (tmp_path / "tampered.note").write_bytes(note.replace(b"\n5\n", b"\n4\n", 1))
    (tmp_path / "garbage.note").write_bytes(b"this is not a signed note\n")
    (tmp_path / "a.txt").write_bytes(b"a\n")
    (tmp_path / "b.txt").write_bytes(b"b\n")
    (tmp_path / "big.bin").write_bytes(b"x" * 65536)
    (tmp_path / "plain.txt").write_bytes(b"not a directory\n")
    return tmp_path


@dataclass(frozen=True)
class Bad:
    id: str
    args: tuple[str, ...]
    code: int
    needle: str  # part of the message
    stdin: bytes = b""


VKEY = SIGNER.verifier.to_text()
BAD = [
    Bad("append-missing-db", ("append", "--db", "missing.db", "a.txt"), 4, "no log database"),
    Bad("checkpoint-missing-db", ("checkpoint", "--db", "missing.db", "--key", "log.key"), 4, ""),
    Bad("verify-missing-db", ("verify", "--db", "missing.db"), 4, "no log database"),
    Bad(
        "export-missing-db",
        ("export-tiles", "--db", "missing.db", "--out", "out", "--key", "log.key"),
        4,
        "no log database",
    ),
    Bad("init-twice", ("init", "--db", "log.db", "--origin", ORIGIN), 4, "already exists"),
    Bad(
        "init-twice-other-origin",
        ("init", "--db", "log.db", "--origin", "other.example/log"),
        4,
        "already exists",
    ),
    Bad("init-empty-origin", ("init", "--db", "new.db", "--origin", ""), 2, "origin"),
    Bad("keygen-over-existing", ("keygen", ORIGIN, "--out", "log.key"), 2, "exists"),
    Bad("keygen-bad-name", ("keygen", "bad name", "--out", "new.key"), 2, "key name"),
    Bad(
        "append-one-missing-file",
        ("append", "--db", "log.db", "a.txt", "missing.txt", "b.txt"),
        2,
        "missing.txt",
    ),
    Bad("append-entry-too-long", ("append", "--db", "log.db", "a.txt", "big.bin"), 2, "65535"),
    Bad(
        "append-stdin-line-too-long",
        ("append", "--db", "log.db"),
        2,
        "65535",
        stdin=b"ok\n" + b"x" * 65536 + b"\nok\n",
    ),
    Bad("inclusion-index-past-end", ("prove-inclusion", "--db", "log.db", "--index", "5"), 2, "5"),
    Bad("inclusion-negative-index", ("prove-inclusion", "--db", "log.db", "--index", "-1"), 2, ""),
    Bad(
        "inclusion-index-past-size",
        ("prove-inclusion", "--db", "log.db", "--index", "3", "--size", "3"),
        2,
        "3",
    ),
    Bad(
        "inclusion-size-past-log",
        ("prove-inclusion", "--db", "log.db", "--index", "0", "--size", "6"),
        2,
        "6",
    ),
    Bad(
        "consistency-old-past-new",
        ("prove-consistency", "--db", "log.db", "--old", "4", "--new", "3"),
        2,
        "4",
    ),
    Bad("consistency-old-past-log", ("prove-consistency", "--db", "log.db", "--old", "6"), 2, "6"),
    Bad(
        "consistency-new-past-log",
        ("prove-consistency", "--db", "log.db", "--old", "1", "--new", "6"),
        2,
        "6",
    ),
    Bad(
        "checkpoint-key-of-another-log",
        ("checkpoint", "--db", "log.db", "--key", "other.key"),
        5,
        "not the key of log",
    ),
    Bad("checkpoint-corrupt-key", ("checkpoint", "--db", "log.db", "--key", "corrupt.key"), 2, ""),
    Bad(
        "checkpoint-missing-key",
        ("checkpoint", "--db", "log.db", "--key", "missing.key"),
        5,
        "missing.key",
    ),
    Bad(
        "verify-note-wrong-key",
        ("verify-note", "--vkey", IMPOSTOR.verifier.to_text(), "good.note"),
        3,
        "not signed by any trusted key",
    ),
    Bad("verify-note-tampered", ("verify-note", "--vkey", VKEY, "tampered.note"), 3, "signature"),
    Bad("verify-note-not-a-note", ("verify-note", "--vkey", VKEY, "garbage.note"), 2, "note"),
    Bad("verify-note-missing-note", ("verify-note", "--vkey", VKEY, "missing.note"), 2, ""),
    Bad(
        "verify-note-malformed-vkey",
        ("verify-note", "--vkey", "example.org/log+zzzzzzzz+AQ==", "good.note"),
        2,
        "verifier key",
    ),
    Bad("verify-note-vkey-no-key", ("verify-note", "--vkey", "nokey", "good.note"), 5, "nokey"),
    Bad(
        "verify-with-wrong-vkey",
        ("verify", "--db", "log.db", "--vkey", IMPOSTOR.verifier.to_text()),
        3,
        "trusted key",
    ),
    Bad(
        "export-no-checkpoint-no-key",
        ("export-tiles", "--db", "fresh.db", "--out", "out"),
        2,
        "--key",
    ),
    Bad("verify-tiles-on-a-file", ("verify-tiles", "plain.txt", "--vkey", VKEY), 2, "directory"),
    Bad("verify-tiles-missing-dir", ("verify-tiles", "nothing", "--vkey", VKEY), 2, "directory"),
]


@pytest.mark.parametrize("case", BAD, ids=[case.id for case in BAD])
def test_bad_input_fails_cleanly_and_changes_nothing(workspace: Path, case: Bad) -> None:
    before = files_under(workspace)
    result = run(workspace, "log", *case.args, stdin=case.stdin)
    assert result.returncode == case.code, result.stderr.decode()
    assert result.stdout == b""
    assert files_under(workspace) == before, "the command changed or created files"
    err = result.stderr.decode()
    assert err.startswith("cvid: error: "), err
    assert case.needle in " ".join(err.splitlines()), err
    assert err.endswith("\n")
    assert len(err.splitlines()) == 1, f"error message is not one line: {err!r}"


def test_long_error_message_stays_on_one_line(tmp_path: Path) -> None:
    """Redirected stderr has no width: a long message must not be wrapped into lines."""
    deep = tmp_path / ("a-rather-long-directory-name-" * 3) / "the-log-database-file.db"
    result = run(tmp_path, "log", "verify", "--db", str(deep))
    assert result.returncode == 4
    err = result.stderr.decode()
    assert err == f"cvid: error: no log database at {deep}\n"


def test_usage_error_is_one_cvid_error_line(tmp_path: Path) -> None:
    """The contract: every command's bad input gives one ``cvid: error:`` line."""
    result = run(tmp_path, "log", "prove-inclusion", "--db", "log.db", "--index", "three")
    assert result.returncode != 0
    err = result.stderr.decode()
    assert err.startswith("cvid: error: "), err
    assert len(err.splitlines()) == 1, err


def test_checkpoint_of_a_corrupt_note_in_the_store_is_not_exported(workspace: Path) -> None:
    """export-tiles re-checks the kept checkpoint against the log before publishing it."""
    forged = sign_checkpoint(Checkpoint(ORIGIN, 5, bytes(32)), SIGNER)
    with Log(open_store(workspace / "log.db")) as log:
        log.store.save_checkpoint(5, forged)
    before = files_under(workspace)
    result = run(workspace, "log", "export-tiles", "--db", "log.db", "--out", "out")
    assert result.returncode == 3
    assert result.stderr.decode().startswith("cvid: error: ")
    assert files_under(workspace) == before
    assert not (workspace / "out").exists()


def test_tampering_exits_3(workspace: Path) -> None:
    """A log or tile directory that fails its audit is a verification failure (exit 3)."""
    assert ok(workspace, "log", "export-tiles", "--db", "log.db", "--out", "tiles").startswith(
        "exported size 5 to tiles: 2 files written"
    )
    assert "verified: 5 entries" in ok(workspace, "log", "verify-tiles", "tiles", "--vkey", VKEY)
    bundle = workspace / "tiles" / "tile" / "entries" / "000.p" / "5"
    bundle.write_bytes(bundle.read_bytes().replace(b"e3", b"E3"))
    conn = sqlite3.connect(workspace / "log.db", isolation_level=None)
    try:
        (data,) = conn.execute("SELECT data FROM cvid_tiles WHERE level = 0").fetchone()
        changed = bytes([data[0] ^ 1]) + bytes(data[1:])
        conn.execute("UPDATE cvid_tiles SET data = ? WHERE level = 0", (changed,))
    finally:
        conn.close()
    for args in (("verify-tiles", "tiles", "--vkey", VKEY), ("verify", "--db", "log.db")):
        result = run(workspace, "log", *args)
        assert result.returncode == 3, (args, result.stderr.decode())
        assert result.stdout == b""
        assert result.stderr.decode().startswith("cvid: error: ")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(tmp_path: Path, command: str | None) -> None:
    args = ["log"] if command is None else ["log", command]
    result = run(tmp_path, *args, "--help")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "Usage:" in out
    if command is not None:
        assert f"cvid log {command}" in out
    else:
        assert all(c in out for c in COMMANDS)
    assert list(tmp_path.iterdir()) == []  # help touches nothing
