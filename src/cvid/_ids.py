"""Identifier and text types shared by the road-map model and the event bodies.

An identifier is what a road map and an event use to name a party, a step, an
item or a measure: lowercase ASCII letters, digits and ``. _ -``, starting and
ending with a letter or digit, at most 64 characters. Party identifiers double as
signed-note key names, which these rules keep valid (no space, no ``+``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints

ID_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]

STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=False)
