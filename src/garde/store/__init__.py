"""The engine's own store: SQLAlchemy 2 Core, SQLite by default, PostgreSQL by URL.

Each concept module declares its tables on :data:`metadata` (``garde.audit``,
``garde.subjects``, ...); the schema itself is built only by the Alembic
migrations in ``store/migrations/versions`` — one chain from the first table.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.private_files import create_private
from garde.problems import GardeError
from garde.store.commits import CountedConnection
from garde.store.liveness import ping_when_quiet

T = TypeVar("T")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MIGRATIONS = Path(__file__).parent / "migrations"


BUSY_TIMEOUT_MS = 30_000  # how long a SQLite statement waits for another connection's lock


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # What a statement deletes or overwrites is overwritten with zeros in the file, not left in free
    # space where anyone with a copy of the file reads it back (an erased subject's rows, GDPR
    # Art. 17(1); a closed request's raw identities, Art. 5(1)(c)).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def empty_journal(engine: Engine) -> bool:
    """On a SQLite file, copy its write-ahead log into the database and truncate the log: the log
    still holds the pages as they were before an erasure (the subject's rows, whole) until SQLite
    happens to reuse it. False when a reader kept it from being emptied (said in the log); nothing
    to do elsewhere (PostgreSQL: VACUUM reclaims what its rows held, docs/security.md)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return True
    with engine.connect() as conn:
        # A reader on an older snapshot makes the checkpoint wait: 2 s at most, not the 30 s a write
        # waits, since the erasure is already committed and its caller waits for this.
        conn.exec_driver_sql("PRAGMA busy_timeout=2000")
        try:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if busy:
        logging.getLogger(__name__).warning("%s: a reader kept the write-ahead log from being emptied after "
                                            "an erasure; it is emptied at a later erasure or checkpoint",
                                            safe_url(engine.url))
    return not busy


def safe_url(url: str | sa.URL) -> str:
    """``url`` as errors may print it: without its password."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def connect(url: str, *, create: bool = False, **pool: int) -> Engine:
    """An engine for ``url``; SQLite files get WAL and foreign keys.

    A new SQLite file and the folders made for it are owner-only (``0600``, ``0700``).

    A SQLite file is created (with its folder) only when ``create`` is set:
    the engine's own store and the shop that ``garde shop generate`` fills.
    A data-map URL naming a missing file is a mistake (a typo, a database
    not mounted) that must not answer "no data" to an access request from a
    new, empty file: such a file is refused, and opened read-write only if
    it exists (``mode=rw``), so SQLite itself never creates it.
    ``pool``: the pool's size (``pool_size``, ``max_overflow``) where the default (5 and 10
    more) does not fit, e.g. the API's decision threads, which hold two connections each.
    Raises :class:`GardeError` for a URL that is not one or names a driver
    that is not installed.
    """
    try:
        parsed = sa.make_url(url)
        backend = parsed.get_backend_name()
        parsed.get_dialect()
    except sa.exc.ArgumentError:
        raise GardeError(f"{url!r} is not a database URL (expected e.g. sqlite:///path/to/file.db or "
                         "postgresql+psycopg://user@host/database)") from None
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise GardeError(f"{safe_url(parsed)}: no database driver for {parsed.drivername!r} ({exc}); "
                         "garde speaks sqlite:// and postgresql+psycopg://") from None
    try:
        if backend == "sqlite":
            return _connect_sqlite(parsed, create, pool)
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        # LIFO: the connection used last is used next, so a few connections serve a run of requests
        # and keep what psycopg prepared on them (a statement is prepared on its fifth use on a
        # connection); first in, first out spread the statements over every pooled connection.
        # Pinged before use only when it may be dead (idle a while, or the server wrote to it): a
        # connection just returned to the pool is handed out without a round trip (store/liveness.py).
        return ping_when_quiet(sa.create_engine(parsed, pool_pre_ping=True, pool_use_lifo=True,
                                                connect_args=connect_args, hide_parameters=True, **pool))
    except ImportError as exc:
        raise GardeError(f"{safe_url(parsed)}: no database driver for {parsed.drivername!r} ({exc}); "
                         "garde speaks sqlite:// and postgresql+psycopg://") from None


def _connect_sqlite(url: sa.URL, create: bool, pool: dict[str, int]) -> Engine:
    database = url.database
    # in memory, or a `file:` URI (uri=true) whose own mode says whether to create
    a_file = not (not database or database == ":memory:" or database.startswith("file:")
                  or "mode" in url.query)
    if a_file:
        assert database is not None
        path = Path(database)
        if create:
            # The store holds personal data: a new file and the folders made for it are owner-only
            # (0600, 0700), and SQLite gives its -wal and -shm files the database file's mode.
            try:
                create_private(path)
            except OSError as exc:
                raise GardeError(f"{safe_url(url)}: cannot create the folder {str(path.parent)!r} or the "
                                 f"database file in it ({exc.strerror or exc})") from None
        elif not path.is_file():
            raise GardeError(f"no database file at {safe_url(url)}" + (" (a folder)" if path.is_dir() else "")
                             + ": check the URL; garde does not create an empty database in its place")
    if not a_file:
        engine = sa.create_engine(url, hide_parameters=True, **pool)
    else:  # its commits counted beside it, for the decision points on other connections (store.commits)
        counted = Path(database).absolute()  # type: ignore[arg-type]
        engine = sa.create_engine(url, connect_args={"factory": CountedConnection}, hide_parameters=True,
                                  **pool)

        @sa.event.listens_for(engine, "connect")
        def _counted(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.counted = counted

    sa.event.listen(engine, "connect", _sqlite_pragmas)
    if a_file and not create:
        sa.event.listen(engine, "do_connect", _existing_file_only)
    return engine


def _existing_file_only(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
    """Open the file read-write, never create it: it may have gone since :func:`connect` checked."""
    cargs[0] = Path(cargs[0]).absolute().as_uri() + "?mode=rw"
    cparams["uri"] = True


@functools.cache
def head_revision() -> str | None:
    """The latest revision of garde's migrations, read from their files once per process: Alembic's
    ``upgrade`` loads every revision's module each time it is called, ≈ 15 ms of CPU even when the store
    is already there (every command, every app start; ``/readyz`` compares the store's with it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema to ``revision`` with Alembic; at the latest schema, a new store
    also gets its identifier key (:func:`garde.keys.ensure_store_key`)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    from garde.keys import ensure_store_key
    from garde.settings import get_settings

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if revision != "head" or (MigrationContext.configure(connection).get_current_revision()
                                  != head_revision()):
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    if revision == "head":  # after the schema's commit: a refused key leaves the schema migrated
        try:
            with engine.begin() as connection:
                ensure_store_key(connection, get_settings().identifier_key)
        except sa.exc.IntegrityError:  # another process gave the store its key first
            pass


def open_store(url: str | None = None) -> Engine:
    """Connect to the configured store, migrate it to the latest schema and open its identifier
    key: a key the store was not written with is refused here, before anything is read or written."""
    from garde.keys import identifier_data_key
    from garde.settings import get_settings

    url = url or get_settings().database_url
    engine = connect(url, create=True)
    try:
        migrate(engine)
        identifier_data_key(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise GardeError(f"cannot open the store {safe_url(url)}: {unreachable(exc)}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def written(work: Callable[[sa.Connection], T], *, what: str) -> T:
    """``work`` in a write transaction of the configured store, opened for it and closed after (a
    command's one write), run again on a deadlock or a conflict
    (:func:`garde.store.transactions.retried`)."""
    from garde.store.transactions import retried

    engine = open_store()
    try:
        return retried(engine, work, what=what)
    finally:
        engine.dispose()


# PostgreSQL errors whose words are a function's or trigger's own (PL/pgSQL's RAISE, another language's
# error), whatever SQLSTATE they chose: they may quote anything, the row included.
_FUNCTION_CLASSES = ("P0", "38", "39")
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_BYTES = re.compile(r"\b0x[0-9a-fA-F]")
_FUNCTION = re.compile(r"function ([\w.]+)\(")
_NOT_KEPT = "(its words are not kept: they may quote the row)"
_IDENTIFIER = re.compile(r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*")


def database_refusal(exc: BaseException) -> str:
    """What a database error says, without the personal data it may quote, for notes, results, the
    audit log and every log line (:mod:`garde.store.logs`): the driver's error class and the first line
    of its message. Left out: the statement and its parameters (SQLAlchemy's message: the subject's
    e-mail, a rectification's new value) and PostgreSQL's ``DETAIL`` (``Failing row contains (…)``,
    ``Key (email)=(…)``). In PostgreSQL's first line, what follows a colon (``invalid input syntax for
    type integer: "…"``) and every double-quoted word that is not the error's constraint, table, column,
    type or schema (``value "…" is out of range``) are the values it quotes: cut, masked. The words of
    a database function or trigger (PL/pgSQL's ``RAISE``, SQLite's ``RAISE(ABORT, …)``) are their
    author's, whatever SQLSTATE they chose: only the function's name is said."""
    cause = getattr(exc, "orig", None)
    if cause is None and (hasattr(exc, "sqlite_errorcode") or hasattr(exc, "diag")):
        cause = exc  # the driver's own error, raised past SQLAlchemy (procrastinate's queries)
    if cause is None:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    kind = type(cause)
    label = f"({kind.__module__}.{kind.__qualname__})"
    first = (str(cause).strip().splitlines() or [""])[0]
    diag = getattr(cause, "diag", None)
    if getattr(cause, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_TRIGGER":
        return f"{label} refused by a trigger of the database {_NOT_KEPT}"
    if diag is None:  # SQLite's own words name columns and quote the schema's text, never a value
        return f"{label} {first}".rstrip()
    state = str(getattr(cause, "sqlstate", "") or "")
    if state[:2] in _FUNCTION_CLASSES or str(diag.source_file or "").startswith("pl"):
        named = _FUNCTION.search(str(diag.context or ""))
        author = f"function {named.group(1)}()" if named else "function or trigger"
        return f"{label} refused by the database {author} {_NOT_KEPT}"
    names = {str(name) for name in (diag.constraint_name, diag.table_name, diag.column_name,
                                    diag.datatype_name, diag.schema_name) if name}
    # A name the statement's own text spells (``relation "wishlist_items" does not exist``: PostgreSQL
    # sets no table name for it) is the schema's, not a value: values are bound, never in the text.
    statement = str(getattr(exc, "statement", None) or "")
    names |= {word for quoted in _QUOTED.findall(first) for word in (quoted[1:-1],)
              if _IDENTIFIER.fullmatch(word) and _spells(statement, word)}
    first = first.split(":", 1)[0]
    first = _QUOTED.sub(lambda quoted: quoted[0] if quoted[0][1:-1].replace('""', '"') in names else '"…"',
                        first)
    first = first[:found.start()].rstrip() if (found := _BYTES.search(first)) else first
    return f"{label} {first}".rstrip()


def _spells(statement: str, name: str) -> bool:
    """Whether ``statement`` spells ``name`` as a word of its own (a table, a column, a schema)."""
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", statement) is not None


def unreachable(exc: sa.exc.DBAPIError) -> str:
    """The first line of the driver's message (``connection refused``, ``unable to open ...``)."""
    text = str(exc.orig).strip() or type(exc.orig).__name__
    return text.splitlines()[0]


def is_postgres(engine: Engine | sa.Connection) -> bool:
    return engine.dialect.name == "postgresql"
