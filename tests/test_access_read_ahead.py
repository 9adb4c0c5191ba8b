"""An access answer is the same whether discovery reads each database in one statement or table by table.

Discovery reads ahead where asked (one statement per database, ``garde.datasets.ahead``)
and walks table by table on SQLite. Whichever way it reads, an answer must hold the same rows and
nothing more: an extra row is another person's data (GDPR Art. 15(4)). The property test of
``test_discovery_ahead`` compares footprints on random maps; here whole access answers are compared,
on the reference shop (150 generated customers and Zoé, an archived invoice of hers, claimed rows
holding her e-mail beside another customer's phone and number, which the answer withholds) and on a
hub holding data as a processor for two clients, on SQLite and PostgreSQL, each subject asked for
with reading ahead on and off. The statements sent are counted on the way, so the two paths are
known to be the ones compared.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import find_subject
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.shop import METADATA
from tests.test_archive_requests import archive_zoes_2020_invoice
from tests.test_erasure_reference_shop import AS_OF, Z, deployment  # noqa: F401  (the fixture)
from tests.test_processor_forwarding import HELD_VALUES, Hub, hub  # noqa: F401  (the fixture)

ZOE = "zoe.erasure@example.org"


@contextmanager
def statements_sent(engines: dict[str, Engine]) -> Iterator[Callable[[], dict[str, int]]]:
    """Counts the statements each database is sent (SQLite's trace callback; libpq's protocol trace
    on PostgreSQL, a simple query or an ``Execute`` a statement) while the block runs."""
    sqlite: dict[str, list[str]] = {name: [] for name in engines}
    with tempfile.TemporaryDirectory() as folder:
        traces = {name: (Path(folder) / name).open("w") for name in engines}
        listeners = []
        for name, engine in engines.items():
            def checkout(raw: Any, _record: Any, _proxy: Any, name: str = name) -> None:
                if hasattr(raw, "set_trace_callback"):
                    raw.set_trace_callback(sqlite[name].append)
                else:
                    raw.pgconn.trace(traces[name].fileno())

            sa.event.listen(engine, "checkout", checkout)
            listeners.append((engine, checkout))

        def counts() -> dict[str, int]:
            for engine in engines.values():
                engine.pool.dispose()  # a connection closed flushes libpq's trace
            found = {}
            for name, trace in traces.items():
                sent = [line.split("\t") for line in Path(trace.name).read_text().splitlines()]
                found[name] = len(sqlite[name]) + sum(1 for f in sent if len(f) > 3 and f[1] == "F"
                                                      and f[3].split(" ")[0] in ("Execute", "Query"))
            return found

        try:
            yield counts
        finally:
            for engine, checkout in listeners:
                sa.event.remove(engine, "checkout", checkout)
                engine.pool.dispose()  # their connections stop tracing with them
            for trace in traces.values():
                trace.close()


def _answer(store: Engine, deployment: Deployment, identities: dict[str, str],  # noqa: F811
            ahead: bool) -> tuple[dict[str, Any], int]:
    """The access answer for ``identities`` read with ``ahead``, without what differs per request (its
    id and time; garde's own records, which list the subject's earlier requests, and the "no data"
    sentence, which says whether there are any); and the statements the datasets' databases were
    sent."""
    with store.begin() as conn:
        request = submit(conn, "access", identities, language="en")
        verify_out_of_band(conn, request.id, "passport checked", actor="agent:test",
                           identities=list(identities))
    deployment.read_ahead = ahead
    with statements_sent(deployment.engines) as counts:
        assert run(store, request.id, deployment, today=AS_OF).status == "completed"
        sent = sum(counts().values())
    answer = json.loads((deployment.results / request.id / "access.json").read_text())
    for varying in ("request", "generated_at", "held", "no_data", "no_data_text"):
        answer.pop(varying)
    return answer, sent


def _add_claims_with_another_persons_identities(deployment: Deployment) -> tuple[str, str]:  # noqa: F811
    """A contact form and a ticket holding Zoé's e-mail beside another customer's phone and number
    (claimed rows: hers to see, their other identities withheld and not followed)."""
    with deployment.engines["shop"].connect() as conn:
        email, phone, number = conn.execute(sa.text(
            "SELECT email, phone, customer_number FROM customers WHERE phone IS NOT NULL AND id < :z "
            "ORDER BY id LIMIT 1"), {"z": Z}).one()
    tables = METADATA["crm"].tables
    with deployment.engines["crm"].begin() as conn:
        conn.execute(tables["contacts"].insert(), [{
            "id": Z + 5, "email": ZOE.upper(), "phone": phone, "customer_number": None, "first_name": "Z",
            "last_name": "Typed", "language": "fr", "source": "web", "interests": "shoes",
            "created_at": datetime(2024, 1, 1), "last_contact_at": datetime(2024, 1, 2)}])
        conn.execute(tables["tickets"].insert(), [{
            "id": Z + 5, "email": ZOE, "customer_number": number, "topic": "order", "status": "open",
            "opened_at": datetime(2024, 6, 1), "closed_at": None}])
    return email, phone


def zoe_claimed_and_customers(engine: Engine, deployment: Deployment,  # noqa: F811
                              customers: int) -> tuple[str, str, list[str]]:
    """Zoé's archived invoice and her claimed rows added (:func:`_add_claims_with_another_persons_identities`:
    the other customer's e-mail and phone returned), and the e-mails of the first ``customers``."""
    archive_zoes_2020_invoice(engine, deployment)
    other, other_phone = _add_claims_with_another_persons_identities(deployment)
    with deployment.engines["shop"].connect() as conn:
        emails = list(conn.execute(sa.text("SELECT email FROM customers WHERE email IS NOT NULL "
                                           "ORDER BY id LIMIT :n"), {"n": customers}).scalars())
    return other, other_phone, emails


def test_access_answers_of_the_reference_shop_are_the_same_read_ahead_or_walked(
        engine: Engine, deployment: Deployment) -> None:  # noqa: F811
    other, other_phone, emails = zoe_claimed_and_customers(engine, deployment, 24)
    with deployment.engines["shop"].connect() as conn:
        phone = conn.execute(sa.text("SELECT phone FROM customers WHERE phone IS NOT NULL "
                                     "ORDER BY id DESC LIMIT 1")).scalar_one()
    asked = [{"email": ZOE}, {"email": ZOE, "phone": "+41790000001"}, {"phone": phone},
             *({"email": e} for e in emails)]
    archived = withheld = 0
    for i, identities in enumerate(asked):
        first = bool(i % 2)  # either path first: the second request sees the first in nothing compared
        answers = dict([(first, _answer(engine, deployment, identities, first)),
                        (not first, _answer(engine, deployment, identities, not first))])
        (walked, walk_sent), (ahead, ahead_sent) = answers[False], answers[True]
        assert ahead == walked, identities
        assert ahead_sent < walk_sent, (ahead_sent, walk_sent)  # the two paths were the ones compared
        text = json.dumps(walked)
        archived += '"archived": {' in text
        withheld += '"withheld": true' in text
        if identities.get("email") == ZOE:
            assert other not in text and other_phone not in text  # withheld, never shown
    assert archived >= 2 and withheld >= 2  # Zoé's archived invoice and her claimed rows were compared


def test_access_answers_over_data_held_as_a_processor_are_the_same_read_ahead_or_walked(
        hub: Hub) -> None:  # noqa: F811
    for email in ("alice@example.org", "bob@example.org", "nobody@example.org"):
        walked, walk_sent = _answer(hub.store, hub.deployment, {"email": email}, False)
        ahead, ahead_sent = _answer(hub.store, hub.deployment, {"email": email}, True)
        assert ahead == walked
        assert not any(value in json.dumps(ahead) for value in HELD_VALUES)
        if email == "alice@example.org":
            assert [c["controller"] for c in ahead["processed_for"]] == ["Brand SpA"]
            assert ahead_sent < walk_sent


def test_an_access_request_walks_by_default_and_reads_ahead_when_asked(
        engine: Engine, deployment: Deployment) -> None:  # noqa: F811
    sent = []
    for ahead, email in ((None, "nobody@example.org"), (None, ZOE), (True, "nobody@example.org"),
                         (True, ZOE)):
        deployment.read_ahead = ahead  # the first read ahead reads the tables' column types, once
        with engine.begin() as conn:
            request = submit(conn, "access", {"email": email}, language="en")
            verify_out_of_band(conn, request.id, "passport checked", actor="agent:test", identities=["email"])
        with statements_sent(deployment.engines) as counts:
            assert run(engine, request.id, deployment, today=AS_OF).status == "completed"
            sent.append(counts())
    if engine.dialect.name == "sqlite":
        assert sent[1]["shop"] > 10 and sent[1]["crm"] > 5  # the walk, table by table
    else:
        # The walk: one statement per database and hop, a hop's reads of a database in one UNION ALL
        # (it was one per table and hop: 22 and 16 here), and once more the columns' types.
        hops = find_subject(deployment.datamap, deployment.engines, {"email": ZOE}, ahead=False).hops
        assert 1 < sent[1]["shop"] <= hops + 1 and 1 < sent[1]["crm"] <= hops + 1, (sent[1], hops)
        assert sent[3] == {"shop": 1, "crm": 1}
