"""Shared rows: another person's row that holds the requester's identity (garde.rights.shared).

Bob's CRM contact was created with Ana's phone. Ana asks: her erasure erases her phone there and
leaves Bob's row, his e-mail, his name and the note under his contact; her access answer shows none of
Bob's values; her rectification rewrites her own rows only; staff see the row listed. The rule, on
business databases in SQLite and PostgreSQL, through the library, the CLI, the API, the privacy center
and the dashboard, and as a property over every kind of owner value.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.api import create_app
from garde.cli import app
from garde.datasets import discovery_warnings, load_datamap, parse_dataset
from garde.problems import InputError
from garde.rights import submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.erasure import apply_steps, plan_steps, store_plan
from garde.rights.erasure_plan import plan_erasure
from garde.rights.intake import get_request
from garde.rights.running import locate, run
from garde.rights.shared import is_shared, shared_rows
from garde.settings import Settings, get_settings
from garde.store import connect, migrate
from garde.subjects import ensure_subject, link_identifiers, subject_identifiers
from tests.api_support import Client, bearer, new_keys
from tests.test_processor_forwarding import ME, _privacy_request
from tests.test_rights_requests import _database
from tests.web_support import log_in

ANA, ANA_PHONE, NEW_PHONE = "ana@example.org", "+33611111111", "+33655555555"
BOBS = ("bob@example.org", "Bob", "red scarf", "carl@example.org", "Carl Dupont")

REGISTER = """
language: en
controller: {name: Mini Shop SAS, country: FR, supervisory_authority: CNIL}
activities:
  - id: accounts
    name: {en: Customer accounts}
    purposes: [{en: Manage your account}]
    data_subjects: [customer]
    data_categories: [identity, contact]
    legal_bases: [contract]
    retention: ["3 years after last_contact"]
  - id: prospection
    name: {en: Prospection}
    purposes: [{en: Tell you about our products}]
    data_subjects: [customer]
    data_categories: [identity, contact, communication]
    legal_bases: [consent]
    retention: ["3 years after last_contact"]
"""
MAP = """
database: biz
url: {url}
register: ../register.yaml
tables:
  customers:
    subject: customer
    primary_key: id
    authoritative: true
    identities: {{email: email, phone: phone}}
    owner: email
    columns:
      email: {{category: contact.email, activities: [accounts], erase: delete}}
      phone: {{category: contact.phone, activities: [accounts], erase: delete}}
      name: {{category: identity.name, activities: [accounts], erase: delete}}
  contacts:
    subject: customer
    primary_key: id
    identities: {{email: email, phone: phone}}
    {owner}
    columns:
      email: {{category: contact.email, activities: [prospection], erase: delete}}
      phone: {{category: contact.phone, activities: [prospection], erase: delete}}
      first_name: {{category: identity.name, activities: [prospection], erase: delete}}
  notes:
    subject: customer
    primary_key: id
    references: {{contact_id: contacts.id, lead_id: leads.id}}
    columns:
      body: {{category: communication.message, activities: [prospection], erase: delete}}
  leads:
    subject: customer
    primary_key: id
    identities: {{email: email, phone: phone}}
    columns:
      email: {{category: contact.email, activities: [prospection], erase: delete}}
      phone: {{category: contact.phone, activities: [prospection], erase: delete}}
      name: {{category: identity.name, activities: [prospection], erase: delete}}
"""


def _schema() -> sa.MetaData:
    meta = sa.MetaData()
    for name, extra in (("customers", "name"), ("contacts", "first_name"), ("leads", "name")):
        sa.Table(name, meta, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("email", sa.String(200)), sa.Column("phone", sa.String(64)),
                 sa.Column(extra, sa.String(100)))
    sa.Table("notes", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("contact_id", sa.ForeignKey("contacts.id"), nullable=False),
             sa.Column("lead_id", sa.ForeignKey("leads.id")), sa.Column("body", sa.Text))
    return meta


def _fill(engine: sa.Engine) -> None:
    meta = _schema()
    meta.create_all(engine)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(t["customers"].insert(), [
            {"id": 1, "email": ANA, "phone": ANA_PHONE, "name": "Ana Lima"},
            {"id": 2, "email": "bob@example.org", "phone": "+33622222222", "name": "Bob Stone"}])
        conn.execute(t["contacts"].insert(), [
            {"id": 1, "email": ANA, "phone": None, "first_name": "Ana"},
            # Bob's contact, created with Ana's phone (a typo at the counter)
            {"id": 2, "email": "bob@example.org", "phone": ANA_PHONE, "first_name": "Bob"},
            # a call logged with Ana's phone and no e-mail: nobody else's, hers as before
            {"id": 3, "email": None, "phone": ANA_PHONE, "first_name": "Walk-in"}])
        conn.execute(t["notes"].insert(), [
            {"id": 1, "contact_id": 1, "body": "Ana's parcel"},
            {"id": 2, "contact_id": 2, "body": "Bob wants the red scarf"},
            {"id": 3, "contact_id": 3, "body": "Call back"}])
        conn.execute(t["leads"].insert(), [
            # no owner declared: Carl's address is linked to Carl in garde's store, so the row is his
            {"id": 1, "email": "carl@example.org", "phone": ANA_PHONE, "name": "Carl Dupont"},
            # nobody garde knows: Ana's row as before (the DPO has not said whose a lead is)
            {"id": 2, "email": "dan@example.org", "phone": ANA_PHONE, "name": "Dan Roy"}])


def _write_map(folder: Path, url: str, owner: bool = True) -> Path:
    (folder / "register.yaml").write_text(REGISTER)
    (folder / "datasets").mkdir(exist_ok=True)
    (folder / "datasets" / "biz.yaml").write_text(MAP.format(url=url, owner="owner: email" if owner else ""))
    return folder / "datasets"


@dataclass
class Biz:
    store: sa.Engine
    deployment: Deployment
    url: str

    def rows(self, table: str) -> dict[int, tuple[Any, ...]]:
        with self.deployment.engines["biz"].connect() as conn:
            return {r[0]: tuple(r[1:]) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))}


@pytest.fixture
def biz(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Biz]:
    kind = engine.dialect.name
    admin = request.getfixturevalue("postgres_admin_url") if kind == "postgresql" else None
    url = _database(kind, tmp_path, "biz", admin)
    deployment = Deployment.open(_write_map(tmp_path, url), results=tmp_path / "results", create=True)
    _fill(deployment.engines["biz"])
    with engine.begin() as conn:
        ensure_subject(conn, {"email": "carl@example.org"})
    yield Biz(engine, deployment, url)
    deployment.dispose()
    if admin is not None:
        drop = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        drop.dispose()


def _verified(store: sa.Engine, kind: str, identities: dict[str, str], **details: Any) -> str:
    with store.begin() as conn:
        request = submit(conn, kind, identities, details=details)
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=list(identities))
    return request.id


def _shared(result: dict[str, Any]) -> set[tuple[str, Any, tuple[str, ...]]]:
    return {(row["table"], row["key"], tuple(row["matched"])) for row in result.get("shared", [])}


EXPECTED = {("biz.contacts", 2, ("phone",)), ("biz.leads", 1, ("phone",)), ("biz.notes", 2, ())}


def test_anas_erasure_leaves_bobs_contact_with_his_email_and_without_her_phone(biz: Biz) -> None:
    request_id = _verified(biz.store, "erasure", {"email": ANA})
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    assert biz.rows("contacts") == {2: ("bob@example.org", None, "Bob")}
    assert biz.rows("notes") == {2: (2, None, "Bob wants the red scarf")}
    assert biz.rows("leads") == {1: ("carl@example.org", None, "Carl Dupont")}
    assert biz.rows("customers") == {2: ("bob@example.org", "+33622222222", "Bob Stone")}
    assert _shared(done.result) == EXPECTED
    report = (biz.deployment.results / request_id / "erasure.json").read_text()
    for text in (report, json.dumps(done.result)):
        assert not any(value in text for value in BOBS)
    with biz.store.connect() as conn:
        steps = conn.execute(sa.text("SELECT table_name, action, columns, keys FROM erasure_steps "
                                     "WHERE request_id = :r AND action = 'shared' ORDER BY id"),
                             {"r": request_id}).all()
    assert [tuple(s) for s in steps] == [("contacts", "shared", '["phone"]', "[2]"),
                                         ("leads", "shared", '["phone"]', "[1]")]


def test_a_plan_stored_before_a_stop_resumes_its_shared_steps_once(biz: Biz) -> None:
    request_id = _verified(biz.store, "erasure", {"email": ANA})
    with biz.store.connect() as conn:
        request = get_request(conn, request_id)
    footprint = locate(biz.deployment, request)
    report, steps = store_plan(biz.store, request, biz.deployment, footprint)  # then the worker is killed
    assert report is not None and steps is not None
    assert [s.action for s in steps].count("shared") == 2
    assert biz.rows("contacts")[2] == ("bob@example.org", ANA_PHONE, "Bob")  # nothing applied yet
    done = run(biz.store, request_id, biz.deployment)  # resumes the stored plan
    assert done.status == "completed", done.result
    report_file = json.loads((biz.deployment.results / request_id / "erasure.json").read_text())
    assert report_file["statements"] == len(steps)
    assert biz.rows("contacts") == {2: ("bob@example.org", None, "Bob")}
    applied: dict[str, tuple[int, int]] = {}
    apply_steps(biz.deployment, [s for s in steps if s.action == "shared"], applied)  # once more
    assert applied == {"biz": (2, 0)}


def test_anas_access_shows_none_of_bobs_values(biz: Biz) -> None:
    request_id = _verified(biz.store, "access", {"email": ANA})
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    answer = json.loads((biz.deployment.results / request_id / "access.json").read_text())
    report_ready(biz.deployment.results / request_id, biz.deployment.results)  # as every reader does
    html = (biz.deployment.results / request_id / "access.html").read_text()
    for text in (json.dumps(answer), html):
        assert not any(value in text for value in BOBS), [v for v in BOBS if v in text]
    # Bob's contact shows her phone alone, not even its key (his contact number: Bob's data); the note
    # found only through his contact holds nothing of hers and is left out
    contacts = answer["tables"]["biz.contacts"]
    assert {"id": None, "email": None, "phone": ANA_PHONE, "first_name": None} in contacts
    assert [row["id"] for row in answer["tables"]["biz.contacts"]] == [1, None, 3]
    assert [row["id"] for row in answer["tables"]["biz.notes"]] == [1, 3]
    assert {field["key"] for category in answer["categories"] for field in category["fields"]
            if field["value"] == ANA_PHONE and "contacts" in field["where"]} == {None, 3}
    assert _shared(done.result) == EXPECTED


THEIRS = {(table, key) for table, key, _ in EXPECTED}


def _names_no_row_of_theirs(told: Any) -> None:
    """Nothing the subject is given names a row of another person by its key: at most a count per table."""
    if isinstance(told, dict):
        assert (told.get("table"), told.get("key")) not in THEIRS, told
        for value in told.values():
            _names_no_row_of_theirs(value)
    elif isinstance(told, list):
        for value in told:
            _names_no_row_of_theirs(value)


def test_anas_erasure_report_names_no_row_of_another_person(biz: Biz) -> None:
    """Before: ``erasure.json``, which Ana downloads, listed Bob's contact, Carl's lead and the note under
    Bob's contact by table and key, and her phone's erasure there row by row; a key may be Bob's own
    data (his contact number, an address keying a table). Now it counts the rows holding her values
    among another person's data, per table; staff's result keeps table and key."""
    request_id = _verified(biz.store, "erasure", {"email": ANA})
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    report = json.loads((biz.deployment.results / request_id / "erasure.json").read_text())
    _names_no_row_of_theirs(report)
    assert report["shared"] == [{"table": "biz.contacts", "rows": 1}, {"table": "biz.leads", "rows": 1}]
    mine = [(e["table"], e.get("key"), e.get("rows"), e["column"]) for e in report["erased"] if "column" in e]
    assert ("biz.contacts", None, 1, "phone") in mine and ("biz.leads", None, 1, "phone") in mine
    assert {(e["table"], e["key"]) for e in report["erased"] if "key" in e} == {
        ("biz.customers", 1), ("biz.contacts", 1), ("biz.contacts", 3), ("biz.leads", 2), ("biz.notes", 1),
        ("biz.notes", 3)}  # her own rows, by key as before
    assert _shared(done.result) == EXPECTED  # staff's view
    with biz.store.connect() as conn:  # the audit entries an access answer shows her
        payloads = [json.loads(p) for p in conn.execute(sa.text(
            "SELECT payload FROM audit_log WHERE kind IN ('request.completed', 'request.erasure_planned')"
        )).scalars()]
    assert payloads and all("shared" in p.get("result", p) for p in payloads)
    _names_no_row_of_theirs(payloads)
    completed = next(p for p in payloads if "result" in p)
    assert completed["result"]["shared"] == report["shared"]


def test_a_resumed_erasure_still_gives_staff_the_shared_rows(biz: Biz) -> None:
    """The plan stored, then the run stopped: the resumed run reads staff's list from the store, never
    from Ana's report (which no longer holds it)."""
    request_id = _verified(biz.store, "erasure", {"email": ANA})
    with biz.store.connect() as conn:
        request = get_request(conn, request_id)
    store_plan(biz.store, request, biz.deployment, locate(biz.deployment, request))
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    assert _shared(done.result) == EXPECTED
    _names_no_row_of_theirs(json.loads((biz.deployment.results / request_id / "erasure.json").read_text()))


def test_anas_portability_carries_none_of_bobs_values(biz: Biz) -> None:
    request_id = _verified(biz.store, "portability", {"email": ANA})
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    with zipfile.ZipFile(biz.deployment.results / request_id / "portability.zip") as archive:
        data = json.loads(archive.read("data.json"))
        texts = [archive.read(name).decode() for name in archive.namelist()]
    assert {"email": None, "phone": ANA_PHONE, "first_name": None} in data["biz.contacts"]
    assert len(data["biz.notes"]) == 2  # hers; not the note found only through Bob's contact
    assert not any(value in text for text in texts for value in BOBS)
    assert _shared(done.result) == EXPECTED


def test_rectifying_anas_phone_leaves_bobs_row(biz: Biz) -> None:
    request_id = _verified(biz.store, "rectification", {"email": ANA, "phone": ANA_PHONE},
                           corrections={"contact.phone": NEW_PHONE})
    with biz.store.begin() as conn:
        verify_out_of_band(conn, request_id, "new number called back", actor="agent:test",
                           identities=["new_phone"])
    done = run(biz.store, request_id, biz.deployment)
    assert done.status == "completed", done.result
    assert biz.rows("contacts")[2] == ("bob@example.org", ANA_PHONE, "Bob")  # Bob's row, as it was
    assert biz.rows("leads")[1] == ("carl@example.org", ANA_PHONE, "Carl Dupont")
    assert biz.rows("contacts")[3] == (None, NEW_PHONE, "Walk-in")  # Ana's rows are corrected
    assert biz.rows("leads")[2] == ("dan@example.org", NEW_PHONE, "Dan Roy")
    assert biz.rows("customers")[1] == (ANA, NEW_PHONE, "Ana Lima")
    assert _shared(done.result) == EXPECTED


def test_without_the_owner_flag_a_row_nobody_else_is_known_to_hold_is_erased_as_before(
        engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The DPO opts in table by table: without `owner`, only a value garde links to another subject
    makes a row shared (Carl's lead), not an unknown one (Bob's contact, Dan's lead)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the data map's rule; the databases are covered above")
    url = _database("sqlite", tmp_path, "biz", None)
    deployment = Deployment.open(_write_map(tmp_path, url, owner=False), results=tmp_path / "results",
                                 create=True)
    _fill(deployment.engines["biz"])
    with engine.begin() as conn:
        ensure_subject(conn, {"email": "carl@example.org"})
    biz = Biz(engine, deployment, url)
    try:
        done = run(engine, _verified(engine, "erasure", {"email": ANA}), deployment)
        assert biz.rows("contacts") == {}
        assert biz.rows("leads") == {1: ("carl@example.org", None, "Carl Dupont")}
        assert _shared(done.result) == {("biz.leads", 1, ("phone",))}
    finally:
        deployment.dispose()


# -- the data map's flag -------------------------------------------------------------------------------


def test_owner_must_name_one_identity_of_the_table(tmp_path: Path) -> None:
    (tmp_path / "register.yaml").write_text(REGISTER)
    base = tmp_path / "datasets"
    base.mkdir()
    for owner, message in (("mail", "owner` names one identity kind"), ("[email, phone]", "owner")):
        with pytest.raises(InputError, match=message) as raised:
            parse_dataset(MAP.format(url="sqlite://", owner=f"owner: {owner}"), base=base)
        assert "tables.contacts.owner" in str(raised.value)
    dataset = parse_dataset(MAP.format(url="sqlite://", owner="owner: email"), base=base)
    assert dataset.tables["contacts"].owner_column == "email"
    assert dataset.to_data()["tables"]["contacts"]["owner"] == "email"
    again = parse_dataset(json.dumps(dataset.to_data()), base=base)  # round trip
    assert again.tables["contacts"].owner == "email"


def test_datasets_check_warns_of_a_table_with_two_identities_and_no_owner(tmp_path: Path) -> None:
    datasets = _write_map(tmp_path, f"sqlite:///{tmp_path / 'biz.db'}")
    warnings = discovery_warnings(load_datamap(datasets))
    assert [w.split(" holds")[0] for w in warnings] == ["biz.leads"]
    result = CliRunner().invoke(app, ["datasets", "check", str(datasets), "--offline"])
    assert result.exit_code == 0 and "biz.leads holds 2 identities" in result.output
    assert "biz.contacts holds" not in result.output


# -- the rule, as a property -----------------------------------------------------------------------------

HOLDERS = ("proven", "subject", "other", "nobody", "no identity", None)
VALUES = {"proven": ANA, "subject": "ana.work@example.org", "other": "carl@example.org",
          "nobody": "stranger@example.org", "no identity": "n/a", None: None}


@dataclass
class _Lab:
    store: sa.Engine
    deployments: dict[bool, Deployment]
    subject: str


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[_Lab]:
    store = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(store)
    deployments = {}
    for flag in (True, False):
        folder = tmp_path / str(flag)
        folder.mkdir()
        url = f"sqlite:///{folder / 'biz.db'}"
        deployments[flag] = Deployment.open(_write_map(folder, url, owner=flag), results=folder / "r",
                                            create=True)
        _schema().create_all(deployments[flag].engines["biz"])
    with store.begin() as conn:
        subject = ensure_subject(conn, {"email": ANA, "phone": ANA_PHONE})
        link_identifiers(conn, subject, [("email", VALUES["subject"])])
        # links proofs made (staff checked them): the phone she proves opens her subject
        # (garde.rights.vouching; links the shop's systems claimed would give the request one of its own)
        conn.execute(subject_identifiers.update().where(subject_identifiers.c.subject_id == subject)
                     .values(proven=True))
        ensure_subject(conn, {"email": VALUES["other"]})
    yield _Lab(store, deployments, subject)
    for deployment in deployments.values():
        deployment.dispose()
    store.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.tuples(st.sampled_from(HOLDERS), st.booleans()), min_size=1, max_size=6),
       flag=st.booleans())
def test_the_erasure_follows_the_rule_for_any_owner_value(lab: _Lab, owners: list[tuple[str | None, bool]],
                                                          flag: bool) -> None:
    """Contacts each matched by Ana's phone, their owner e-mail proven, linked to her subject, linked to
    another subject, linked to nobody, no e-mail at all (n/a) or empty: with the flag the owner
    decides, without it only another subject's value; a shared row keeps its e-mail and name and
    loses Ana's phone, the others go, and the notes under a shared contact stay, unless they also
    point at a row of Ana's own (her lead): a note reached through her own row is hers."""
    deployment = lab.deployments[flag]
    engine = deployment.engines["biz"]
    meta = _schema()
    with engine.begin() as conn:
        for name in ("notes", "contacts", "leads"):
            conn.execute(meta.tables[name].delete())
        conn.execute(meta.tables["leads"].insert(), [
            {"id": 1, "email": ANA, "phone": ANA_PHONE, "name": "Ana"}])
        conn.execute(meta.tables["contacts"].insert(), [
            {"id": i, "email": VALUES[owner], "phone": ANA_PHONE, "first_name": f"P{i}"}
            for i, (owner, _) in enumerate(owners, start=1)])
        conn.execute(meta.tables["notes"].insert(), [
            {"id": i, "contact_id": i, "lead_id": 1 if also_hers else None, "body": f"N{i}"}
            for i, (_, also_hers) in enumerate(owners, start=1)])
    with lab.store.begin() as conn:
        request = verify_out_of_band(conn, submit(conn, "erasure", {"phone": ANA_PHONE}).id, "checked",
                                     actor="agent:test", identities=["phone"])
    assert request.subject_id == lab.subject  # the phone she proved is linked to her
    footprint = locate(deployment, request)
    with lab.store.connect() as conn:
        shared = shared_rows(conn, deployment, footprint, request.subject_id)
    plan = plan_erasure(deployment, footprint, [], request.subject_id, date.today(), shared=shared)
    apply_steps(deployment, plan_steps(deployment, plan), {})
    expected = {i for i, (owner, _) in enumerate(owners, start=1)  # "n/a" is no e-mail: as if empty
                if is_shared("email" if flag else None,
                             {"email": owner} if owner in ("proven", "subject", "other", "nobody") else {})}
    rule = {i for i, (owner, _) in enumerate(owners, start=1)
            if (owner in ("other", "nobody") if flag else owner == "other")}
    assert expected == rule
    with engine.connect() as conn:
        contacts = {r[0]: tuple(r[1:]) for r in conn.execute(sa.text("SELECT * FROM contacts"))}
        notes = {r[0] for r in conn.execute(sa.text("SELECT id FROM notes"))}
        leads = conn.execute(sa.text("SELECT count(*) FROM leads")).scalar_one()
    assert contacts == {i: (VALUES[owners[i - 1][0]], None, f"P{i}") for i in expected}
    assert notes == {i for i in expected if not owners[i - 1][1]}
    assert leads == 0


# -- the edges: the privacy center (Ana), the API and the dashboard (staff), the CLI (the DPO) ----------

API = "/api/v1/requests"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Client, dict[str, str], Biz]]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    url = _database(request.param, tmp_path, "biz", admin)
    store_url = f"sqlite:///{tmp_path / 'garde.db'}"
    keys = new_keys(store_url)
    datasets = _write_map(tmp_path, url)
    deployment = Deployment.open(datasets, results=tmp_path / "results", create=True)
    _fill(deployment.engines["biz"])
    settings_ = Settings(database_url=store_url, registers=tmp_path / "register.yaml", datasets=datasets,
                         outbox=tmp_path / "outbox", results=tmp_path / "results", mailer="file")
    store = connect(store_url)
    with store.begin() as conn:
        for email in (ANA, "carl@example.org"):
            ensure_subject(conn, {"email": email})
    try:
        with Client(create_app(settings_)).running() as client:
            yield client, keys, Biz(store, deployment, url)
    finally:
        store.dispose()
        deployment.dispose()
        if admin is not None:
            drop = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with drop.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
            drop.dispose()


def test_ana_asks_in_the_privacy_center_and_staff_see_the_shared_rows(
        served: tuple[Client, dict[str, str], Biz], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, keys, biz = served
    outbox, agent = tmp_path / "outbox", bearer(keys["agent"])
    ana = client.from_address("10.9.0.1")
    access = _privacy_request(ana, ANA, outbox, "access")
    ran = client.post(f"{API}/{access}/run", headers=agent)
    assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
    for name in ("access.json", "access.html"):
        answer = ana.get(f"{ME}/requests/{access}/files/{name}")
        assert answer.status_code == 200
        assert not any(value in answer.text for value in BOBS), (name, [v for v in BOBS if v in answer.text])

    erasure = _privacy_request(ana, ANA, outbox, "erasure")
    ran = client.post(f"{API}/{erasure}/run", headers=agent)
    assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
    assert biz.rows("contacts") == {2: ("bob@example.org", None, "Bob")}
    proof = (tmp_path / "results" / erasure / "erasure.json").read_text()  # her answer file
    assert not any(value in proof for value in BOBS)
    shown = client.get(f"{API}/{erasure}", headers=agent).json()
    assert _shared(shown["result"]) == EXPECTED
    assert not any(value in json.dumps(shown) for value in BOBS)

    log_in(client, keys["dpo"])
    page = client.get(f"/dpo/requests/{erasure}").text
    table = page[page.index('<table id="shared-rows">'):page.index("</table>", page.index("shared-rows"))]
    assert table.count("<tr>") == 4 and "biz.contacts" in table and "biz.notes" in table
    assert not any(value in page for value in BOBS)
    french = client.get(f"/dpo/requests/{erasure}?lang=fr").text
    assert "Lignes d&#39;une autre personne" in french

    monkeypatch.setenv("GARDE_DATABASE_URL", str(biz.store.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("GARDE_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("GARDE_RESULTS", str(tmp_path / "results"))
    get_settings.cache_clear()
    try:
        shown_text = CliRunner().invoke(app, ["request", "show", erasure])
        assert shown_text.exit_code == 0, shown_text.output
        assert "SHARED ROW biz.contacts 2: another person's" in shown_text.output
        assert not any(value in shown_text.output for value in BOBS)
        # Bob, at the counter, gives his new phone: the DPO runs it from the CLI; his contact is his.
        runner = CliRunner()
        submitted = runner.invoke(app, ["request", "submit", "--type", "rectification", "--email",
                                        "bob@example.org", "--phone", "+33622222222", "--set",
                                        f"contact.phone={NEW_PHONE}", "--no-code", "--format", "json"])
        assert submitted.exit_code == 0, submitted.output
        bobs = json.loads(submitted.stdout)["request"]["id"]
        checked = runner.invoke(app, ["request", "verify", bobs, "--out-of-band", "ID card", "--checked",
                                      "email", "--checked", "phone", "--checked", "new_phone"])
        assert checked.exit_code == 0, checked.output
        ran_cli = runner.invoke(app, ["request", "run", bobs, "--yes", "--format", "json"])
        assert ran_cli.exit_code == 0, ran_cli.output
        assert biz.rows("contacts") == {2: ("bob@example.org", NEW_PHONE, "Bob")}
        assert biz.rows("customers") == {2: ("bob@example.org", NEW_PHONE, "Bob Stone")}
        assert "shared" not in (json.loads(ran_cli.stdout).get("result") or {})
    finally:
        get_settings.cache_clear()
