"""A request that fails on a database error records why, never the personal data the statement
carried: the reason goes into the request's step note (shown to the subject in the privacy
center), its result, the audit log (kept for years, never erased) and the error staff see, and
SQLAlchemy's message quotes the statement's parameters (the subject's e-mail, a rectification's
new value) and PostgreSQL's the refused row (``DETAIL: Failing row contains (…)``)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights import get_request
from garde.rights.running import run
from garde.store import connect, database_refusal
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401

NEW_NAME = "Ana Lima-Carvalho"


def _everything_said(shop: Shop, request_id: str, raised: str) -> str:  # noqa: F811
    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
        entries = [e for e in audit.entries(conn) if e["payload"].get("request") == request_id]
    assert request.status == "failed"
    return "\n".join([raised, json.dumps(request.result), json.dumps(request.steps, default=str),
                      json.dumps([e["payload"] for e in entries])])


def test_a_failed_lookup_does_not_record_the_identity_it_looked_for(shop: Shop) -> None:  # noqa: F811
    with shop.deployment.engines["shop"].begin() as conn:  # the shop renamed a column the map names
        conn.execute(sa.text("ALTER TABLE customers RENAME COLUMN email TO mail"))
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    with pytest.raises(GardeError) as raised:
        run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    said = _everything_said(shop, request_id, str(raised.value))
    assert "customers.email" in said  # what went wrong is still said
    assert "ana@example.org" not in said


def test_a_refused_rectification_does_not_record_the_row_or_the_new_value(shop: Shop) -> None:  # noqa: F811
    engine = shop.deployment.engines["shop"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE customers ADD CONSTRAINT short_names "
                                 "CHECK (length(name) < 12)"))
        else:
            conn.execute(sa.text("CREATE TRIGGER short_names BEFORE UPDATE OF name ON customers "
                                 "WHEN length(NEW.name) >= 12 "
                                 "BEGIN SELECT RAISE(ABORT, 'name too long'); END"))
    request_id = verified(shop, "rectification", {"email": "ana@example.org"},
                          corrections={"identity.name": NEW_NAME})
    with pytest.raises(GardeError) as raised:
        run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    said = _everything_said(shop, request_id, str(raised.value))
    assert "short_names" in said or "refused by a trigger" in said  # a trigger's own words: not kept
    for personal in ("ana@example.org", NEW_NAME, "Ana Lima", "+33611111111"):
        assert personal not in said, personal


@pytest.mark.postgres
def test_a_data_exception_is_said_without_the_value_postgresql_quotes(postgres_url: str) -> None:
    engine = connect(postgres_url)
    try:
        with pytest.raises(sa.exc.DataError) as raised, engine.connect() as conn:
            conn.execute(sa.text("SELECT CAST(:value AS integer)"), {"value": "ana@example.org"})
    finally:
        engine.dispose()
    assert "ana@example.org" in str(raised.value.orig)  # the server quotes it in its message
    assert "'value': 'ana@example.org'" not in str(raised.value)  # parameters: hidden by every engine
    said = database_refusal(raised.value)
    assert said == "(psycopg.errors.InvalidTextRepresentation) invalid input syntax for type integer", said
