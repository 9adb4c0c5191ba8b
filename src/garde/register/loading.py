"""Reading register files: every problem names the file, the line and the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from garde.problems import InputError, Problem, closest
from garde.register.model import (
    Activity,
    AutomatedDecisions,
    Consent,
    Contact,
    Controller,
    Dpia,
    Law,
    LegalBasis,
    Provision,
    Recipient,
    Register,
    Registration,
    RetentionRule,
    Rights,
    RightsHandledBy,
    Transfer,
)
from garde.register.roles import Arrangement, ProcessorContract, ServedController, SubProcessor
from garde.register.trackers import Provider, Tracker, tracker_problems
from garde.register.values import FieldValueError
from garde.taxonomy import TERM_NOUNS, Vocabulary, load_vocabulary
from garde.taxonomy.free import FreeTerm
from garde.yamlsource import FieldPath, SourceMap, load_yaml, parse_yaml

_MODELS: tuple[type[BaseModel], ...] = (
    Register, Controller, Contact, Activity, LegalBasis, Recipient, Transfer, RetentionRule,
    Consent, Dpia, Registration, Law, Provision, AutomatedDecisions, Rights, RightsHandledBy,
    ServedController, SubProcessor, ProcessorContract, Arrangement,
    Tracker, Provider,
)
_FIELD_NAMES = sorted({name for model in _MODELS for name in model.model_fields})


class LoadedRegister:
    """A register with the file it came from and where each field is."""

    def __init__(self, register: Register, source: SourceMap) -> None:
        self.register = register
        self.source = source

    @property
    def file(self) -> str:
        return self.source.file


def load_register(path: str | Path, *, check_terms: bool = True) -> Register:
    """Load and validate a register file; raise :class:`InputError` listing every problem."""
    return read_register(Path(path), check_terms=check_terms).register


def read_register(path: Path, *, check_terms: bool = True) -> LoadedRegister:
    data, source = load_yaml(path)
    return _validate(data, source, check_terms)


def parse_register(text: str, name: str = "<register>", *, check_terms: bool = True) -> LoadedRegister:
    data, source = parse_yaml(text, name)
    return _validate(data, source, check_terms)


def _validate(data: Any, source: SourceMap, check_terms: bool) -> LoadedRegister:
    if not isinstance(data, dict):
        raise InputError([source.problem((), "a register is a mapping with `controller` and `activities`")])
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems_from(exc, source)) from None
    tracker_errors = tracker_problems(register.trackers, {a.id for a in register.activities})
    if tracker_errors:
        raise InputError([source.problem(path, message) for path, message in tracker_errors])
    loaded = LoadedRegister(register, source)
    if check_terms:
        problems = term_problems(loaded)
        if problems:
            raise InputError(problems)
    return loaded


def _problems_from(exc: ValidationError, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[FieldPath] = set()
    for error in exc.errors():
        # Union members ("str" / "dict[str,str]") add a type name to the location: drop it.
        path: FieldPath = tuple(p for p in error["loc"] if isinstance(p, int) or ("[" not in p
                                and p not in {"str", "function-before[_short_form(), dict[str,str]]"}))
        path = tuple(p for p in path if not (isinstance(p, str) and p.startswith(("function-", "dict["))))
        if any(path[:n] in seen for n in range(len(path) + 1)):
            continue  # one message per field: the enclosing field is already reported
        seen.add(path)
        located = error.get("ctx", {}).get("error")
        if isinstance(located, FieldValueError):  # a field below the one validated: point at it
            path = (*path, *located.path)
        message = error["msg"].removeprefix("Value error, ")
        suggestion = None
        if error["type"] == "extra_forbidden" and path and isinstance(path[-1], str):
            parent = _model_at(path[:-1])  # a field of the mapping it is in, else of any
            suggestion = closest(path[-1], sorted(parent.model_fields) if parent else _FIELD_NAMES)
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "literal_error":
            message = f"expected {error['ctx'].get('expected', 'a known value')}"
        elif error["type"] in {"string_type", "dict_type"} and "Text" in _annotation_at(path):
            message = "expected a text or a {fr:, en:, it:} map"
        elif error["type"] in {"model_type", "model_attributes_type", "dict_type"}:
            message = "expected a mapping of fields"
        elif error["type"] in {"bool_type", "bool_parsing"}:
            message = "expected true or false"
        elif error["type"] == "list_type":
            message = "expected a list"
        problems.append(source.problem(path, message, suggestion))
    return problems


def _model_at(path: FieldPath) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` (``Register`` at the top), or None."""
    model: type[BaseModel] | None = Register
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        inner = [a for a in getattr(field.annotation, "__args__", ()) if isinstance(a, type)]
        model = next((a for a in [field.annotation, *inner] if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
    return model


def _annotation_at(path: FieldPath) -> str:
    """The declared type of the field at ``path`` (as text), for friendlier messages."""
    model: Any = Register
    annotation = ""
    for part in path:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return annotation
        annotation = str(field.annotation)
        inner = [a for a in getattr(field.annotation, "__args__", ()) if isinstance(a, type)]
        model = next((a for a in [field.annotation, *inner] if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
    return annotation.replace("str | dict[str, str]", "Text")


def _term_uses(register: Register) -> Iterator[tuple[str, str, FieldPath]]:
    """Every vocabulary term the register uses: (kind, term, field path)."""
    yield from _statement_terms(register, ())
    for i, a in enumerate(register.activities):
        at: FieldPath = ("activities", i)
        for j, subject in enumerate(a.data_subjects):
            yield "subjects", subject, (*at, "data_subjects", j)
        for j, category in enumerate(a.data_categories):
            yield "categories", category, (*at, "data_categories", j)
        for j, basis in enumerate(a.legal_bases):
            yield "legal_bases", basis.basis, (*at, "legal_bases", j, "basis")
        if a.art9_condition:
            yield "art9_conditions", a.art9_condition, (*at, "art9_condition")
        yield from _statement_terms(a, at)
        for j, rule in enumerate(a.retention):
            if rule.rule is not None and not rule.rule.indefinite:
                yield "trigger_events", rule.rule.event, (*at, "retention", j, "rule")
            until = rule.archive.until if rule.archive is not None else None
            if until is not None and not until.indefinite:
                yield "trigger_events", until.event, (*at, "retention", j, "archive", "until")
            for k, category in enumerate(rule.categories):
                yield "categories", category, (*at, "retention", j, "categories", k)
        for j, channel in enumerate(a.channels):
            yield "channels", channel, (*at, "channels", j)
        if a.consent:
            for field in ("capture", "withdrawal"):
                for j, method in enumerate(getattr(a.consent, field)):
                    yield "consent_methods", method, (*at, "consent", field, j)
    for i, tracker in enumerate(register.trackers):
        if tracker.category:
            yield "channels", tracker.category, ("trackers", i, "category")


def free_terms(register: Register) -> list[tuple[str, FreeTerm, FieldPath]]:
    """The terms written in the register's own words (``{other: ...}``): (kind, term, field path)."""
    return [(kind, term, path) for kind, term, path in _term_uses(register) if isinstance(term, FreeTerm)]


def _statement_terms(owner: Register | Activity, at: FieldPath) -> Iterator[tuple[str, str, FieldPath]]:
    """The terms of the statements a register makes for every activity, or an activity for itself."""
    for j, recipient in enumerate(owner.recipients):
        yield "recipients", recipient.kind, (*at, "recipients", j, "kind")
    for j, transfer in enumerate(owner.transfers):
        if transfer.safeguard:
            yield "safeguards", transfer.safeguard, (*at, "transfers", j, "safeguard")
    for j, source_id in enumerate(owner.sources):
        yield "sources", source_id, (*at, "sources", j)


def term_problems(loaded: LoadedRegister, vocabulary: Vocabulary | None = None) -> list[Problem]:
    """Terms the vocabulary does not know, each with the closest known term.

    A term written as ``{other: ...}`` is not one: the register says it lacks a term on purpose.
    """
    vocabulary = vocabulary or load_vocabulary()
    problems = []
    for kind, term, path in _term_uses(loaded.register):
        if not isinstance(term, FreeTerm) and not vocabulary.has(kind, term):
            known = vocabulary.resolve(kind, term)
            suggestion = known.id if known else vocabulary.suggest(kind, term)
            problems.append(loaded.source.problem(path, f"unknown {TERM_NOUNS[kind]} {term!r}",
                                                  suggestion))
    return problems
