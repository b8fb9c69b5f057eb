"""A MkDocs hook (mkdocs.yml ``hooks:``): nav entries written as a glob list every match.

An entry such as ``Decisions: adr/*.md`` becomes a section holding every decision record
under docs/, in file-name order, each titled by its first heading; so a new record is on
the site as soon as its file exists, and strict mode still fails on any page left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GLOB = "*"


def expand(nav: Any, docs: Path) -> Any:
    """``nav`` with every string containing ``*`` replaced by the sorted pages it matches.

    Raises:
        ValueError: a pattern matches no page (a typo would otherwise hide a section).
    """
    if isinstance(nav, list):
        out: list[Any] = []
        for item in nav:
            expanded = expand(item, docs)
            # a bare pattern in a list stands for its pages, spliced in place
            if isinstance(item, str) and GLOB in item:
                out.extend(expanded)
            else:
                out.append(expanded)
        return out
    if isinstance(nav, dict):
        return {title: expand(value, docs) for title, value in nav.items()}
    if isinstance(nav, str) and GLOB in nav:
        pages = sorted(p.relative_to(docs).as_posix() for p in docs.glob(nav) if p.is_file())
        if not pages:
            raise ValueError(f"the nav pattern {nav!r} matches no page under {docs}")
        return pages
    return nav


def on_config(config: Any) -> Any:
    if config.get("nav"):
        config["nav"] = expand(config["nav"], Path(config["docs_dir"]))
    return config
