"""Requests over an intermediate archive: an access answer shows archived rows, marked as archived with
the day they will be deleted, and the reading is audited; an erasure keeps them under the legal
obligation until the archive's end (Art. 17(3)(b)), as it keeps live rows under that obligation.

The reference shop (its own data map and register: invoices archived 3 years after the invoice date,
deleted 10 years after it) with Zoé's rows from ``test_erasure_reference_shop``, plus a 2020 invoice
that the sweep on 1 June 2025 moves to ``shop.invoices_archive``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit, retention
from garde.legal_holds import place_hold
from garde.rights import submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.intake import Request
from garde.rights.running import run
from garde.shop import METADATA
from tests.test_erasure_reference_shop import AS_OF, Z, deployment  # noqa: F401  (the fixture)

ARCHIVED = Z + 2


def archive_zoes_2020_invoice(engine: Engine, shop: Deployment) -> None:
    tables = METADATA["shop"].tables
    with shop.engines["shop"].begin() as conn:
        conn.execute(tables["orders"].insert(), [{
            "id": ARCHIVED, "customer_id": Z, "order_number": "O90000003", "channel": "web",
            "total_cents": 5000, "currency": "EUR", "ordered_at": datetime(2020, 3, 1),
            "completed_at": datetime(2020, 3, 3)}])
        conn.execute(tables["invoices"].insert(), [{
            "id": ARCHIVED, "order_id": ARCHIVED, "invoice_number": "F90000003",
            "billing_name": "Zoé Erasure", "billing_address": "1 rue de l'Oubli, 75011 Paris",
            "amount_cents": 5000, "issued_at": datetime(2020, 3, 1)}])
    retention.sweep(engine, shop.datamap, shop.engines, today=AS_OF)
    with shop.engines["shop"].connect() as conn:
        archived = conn.execute(sa.text("SELECT billing_name FROM invoices_archive WHERE id = :k"),
                                {"k": ARCHIVED}).scalar_one()
        live = conn.execute(sa.text("SELECT count(*) FROM invoices WHERE id = :k"),
                            {"k": ARCHIVED}).scalar_one()
    assert archived == "Zoé Erasure" and live == 0


def _request(engine: Engine, shop: Deployment, kind: str) -> Request:
    with engine.begin() as conn:
        request = submit(conn, kind, {"email": "zoe.erasure@example.org"})
        verify_out_of_band(conn, request.id, "passport checked in store", actor="agent:test",
                           identities=list(request.identities))
    done = run(engine, request.id, shop, today=AS_OF)
    assert done.status == "completed"
    return done


def test_access_answer_covers_archived_rows_and_says_when_they_go(engine: Engine,
                                                                  deployment: Deployment) -> None:  # noqa: F811
    archive_zoes_2020_invoice(engine, deployment)
    request_id = _request(engine, deployment, "access").id
    answer = json.loads((deployment.folder(request_id) / "access.json").read_text(encoding="utf-8"))
    (row,) = answer["tables"]["shop.invoices_archive"]
    assert row["id"] == ARCHIVED and row["billing_name"] == "Zoé Erasure"
    fields = [f for c in answer["categories"] for f in c["fields"]
              if f["where"].startswith("shop.invoices_archive")]
    assert fields and all(f["archived"]["deleted_on"] == "2030-03-01" for f in fields)
    assert all(f["archived"]["archived_at"] is not None for f in fields)
    live = [f for c in answer["categories"] for f in c["fields"] if f["where"].startswith("shop.invoices.")]
    assert live and all(f["archived"] is None for f in live)
    report_ready(deployment.folder(request_id), deployment.results)  # as every reader of the answer does
    html = (deployment.folder(request_id) / "access.html").read_text(encoding="utf-8")
    assert "intermediate archive" in html or "archive intermédiaire" in html
    with engine.connect() as conn:
        reads = [e["payload"] for e in audit.entries(conn, kind="archive.read")]
    assert reads == [{"request": request_id, "type": "access", "tables": {"shop.invoices_archive": 1}}]


def test_erasure_keeps_archived_rows_under_the_legal_obligation_until_the_archive_ends(
        engine: Engine, deployment: Deployment) -> None:  # noqa: F811
    archive_zoes_2020_invoice(engine, deployment)
    done = _request(engine, deployment, "erasure")
    with deployment.engines["shop"].connect() as conn:
        row = conn.execute(sa.text("SELECT invoice_number, billing_name FROM invoices_archive WHERE id = :k"),
                           {"k": ARCHIVED}).one()
    assert tuple(row) == ("F90000003", "Zoé Erasure")
    assert done.result is not None
    assert any("kept until 2030-03-01" in reason for reason in done.result["kept_reasons"]), done.result


def test_a_hold_on_the_live_table_keeps_its_archived_rows_from_erasure(engine: Engine,
                                                                      deployment: Deployment) -> None:  # noqa: F811
    archive_zoes_2020_invoice(engine, deployment)
    with engine.begin() as conn:
        place_hold(conn, "table", "shop.invoices", "Tax audit 2025")
    done = _request(engine, deployment, "erasure")
    assert done.result is not None
    report = json.loads(Path(done.result["file"]).read_text(encoding="utf-8"))
    archived = {k["reason"] for k in report["kept"] if k["table"] == "shop.invoices_archive"}
    assert archived == {"legal hold on shop.invoices: Tax audit 2025"}
