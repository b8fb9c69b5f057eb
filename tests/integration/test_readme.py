"""What the README says about road maps, pages and commands is true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from cvid.agreement import create_from_template, template_names

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
NUMBERS = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}


def test_the_shipped_road_maps_are_counted_and_named() -> None:
    names = template_names()
    paragraph = README[README.index(f"{NUMBERS[len(names)]} road maps ship:") :].split("\n\n")[0]
    for name in names:
        assert f"`{name}`" in paragraph, name


def test_the_page_list_names_the_simulation_and_the_witness_ports() -> None:
    assert "- `/simulation`" in README
    assert "`--port N` uses N, N+1 and N+2" in README


def test_the_agreement_commands_run_as_written(tmp_path: Path) -> None:
    start = README.index("cvid agreement init --template dprk-phased agreement/")
    block = README[start : README.index("```", start)]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "logged step.reported by dprk (seq 3)" in result.stdout
    assert (tmp_path / "report.html").is_file()


def _command_options() -> dict[tuple[str, ...], set[str]]:
    """Every cvid command, by its words, with the options it takes."""
    import typer.main

    from cvid.cli import app

    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command: Any, words: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)  # a group
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, (*words, name))
            return
        options = {o for p in command.params for o in p.opts if o.startswith("--")}
        found[words] = options | {"--help"}

    walk(typer.main.get_command(app), ())
    return found


def _shell_lines() -> list[str]:
    """The README's shell commands, continuation lines joined, comments dropped."""
    blocks = README.split("```sh\n")[1:]
    text = "\n".join(block.split("```")[0] for block in blocks).replace("\\\n", " ")
    lines = [line.split("#")[0].strip() for line in text.splitlines() if line.strip()]
    # and the commands quoted in the text, options in brackets included
    for quoted in re.findall(r"`(cvid [^`]+)`", README):
        words = quoted.replace("[", " ").replace("]", " ").split()
        # `cvid witness keygen|serve`: each of the alternatives
        for choice in words[2].split("|") if len(words) > 2 else [""]:
            lines.append(" ".join([*words[:2], choice, *words[3:]]))
    return lines


def test_every_cvid_command_in_the_readme_exists_with_its_options() -> None:
    commands = _command_options()
    checked = 0
    for line in _shell_lines():
        words = line.split()
        if "cvid" not in words:
            continue
        rest = words[words.index("cvid") + 1 :]
        matches = [c for c in commands if tuple(rest[: len(c)]) == c]
        if not matches:  # a group of commands, named alone (`cvid log`)
            assert any(c[: len(rest)] == tuple(rest) for c in commands), line
            continue
        command = max(matches, key=len)
        used = {w.split("=")[0] for w in rest if w.startswith("--")}
        assert used <= commands[command], (line, used - commands[command])
        checked += 1
    assert checked >= 30


def test_the_limits_paragraph_names_every_limit_of_serve() -> None:
    paragraph = README[README.index("Limits (all in `cvid serve --help`)") :].split("\n\n")[0]
    named = set(re.findall(r"`(--[a-z-]+)", paragraph))
    limits = {
        "--party-rate",
        "--party-burst",
        "--header-timeout",
        "--body-timeout",
        "--keep-alive",
        "--connections-per-address",
        "--max-connections",
    }
    assert limits <= _command_options()[("serve",)]
    assert named == limits


def test_the_witness_clock_and_key_paths_are_as_the_readme_says(tmp_path: Path) -> None:
    assert "`--now TIME`" in README
    assert "--now" in _command_options()[("witness", "serve")]
    assert "`DIR/keys/witnesses/ID.key`" in README
    assert "`DIR/keys/log.key`" in README
    with create_from_template(tmp_path / "a", "dprk-phased", adopt_at=None) as made:
        assert made.roadmap.witnesses is not None
        for witness in made.roadmap.witnesses.members:
            assert (made.directory / "keys" / "witnesses" / f"{witness.id}.key").is_file()
        assert (made.directory / "keys" / "log.key").is_file()
