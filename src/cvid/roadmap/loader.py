"""Read a road map from YAML (or its canonical JSON) into the model, with positions.

Every problem is reported as ``file:line:column: message`` (lines and columns
count from 1), all of them at once: malformed YAML, duplicate keys, anchors and
custom tags (refused: a road map is plain data), values of the wrong type,
unknown keys, and the whole-document checks of :mod:`cvid.roadmap.check`.

A road map may include shipped phases (``include_phases``, :mod:`cvid.roadmap.phases`,
ADR 0008): they are expanded here, before validation, and appended to ``phases``. A
problem inside an included phase is reported at the inclusion in the road map *and*
at its place in the phase file.

The road map's identity is :func:`digest`: SHA-256 of the canonical JSON (RFC 8785)
of the validated model with every default filled in, so the hash commits to what
the file *means*, not to its spacing or comments. Reading a file is the only I/O.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from cvid import _yaml
from cvid._jcs import canonical, parse_json
from cvid.errors import InputError, JSONFormatError, RoadmapError
from cvid.roadmap import phases as included_phases
from cvid.roadmap.check import MILESTONES, Loc, Problem, check
from cvid.roadmap.descriptions import describe
from cvid.roadmap.model import RoadMap

MAX_FILE_BYTES = 4 * 1024 * 1024

Marks = dict[Loc, tuple[int, int]]


class _Reader:
    """Turn a YAML node tree into plain data, remembering where each value starts."""

    def __init__(self, text: str, *, fast: bool = False) -> None:
        self.loader: Any = _FastLoader(text) if fast else _Loader(text)
        self.fast = fast
        self.marks: Marks = {}
        self.problems: list[tuple[Loc, str]] = []
        self._seen: set[int] = set()

    def read(self) -> Any:
        try:
            node = self.loader.get_single_node()
        finally:
            self.loader.dispose()
        if node is None:
            return None
        return self._value(node, ())

    def _value(self, node: yaml.Node, loc: Loc) -> Any:
        if self.fast:  # what the Python loader refuses while composing, refused here
            if id(node) in self._seen or len(loc) >= _yaml.MAX_DEPTH:
                raise _NotFast  # an alias (a node met twice), or nesting too deep
            self._seen.add(id(node))
        self.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:
            self._at(node, loc, f"the tag {node.tag!r} is not allowed")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if (
                    not isinstance(key_node, yaml.ScalarNode)
                    or key_node.tag != "tag:yaml.org,2002:str"
                ):
                    shown = getattr(key_node, "value", "?")
                    self._at(key_node, loc, f"key {shown!r} is not a plain string (quote it)")
                    continue
                key = key_node.value
                if key in out:
                    self._at(key_node, (*loc, key), f"duplicate key {key!r}")
                    continue
                # Point at the key's line: "unknown key", "wrong type" both read well there.
                self.marks[(*loc, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self._value(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._value(child, (*loc, i)) for i, child in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            self._at(node, loc, f"the tag {node.tag!r} is not allowed")
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as e:  # 2027-02-30: at the value
            self._at(node, loc, str(e.problem))
            return None

    def _at(self, node: yaml.Node, loc: Loc, message: str) -> None:
        self.marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.problems.append((loc, message))


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


class _Loader(_yaml.SafeLoader):
    """A safe loader that refuses aliases: a road map is a tree, written out."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed in a road map", event.start_mark
            )
        return super().compose_node(parent, index)


class _NotFast(InputError):
    """The text is read again by the Python loader, which says what is wrong with it."""


_FastLoader: Any = getattr(yaml, "CSafeLoader", None)  # libyaml's parser, when built with it


def _position(marks: Marks, loc: Iterable[str | int]) -> tuple[int, int] | None:
    """Find the mark of the deepest known prefix of ``loc`` (tags in it are skipped)."""
    path: Loc = ()
    best = marks.get(path)
    for part in loc:
        candidate = (*path, part)
        if candidate in marks:
            path = candidate
            best = marks[path]
    return best


def _at(name: str, marks: Marks, loc: Loc) -> str:
    pos = _position(marks, loc)
    if pos is None:
        return name
    return f"{name}:{pos[0]}:{pos[1]}"


@dataclass(frozen=True)
class _Included:
    """Where an expanded phase came from: its inclusion and its phase file."""

    loc: Loc  # the entry of include_phases, in the road map
    phase: str
    file: str
    marks: Marks  # positions in the phase file
    origins: tuple[int, ...]  # the phase-file step template of each expanded step

    def inner(self, rest: Loc) -> Loc:
        """The path in the phase file of ``rest``, a path inside the expanded phase."""
        if (
            len(rest) >= 2
            and rest[0] == "steps"
            and isinstance(rest[1], int)
            and rest[1] < len(self.origins)
        ):
            return ("steps", self.origins[rest[1]], *rest[2:])
        return rest


Included = dict[int, _Included]


def _where(name: str, marks: Marks, loc: Loc, included: Included | None = None) -> str:
    """``file:line:column`` of ``loc``; for a value of an included phase, both places."""
    if included and len(loc) >= 2 and loc[0] == "phases" and isinstance(loc[1], int):
        inc = included.get(loc[1])
        if inc is not None:
            inner = _at(inc.file, inc.marks, inc.inner(loc[2:]))
            return f"{_at(name, marks, inc.loc)}: in the included phase {inc.phase!r} ({inner})"
    return _at(name, marks, loc)


def _expand_includes(data: dict[str, Any], name: str, marks: Marks) -> tuple[Any, Included]:
    """Expand ``include_phases`` into ``phases``, or raise with every problem found."""
    entries = data.get("include_phases")
    out = {k: v for k, v in data.items() if k != "include_phases"}
    if not isinstance(entries, list):
        raise RoadmapError(
            [f"{_at(name, marks, ('include_phases',))}: include_phases is a list of inclusions"]
        )
    own = data.get("phases")
    phases: list[Any] = list(own) if isinstance(own, list) else []
    parties = _parties_of(data)
    milestones = set(MILESTONES) | _milestones(phases)
    problems: list[str] = []
    included: Included = {}
    for k, raw in enumerate(entries):
        loc: Loc = ("include_phases", k)
        entry = included_phases.parse_include(raw)
        if isinstance(entry, list):
            problems += [f"{_at(name, marks, (*loc, *p.loc))}: {p.message}" for p in entry]
            continue
        path = included_phases.phase_path(entry.phase)
        if path is None:
            known = ", ".join(included_phases.phase_names()) or "none"
            where = _at(name, marks, (*loc, "phase"))
            problems.append(f"{where}: no phase {entry.phase!r}; known: {known}")
            continue
        spec, phase_marks = _read_phase(path)
        expansion = included_phases.expand(
            entry, spec, parties=parties, milestones=milestones, joint_bodies=_joint_bodies_of(data)
        )
        for p in expansion.problems:
            if p.in_phase:
                inner = _at(str(path), phase_marks, p.loc)
                where = f"{_at(name, marks, loc)}: in the phase file {inner}"
            else:
                where = _at(name, marks, (*loc, *p.loc))
            problems.append(f"{where}: {p.message}")
        if expansion.phase is None or expansion.problems:
            continue
        included[len(phases)] = _Included(
            loc, entry.phase, str(path), phase_marks, tuple(expansion.origins)
        )
        phases.append(expansion.phase)
        milestones |= _milestones([expansion.phase])
    if problems:
        raise RoadmapError(problems)
    if "phases" in data or phases:
        out["phases"] = phases
    return out, included


def _parties_of(data: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Each party's name and roles, from raw road-map data (malformed entries skipped)."""
    parties: dict[str, tuple[str, list[str]]] = {}
    for party in data.get("parties") or []:
        if isinstance(party, dict) and isinstance(party.get("id"), str):
            roles = party.get("roles")
            parties[party["id"]] = (
                str(party.get("name", party["id"])),
                [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else [],
            )
    return parties


def _joint_bodies_of(data: dict[str, Any]) -> set[str]:
    """The ids of the joint bodies in raw road-map data (malformed entries skipped)."""
    bodies = data.get("joint_bodies")
    if not isinstance(bodies, list):
        return set()
    return {j["id"] for j in bodies if isinstance(j, dict) and isinstance(j.get("id"), str)}


def _read_phase(path: Path) -> tuple[Any, Marks]:
    """A shipped phase file as plain data with positions (a broken one raises)."""
    try:
        reader = _Reader(path.read_text(encoding="utf-8"))
        spec = reader.read()
    except yaml.YAMLError as e:
        raise RoadmapError([f"{path}: malformed YAML: {e}"]) from None
    if reader.problems:
        raise RoadmapError(
            [f"{_at(str(path), reader.marks, lc)}: {m}" for lc, m in reader.problems]
        )
    return spec, reader.marks


def _milestones(phases: Iterable[Any]) -> set[str]:
    """The phase and step ids in raw phase data (for checking milestone parameters)."""
    found: set[str] = set()
    for phase in phases:
        if not isinstance(phase, dict):
            continue
        if isinstance(phase.get("id"), str):
            found.add(phase["id"])
        for step in phase.get("steps") or []:
            if isinstance(step, dict) and isinstance(step.get("id"), str):
                found.add(step["id"])
    return found


def _describe(loc: Loc) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def _document_loc(data: Any, loc: Iterable[str | int]) -> Loc:
    """The path into the document of a pydantic error location.

    Pydantic's location also names the member of a tagged union it tried (``when.any.any.0``
    for the document's ``when.any.0``): a part that is not a key or an index of the data
    there is such a name, and is left out, unless it is the last part at a mapping (a
    missing key).
    """
    parts = tuple(loc)
    out: list[str | int] = []
    here = data
    for i, part in enumerate(parts):
        key = isinstance(here, dict) and isinstance(part, str) and part in here
        index = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if key or index:
            here = here[part]
        elif not (i == len(parts) - 1 and isinstance(here, dict) and isinstance(part, str)):
            continue
        out.append(part)
    return tuple(out)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The model classes a field's annotation holds (through lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _keys_at(loc: Loc) -> set[str]:
    """The keys a road map allows in the mapping at ``loc`` (a document path)."""
    models: list[type[BaseModel]] = [RoadMap]
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: the same models
        fields = [_fields(model).get(part) for model in models]
        models = [m for f in fields if f is not None for m in _models_in(f.annotation)]
    keys = {key for model in models for key in _fields(model)}
    return keys | {"include_phases"} if not loc else keys


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _did_you_mean(key: str, loc: Loc) -> str:
    close = difflib.get_close_matches(key, sorted(_keys_at(loc)), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# What a date looks like in a road map, instead of what the YAML parser made of it.
_DATE_ERRORS = {
    "date_type",
    "date_parsing",
    "date_from_datetime_inexact",
    "date_from_datetime_parsing",
}


def _shown(value: Any) -> str:
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    return repr(value)


def _pydantic_problems(
    error: ValidationError,
    name: str,
    marks: Marks,
    included: Included | None = None,
    data: Any = None,
) -> list[str]:
    out = []
    for err in error.errors(include_url=False):
        loc = _document_loc(data, err["loc"]) if data is not None else tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}{_did_you_mean(str(loc[-1]), loc[:-1])}"
        elif kind == "missing":
            message = f"missing key {loc[-1]!r}"
        elif kind == "condition" and isinstance(err.get("input"), dict):
            unknown = [k for k in err["input"] if k not in _keys_at(loc)]
            hints = "".join(_did_you_mean(str(k), loc) for k in unknown[:1])
            message = f"{_describe(loc)}: {err['msg']}{hints}"
        elif kind in _DATE_ERRORS:
            message = f"{_describe(loc)}: expected a date, YYYY-MM-DD"
            if "input" in err:
                message += f" (got {_shown(err['input'])})"
        else:
            message = f"{_describe(loc)}: {err['msg']}"
            if (
                "input" in err
                and kind not in ("condition",)
                and not isinstance(err["input"], dict | list)
            ):
                message += f" (got {_shown(err['input'])})"
        out.append(f"{_where(name, marks, loc, included)}: {message}")
    return out


def from_data(data: Any, *, name: str = "<road map>", marks: Marks | None = None) -> RoadMap:
    """Validate plain data (as read from YAML) into a :class:`RoadMap`.

    Raises:
        RoadmapError: with every problem found, each with its position when known.
    """
    marks = marks or {}
    if not isinstance(data, dict):
        raise RoadmapError([f"{_where(name, marks, ())}: a road map is a mapping at the top level"])
    included: Included = {}
    if "include_phases" in data:
        data, included = _expand_includes(data, name, marks)
    try:
        roadmap = RoadMap.model_validate(data)
    except ValidationError as e:
        raise RoadmapError(_pydantic_problems(e, name, marks, included, data)) from None
    return _checked(roadmap, name, marks, included)


def _checked(
    roadmap: RoadMap, name: str, marks: Marks, included: Included | None = None
) -> RoadMap:
    problems = _without_echoes(roadmap, check(roadmap))
    if problems:
        raise RoadmapError(
            [f"{_where(name, marks, p.loc, included)}: {p.message}" for p in problems]
        )
    return roadmap


_CYCLE = "cyclic dependency: "


def _without_echoes(roadmap: RoadMap, problems: list[Problem]) -> list[Problem]:
    """``problems`` without the cycles a duplicated step or phase id makes up.

    With two steps named ``x``, a dependency of one on the other reads as ``x → x``:
    the duplicate is the mistake, and is reported on its own.
    """
    ids = Counter(
        [ph.id for ph in roadmap.phases] + [s.id for ph in roadmap.phases for s in ph.steps]
    )
    duplicated = {ident for ident, n in ids.items() if n > 1}
    if not duplicated:
        return problems
    return [
        p
        for p in problems
        if not (
            p.message.startswith(_CYCLE)
            and duplicated & set(p.message.removeprefix(_CYCLE).split(" → "))
        )
    ]


def loads(text: str, *, name: str = "<road map>") -> RoadMap:
    """Read a road map from YAML text.

    Raises:
        RoadmapError: the YAML is malformed, or the road map is invalid.
    """
    if _FastLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        # A valid road map is read with libyaml's parser, ten times faster on a large
        # one. Anything it refuses or finds wrong, and what it accepts but the Python
        # loader refuses (an alias, nesting deeper than cvid._yaml.MAX_DEPTH; a
        # character YAML does not allow is looked for above), is read again below:
        # the errors and positions reported are the Python loader's.
        try:
            fast = _Reader(text, fast=True)
            data = fast.read()
            if not fast.problems:
                return from_data(data, name=name, marks=fast.marks)
        except (_NotFast, yaml.YAMLError, ValueError, RecursionError, RoadmapError):
            pass
    try:
        reader = _Reader(text)
        data = reader.read()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise RoadmapError([f"{where}: malformed YAML: {e.problem or e.context}"]) from None
    except yaml.YAMLError as e:
        raise RoadmapError([f"{name}: malformed YAML: {e}"]) from None
    if reader.problems:
        raise RoadmapError(
            [f"{_where(name, reader.marks, loc)}: {msg}" for loc, msg in reader.problems]
        )
    return from_data(data, name=name, marks=reader.marks)


def load(path: str | Path) -> RoadMap:
    """Read a road-map file (YAML, or JSON, which is YAML too).

    Raises:
        RoadmapError: the file cannot be read, or what it says is invalid.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise RoadmapError([f"{path}: cannot read: {e.strerror or e}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RoadmapError([f"{path}: larger than {MAX_FILE_BYTES} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RoadmapError([f"{path}: not UTF-8"]) from None
    return loads(text, name=str(path))


def to_json(roadmap: RoadMap) -> bytes:
    """Return the canonical JSON (RFC 8785) of the road map, defaults included."""
    return canonical(roadmap.model_dump(mode="json", by_alias=True))


def from_json(data: bytes, *, name: str = "<road map>") -> RoadMap:
    """Read a road map back from :func:`to_json`'s bytes (or any strict JSON).

    Raises:
        RoadmapError: not strict JSON, or not a valid road map.
    """
    try:
        parse_json(data, what=name)  # duplicate keys, NaN, unsafe integers
        roadmap = RoadMap.model_validate_json(data)
    except JSONFormatError as e:
        raise RoadmapError([str(e)]) from None
    except ValidationError as e:
        raise RoadmapError(_pydantic_problems(e, name, {})) from None
    return _checked(roadmap, name, {})


def digest(roadmap: RoadMap) -> str:
    """Return the road map's identity: ``sha256:<hex>`` of the canonical JSON (RFC 8785)
    of the road map with every value equal to its default left out.

    A default written out or left out is the same road map; and a release that adds
    optional language (a new field whose default keeps the old meaning) does not change
    the identity of a road map written before it, so the events signed under it stay
    admissible (ADR 0016).
    """
    stated = roadmap.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return "sha256:" + hashlib.sha256(canonical(stated)).hexdigest()


def schema() -> dict[str, Any]:
    """Return the JSON Schema of a road-map file, generated from the model."""
    out = RoadMap.model_json_schema(by_alias=True, mode="validation")
    # The file may also include shipped phases; the loader expands them (ADR 0008).
    include = included_phases.Include.model_json_schema(by_alias=True, mode="validation")
    out.setdefault("$defs", {})["PhaseInclude"] = include
    out["properties"]["include_phases"] = {
        "description": (
            "Shipped phases to append to 'phases', each with the road map's parties "
            "and milestones mapped to the phase's parameters."
        ),
        "items": {"$ref": "#/$defs/PhaseInclude"},
        "title": "Include Phases",
        "type": "array",
    }
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://cvid.dev/schema/roadmap-1.json"
    return describe(out)


def schema_text() -> str:
    """Return :func:`schema` as the text shipped in ``schema.json``."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
