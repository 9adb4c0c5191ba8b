"""What a request runs over: the data map, its databases, their registers, the results folder."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pydantic_core
from sqlalchemy.engine import Engine

from garde.datasets import DataMap, TableMap, connect_datamap, load_datamap
from garde.private_files import private_folder
from garde.problems import GardeError
from garde.register import Activity, Register, load_register
from garde.settings import Settings, get_settings
from garde.taxonomy import Vocabulary, load_vocabulary

T = TypeVar("T")


@dataclass
class Deployment:
    """The databases a request is executed over, and the registers their activities belong to."""

    datamap: DataMap
    engines: dict[str, Engine]
    registers: dict[str, Register]
    results: Path
    vocabulary: Vocabulary = field(default_factory=load_vocabulary)
    # Where the file mailer leaves its messages: an erasure removes those sent to the subject.
    outbox: Path | None = None
    # Where audience exports are written (the exports setting): an erasure removes those naming them.
    exports: Path | None = None
    # What requests derive from the map and registers alone (activity texts, wordings,
    # nullability): computed once per deployment, not per request.
    memo: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)
    # Discovery reads each database's rows in one statement first (the discovery_read_ahead setting;
    # None: on PostgreSQL, not on SQLite, garde.datasets.discovery.reads_ahead).
    read_ahead: bool | None = None

    @classmethod
    def open(cls, datasets: Path | None = None, results: Path | None = None,
             urls: Mapping[str, str] | None = None, settings: Settings | None = None,
             outbox: Path | None = None, *, create: bool = False) -> Deployment:
        """Load the data map (default: the ``datasets`` setting) and connect to its databases
        (``create``: SQLite files may be created, for a generator to fill them).

        ``outbox`` defaults to the ``outbox`` setting when the file mailer is configured.
        """
        settings = settings or get_settings()
        loaded: dict[Path, Register] = {}  # the registers the map's files name, each read once
        datamap = load_datamap(datasets or settings.datasets, registers=loaded)
        if outbox is None and settings.mailer == "file":
            outbox = settings.outbox
        return cls(datamap, connect_datamap(datamap, urls, create=create), registers_of(datamap, loaded),
                   results or settings.results, outbox=outbox, exports=settings.exports,
                   read_ahead=settings.discovery_read_ahead)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *_: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, computed once per deployment and ``key``."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]  # type: ignore[no-any-return]

    def register(self, database: str) -> Register:
        return self.registers[database]

    @property
    def phone_region(self) -> str | None:
        """Where a telephone number given without its country code is read: the controller's country."""
        return phone_region(self.registers.values())

    def activity(self, database: str, activity_id: str) -> Activity | None:
        return self.registers[database].activity(activity_id)

    def folder(self, request_id: str) -> Path:
        """Where one request's result files go (created owner-only: they are the subject's data). A
        link planted there is refused (its files are also opened without following one:
        :mod:`garde.private_files`)."""
        folder = self.results / request_id
        if folder.is_symlink():
            raise GardeError(f"{folder} is a symbolic link: refused, not followed (answers are written "
                             "only into the results folder)")
        return private_folder(folder)

    def category_origin(self, category: str) -> str | None:
        """``provided``, ``observed`` or ``derived``: the category's, or its nearest parent's."""
        origin = self._nearest(category, "origin")
        return None if origin is None else str(origin)

    def is_secret(self, category: str) -> bool:
        """Whether ``category`` (or a parent) holds credentials (``secret: true`` in the vocabulary).

        Secrets never leave in an answer: access confirms they exist without showing them, and
        portability leaves them out; handing a password hash or a security answer to whoever
        holds the subject's mailbox would open the account to them (GDPR Art. 15(4), Art. 32).
        """
        return bool(self._nearest(category, "secret"))

    def secret_columns(self, table: TableMap) -> frozenset[str]:
        """The columns of ``table`` that hold secrets (found once per deployment and table: they depend
        on the data map and the vocabulary alone)."""
        return self.cached(("secret columns", table.database, table.name), lambda: frozenset(
            name for name, column in table.columns.items() if self.is_secret(column.category)))

    def _nearest(self, category: str, attribute: str) -> Any:
        """The vocabulary's ``attribute`` of ``category``, or of its nearest parent that has it."""
        for term_id in (category, *self.vocabulary.ancestors(category)):
            term = self.vocabulary.get("categories", term_id)
            if term is not None and attribute in term.extra:
                return term.extra[attribute]
        return None


def registers_of(datamap: DataMap, loaded: dict[Path, Register] | None = None) -> dict[str, Register]:
    """Each database's register (the ``register`` path of its dataset file), loaded once (``loaded``:
    those already read, by resolved path, e.g. by :func:`~garde.datasets.loading.load_datamap`)."""
    loaded = {} if loaded is None else loaded
    registers: dict[str, Register] = {}
    for name, dataset in datamap.datasets.items():
        if dataset.register is None:
            continue
        path = (Path(dataset.file).parent / dataset.register).resolve()
        if path not in loaded:
            loaded[path] = load_register(path)
        registers[name] = loaded[path]
    return registers


def phone_region(registers: Iterable[Register]) -> str | None:
    """The country of the controllers of ``registers`` when they share one, else None (a number without
    its country code is then not read as any country's)."""
    countries = {register.controller.country for register in registers}
    return countries.pop() if len(countries) == 1 else None


def configured_registers(settings: Settings | None = None) -> list[Register]:
    """The registers the configured data map names (no database is opened); none when the data map
    cannot be read (a store used without datasets)."""
    settings = settings or get_settings()
    try:
        loaded: dict[Path, Register] = {}
        return list(registers_of(load_datamap(settings.datasets, registers=loaded), loaded).values())
    except (GardeError, OSError):
        return []


def configured_phone_region(settings: Settings | None = None) -> str | None:
    """The phone region of the registers the configured data map names (see :func:`phone_region`)."""
    return phone_region(configured_registers(settings))


def plain(value: Any) -> Any:
    """A database value as JSON data: dates in ISO 8601, decimals as text, bytes in base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """JSON text; ``indent=None`` writes it on one line, with the C encoder (several times faster)."""
    # No check for circular references: the data is built by garde, plain dicts and lists (an access
    # answer shares each field between its category and its activities), and the check kept a
    # marker per container: ≈ 10 % of encoding an access answer.
    return json.dumps(data, ensure_ascii=False, indent=indent, default=plain, check_circular=False)


def compact(data: Any) -> bytes:
    """JSON in UTF-8 on one line, no space after ``,`` or ``:``: a machine file (an access answer).

    pydantic-core's encoder writes it ≈ 4× faster than ``json.dumps`` (a 33 kB answer ≈ 0.17 ms
    against 0.75, docs/performance.md "files29"), straight to bytes, and the same text as
    ``json.dumps(data, ensure_ascii=False, separators=(",", ":"))`` for garde's plain data (only a
    float's exponent differs: ``1e-7`` for ``1e-07``). :func:`plain` words what it does not know."""
    return pydantic_core.to_json(data, fallback=plain)


def pretty(data: Any) -> bytes | str:
    """:func:`dumps`'s text, indented by two spaces, in UTF-8: a file a person may read (an erasure's
    report), written twice an erasure.

    The same text as ``dumps(data)`` for garde's plain data (a float's exponent aside, as in
    :func:`compact`), from pydantic-core's encoder: json's own indents in Python, ≈ 1 ms of an
    erasure's report on the 1 M shop (docs/performance.md, "era30"). What it cannot encode (a lone
    surrogate of an undecodable key) is left to :func:`dumps` as it was."""
    try:
        return pydantic_core.to_json(data, indent=2, fallback=plain)
    except ValueError:  # pydantic-core's PydanticSerializationError
        return dumps(data)


def where(table: TableMap, column: str | None = None) -> str:
    """``shop.customers`` or ``shop.customers.email``."""
    return f"{table.database}.{table.name}" + (f".{column}" if column else "")
