"""A YAML loader for outside files whose every refusal is a ``yaml.MarkedYAMLError``.

PyYAML's ``SafeLoader`` lets three kinds of bad input escape as something else, or
without a position: a character YAML does not allow (``ReaderError``, with an offset but
no line), a value its constructors cannot build (``ValueError``: the date 2027-02-30, an
integer of more than 4,300 digits) and deep nesting (``RecursionError``: nodes are
composed recursively). :class:`SafeLoader` turns each into a marked error at the place
in the text. This module does not decide what the data means, and reads no file.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Deeper than any cvid file nests, and far from Python's recursion limit (PyYAML
#: spends two frames per level composing, and readers more walking the tree).
MAX_DEPTH = 100

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"


class SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose refusals are all ``yaml.MarkedYAMLError``s."""

    def __init__(self, stream: str) -> None:
        try:
            super().__init__(stream)
        except yaml.reader.ReaderError as e:  # checked for the whole text before scanning
            raise _at_offset(stream, e) from None
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as e:  # YAML's timestamp and int constructors
            raise yaml.constructor.ConstructorError(
                None, None, _not_a_value(node), node.start_mark
            ) from e


def _not_a_value(node: yaml.Node) -> str:
    text = node.value if isinstance(node.value, str) else ""
    if node.tag == _TIMESTAMP:
        return f"not a date: {text}"
    if node.tag == _INT:
        return f"an integer of {len(text)} characters is too long"
    return f"not a valid {node.tag.rsplit(':', 1)[-1]}: {text[:40]}"


def _at_offset(text: str, e: yaml.reader.ReaderError) -> yaml.MarkedYAMLError:
    line = text.count("\n", 0, e.position)
    column = e.position - (text.rfind("\n", 0, e.position) + 1)
    mark = yaml.Mark(e.name, e.position, line, column, None, 0)
    problem = f"character #x{e.character:04x} is not allowed"
    return yaml.MarkedYAMLError(None, None, problem, mark)


def load(text: str) -> Any:
    """The one document in ``text``, as plain data.

    Raises:
        yaml.MarkedYAMLError: the text is not YAML, or holds a value that cannot be built.
    """
    loader = SafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def describe(e: yaml.YAMLError, name: str) -> str:
    """``name:line:column: malformed YAML: problem`` (without a mark, ``name: …: error``)."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        if mark is not None:
            where = f"{name}:{mark.line + 1}:{mark.column + 1}"
            return f"{where}: malformed YAML: {e.problem or e.context}"
    return f"{name}: malformed YAML: {e}"
