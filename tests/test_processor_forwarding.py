"""Requests that reach data held as a processor (GDPR Art. 28(3)(a), 28(3)(e), 29, 30(2)).

The hub keeps its own customers (``accounts``, a controller activity) and, for two client
controllers, their parcels and repairs (``role: processor`` activities). A request does not
answer or erase the clients' data as the hub's own: the answer names the client controller and its
contact, from the register, and says the request is passed on; the request records what was found
per controller; the DPO forwards it, and erases those rows only on the controller's instruction.
A column that a controller activity also uses is the hub's own (``phone``: accounts and parcels).
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde import audit, jobs
from garde.api import create_app
from garde.cli import app
from garde.cli.schemas import COMMANDS
from garde.datasets import TableRef, load_datamap
from garde.jobs.requests import run_job
from garde.problems import GardeError
from garde.rights import forwarding, submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment, registers_of
from garde.rights.held_as_processor import held_for, wholly_held
from garde.rights.instructed_erasure import instruct_erasure
from garde.rights.intake import get_request as rights_get
from garde.rights.parts import parts_of
from garde.rights.running import run
from garde.settings import Settings, get_settings
from garde.store import connect, open_store
from garde.subjects import ensure_subject
from tests.api_support import Client, bearer, new_keys
from tests.conftest import scratch_databases
from tests.jobs_support import NO_SCHEDULES, garde_worker
from tests.test_rights_requests import _database
from tests.web_support import csrf_of, log_in, mailed_code_to, mails_to

runner = CliRunner()
ME = "/privacy/me"

REGISTER = """
language: en
controller: {name: Hub Logistique SAS, country: FR, supervisory_authority: CNIL}
activities:
  - id: accounts
    name: {en: Customer accounts}
    purposes: [{en: Manage your account}]
    data_subjects: [customer]
    data_categories: [identity, contact]
    legal_bases: [contract]
    retention: ["3 years after last_contact"]
  - id: parcels
    name: Parcel delivery for Brand SpA
    role: processor
    purposes: [Deliver the parcels of Brand SpA's customers]
    data_subjects: [customer]
    data_categories: [identity, contact, transaction]
    on_behalf_of:
      - name: Brand SpA
        contact: {email: privacy@brand.example, url: "https://brand.example/privacy"}
        dpo: {email: dpo@brand.example}
        contract: {reference: DPA 2025-04}
    security_measures: [Encryption at rest]
  - id: repairs
    name: Repairs for Other Brand GmbH
    role: processor
    purposes: [Repair the appliances of Other Brand GmbH's customers]
    data_subjects: [customer]
    data_categories: [transaction]
    on_behalf_of: [Other Brand GmbH]
    security_measures: [Encryption at rest]
"""

HUB = """
database: hub
url: {url}
register: ../register.yaml
tables:
  customers:
    subject: customer
    primary_key: id
    identities: {{email: email}}
    columns:
      email: {{category: contact.email, activities: [accounts], erase: delete}}
      name: {{category: identity.name, activities: [accounts], erase: delete}}
      phone: {{category: contact.phone, activities: [accounts, parcels], erase: delete}}
      brand_ref: {{category: identity, activities: [parcels], erase: null}}
  parcels:
    subject: customer
    primary_key: id
    references: {{customer_id: customers.id}}
    columns:
      address: {{category: contact.postal_address, activities: [parcels], erase: delete}}
      tracking: {{category: transaction, activities: [parcels], erase: delete}}
  repairs:
    subject: customer
    primary_key: id
    references: {{customer_id: customers.id}}
    columns:
      appliance: {{category: transaction, activities: [repairs], erase: delete}}
"""

# Values of the data held for the clients: none may appear in an answer file.
HELD_VALUES = ("BRAND-REF-7731", "12 Via Roma Milano", "TRACK-88120", "TRACK-88121", "BRAND-REF-9001",
               "Washer WX-900")


@dataclass
class Hub:
    store: sa.Engine
    deployment: Deployment
    url: str


def _fill(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("email", sa.String(120)), sa.Column("name", sa.String(80)),
                         sa.Column("phone", sa.String(40)), sa.Column("brand_ref", sa.String(40)))
    parcels = sa.Table("parcels", meta, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
                       sa.Column("address", sa.String(120)), sa.Column("tracking", sa.String(40)))
    repairs = sa.Table("repairs", meta, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
                       sa.Column("appliance", sa.String(80)))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": 1, "email": "alice@example.org", "name": "Alice", "phone": "+33601020304",
             "brand_ref": "BRAND-REF-7731"},
            {"id": 2, "email": "bob@example.org", "name": "Bob", "phone": None,
             "brand_ref": "BRAND-REF-9001"}])
        conn.execute(parcels.insert(), [
            {"id": 10, "customer_id": 1, "address": "12 Via Roma Milano", "tracking": "TRACK-88120"},
            {"id": 11, "customer_id": 1, "address": "12 Via Roma Milano", "tracking": "TRACK-88121"}])
        conn.execute(repairs.insert(), [{"id": 20, "customer_id": 2, "appliance": "Washer WX-900"}])


def _write_map(folder: Path, url: str) -> Path:
    (folder / "register.yaml").write_text(REGISTER)
    (folder / "datasets").mkdir(exist_ok=True)
    (folder / "datasets" / "hub.yaml").write_text(HUB.format(url=url))
    return folder / "datasets"


@pytest.fixture
def hub(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Hub]:
    kind = engine.dialect.name
    admin = request.getfixturevalue("postgres_admin_url") if kind == "postgresql" else None
    url = _database(kind, tmp_path, "hub", admin)
    deployment = Deployment.open(_write_map(tmp_path, url), results=tmp_path / "results", create=True)
    _fill(deployment.engines["hub"])
    yield Hub(engine, deployment, url)
    deployment.dispose()
    if admin is not None:
        drop = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        drop.dispose()


def _verified(store: sa.Engine, kind: str, email: str) -> str:
    with store.begin() as conn:
        request = submit(conn, kind, {"email": email})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    return request.id


def _files_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file())


def _rows(hub: Hub, sql: str) -> list[tuple[object, ...]]:
    with hub.deployment.engines["hub"].connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_an_access_answers_the_own_data_and_names_the_controller_of_the_rest(hub: Hub) -> None:
    request_id = _verified(hub.store, "access", "alice@example.org")
    done = run(hub.store, request_id, hub.deployment)
    assert done.status == "completed"
    folder = hub.deployment.results / request_id
    answer = json.loads((folder / "access.json").read_text())
    # The hub's own data, the phone too (also used by the processor activity: rule 3).
    assert list(answer["tables"]) == ["hub.customers"]
    assert answer["tables"]["hub.customers"] == [
        {"id": 1, "email": "alice@example.org", "name": "Alice", "phone": "+33601020304"}]
    assert {a["id"] for a in answer["activities"]} == {"accounts"}
    assert not answer["no_data"]
    # The client controller, named with the register's contact, and nothing of its data.
    [note] = answer["processed_for"]
    assert note["controller"] == "Brand SpA"
    assert note["contact"] == "privacy@brand.example, https://brand.example/privacy"
    assert "passed" not in note["text"] and "pass your request on to Brand SpA" in note["text"]
    files = _files_text(folder)
    assert "Brand SpA" in files
    for value in (*HELD_VALUES, "parcels", "brand_ref", "Other Brand"):
        assert value not in files, value
    # The request records what was found, per controller, in counts.
    assert done.result["forwarded"] == [
        {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]
    with hub.store.connect() as conn:
        [listed] = forwarding.listed(conn, request_id)
    assert listed["status"] == "to_forward" and listed["found"] == {"hub.customers": 1, "hub.parcels": 2}


def test_an_erasure_erases_the_own_data_keeps_the_clients_and_an_instruction_erases_it(hub: Hub) -> None:
    request_id = _verified(hub.store, "erasure", "alice@example.org")
    done = run(hub.store, request_id, hub.deployment)
    assert done.status == "completed"
    # The hub's own columns erased; the column held for Brand SpA, and its parcels, untouched.
    assert _rows(hub, "SELECT id, email, name, phone, brand_ref FROM customers ORDER BY id") == [
        (1, None, None, None, "BRAND-REF-7731"), (2, "bob@example.org", "Bob", None, "BRAND-REF-9001")]
    parcels = _rows(hub, "SELECT id, customer_id, address, tracking FROM parcels ORDER BY id")
    assert parcels == [(10, 1, "12 Via Roma Milano", "TRACK-88120"),
                       (11, 1, "12 Via Roma Milano", "TRACK-88121")]
    report_text = _files_text(hub.deployment.results / request_id)
    for value in (*HELD_VALUES, "hub.parcels", "brand_ref"):
        assert value not in report_text, value
    report = json.loads((hub.deployment.results / request_id / "erasure.json").read_text())
    assert [n["controller"] for n in report["processed_for"]] == ["Brand SpA"]
    assert done.result["forwarded"] == [
        {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]

    # The instruction comes after the forwarding, never before.
    with pytest.raises(GardeError, match="forwarding to Brand SpA first"):
        instruct_erasure(hub.store, hub.deployment, request_id, "Brand SpA",
                         instruction="mail of 2026-12-07", instructed_by="Brand SpA DPO", actor="dpo:test")
    forwarded = forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test",
                                          note="mailed to dpo@brand.example")
    assert forwarded["status"] == "forwarded" and forwarded["forwarded_by"] == "dpo:test"
    again = forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:other")
    assert again["forwarded_by"] == "dpo:test"  # once
    erased = instruct_erasure(hub.store, hub.deployment, request_id, "Brand SpA",
                              instruction="mail of 2026-12-07, ref. 118", instructed_by="Brand SpA DPO",
                              actor="dpo:test")
    assert erased["status"] == "erased" and erased["instructed_by"] == "Brand SpA DPO"
    assert erased["instruction"] == "mail of 2026-12-07, ref. 118"
    # Exact: Alice's parcels and her Brand reference; Bob's reference stays.
    assert _rows(hub, "SELECT id, brand_ref FROM customers ORDER BY id") == [(1, None), (2, "BRAND-REF-9001")]
    assert _rows(hub, "SELECT id FROM parcels") == []
    assert _rows(hub, "SELECT id, appliance FROM repairs") == [(20, "Washer WX-900")]
    # Idempotent: called again, nothing more.
    twice = instruct_erasure(hub.store, hub.deployment, request_id, "Brand SpA",
                             instruction="again", instructed_by="someone", actor="dpo:test")
    assert twice["erased_at"] == erased["erased_at"] and twice["instruction"] == erased["instruction"]
    with hub.store.connect() as conn:
        kinds = [k for (k,) in conn.execute(sa.text(
            "SELECT kind FROM audit_log WHERE kind LIKE 'request.forward%' ORDER BY seq"))]
    assert kinds == ["request.forwarding_due", "request.forwarded", "request.forwarding_erasure_planned",
                     "request.forwarding_erased"]
    with hub.store.connect() as conn:
        assert audit.verify(conn).ok


def test_an_erasure_resumed_after_a_failure_keeps_its_forwarding(hub: Hub) -> None:
    if hub.deployment.engines["hub"].dialect.name != "sqlite":
        pytest.skip("the refusal is a SQLite trigger (the resumption itself is dialect-free)")
    with hub.deployment.engines["hub"].begin() as conn:
        conn.execute(sa.text("CREATE TRIGGER refuse BEFORE UPDATE ON customers "
                             "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    request_id = _verified(hub.store, "erasure", "alice@example.org")
    with pytest.raises(GardeError):
        run(hub.store, request_id, hub.deployment)
    with hub.store.connect() as conn:
        assert [f["controller"] for f in forwarding.listed(conn, request_id)] == ["Brand SpA"]
    with hub.deployment.engines["hub"].begin() as conn:
        conn.execute(sa.text("DROP TRIGGER refuse"))
    done = run(hub.store, request_id, hub.deployment)  # resumed from its stored plan
    assert done.status == "completed"
    assert done.result["forwarded"] == [
        {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]
    assert _rows(hub, "SELECT email, brand_ref FROM customers WHERE id = 1") == [(None, "BRAND-REF-7731")]
    with hub.store.connect() as conn:
        assert len(forwarding.listed(conn, request_id)) == 1
        due = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE kind = 'request.forwarding_due'"))
        assert due.scalar_one() == 1


def test_a_rectification_leaves_the_clients_tables_and_forwards(hub: Hub) -> None:
    with hub.store.begin() as conn:
        request = submit(conn, "rectification", {"email": "alice@example.org"},
                         details={"corrections": {"identity.name": "Alicia",
                                                  "contact.postal_address": "3 Rue Neuve Lyon"}})
        verify_out_of_band(conn, request.id, "card", actor="agent:test", identities=["email"])
    done = run(hub.store, request.id, hub.deployment)
    assert done.status == "completed"
    assert done.result["changed"] == {"hub.customers.name": 1}
    assert done.result["forwarded"] == [
        {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]
    assert _rows(hub, "SELECT name FROM customers WHERE id = 1") == [("Alicia",)]
    assert _rows(hub, "SELECT DISTINCT address FROM parcels") == [("12 Via Roma Milano",)]
    # A correction of the client's data alone: nothing changed here, the request forwarded.
    with hub.store.begin() as conn:
        only = submit(conn, "rectification", {"email": "alice@example.org"},
                      details={"corrections": {"hub.parcels.address": "3 Rue Neuve Lyon"}})
        verify_out_of_band(conn, only.id, "card", actor="agent:test", identities=["email"])
    done = run(hub.store, only.id, hub.deployment)
    assert done.status == "completed" and not done.result["changed"]
    assert [f["controller"] for f in done.result["forwarded"]] == ["Brand SpA"]
    assert _rows(hub, "SELECT DISTINCT address FROM parcels") == [("12 Via Roma Milano",)]


def test_a_category_in_an_own_and_a_clients_column_of_one_table_is_corrected_in_the_own_only(
        hub: Hub, tmp_path: Path) -> None:
    # The customers' table also keeps, for Brand SpA, the phone its parcels are announced to: a
    # correction of the subject's phone (a category) is theirs for the organisation's own column, the
    # client's column is its controller's to correct (the request is forwarded).
    with hub.deployment.engines["hub"].begin() as conn:
        conn.execute(sa.text("ALTER TABLE customers ADD COLUMN brand_phone VARCHAR(40)"))
        conn.execute(sa.text("UPDATE customers SET brand_phone = '+390212345678' WHERE id = 1"))
    held_phone = "      brand_phone: {{category: contact.phone, activities: [parcels], erase: null}}\n"
    (tmp_path / "datasets" / "hub.yaml").write_text(
        HUB.replace("      brand_ref:", held_phone + "      brand_ref:").format(url=hub.url))
    with Deployment.open(tmp_path / "datasets", results=tmp_path / "results") as deployment:
        with hub.store.begin() as conn:
            request = submit(conn, "rectification", {"email": "alice@example.org"},
                             details={"corrections": {"contact.phone": "+33699887766"}})
            verify_out_of_band(conn, request.id, "card", actor="agent:test", identities=["email"])
        done = run(hub.store, request.id, deployment)
    assert done.status == "completed"
    assert done.result["changed"] == {"hub.customers.phone": 1}
    assert [f["controller"] for f in done.result["forwarded"]] == ["Brand SpA"]
    assert _rows(hub, "SELECT phone, brand_phone FROM customers WHERE id = 1") == [
        ("+33699887766", "+390212345678")]


def test_portability_and_a_french_answer_leave_the_clients_data_out(hub: Hub) -> None:
    with hub.store.begin() as conn:
        ported = submit(conn, "portability", {"email": "alice@example.org"})
        verify_out_of_band(conn, ported.id, "card", actor="agent:test", identities=["email"])
        french = submit(conn, "access", {"email": "alice@example.org"}, language="fr")
        verify_out_of_band(conn, french.id, "card", actor="agent:test", identities=["email"])
    assert run(hub.store, ported.id, hub.deployment).result["forwarded"][0]["controller"] == "Brand SpA"
    with zipfile.ZipFile(hub.deployment.results / ported.id / "portability.zip") as archive:
        text = "\n".join(archive.read(name).decode() for name in archive.namelist())
    assert "alice@example.org" in text
    for value in (*HELD_VALUES, "parcels", "brand_ref"):
        assert value not in text, value
    run(hub.store, french.id, hub.deployment)
    report_ready(hub.deployment.results / french.id, hub.deployment.results)  # as every reader does
    page = (hub.deployment.results / french.id / "access.html").read_text()
    assert "traitées par nous pour le compte de Brand SpA" in page
    assert "directement : privacy@brand.example, https://brand.example/privacy." in page


def test_a_subject_without_data_held_for_a_client_has_no_forwarding(hub: Hub) -> None:
    hub.deployment.engines["hub"].dispose()
    with hub.deployment.engines["hub"].begin() as conn:
        conn.execute(sa.text("UPDATE customers SET brand_ref = NULL WHERE id = 1"))
        conn.execute(sa.text("DELETE FROM parcels"))
    request_id = _verified(hub.store, "access", "alice@example.org")
    done = run(hub.store, request_id, hub.deployment)
    assert "forwarded" not in done.result
    answer = json.loads((hub.deployment.results / request_id / "access.json").read_text())
    assert answer["processed_for"] == []
    with hub.store.connect() as conn:
        assert forwarding.listed(conn, request_id) == []


# The edges: the privacy center (a subject), the API (staff), the CLI (the DPO), on a SQLite store,
# with the hub's tables in SQLite or PostgreSQL.


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served_hub(request: pytest.FixtureRequest,
               tmp_path: Path) -> Iterator[tuple[Client, dict[str, str], Hub]]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    url = _database(request.param, tmp_path, "hub", admin)
    store_url = f"sqlite:///{tmp_path / 'garde.db'}"
    keys = new_keys(store_url)
    datasets = _write_map(tmp_path, url)
    deployment = Deployment.open(datasets, results=tmp_path / "results", create=True)
    _fill(deployment.engines["hub"])
    settings = Settings(database_url=store_url, registers=tmp_path / "register.yaml", datasets=datasets,
                        outbox=tmp_path / "outbox", results=tmp_path / "results", mailer="file")
    store = connect(store_url)
    with store.begin() as conn:
        for email in ("alice@example.org", "bob@example.org"):
            ensure_subject(conn, {"email": email})
    try:
        with Client(create_app(settings)).running() as client:
            yield client, keys, Hub(store, deployment, url)
    finally:
        store.dispose()
        deployment.dispose()
        if admin is not None:
            drop = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with drop.connect() as conn:
                database = sa.make_url(url).database
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            drop.dispose()


def _privacy_request(client: Client, email: str, outbox: Path, kind: str) -> str:
    """Sign in to the privacy center as ``email`` and submit a request there; its id."""
    home = client.get("/privacy/")
    client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
    form = client.get("/privacy/code")
    before = len(mails_to(outbox, email)) - 1
    confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text),
                                                   "code": mailed_code_to(outbox, email, before)})
    assert confirmed.status_code == 303, confirmed.text
    page = client.get(ME).text
    before_ids = set(re.findall(r"/privacy/me/requests/([0-9a-f-]{36})", page))
    sent = client.post(f"{ME}/requests", data={"csrf": csrf_of(page), "type": kind})
    assert sent.status_code == 303, sent.text
    (new,) = set(re.findall(r"/privacy/me/requests/([0-9a-f-]{36})", client.get(ME).text)) - before_ids
    return str(new)


API = "/api/v1/requests"


def test_the_privacy_center_the_api_and_the_cli_forward_and_erase_on_instruction(
        served_hub: tuple[Client, dict[str, str], Hub], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, keys, hub = served_hub
    outbox = tmp_path / "outbox"
    dpo, agent = bearer(keys["dpo"]), bearer(keys["agent"])
    # Alice asks for her data in the privacy center; the back office runs it.
    alice = client.from_address("10.9.0.1")
    access = _privacy_request(alice, "alice@example.org", outbox, "access")
    ran = client.post(f"{API}/{access}/run", headers=agent)
    assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
    for name in ("access.json", "access.html"):
        answer = alice.get(f"{ME}/requests/{access}/files/{name}")
        assert answer.status_code == 200
        assert "Brand SpA" in answer.text and "privacy@brand.example" in answer.text
        for value in (*HELD_VALUES, "parcels", "Other Brand"):
            assert value not in answer.text, (name, value)
    assert "Brand SpA" not in alice.get(f"{ME}/requests/{access}").text  # forwardings are staff's
    # Bob (his repairs are Other Brand's; a Brand SpA reference) sees neither Alice's request nor
    # its forwarding.
    bob = client.from_address("10.9.0.2")
    bobs = _privacy_request(bob, "bob@example.org", outbox, "access")
    assert bob.get(f"{ME}/requests/{access}").status_code == 404
    assert bob.get(f"{ME}/requests/{access}/files/access.json").status_code == 404
    assert client.post(f"{API}/{bobs}/run", headers=agent).status_code == 200
    bobs_answer = bob.get(f"{ME}/requests/{bobs}/files/access.json").text
    assert "Other Brand GmbH" in bobs_answer and "alice" not in bobs_answer  # his controllers, his data
    assert "Washer" not in bobs_answer and "BRAND-REF-9001" not in bobs_answer

    # The DPO's dashboard lists Bob's two forwardings to do and records one.
    csrf = log_in(client, keys["dpo"])
    queue = client.get("/dpo/requests").text
    waiting = queue[queue.index('<table id="to-forward">'):]
    assert waiting.count("<tr>") == 4  # Alice's one, Bob's two, and the heading
    assert f"/dpo/requests/{access}" in waiting and "Other Brand GmbH" in waiting
    page = client.get(f"/dpo/requests/{bobs}").text
    table = page[page.index('<table id="forwardings">'):]
    assert "Brand SpA" in table and "privacy@brand.example" in table and "dpo@brand.example" in table
    assert "Other Brand GmbH" in table and "not in the register" in table  # no contact given for it
    assert "hub.repairs: 1" in table and "to forward" in table
    recorded = client.post(f"/dpo/requests/{bobs}/forward", follow_redirects=False,
                           data={"csrf": csrf, "controller": "Other Brand GmbH", "note": "its portal"})
    assert recorded.status_code == 303, recorded.text
    after_page = client.get(f"/dpo/requests/{bobs}").text
    assert "its portal" in after_page and after_page.count("Record as forwarded") == 1
    # The controller instructs the erasure of Bob's repairs: the DPO runs it from the same page, which
    # asks for the instruction and who gave it; only that controller's columns go.
    assert 'action="/dpo/requests/' + bobs + '/instructed-erasure"' in after_page
    instructed = {"csrf": csrf, "controller": "Other Brand GmbH", "instruction": "ticket 4471"}
    refused = client.post(f"/dpo/requests/{bobs}/instructed-erasure", data=instructed)
    assert refused.status_code == 400 and "who gave it" in refused.text
    assert _rows(hub, "SELECT count(*) FROM repairs") == [(1,)]
    unforwarded = client.post(f"/dpo/requests/{bobs}/instructed-erasure", data={
        **instructed, "controller": "Brand SpA", "instructed_by": "Brand DPO"})
    assert unforwarded.status_code == 400 and "record its forwarding" in unforwarded.text
    erased = client.post(f"/dpo/requests/{bobs}/instructed-erasure", follow_redirects=False,
                         data={**instructed, "instructed_by": "Other Brand's DPO"})
    assert erased.status_code == 303, erased.text
    assert _rows(hub, "SELECT count(*) FROM repairs") == [(0,)]
    assert _rows(hub, "SELECT brand_ref FROM customers WHERE id = 2") == [("BRAND-REF-9001",)]
    erased_page = client.get(f"/dpo/requests/{bobs}").text
    assert "erased on its instruction" in erased_page and "ticket 4471" in erased_page
    assert "Other Brand&#39;s DPO" in erased_page and "/instructed-erasure" not in erased_page
    french = client.get(f"/dpo/requests/{bobs}?lang=fr").text
    assert "à transmettre" in french and "effacé sur son instruction" in french

    # Staff see the forwarding to do: which controller, its contact, what was found.
    shown = client.get(f"{API}/{access}", headers=agent).json()
    [forward] = shown["forwardings"]
    assert forward["controller"] == "Brand SpA" and forward["status"] == "to_forward"
    assert forward["contact"] == "privacy@brand.example, https://brand.example/privacy"
    assert forward["dpo"] == "dpo@brand.example"
    assert forward["found"] == {"hub.customers": 1, "hub.parcels": 2}
    # Only the DPO records it; an agent's key is refused.
    body = {"controller": "Brand SpA", "note": "mailed to dpo@brand.example"}
    assert client.post(f"{API}/{access}/forward", headers=agent, json=body).status_code == 403
    done = client.post(f"{API}/{access}/forward", headers=dpo, json=body)
    assert done.status_code == 200 and done.json()["status"] == "forwarded", done.text
    unknown = client.post(f"{API}/{access}/forward", headers=dpo, json={"controller": "Other Brand GmbH"})
    assert unknown.status_code == 404  # Alice's request has no forwarding to Bob's controller

    # An erasure through the API; the CLI lists its forwarding, records it and runs the instruction.
    submitted = client.post(API, headers=agent, json={
        "type": "erasure", "subject": {"email": "alice@example.org"}, "send_code": False,
    }).json()["request"]["id"]
    client.post(f"{API}/{submitted}/verify", headers=agent,
                json={"out_of_band": "ID card", "checked": ["email"]})
    assert client.post(f"{API}/{submitted}/run", headers=agent).json()["status"] == "completed"
    assert _rows(hub, "SELECT count(*) FROM parcels") == [(2,)]
    monkeypatch.setenv("GARDE_DATABASE_URL", str(hub.store.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("GARDE_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("GARDE_RESULTS", str(tmp_path / "results"))
    get_settings.cache_clear()
    try:
        shown_text = runner.invoke(app, ["request", "show", submitted])
        assert shown_text.exit_code == 0, shown_text.output
        assert "TO FORWARD to Brand SpA" in shown_text.output
        assert "hub.parcels: 2 row(s)" in shown_text.output and "privacy@brand.example" in shown_text.output
        early = runner.invoke(app, ["request", "instruct-erasure", submitted, "--controller", "Brand SpA",
                                    "--instruction", "ref. 118", "--instructed-by", "Brand DPO", "--yes"])
        assert early.exit_code != 0 and "forwarding to Brand SpA first" in early.output
        forwarded = runner.invoke(app, ["request", "forward", submitted, "--controller", "Brand SpA",
                                        "--actor", "dpo:cli", "--format", "json"])
        assert forwarded.exit_code == 0, forwarded.output
        recorded = COMMANDS["request forward"].model.model_validate_json(forwarded.output)
        assert recorded.model_dump()["forwarded_by"] == "dpo:cli"
        erased = runner.invoke(app, ["request", "instruct-erasure", submitted, "--controller", "Brand SpA",
                                     "--instruction", "ref. 118", "--instructed-by", "Brand DPO", "--yes",
                                     "--format", "json"])
        assert erased.exit_code == 0, erased.output
        view = COMMANDS["request instruct-erasure"].model.model_validate_json(erased.output).model_dump()
        assert view["status"] == "erased" and view["instructed_by"] == "Brand DPO"
        assert _rows(hub, "SELECT count(*) FROM parcels") == [(0,)]
        assert _rows(hub, "SELECT id, brand_ref FROM customers ORDER BY id") == [
            (1, None), (2, "BRAND-REF-9001")]
        again = runner.invoke(app, ["request", "instruct-erasure", submitted, "--controller", "Brand SpA",
                                    "--instruction", "ref. 119", "--instructed-by", "someone", "--yes",
                                    "--format", "json"])
        assert again.exit_code == 0 and json.loads(again.output)["instruction"] == "ref. 118"
        listed = json.loads(runner.invoke(app, ["request", "show", submitted, "--format", "json"]).output)
        COMMANDS["request show"].model.model_validate(listed)
        assert [f["status"] for f in listed["forwardings"]] == ["erased"]
    finally:
        get_settings.cache_clear()
    # The API shows it erased, with the instruction and who gave it.
    [after] = client.get(f"{API}/{submitted}", headers=dpo).json()["forwardings"]
    assert after["status"] == "erased" and after["instruction"] == "ref. 118"


DEPOT = """
database: depot
url: {url}
register: ../register.yaml
tables:
  returns:
    subject: customer
    primary_key: id
    identities: {{email: email}}
    columns:
      email: {{category: contact.email, activities: [parcels], erase: delete}}
      label: {{category: transaction, activities: [parcels], erase: delete}}
"""


@pytest.mark.postgres
def test_an_erasure_shared_out_between_workers_records_its_forwardings(postgres_admin_url: str,
                                                                      tmp_path: Path) -> None:
    """Two databases: the erasure is planned by the job (to share it out between workers), not by the
    run, so the job's plan records the forwardings (PostgreSQL)."""
    with scratch_databases(["store", "hub", "depot"], tmp_path, postgres_admin_url) as urls:
        datasets = _write_map(tmp_path, urls["hub"])
        (datasets / "depot.yaml").write_text(DEPOT.format(url=urls["depot"]))
        store = open_store(urls["store"])
        deployment = Deployment.open(datasets, results=tmp_path / "results", create=True)
        try:
            _fill(deployment.engines["hub"])
            with deployment.engines["depot"].begin() as conn:
                conn.execute(sa.text("CREATE TABLE returns (id integer PRIMARY KEY, email text, label text)"))
                conn.execute(sa.text("INSERT INTO returns VALUES (30, 'alice@example.org', 'LABEL-55')"))
            request_id = _verified(store, "erasure", "alice@example.org")
            env = {"GARDE_DATASETS": str(datasets), "GARDE_REGISTERS": str(tmp_path / "register.yaml"),
                   "GARDE_RESULTS": str(tmp_path / "results"), "GARDE_OUTBOX": str(tmp_path / "outbox"),
                   "GARDE_MAILER": "file", **NO_SCHEDULES}
            jobs.submit(store, run_job, {"request_id": request_id, "datasets": None, "results": None,
                                         "today": None})
            with garde_worker(urls["store"], tmp_path / "w.log", "--concurrency", "2", env=env):
                end = time.monotonic() + 120
                while time.monotonic() < end:
                    with store.connect() as conn:
                        done = rights_get(conn, request_id)
                    if done.status in ("completed", "failed"):
                        break
                    time.sleep(0.1)
            assert done.status == "completed", (tmp_path / "w.log").read_text()
            with store.connect() as conn:  # planned by the job (the depot keeps all: no parts to share)
                assert parts_of(conn, request_id) == []
                [listed] = forwarding.listed(conn, request_id)
            assert listed["found"] == {"depot.returns": 1, "hub.customers": 1, "hub.parcels": 2}
            assert done.result["forwarded"] == [{"controller": "Brand SpA", "found": listed["found"]}]
            report = (tmp_path / "results" / request_id / "erasure.json").read_text()
            assert "Brand SpA" in report and "LABEL-55" not in report and "depot.returns" not in report
            with deployment.engines["depot"].connect() as conn:
                assert conn.execute(sa.text("SELECT label FROM returns")).scalars().all() == ["LABEL-55"]
            assert _rows(Hub(store, deployment, urls["hub"]), "SELECT count(*) FROM parcels") == [(2,)]
        finally:
            deployment.dispose()
            store.dispose()


ORPHAN = """
  - id: orphan
    name: A processor activity that names no controller
    role: processor
    purposes: [Store labels]
    data_subjects: [customer]
    data_categories: [identity, contact, transaction]
"""
ACTIVITIES = {"accounts": None, "parcels": "Brand SpA", "repairs": "Other Brand GmbH", "orphan": None}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uses=st.lists(st.sets(st.sampled_from(sorted(ACTIVITIES)), min_size=1), min_size=1, max_size=4))
def test_a_column_is_held_as_a_processor_exactly_when_every_activity_serves_a_named_controller(
        tmp_path: Path, uses: list[set[str]]) -> None:
    """The rule's edges: a controller activity, or a processor activity naming no controller, among
    a column's activities makes it the organisation's own; otherwise it is held for the union of
    the controllers named. A table is held as a whole when all its columns are."""
    register = REGISTER.replace("activities:\n", "activities:" + ORPHAN, 1).replace(
        "data_categories: [transaction]", "data_categories: [contact, transaction]")
    (tmp_path / "register.yaml").write_text(register)
    columns = "\n".join(f"      c{i}: {{category: contact.email, activities: [{', '.join(sorted(used))}]}}"
                        for i, used in enumerate(uses))
    (tmp_path / "datasets").mkdir(exist_ok=True)
    (tmp_path / "datasets" / "hub.yaml").write_text(
        "database: hub\nurl: sqlite://\nregister: ../register.yaml\ntables:\n  t:\n    subject: customer\n"
        "    primary_key: id\n    identifiable: false\n    columns:\n" + columns + "\n")
    datamap = load_datamap(tmp_path / "datasets")
    deployment = Deployment(datamap, {}, registers_of(datamap), tmp_path / "results")
    table = datamap.table(TableRef("hub", "t"))
    expected = {f"c{i}": tuple(sorted({ACTIVITIES[a] for a in used})) for i, used in enumerate(uses)
                if all(ACTIVITIES[a] for a in used)}
    assert held_for(deployment, table) == expected
    assert wholly_held(deployment, table) == (len(expected) == len(uses))
