"""Every transaction garde begins goes through the store's write path (:func:`retried`), or is
named below with the reason it need not.

On PostgreSQL a write transaction that meets another may be aborted (a deadlock, 40P01; a conflict,
40001): through :func:`garde.store.transactions.retried` it runs again, whole; begun by hand, the
abort reaches the caller (a 503 on the API, an error on the command line) for work that would
have succeeded a few milliseconds later. This test reads the source: a new ``.begin()``,
``.begin_nested()`` or ``.commit()`` outside ``retried`` fails it until it is either written as a
``retried`` work or added here with why it is safe. An entry whose site is gone fails it too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import garde

SOURCE = Path(garde.__file__).parent
CALLS = ("begin", "begin_nested", "commit")

# (module, function) → why a transaction begun there by hand is safe.
ALLOWED: dict[tuple[str, str], str] = {
    ("garde.store.transactions", "retried"): "the write path itself",
    ("garde.store.driver", "_cursor"): "begins the caller's transaction on the driver, as SQLAlchemy's "
                                       "autobegin does: the caller's transaction, retried or not, is the one",
    ("garde.store.driver", "driver_many"): "commits, with its last statement, the caller's transaction "
                                           "that asked for it (commit=True: an audit append ending a "
                                           "request run's retried() work); it begins none, and a failure "
                                           "is raised into the caller's retried() as any statement's",
    ("garde.store.commits", "CountedConnection.commit"): "the SQLite driver's own commit, which "
                                                         "SQLAlchemy calls: it counts the commit, it "
                                                         "begins none",
    ("garde.store.reads", "transacting"): "ends SQLAlchemy's marker on a connection held in autocommit "
                                         "(the server has no transaction to end): nothing is written; the "
                                         "caller's transactions on it are retried() works",
    ("garde.store.locks", "session_advisory_lock"): "commits the session's advisory lock statements: no "
                                                     "row is written",
    ("garde.rights.run_lock", "subject_rectification_lock"): "commits the subject's advisory lock "
                                                              "statements (PostgreSQL): no row is written",
    ("garde.store.__init__", "migrate"): "the schema's upgrade when a process opens the store (garde db "
                                         "upgrade first, docs/deploy.md); the key's insert race is caught",
    ("garde.register.versions", "note_register"): "a savepoint inside the caller's transaction",
    ("garde.keys", "rotate_identifier_key"): "an operator's key rotation: it locks the key's row, then "
                                             "the audit head; no writer locks the key's row, so no cycle",
    ("garde.jobs.submit", "_deferrer"): "one statement (procrastinate's defer, or its batch defer of many "
                                        "jobs): it holds no row while it waits, so it is in no deadlock; "
                                        "an abort is the queue refusing the jobs",
    ("garde.jobs.staging", "stage"): "inserts the chunks of a new random id: no other transaction writes "
                                     "them",
    ("garde.rights.outbox", "mail_intent"): "SQLite only (PostgreSQL: autocommit): one statement on one "
                                            "row, insert or return it; it holds nothing while it waits",
    ("garde.audit.head_export", "export_head"): "claims the day's export first (one row), then writes "
                                                "the file and posts the head, which a run again would "
                                                "repeat; the periodic job runs again the next day",
    ("garde.consent.renewal", "renewals"): "reads, then one audit append: the audit head is the only "
                                           "row it locks, so it is in no deadlock",
    ("garde.rights.reminders", "remind"): "claims the day's reminder (one row), mails, then one audit "
                                          "append: a run again would mail twice; the claim is the lock",
    ("garde.rights.erasure", "apply_steps"): "a business database's transaction: its steps skip what is "
                                             "already erased, and the erasure part's job is retried whole",
    ("garde.rights.rectification", "rectify"): "a business database's transaction: the same values "
                                               "written again change nothing",
    ("garde.retention.sweep", "Sweeper._step"): "a business database's batch: its journal row (in the "
                                                "store, retried) says what it did; a batch run again "
                                                "deletes or masks only what is still due",
    ("garde.retention.sweep", "deferred_checkpoints"): "a business database's session setting",
    ("garde.shop.load", "create_schema"): "the reference shop's generator, alone on its database",
    ("garde.shop.load", "create_indexes"): "the reference shop's generator, alone on its database",
    ("garde.shop.load", "_Loader.finish"): "the reference shop's generator, alone on its database",
    ("garde.demo", "run_live"): "the demo, alone on its own SQLite store",
    ("garde.web.demo_shop.server", "_demo_dpo_key"): "the demo shop's key, on its own SQLite store",
}


def transactions_begun(source: Path = SOURCE) -> dict[tuple[str, str], list[str]]:
    """(module, function) → the ``.begin()`` / ``.begin_nested()`` / ``.commit()`` calls in it, in
    the package at ``source``."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(source.rglob("*.py")):
        module = ".".join((source.name, *path.relative_to(source).with_suffix("").parts))

        def visit(node: ast.AST, names: tuple[str, ...], module: str = module, path: Path = path) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit(child, (*names, child.name))
                    continue
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                        and child.func.attr in CALLS:
                    found.setdefault((module, ".".join(names)), []).append(
                        f"{path.relative_to(source.parent)}:{child.lineno}: {ast.unparse(child.func)}()")
                visit(child, names)

        visit(ast.parse(path.read_text(encoding="utf-8")), ())
    return found


def test_every_transaction_begun_by_hand_is_named_with_its_reason() -> None:
    found = transactions_begun()
    unnamed = {site: calls for site, calls in found.items() if site not in ALLOWED}
    assert unnamed == {}, (
        "a transaction begun by hand: write it as a retried() work (garde.store.transactions), "
        f"or name it in ALLOWED with why it is safe: {unnamed}")
    assert sorted(set(ALLOWED) - set(found)) == [], "ALLOWED names a site that no longer begins one"


def test_the_scan_finds_a_transaction_begun_by_hand(tmp_path: Path) -> None:
    """The scan itself: an edge's ``with engine.begin()``, in a method, and a retried work, not."""
    package = tmp_path / "shop"
    (package / "api").mkdir(parents=True)
    (package / "api" / "routes.py").write_text(
        "class Routes:\n"
        "    def extend(self, engine):\n"
        "        with engine.begin() as conn:\n"
        "            conn.execute('x')\n"
        "def reject(engine):\n"
        "    return retried(engine, lambda conn: conn.execute('x'), what='x')\n", encoding="utf-8")
    assert transactions_begun(package) == {
        ("shop.api.routes", "Routes.extend"): ["shop/api/routes.py:3: engine.begin()"]}
