"""Reading dataset files: every problem names the file, the line and the field.

One YAML file per database (format in ``docs/datasets.md``). Besides the
shape of the file, the loader checks the annotations against the vocabulary
(subjects, categories, trigger events) and against the register the file
names (activities, and that each activity declares the column's category
and the table's subject), that references point at known tables and
columns, and that every table of personal data can be reached from an
identity, since otherwise a request could never find it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from garde.datasets.archive import ARCHIVE_FIELDS, ArchiveMap, archive_table
from garde.datasets.model import (
    ON_ERASE,
    STRATEGIES,
    ColumnMap,
    DataMap,
    Dataset,
    Masking,
    Reference,
    TableMap,
    default_on_erase,
)
from garde.problems import InputError, Problem, closest
from garde.register import Register, load_register
from garde.taxonomy import Vocabulary, load_vocabulary
from garde.yamlsource import FieldPath, SourceMap, load_yaml, parse_yaml

DATASET_FIELDS = ("database", "description", "url", "url_env", "register", "tables")
TABLE_FIELDS = ("description", "label", "subject", "primary_key", "identifiable", "authoritative",
                "identities", "owner", "references", "timestamps", "columns", "archive")
IDENTITY_FIELDS = ("column", "authoritative")
REFERENCE_FIELDS = ("to", "claim", "on_erase")
COLUMN_FIELDS = ("category", "activities", "erase", "description", "label")
MASKING_FIELDS = ("strategy", "value", "keep", "generalise")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_datamap(path: str | Path, *, vocabulary: Vocabulary | None = None,
                 registers: dict[Path, Register] | None = None) -> DataMap:
    """Load one dataset file, or every ``*.yaml``/``*.yml`` of a folder, into a :class:`DataMap`.

    Each register the files name is loaded once (datasets usually share one); ``registers``, if given,
    is filled with them by resolved path, for a caller that needs them next
    (:func:`garde.rights.deployment.registers_of`). Raises :class:`InputError` listing every problem
    of every file.
    """
    registers = {} if registers is None else registers
    path = Path(path)
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    if not files:
        raise InputError([Problem(str(path), None, "", "no dataset files (*.yaml) in this folder")])
    datasets: dict[str, Dataset] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            dataset = load_dataset(file, vocabulary=vocabulary, registers=registers)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if dataset.database in datasets:
            problems.append(Problem(str(file), 1, "database", f"database {dataset.database!r} is already "
                                    f"declared in {datasets[dataset.database].file}"))
            continue
        datasets[dataset.database] = dataset
    if problems:
        raise InputError(problems)
    return DataMap(datasets)


def discovery_warnings(datamap: DataMap) -> list[str]:
    """What the map lets discovery do that is legal but probably not meant (shown, never an error)."""
    out: list[str] = []
    if datamap.identity_kinds() and not datamap.authoritative_tables():
        out.append("no table is authoritative: discovery will find only the rows holding the identities a "
                   "requester gives (and the rows under them), never cross to other tables through the "
                   "identities it meets; mark the system of record with `authoritative: true` "
                   "(docs/datasets.md)")
    for table in datamap:
        if len(table.identities) >= 2 and table.owner is None and table.archive_of is None:
            out.append(f"{table.ref} holds {len(table.identities)} identities "
                       f"({', '.join(sorted(table.identities))}) and names no `owner`: a request proving one "
                       "of them erases or rectifies the whole row, even one someone else's other identity "
                       "says is theirs; name the identity whose holder the row is about "
                       "(docs/datasets.md, \"Whose row it is\")")
    return out


def load_dataset(path: str | Path, *, vocabulary: Vocabulary | None = None,
                 registers: dict[Path, Register] | None = None) -> Dataset:
    """One dataset file; its register is taken from ``registers`` (by resolved path) if there, else
    loaded and added to it."""
    data, source = load_yaml(Path(path))
    return _Reader(source, Path(path).parent, vocabulary or load_vocabulary(), registers).dataset(data)


def parse_dataset(text: str, name: str = "<dataset>", *, base: Path = Path("."),
                  vocabulary: Vocabulary | None = None) -> Dataset:
    """Like :func:`load_dataset` from text; ``register`` paths are relative to ``base``."""
    data, source = parse_yaml(text, name)
    return _Reader(source, base, vocabulary or load_vocabulary()).dataset(data)


class _Reader:
    """Builds a :class:`Dataset` from plain data, collecting problems instead of stopping."""

    def __init__(self, source: SourceMap, base: Path, vocabulary: Vocabulary,
                 registers: dict[Path, Register] | None = None) -> None:
        self.source = source
        self.base = base
        self.vocabulary = vocabulary
        self.problems: list[Problem] = []
        self.register: Register | None = None
        self.registers = {} if registers is None else registers  # loaded ones, by resolved path

    def fail(self, path: FieldPath, message: str, suggestion: str | None = None) -> None:
        self.problems.append(self.source.problem(path, message, suggestion))

    def mapping(self, value: Any, path: FieldPath, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, "expected a mapping")
            return {}
        if fields is not None:
            for key in value:
                if key not in fields:
                    self.fail((*path, key), "unknown field", closest(str(key), fields))
        return value

    def text(self, value: Any, path: FieldPath, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.fail(path, "required field is missing")
            return None
        if not isinstance(value, str) or not value:
            self.fail(path, "expected a text")
            return None
        return value

    def name(self, value: Any, path: FieldPath) -> str | None:
        text = self.text(value, path, required=True)
        if text is not None and not _NAME.match(text):
            self.fail(path, f"{text!r} is not a column name")
            return None
        return text

    def term(self, kind: str, value: str, path: FieldPath, noun: str) -> None:
        if not self.vocabulary.has(kind, value):
            known = self.vocabulary.resolve(kind, value)
            suggestion = known.id if known else self.vocabulary.suggest(kind, value)
            self.fail(path, f"unknown {noun} {value!r}", suggestion)

    # -- the file ---------------------------------------------------------------------------------------

    def dataset(self, data: Any) -> Dataset:
        if not isinstance(data, dict):
            raise InputError([self.source.problem((), "a dataset file is a mapping with `database` and "
                                                  "`tables`")])
        self.mapping(data, (), DATASET_FIELDS)
        database = self.name(data.get("database"), ("database",)) or "?"
        url = self.text(data.get("url"), ("url",))
        url_env = self.text(data.get("url_env"), ("url_env",))
        if url is None and url_env is None:
            self.fail(("database",), "give `url` or `url_env` (the variable holding the URL)")
        register_path = self.text(data.get("register"), ("register",), required=True)
        if register_path is not None:
            self.register = self.load_register(register_path)
        tables: dict[str, TableMap] = {}
        for name, raw in self.mapping(data.get("tables"), ("tables",)).items():
            table = self.table(database, str(name), raw, ("tables", name))
            if table is not None:
                tables[table.name] = table
        if "tables" not in data:
            self.fail(("tables",), "required field is missing")
        self.check_references(tables)
        self.check_cascade_cycles(tables)
        self.check_paths(tables)
        self.add_archives(tables)
        if self.problems:
            raise InputError(self.problems)
        description = self.text(data.get("description"), ("description",))
        return Dataset(database=database, tables=tables, url=url, url_env=url_env, register=register_path,
                       file=self.source.file, description=description)

    def load_register(self, relative: str) -> Register | None:
        resolved = (self.base / relative).resolve()
        try:
            if resolved not in self.registers:
                self.registers[resolved] = load_register(self.base / relative)
            return self.registers[resolved]
        except InputError as exc:
            self.fail(("register",), f"register {relative!r} cannot be used: {exc.problems[0]}")
            return None

    # -- tables and columns -----------------------------------------------------------------------------

    def table(self, database: str, name: str, raw: Any, at: FieldPath) -> TableMap | None:
        if not _NAME.match(name):
            self.fail(at, f"{name!r} is not a table name")
        raw = self.mapping(raw, at, TABLE_FIELDS)
        subject = self.text(raw.get("subject"), (*at, "subject"))
        if subject is not None:
            self.term("subjects", subject, (*at, "subject"), "data-subject kind")
        primary_key = self.name(raw.get("primary_key"), (*at, "primary_key"))
        identifiable = self.flag(raw, "identifiable", at, True)
        identities, authoritative = self.identities(raw, at)
        owner = self.owner(raw.get("owner"), identities, (*at, "owner"))
        timestamps = self.columns_by_key(raw.get("timestamps"), (*at, "timestamps"))
        for event in timestamps:
            self.term("trigger_events", event, (*at, "timestamps", event), "trigger event")
        references: dict[str, Reference] = {}
        for column, spec in self.mapping(raw.get("references"), (*at, "references")).items():
            reference = self.reference(name, str(column), spec, (*at, "references", column))
            if reference is not None:
                references[reference.column] = reference
        columns: dict[str, ColumnMap] = {}
        for column, spec in self.mapping(raw.get("columns"), (*at, "columns")).items():
            column_map = self.column(str(column), spec, (*at, "columns", column), subject)
            if column_map is not None:
                columns[column_map.name] = column_map
        archive = self.archive(raw.get("archive"), (*at, "archive"))
        if primary_key is None:
            return None
        return TableMap(archive=archive, database=database, name=name, primary_key=primary_key,
                        subject=subject,
                        identities=identities, authoritative=authoritative, owner=owner,
                        references=references, timestamps=timestamps, columns=columns,
                        identifiable=identifiable, description=self.text(raw.get("description"),
                                                                         (*at, "description")),
                        label=self.label(raw.get("label"), (*at, "label")))

    def flag(self, raw: dict[str, Any], key: str, at: FieldPath, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.fail((*at, key), "expected true or false")
            return default
        return value

    def identities(self, raw: dict[str, Any], at: FieldPath) -> tuple[dict[str, str], frozenset[str]]:
        """``identities`` (kind -> column, or kind -> ``{column, authoritative}``) and the
        authoritative kinds: the table's ``authoritative`` unless an identity says otherwise."""
        table_wide = self.flag(raw, "authoritative", at, False)
        identities: dict[str, str] = {}
        authoritative: set[str] = set()
        for kind, spec in self.mapping(raw.get("identities"), (*at, "identities")).items():
            path = (*at, "identities", kind)
            checked = table_wide
            if isinstance(spec, dict):
                spec = self.mapping(spec, path, IDENTITY_FIELDS)
                checked = self.flag(spec, "authoritative", path, table_wide)
                column = self.name(spec.get("column"), (*path, "column"))
            else:
                column = self.name(spec, path)
            if column is not None:
                identities[str(kind)] = column
                if checked:
                    authoritative.add(str(kind))
        if table_wide and not identities:
            self.fail((*at, "authoritative"), "the table declares no `identities`: `authoritative` says "
                      "which identities the business has checked")
        return identities, frozenset(authoritative)

    def owner(self, value: Any, identities: dict[str, str], at: FieldPath) -> str | None:
        """``owner``: one identity kind of the table (a scalar, so one a table), whose holder the rows are
        about (docs/datasets.md, "Whose row it is")."""
        if value is None:
            return None
        if not isinstance(value, str) or value not in identities:
            kinds = ", ".join(sorted(identities)) or "none declared"
            self.fail(at, f"`owner` names one identity kind of this table (its identities: {kinds})",
                      closest(str(value), tuple(identities)))
            return None
        return value

    def reference(self, table: str, column: str, spec: Any, at: FieldPath) -> Reference | None:
        """``column: table.column``, or ``column: {to: table.column, claim: true|false,
        on_erase: cascade|nullify}``."""
        if not _NAME.match(column):
            self.fail(at, f"{column!r} is not a column name")
            return None
        spec = self.mapping(spec, at, REFERENCE_FIELDS) if isinstance(spec, dict) else {"to": spec}
        where = (*at, "to") if "to" in spec else at
        target = self.text(spec.get("to"), where, required=True)
        claim = self.flag(spec, "claim", at, True) if "claim" in spec else None
        if target is None:
            return None
        if target.count(".") != 1:
            self.fail(where, f"expected `table.column`, not {target!r}")
            return None
        table_name, target_column = target.split(".")
        on_erase = spec.get("on_erase", default_on_erase(table, table_name))
        if on_erase not in ON_ERASE:
            self.fail((*at, "on_erase"), f"expected one of {', '.join(ON_ERASE)}, not {on_erase!r}",
                      closest(str(on_erase), ON_ERASE))
            return None
        # The default claim (a claim unless it names the target's primary key) is settled by
        # check_references, once every table is read.
        return Reference(column, table_name, target_column, on_erase, claim=bool(claim),
                         declared=claim is not None)

    def label(self, value: Any, path: FieldPath) -> dict[str, str]:
        """A label is a text (English) or a ``{fr:, en:, it:}`` map."""
        if value is None:
            return {}
        if isinstance(value, str) and value:
            return {"en": value}
        if isinstance(value, dict) and value and all(isinstance(v, str) and v for v in value.values()):
            return {str(k): v for k, v in value.items()}
        self.fail(path, "expected a text or a {fr:, en:, it:} map")
        return {}

    def columns_by_key(self, value: Any, at: FieldPath) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, column in self.mapping(value, at).items():
            name = self.name(column, (*at, key))
            if name is not None:
                out[str(key)] = name
        return out

    def column(self, name: str, spec: Any, at: FieldPath, subject: str | None) -> ColumnMap | None:
        if isinstance(spec, str):  # short form: `email: contact.email`
            spec = {"category": spec}
        spec = self.mapping(spec, at, COLUMN_FIELDS)
        category = self.text(spec.get("category"), (*at, "category"), required=True)
        if category is not None:
            self.term("categories", category, (*at, "category"), "data category")
        activities_raw = spec.get("activities", [])
        if isinstance(activities_raw, str):
            activities_raw = [activities_raw]
        if not isinstance(activities_raw, list):
            self.fail((*at, "activities"), "expected a list of activity ids")
            activities_raw = []
        activities = []
        for i, activity_id in enumerate(activities_raw):
            if (activity_id := self.text(activity_id, (*at, "activities", i))) is None:
                continue
            activities.append(activity_id)
            self.check_activity(activity_id, category, subject, (*at, "activities", i))
        erase = self.masking(spec.get("erase", "delete"), (*at, "erase"))
        if category is None:
            return None
        return ColumnMap(name=name, category=category, activities=tuple(activities), erase=erase,
                         description=self.text(spec.get("description"), (*at, "description")),
                         label=self.label(spec.get("label"), (*at, "label")))

    def check_activity(self, activity_id: str, category: str | None, subject: str | None,
                       at: FieldPath) -> None:
        if self.register is None:
            return
        activity = self.register.activity(activity_id)
        if activity is None:
            known = [a.id for a in self.register.activities]
            self.fail(at, f"unknown activity {activity_id!r} (not in the register)",
                      closest(activity_id, known))
            return
        if category is not None and self.vocabulary.has("categories", category) and not any(
            self.vocabulary.covers(declared, category) for declared in activity.data_categories
        ):
            self.fail(at, f"activity {activity_id!r} does not declare data category {category!r} "
                      f"(it declares: {', '.join(activity.data_categories) or 'none'})")
        if subject is not None and activity.data_subjects and subject not in activity.data_subjects:
            self.fail(at, f"activity {activity_id!r} does not declare data subject {subject!r} "
                      f"(it declares: {', '.join(activity.data_subjects)})")

    def masking(self, value: Any, at: FieldPath) -> Masking:
        if value is None:  # `erase: null` is YAML's null: the `null` strategy
            value = "null"
        short = not isinstance(value, dict)
        spec = self.mapping({"strategy": value} if isinstance(value, str) else value, at, MASKING_FIELDS)
        strategy = spec.get("strategy", "delete")
        if strategy not in STRATEGIES:
            self.fail(at if short else (*at, "strategy"),
                      f"unknown erase strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}",
                      closest(str(strategy), STRATEGIES))
            return Masking()
        if strategy == "fixed" and "value" not in spec:
            self.fail(at, "erase strategy `fixed` needs a `value`")
        keep = spec.get("keep")
        if keep is not None and (not isinstance(keep, int) or keep < 1):
            self.fail((*at, "keep"), "expected a positive number of characters")
            keep = None
        generalise = spec.get("generalise")
        if generalise not in (None, "year", "month"):
            self.fail((*at, "generalise"), "expected `year` or `month`")
            generalise = None
        return Masking(strategy=strategy, value=spec.get("value"), keep=keep, generalise=generalise)

    def archive(self, value: Any, at: FieldPath) -> ArchiveMap | None:
        """``archive: <table>`` or ``archive: {table:, archived_at:, description:}``."""
        if value is None:
            return None
        spec = self.mapping({"table": value} if isinstance(value, str) else value, at, ARCHIVE_FIELDS)
        where = (*at, "table") if isinstance(value, dict) else at
        table = self.name(spec.get("table"), where)
        archived_at = self.name(spec.get("archived_at", "archived_at"), (*at, "archived_at"))
        if table is None or archived_at is None:
            return None
        return ArchiveMap(table, archived_at, self.text(spec.get("description"), (*at, "description")))

    # -- the whole file ---------------------------------------------------------------------------------

    def add_archives(self, tables: dict[str, TableMap]) -> None:
        """Each declared archive as a table of its own (:func:`archive_table`), after its live table."""
        for name, table in list(tables.items()):
            if table.archive is None:
                continue
            at: FieldPath = ("tables", name, "archive")
            if table.archive.table in tables:
                self.fail(at, f"{table.archive.table!r} is already a table of the map: an archive table is "
                          "declared only by its live table's `archive`, and holds only its rows")
            elif table.archive.archived_at in table.known_columns():
                self.fail(at, f"{table.archive.archived_at!r} is a column of {name}: the archive's "
                          "`archived_at` is a column of the archive table only")
            elif not table.personal:
                self.fail(at, f"{name} holds no personal data: there is nothing for retention to archive")
            else:
                tables[table.archive.table] = archive_table(table, table.archive)

    # -- the whole file, checks -------------------------------------------------------------------------

    def check_references(self, tables: dict[str, TableMap]) -> None:
        """Targets exist; a reference not declaring ``claim`` is a claim unless it names the target's
        primary key (a key the database assigns is written by software; any other column, an order
        number or an e-mail, is something a person can type)."""
        for table in tables.values():
            for column, reference in table.references.items():
                at: FieldPath = ("tables", table.name, "references", column)
                target = tables.get(reference.target)
                if target is None:
                    self.fail(at, f"unknown table {reference.target!r}", closest(reference.target, tables))
                elif reference.target_column not in target.known_columns():
                    self.fail(at, f"table {reference.target!r} has no annotated column "
                              f"{reference.target_column!r}",
                              closest(reference.target_column, target.known_columns()))
                elif not reference.declared:
                    table.references[column] = replace(
                        reference, claim=reference.target_column != target.primary_key)

    def check_cascade_cycles(self, tables: dict[str, TableMap]) -> None:
        """A cycle of ``cascade`` references would make discovery and erasure go round it.

        ``customers.referrer_id -> customers.id`` declared ``cascade`` says a
        referrer is the same person as the customer they referred: erasing one
        customer would erase the whole chain of referrals. One reference of
        the cycle must say ``on_erase: nullify``.
        """
        edges = {name: sorted({r.target for r in t.references.values() if r.cascades and r.target in tables})
                 for name, t in tables.items()}
        reported: set[frozenset[str]] = set()
        for start in sorted(edges):
            stack: list[tuple[str, list[str]]] = [(start, [start])]
            while stack:
                name, path = stack.pop()
                for target in edges[name]:
                    if target == start:
                        members = frozenset(path)
                        if members not in reported:
                            reported.add(members)
                            cycle = " -> ".join([*path, start])
                            following = path[1] if len(path) > 1 else start
                            column = next(c for c, r in tables[start].references.items()
                                          if r.cascades and r.target == following)
                            self.fail(("tables", start, "references", column),
                                      f"the references {cycle} form a cycle that cascades: erasing one "
                                      "row would erase every row round it; declare `on_erase: nullify` "
                                      "on the reference that points at another person")
                    elif target not in path and target > start:
                        stack.append((target, [*path, target]))

    def check_paths(self, tables: dict[str, TableMap]) -> None:
        """Every identifiable table of personal data reaches an identity through references."""
        neighbours: dict[str, set[str]] = {name: set() for name in tables}
        for table in tables.values():
            for reference in table.references.values():
                if reference.target in tables and reference.cascades:
                    neighbours[table.name].add(reference.target)
                    neighbours[reference.target].add(table.name)
        reached = {name for name, t in tables.items() if t.identities}
        frontier = list(reached)
        while frontier:
            for other in neighbours[frontier.pop()]:
                if other not in reached and tables[other].subject is not None:
                    reached.add(other)
                    frontier.append(other)
        for name, table in tables.items():
            if (table.columns or table.identities) and table.subject is None:
                self.fail(("tables", name, "subject"), "a table holding personal data needs a `subject`")
            elif table.personal and table.identifiable and name not in reached:
                self.fail(("tables", name), "holds personal data but no identity or chain of references "
                          "leads to it: declare `identities`, a reference, or `identifiable: false` "
                          "(GDPR Art. 11)")
