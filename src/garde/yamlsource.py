"""YAML documents that remember where each value came from.

Registers and dataset maps are written by hand, so errors must point at a
line. PyYAML's composer keeps a mark on every node; we build plain Python
values from the node tree and keep, beside them, a map from each field path
(``("activities", 3, "legal_bases", 0, "basis")``) to its line number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from garde.problems import InputError, Problem

FieldPath = tuple[str | int, ...]

# libyaml's parser (when PyYAML was built with it) keeps the same marks, ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceMap:
    """Line numbers (1-based) of every field of one file."""

    file: str
    lines: dict[FieldPath, int] = field(default_factory=dict)

    def line(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest enclosing field."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: FieldPath, message: str, suggestion: str | None = None) -> Problem:
        return Problem(self.file, self.line(path), dotted(path), message, suggestion)


def dotted(path: FieldPath) -> str:
    """``("activities", 3, "name")`` -> ``activities[3].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read ``path`` and return its value with a :class:`SourceMap`.

    Raises :class:`InputError` (never a YAML traceback) when the file is
    missing or is not well-formed YAML.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(name, None, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Any, SourceMap]:
    source = SourceMap(name)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError([Problem(name, line, "", f"not valid YAML: {exc.problem}")]) from None
    if node is None:
        return None, source
    return _build(node, (), source, yaml.SafeLoader("")), source


def _build(node: yaml.Node, path: FieldPath, source: SourceMap, loader: yaml.SafeLoader) -> Any:
    source.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if isinstance(key, bool | int | float):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in out:
                raise InputError(
                    [Problem(source.file, key_node.start_mark.line + 1, dotted((*path, key)),
                             "appears twice in the same mapping")]
                )
            child = (*path, key)
            source.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, source, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), source, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
