"""Documents say nothing the register does not: every statement traces to a register field.

For every register in ``registers/`` (the seeds, the reference shop and the fixtures of issue 10), in
fr, en and it, the notice and the Art. 30 register are rendered as HTML and Markdown. Then, for each
kind of field the register populates (found by walking its normalised data, not from a hand list),
one field of that kind is removed and the documents rendered again:

- nothing new may appear except a visible gap: the words of every statement without a gap marker
  must already have been in the documents (as a multiset: a phrase that appears once more is new);
- the field's own text, where the documents printed it, is printed fewer times.

A register with only the controller's name and activities with an id and a name publishes a notice
whose every processing section is a gap, and whose statements are the law's (the catalogue in
``src/garde/documents/translations``), the names, or gaps.

Speed: one field per kind per register (the first in document order), with the documents built once
per language and rendered in both formats; every kind any register has is covered.
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import build_notice, build_register
from garde.documents.formats import REGISTER_WRITERS
from garde.documents.notice import write_notice
from garde.documents.wording import load_catalogue
from garde.register import load_register, parse_register
from garde.register.model import Register
from garde.taxonomy import LANGS, load_vocabulary

from .conftest import REGISTERS

TODAY = date(2026, 1, 2)
FORMATS = ("html", "md")
GAP = "\x00"
Path_ = tuple[str | int, ...]
Kind = tuple[str, ...]
Documents = dict[tuple[str, str, str], list[str]]  # (document, lang, format) -> its statements

# Fields that choose which law or which table applies rather than state a fact about processing:
# removing them changes the law-derived words (UK GDPR / GDPR, the authority) or moves an activity
# between the Art. 30(1) and 30(2) tables, which is not a statement appearing from nowhere.
STRUCTURAL: set[Kind] = {("language",), ("controller", "country"), ("controller", "role"),
                         ("activities", "[]", "role")}
# Fields that narrow where another field's statement applies: without `overrides`, the register-level
# recipients (say) apply to that activity as well, so the documents repeat a statement the register makes
# ("For every activity", "in addition") once more. Removing them may repeat the register's words, never
# bring words the documents did not have.
SCOPE: set[Kind] = {("activities", "[]", "overrides"), ("activities", "[]", "overrides", "[]")}
# Fields whose text the law also prints: the supervisory authority is the country's without them.
ALSO_FROM_LAW: set[Kind] = {("controller", "supervisory_authority")}
# Fields whose absence is a value garde enforces: a rule that names no action is swept by deletion
# (`garde retention sweep`), so "then deleted" states what the engine does with the register.
# A rule that names no categories covers every category of its activity ("All categories").
# A tracker the register does not state to be strictly necessary needs consent (ePrivacy Directive
# Art. 5(3): the exemption is the controller's to claim), and garde's banner asks for it.
DEFAULTED: set[Kind] = {("activities", "[]", "retention", "[]", "action"),
                        ("activities", "[]", "retention", "[]", "categories"),
                        ("activities", "[]", "retention", "[]", "categories", "[]"),
                        ("trackers", "[]", "strictly_necessary")}
# Fields a reader needs, and the documents that must print them (issue 10: the basis's own wording
# and condition, the data description, channels, how consent is given and withdrawn; Art. 13 and 30).
BOTH = frozenset({"notice", "art30"})
PUBLISHED: dict[Kind, frozenset[str]] = {
    ("activities", "[]", "legal_bases", "[]", "wording"): BOTH,
    ("activities", "[]", "legal_bases", "[]", "condition"): BOTH,
    ("activities", "[]", "legal_bases", "[]", "law"): BOTH,
    ("activities", "[]", "legal_bases", "[]", "legitimate_interest"): BOTH,
    ("activities", "[]", "data_description"): BOTH,
    ("activities", "[]", "art9_condition"): BOTH,
    ("activities", "[]", "channels", "[]"): BOTH,
    ("activities", "[]", "consent", "capture", "[]"): BOTH,
    ("activities", "[]", "consent", "withdrawal", "[]"): BOTH,
    ("activities", "[]", "consent", "expiry"): BOTH,
    ("activities", "[]", "purposes", "[]"): BOTH,
    ("activities", "[]", "recipients", "[]"): BOTH,
    ("activities", "[]", "transfers", "[]", "safeguard"): BOTH,
    ("activities", "[]", "retention", "[]"): BOTH,
    ("activities", "[]", "parental_consent"): frozenset({"notice"}),
    ("activities", "[]", "provision"): frozenset({"notice"}),
    ("activities", "[]", "automated_decisions"): frozenset({"notice"}),
    ("controller", "dpo"): BOTH,
    ("controller", "representative"): BOTH,
    ("rights", "route"): frozenset({"notice"}),
}


def register_files() -> list[Path]:
    return sorted(REGISTERS.glob("*.yaml"))


# ------------------------------------------------------------------------------ statements


def typography(text: str) -> str:
    """French typography undone: no-break spaces as spaces, the typographic apostrophe as ', so that a
    word is the same word in the catalogue, in Markdown and in typeset HTML."""
    return SPACES.sub(" ", text.replace("\u2019", "'"))


SPACES = re.compile(r"[ \t\u00a0\u202f\u2009]+")


def layout_texts(key: str) -> list[str]:
    """A layout text of the catalogue (``notice.layout.<key>``) in every language, typography undone."""
    return [typography(text) for text in load_catalogue()[f"notice.layout.{key}"].values()]


def layout(text: str) -> str:
    """The notice's own layout, which states nothing about processing, made visible as such: the draft
    banner (garde's wording, counted from the gaps) is a gap; untranslated markers and the content
    version (a hash of the rendered text) are dropped. The summary table stays: its statements repeat
    the details' (same words), so removing a field prints them less in both."""
    draft, untranslated, version = _layout_patterns()
    text = draft.sub(GAP, text)
    text = untranslated.sub("", text)
    return version.sub(r"\1", text)


@cache
def _layout_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """:func:`layout`'s patterns, built once from the catalogue (they were a third of the test's time)."""
    draft = "|".join(".+?".join(map(re.escape, re.split(r"\{\w+\}", t))) for t in layout_texts("draft"))
    untranslated = "|".join(re.escape(f" {t}") for t in layout_texts("untranslated"))
    versions = "|".join(map(re.escape, layout_texts("version")))
    version = re.compile(rf"({versions}) [0-9a-f]{{16}}\b")
    return re.compile(rf"(?:{draft})"), re.compile(untranslated), version


@lru_cache(maxsize=64)
def statements(text: str, fmt: str) -> list[str]:
    """The document as statements: paragraphs, list items, table cells' lines; gaps as ``GAP``.
    Cached (callers only read the list): a removal leaves most documents as they were."""
    if fmt == "html":
        text = re.sub(r"<style>.*?</style>", " ", text, flags=re.DOTALL)
        text = re.sub(r'<strong class="gap">.*?</strong>', GAP, text, flags=re.DOTALL)
        text = re.sub(r'<p class="draft"[^>]*>.*?</p>', GAP, text, flags=re.DOTALL)
        # A field's label and value (<dt>, <dd>) are one statement, as in Markdown.
        text = re.sub(r"</dt>\s*<dd>", ": ", text)
        text = re.sub(r"<br>|</(?:p|li|td|th|dd|h\d|title|tr)>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
        units = text.splitlines()
    else:
        text = re.sub(r"\*\*⚠[^*]*\*\*", GAP, text)
        units = []
        for line in text.splitlines():
            cells = re.split(r"(?<!\\)\|", line) if line.startswith("|") else [line]
            units += [part for cell in cells for part in cell.split("<br>")]
        units = [re.sub(r"\\(.)", r"\1", unit) for unit in units]
    return [statement for statement in map(_statement, units) if statement]


@lru_cache(maxsize=1 << 16)
def _statement(unit: str) -> str:
    """A unit of :func:`statements` as a statement, "" if it states nothing (a table's rule): the
    same units recur in each removal's documents, and :func:`layout`'s patterns are long."""
    unit = layout(typography(unit))
    return "" if re.fullmatch(r"[-|\s]+", unit) else unit.strip()


def words(units: list[str]) -> Counter[str]:
    return Counter(w for unit in units for w in re.findall(r"\w+", unit.lower()))


def documents(register: Register, html_in: tuple[str, ...] = LANGS) -> Documents:
    """The statements of the notice and the Art. 30 register in every language, as Markdown, and as
    HTML in the languages ``html_in``."""
    out: Documents = {}
    for lang in LANGS:
        notice, art30 = build_notice(register, lang, TODAY), build_register(register, lang, TODAY)
        for fmt in FORMATS if lang in html_in else ("md",):
            out["notice", lang, fmt] = statements(write_notice(notice, fmt), fmt)
            out["art30", lang, fmt] = statements(REGISTER_WRITERS[fmt](art30).decode("utf-8"), fmt)
    return out


# ------------------------------------------------------------------------------ fields


def is_text_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        re.fullmatch(r"[a-z]{2}", str(k)) and isinstance(v, str) for k, v in value.items())


def fields(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every removable field of the normalised register: dict keys and list items, depth first.
    A text in several languages is one field (removing one language shows another: no new fact)."""
    if is_text_map(data):
        return
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from fields(value, (*path, key))


def kind_of(path: Path_) -> Kind:
    return tuple("[]" if isinstance(step, int) else step for step in path)


def without(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return copied


def value_at(data: Any, path: Path_) -> Any:
    for step in path:
        data = data[step]
    return data


def texts_of(value: Any) -> list[str]:
    """The free texts a field holds (a string, each language of a text, a term in the register's own
    words ``{other: ...}``); not vocabulary ids."""
    if isinstance(value, dict) and set(value) == {"other"}:
        return texts_of(value["other"])
    if isinstance(value, str):
        return [] if re.fullmatch(r"[a-z0-9_.]+", value) else [value]
    if is_text_map(value):
        return list(value.values())
    return []


def other_texts(data: dict[str, Any], path: Path_) -> str:
    """Every free text of the register but those of ``path``: a text another field also holds
    (the rights route at the controller's address) is printed for that field too."""
    return "\n".join(text for other in fields(data) if other[:len(path)] != path
                     for text in texts_of(value_at(data, other)))


def sampled_fields(data: dict[str, Any], register: Register) -> dict[Kind, Path_]:
    """One field per kind: the first in document order (for the fields a reader needs, the first in
    an activity the notice explains, i.e. one carried out as controller). Whole activities are not
    fields."""
    chosen: dict[Kind, Path_] = {}
    for path in fields(data):
        kind = kind_of(path)
        if kind in {("activities",), ("activities", "[]"), ("controller",)}:
            continue
        if kind in PUBLISHED and kind[0] == "activities" and \
                register.role_of(register.activities[int(path[1])]) != "controller":
            continue
        chosen.setdefault(kind, path)
    return chosen


# ------------------------------------------------------------------------------ the checks


def new_statements(before: list[str], before_words: Counter[str], after: list[str],
                   repeats: bool = False) -> list[str]:
    """Statements without a gap whose words were not all in the document before (as a multiset; as a
    set when the removal may ``repeat`` the register's statements, see SCOPE)."""
    extra = words([u for u in after if GAP not in u]) - before_words
    if repeats:
        extra = Counter({word: count for word, count in extra.items() if word not in before_words})
    if not extra:
        return []
    known = set(before)
    return [u for u in after if GAP not in u and u not in known and set(words([u])) & set(extra)] or [
        f"the words {dict(extra)}"]


class Baseline:
    """A register's documents as they are, to compare each removal with."""

    def __init__(self, register: Register) -> None:
        self.data = register.to_data()
        self.documents = documents(register)
        self.words = {key: words(units) for key, units in self.documents.items()}
        self.joined = {key: "\n".join(units) for key, units in self.documents.items()}


def valid_without(data: dict[str, Any], path: Path_) -> Register | None:
    try:
        return Register.model_validate(without(data, path))
    except ValidationError:
        return None


def check_removal(baseline: Baseline, path: Path_, html_in: tuple[str, ...]) -> tuple[list[str], set[str]]:
    """The problems removing ``path`` shows, and which documents changed."""
    data = baseline.data
    register = valid_without(data, path)
    # A field that is all its parent holds ({other: ...}, {kind: {other: ...}}) goes with its parent
    # when an empty parent is not valid: a term in the register's own words is removed whole.
    while register is None and len(path) > 1 and len(value_at(data, path[:-1])) == 1:
        path = path[:-1]
        register = valid_without(data, path)
    if register is None:
        return [], set()  # a required field: the register is not valid without it
    kind, name = kind_of(path), ".".join(map(str, path))
    after = documents(register, html_in)
    elsewhere = other_texts(data, path)
    problems: list[str] = []
    changed: set[str] = set()
    for key, units in after.items():
        before = baseline.documents[key]
        if units != before:
            changed.add(key[0])
        if kind in STRUCTURAL | DEFAULTED:
            continue
        for unit in new_statements(before, baseline.words[key], units, repeats=kind in SCOPE):
            problems.append(f"{name} removed, {'/'.join(key)} states: {unit[:160]!r}")
        joined_before, joined_after = baseline.joined[key], "\n".join(units)
        for text in [*texts_of(value_at(data, path)), *labels_of(data, path, key[1])]:
            if kind in ALSO_FROM_LAW or len(text) < 4 or text not in joined_before or text in elsewhere:
                continue
            if joined_after.count(text) >= joined_before.count(text):
                problems.append(f"{name} removed, {'/'.join(key)} still prints {text!r}")
    return problems, changed


# The vocabulary a field's ids belong to, by the field's name.
TERM_FIELDS = {"data_categories": "categories", "data_subjects": "subjects", "kind": "recipients",
               "sources": "sources", "channels": "channels", "capture": "consent_methods",
               "withdrawal": "consent_methods", "basis": "legal_bases", "safeguard": "safeguards",
               "art9_condition": "art9_conditions"}


def labels_of(data: dict[str, Any], path: Path_, lang: str) -> list[str]:
    """The label a vocabulary id is printed as in ``lang``, unless another field holds the same id
    (another activity's, say) or a finer one beside it (``identity`` beside ``identity.name`` is
    printed as their group's heading)."""
    value, field = value_at(data, path), next((s for s in reversed(path) if isinstance(s, str)), "")
    term = load_vocabulary().get(TERM_FIELDS[field], value) if field in TERM_FIELDS and \
        isinstance(value, str) else None
    if term is None:
        return []
    same = [p for p in fields(data)
            if p != path and kind_of(p) == kind_of(path) and value_at(data, p) == value]
    siblings = value_at(data, path[:-1]) if isinstance(path[-1], int) else []
    if same or any(isinstance(s, str) and s.startswith(f"{value}.") for s in siblings):
        return []
    return [term.labels.get(lang) or term.labels.get("en") or value]


@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_every_statement_of_the_documents_traces_to_a_field(path: Path) -> None:
    """Each field removed: nothing new but gaps, and its text printed less. The fields a reader needs
    (PUBLISHED) must change both the notice and the Art. 30 register. Markdown in every language;
    HTML in one language per field, in turn."""
    register = load_register(path)
    baseline = Baseline(register)
    problems: list[str] = []
    for index, (kind, field_path) in enumerate(sorted(sampled_fields(baseline.data, register).items())):
        found, changed = check_removal(baseline, field_path, (LANGS[index % len(LANGS)],))
        problems += found
        problems += [f"{'.'.join(map(str, field_path))} is not printed by the {document}"
                     for document in sorted(PUBLISHED.get(kind, ())) if document not in changed]
    assert not problems, "\n".join(problems[:40])


def test_every_field_kind_a_reader_needs_is_in_some_register() -> None:
    """The registers together populate the fields a document must print (so the removal test sees
    each at least once); this guards against a register set that no longer exercises a field."""
    kinds: set[Kind] = set()
    for path in register_files():
        register = load_register(path)
        kinds |= set(sampled_fields(register.to_data(), register))
    assert set(PUBLISHED) <= kinds
    assert {("activities", "[]", "on_behalf_of", "[]"), ("controller", "registrations", "[]"),
            ("controller", "uk_representative"), ("rights", "answer_time")} <= kinds


@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_every_register_round_trips_through_register_show_json(path: Path) -> None:
    """What `garde register show --format json` prints loads back as the same register (so it
    publishes the same documents): the fixtures' promise, and the seeds'."""
    result = CliRunner().invoke(app, ["register", "show", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    register = load_register(path)
    again = parse_register(result.stdout, f"{path.stem}.json").register
    assert again == register
    assert json.loads(result.stdout) == register.to_data() == again.to_data()


# Fields of the register model that no register of the repository populates, and why.
NOT_IN_ANY_REGISTER = {
    ("Controller", "role"): "every register here is a controller's, some with processor activities",
}


def model_fields(model: type[BaseModel]) -> set[tuple[str, str]]:
    """``(class, field)`` of ``model`` and of every model its fields hold."""
    found: set[tuple[str, str]] = set()
    todo, seen = [model], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, info in current.model_fields.items():
            found.add((current.__name__, name))
            todo += [t for t in _types_in(info.annotation)
                     if isinstance(t, type) and issubclass(t, BaseModel)]
    return found


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for argument in get_args(annotation):
        yield from _types_in(argument)


def populated(value: Any) -> set[tuple[str, str]]:
    """``(class, field)`` of every field the register states."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, BaseModel):
        for name in value.model_fields_set:
            found.add((type(value).__name__, name))
            found |= populated(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            found |= populated(item)
    return found


def test_every_field_of_the_model_is_populated_by_some_register() -> None:
    """So that the removal test checks every field: a new field of the register model is encoded in
    at least one register of the repository (a fixture if no seed says it), or listed here with why."""
    stated = set().union(*(populated(load_register(path)) for path in register_files()))
    missing = model_fields(Register) - stated - set(NOT_IN_ANY_REGISTER)
    assert not missing, f"no register in registers/ populates {sorted(missing)}"


# ------------------------------------------------------------------------------ a minimal register

MINIMAL = {"controller": {"name": "Atelier Minimal"},
           "activities": [{"id": "first", "name": "Première activité"},
                          {"id": "second", "name": "Second one"}]}
PROCESSING_SECTIONS = {"purposes", "recipients", "transfers", "retention", "automated"}


# The catalogue's texts that come from the law, not from a register field: titles, labels, the rights
# every subject has whatever the register says (Arts. 15-18), the one-month answer (12(3)), the
# complaint (13(2)(d)). Texts such as "no transfer", "not required" or "portability" state a fact
# about the processing and must not appear for a register that says nothing.
LAW_TEXTS = ("notice.title", "notice.intro", "notice.article", "notice.section.", "notice.label.",
             "notice.text.rights_intro", "notice.text.right_access", "notice.text.right_rectification",
             "notice.text.right_erasure", "notice.text.right_restriction", "notice.text.exercise",
             "notice.text.deadline", "notice.text.complaint", "notice.text.automated",
             "common.word.generated", "common.word.label_separator", "common.word.dash",
             # The layout's titles and labels (issue 11): the summary table's headers, the contents.
             "notice.layout.summary", "notice.layout.activity", "notice.layout.purpose",
             "notice.layout.legal_basis", "notice.layout.retention", "notice.layout.contents",
             "notice.layout.version", "notice.layout.updated")


def catalogue_pattern(lang: str) -> re.Pattern[str]:
    """Any law text of the catalogue in ``lang``, placeholders matching anything."""
    alternatives = []
    for key, texts in load_catalogue().items():
        key = key.removeprefix("uk_gdpr.")
        if not any(key == law or (law.endswith(".") and key.startswith(law)) for law in LAW_TEXTS):
            continue
        text = typography(texts.get(lang) or texts["en"])
        pieces = re.split(r"\{\w+\}", text)
        if sum(len(p.strip()) for p in pieces) >= 3:
            pattern = ".+?".join(map(re.escape, pieces))
            # A closing placeholder is an article, a date or a period, not any text.
            alternatives.append(pattern + r"[\w().,\s-]+" if text.endswith("}") else pattern)
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)))


@pytest.mark.parametrize("lang", LANGS)
def test_a_minimal_register_publishes_a_notice_of_gaps_and_law(lang: str) -> None:
    register = Register.model_validate(MINIMAL)
    notice = build_notice(register, lang, TODAY)
    for section in notice.sections:
        if section.key not in PROCESSING_SECTIONS:
            continue
        # Per activity (the paragraphs introduce a section in the law's words: checked below).
        lines = [*section.items, *(line for entry in section.entries
                                   for _, value in entry.fields for line in value.lines)]
        if not section.items and not section.entries:
            lines = section.paragraphs
        assert lines and all(any(piece.gap for piece in line) for line in lines), section.key
    assert {s.key for s in notice.sections} >= PROCESSING_SECTIONS
    law = catalogue_pattern(lang)
    names = re.compile("|".join(re.escape(n) for n in ("Atelier Minimal", "Première activité", "Second one",
                                                        "garde")))
    for fmt in FORMATS:
        for unit in statements(write_notice(notice, fmt), fmt):
            if GAP in unit:
                continue
            rest = names.sub(" ", law.sub(" ", unit))
            assert not re.search(r"[^\W_]", rest), f"{fmt}: {unit!r} states {rest.strip()!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_a_minimal_register_publishes_an_art30_register_of_gaps(lang: str) -> None:
    """Beyond the activity's reference, name and controller, each cell is empty or a gap: no
    "None" for special categories the register never listed, no "no transfer"."""
    document = build_register(Register.model_validate(MINIMAL), lang, TODAY)
    for sheet in document.sheets:
        for row in sheet.rows:
            stated = {key: value.plain() for key, value in row.items()
                      if key not in {"ref", "name", "controller"} and value.lines and not value.gaps}
            assert not stated, stated
