"""YAML documents that remember where each value came from.

Registers and dataset maps are written by hand, so errors must point at a
line. We read the parser's events (each carries its mark) and build plain
Python values from them, keeping, beside them, a map from each field path
(``("activities", 3, "legal_bases", 0, "basis")``) to its line number.

Building from events, rather than from PyYAML's node tree, is also what
bounds a hostile file: a file is refused past :data:`MAX_BYTES`, a value
nested deeper than :data:`MAX_DEPTH`, and a document holding more than
:data:`MAX_VALUES` values once its aliases are counted as the copies they
stand for ("billion laughs": 300 bytes of aliases naming aliases stand for
hundreds of millions of values). An alias is built once and shared, so the
count is checked before anything is expanded, and memory stays that of the
text. Each refusal is an :class:`InputError` naming the file and the line.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from garde.problems import InputError, Problem

FieldPath = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)

#: Largest register or dataset file read, in bytes: the largest seed register is 23 kB.
MAX_BYTES = 4 * 1024 * 1024
#: Most values (texts, numbers, lists, mappings) one document may stand for, aliases expanded.
MAX_VALUES = 200_000
#: Deepest nesting of lists and mappings: a register is about 6 levels deep.
MAX_DEPTH = 50

# libyaml's parser (when PyYAML was built with it) keeps the same marks, ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


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
    missing, unreadable, too large, not UTF-8 or not well-formed YAML.
    """
    name = str(path)

    def refuse(message: str) -> InputError:
        return InputError([Problem(name, None, "", message)])

    try:
        with path.open("rb") as handle:
            # read one byte past the limit: a pipe or a device has no size to check beforehand
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except IsADirectoryError:
        raise refuse("is a folder, not a file") from None
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        size = path.stat().st_size if path.is_file() else len(raw)
        raise refuse(_too_large(size))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text ({exc.reason})") from None
    return parse_yaml(text, name)


def load_model(path: Path, model: type[ModelT]) -> ModelT:
    """Read a data file of garde's own and validate it as ``model``; problems name the line."""
    data, source = load_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError([source.problem(tuple(e["loc"]), e["msg"]) for e in exc.errors()]) from None


def _too_large(size: int) -> str:
    return f"{size:,} bytes, over the limit of {MAX_BYTES:,} bytes for a register or dataset file"


def parse_yaml(text: str, name: str) -> tuple[Any, SourceMap]:
    """Like :func:`load_yaml`, from text; ``name`` is the file name errors give."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError([Problem(name, None, "", _too_large(len(text.encode("utf-8", "surrogatepass"))))])
    source = SourceMap(name)
    loader = _Loader(text)
    try:
        return _Builder(loader, source).document(), source
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(name, line, "", f"not valid YAML: {problem}")]) from None
    finally:
        loader.dispose()


@dataclass
class _Open:
    """A list or mapping being built."""

    value: list[Any] | dict[Any, Any]
    path: FieldPath
    anchor: str | None
    values_before: int  # the document's count of values when this collection started
    key: Any = None
    has_key: bool = False
    merging: bool = False  # the key is `<<`: the value is merged, not stored
    merges: list[dict[Any, Any]] = field(default_factory=list)


class _Builder:
    """Builds one document's value from the parser's events, within the limits."""

    def __init__(self, loader: yaml.SafeLoader, source: SourceMap) -> None:
        self.loader: Any = loader  # PyYAML's stubs leave the event API untyped
        self.source = source
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it stands for)
        self.values = 0
        self.root: Any = None

    def fail(self, path: FieldPath, line: int, message: str) -> InputError:
        return InputError([Problem(self.source.file, line, dotted(path), message)])

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        while not loader.check_event(yaml.DocumentEndEvent):
            self.event(loader.get_event())
        loader.get_event()
        if not loader.check_event(yaml.StreamEndEvent):
            line = loader.peek_event().start_mark.line + 1
            raise InputError([Problem(self.source.file, line, "", "one document per file: remove the "
                                      "second `---` and what follows, or make it a file of its own")])
        return self.root

    def event(self, event: Any) -> None:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.CollectionEndEvent):
            done = self.stack.pop()
            if isinstance(done.value, dict):
                for merged in done.merges:
                    for key, value in merged.items():
                        done.value.setdefault(key, value)
            if done.anchor is not None:
                self.anchors[done.anchor] = (done.value, self.values - done.values_before + 1)
            self.put(done.value, done.path, line)
            return
        path = self.child_path(line, isinstance(event, yaml.ScalarEvent | yaml.AliasEvent))
        if isinstance(event, yaml.AliasEvent):
            self.alias(event.anchor, path, line)
        elif isinstance(event, yaml.ScalarEvent):
            self.count(1, path, line)
            value, merge = self.scalar(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1)
            self.put(value, path, line, merge)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(path, line, f"nested more than {MAX_DEPTH} levels deep: refused")
            self.count(1, path, line)
            self.source.lines.setdefault(path, line)
            value_: list[Any] | dict[Any, Any] = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            self.stack.append(_Open(value_, path, event.anchor, self.values))

    def child_path(self, line: int, scalar: bool) -> FieldPath:
        """Where the next value goes; only a scalar may be a mapping's key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if top.has_key:
            return (*top.path, top.key)
        if not scalar:
            raise self.fail(top.path, line, "a key must be a text, not a list or a mapping")
        return top.path

    def count(self, values: int, path: FieldPath, line: int) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            raise self.fail(path, line, f"more than {MAX_VALUES:,} values (aliases count as the copies "
                            "they stand for): refused")

    def alias(self, anchor: Any, path: FieldPath, line: int) -> None:
        if any(o.anchor == anchor for o in self.stack):
            raise self.fail(path, line, "an alias refers to a value that contains it (a loop)")
        if anchor not in self.anchors:
            raise self.fail(path, line, f"unknown alias *{anchor} (no &{anchor} before it)")
        value, values = self.anchors[anchor]
        self.count(values, path, line)
        self.put(value, path, line)  # shared, not copied: the count above is what it stands for

    def scalar(self, event: Any) -> tuple[Any, bool]:
        """The scalar's value, and whether it is the merge key ``<<``."""
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _MERGE:
            return "<<", True
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        constructor = self.loader.yaml_constructors.get(tag, self.loader.yaml_constructors[None])
        value = constructor(self.loader, node)
        if isinstance(value, types.GeneratorType):  # a list's or a mapping's tag on a text
            value.close()
            raise yaml.constructor.ConstructorError(None, None, f"tag {tag} on a text", event.start_mark)
        return value, False

    def put(self, value: Any, path: FieldPath, line: int, merge: bool = False) -> None:
        self.source.lines.setdefault(path, line)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif not top.has_key:
            self.key(top, value, line, merge)
        elif top.merging:
            self.merge(top, value, line)
        else:
            top.value[top.key] = value
            top.has_key, top.key = False, None

    def key(self, top: _Open, key: Any, line: int, merge: bool) -> None:
        if isinstance(key, bool | int | float):
            key = str(key).lower() if isinstance(key, bool) else str(key)
        elif isinstance(key, list | dict):  # an alias to a list or a mapping (never printed: it may be huge)
            raise self.fail(top.path, line, "a key must be a text, not a list or a mapping")
        if key in top.value and not merge:
            raise self.fail((*top.path, key), line, "appears twice in the same mapping")
        top.has_key, top.key, top.merging = True, key, merge
        self.source.lines[(*top.path, key)] = line

    def merge(self, top: _Open, value: Any, line: int) -> None:
        """``<<: *defaults`` (or a list of them): their keys, where the mapping sets none itself."""
        merged = value if isinstance(value, list) else [value]
        if not all(isinstance(m, dict) for m in merged):
            raise self.fail((*top.path, "<<"), line, "`<<` merges a mapping, or a list of mappings")
        top.merges.extend(merged)
        top.has_key, top.key, top.merging = False, None, False
