"""Shared rows, for every identity kind a data map declares (garde.rights.shared).

garde's store links four kinds of identities to subjects (e-mail, phone, customer number, loyalty
card). Before, a row's value of any other kind the data map declares (a ``cookie_id``, a ``device_id``)
was nobody's: Bob's CRM contact holding Ana's phone and Bob's device id was judged by the ``owner``
flag alone, so without it Ana's erasure deleted Bob's row. Now such a value is another subject's when a
system of record holds it, in an authoritative column of its kind, on a row whose authoritative
e-mail (a kind the store links) is linked to that subject: the proof discovery itself takes. A
property over kinds (the store's own and words the data map declares) and over whose that e-mail is.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import locate
from garde.rights.shared import shared_rows
from garde.store import connect, migrate
from garde.subjects import IDENTIFIER_KINDS, ensure_subject, link_identifiers, subject_identifiers

ANA_PHONE = "+33611111111"
REGISTER = """
language: en
controller: {name: Mini Shop SAS, country: FR, supervisory_authority: CNIL}
activities:
  - id: accounts
    name: {en: Customer accounts}
    purposes: [{en: Manage your account}]
    data_subjects: [customer]
    data_categories: [contact]
    legal_bases: [contract]
    retention: ["3 years after last_contact"]
"""
MAP = """
database: biz
url: sqlite:///{db}
register: ../register.yaml
tables:
  accounts:                 # the system of record: whose e-mail is whose device
    subject: customer
    primary_key: id
    authoritative: {authoritative}
    identities: {{email: email, {kind}: device}}
    columns:
      email: {{category: contact.email, activities: [accounts], erase: delete}}
  contacts:                 # a contact form: Ana's phone, and a device (no owner declared)
    subject: customer
    primary_key: id
    identities: {{phone: phone, {kind}: device}}
    columns:
      phone: {{category: contact.phone, activities: [accounts], erase: delete}}
"""
KINDS = st.one_of(st.sampled_from([k for k in IDENTIFIER_KINDS if k not in ("email", "phone")]),
                  st.sampled_from(["cookie_id", "device_id", "crm_ref"]),
                  st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(
                      lambda k: k not in IDENTIFIER_KINDS and k != "visitor"))
HOLDERS = ("bob", "nobody", "ana")
_example = itertools.count()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(engine)
    yield engine
    engine.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=KINDS, holder=st.sampled_from(HOLDERS), authoritative=st.booleans())
@example(kind="customer_id", holder="ana", authoritative=True)  # failed before the links were proven
@example(kind="cookie_id", holder="ana", authoritative=True)
@example(kind="customer_id", holder="ana", authoritative=True)
@example(kind="cookie_id", holder="ana", authoritative=True)
@example(kind="loyalty_card", holder="ana", authoritative=True)
def test_a_value_a_system_of_record_gives_another_subject_makes_the_row_shared(
        store: sa.Engine, tmp_path: Path, kind: str, holder: str, authoritative: bool) -> None:
    n = next(_example)
    folder = tmp_path / str(n)
    (folder / "datasets").mkdir(parents=True)
    (folder / "register.yaml").write_text(REGISTER)
    (folder / "datasets" / "biz.yaml").write_text(MAP.format(db=folder / "biz.db", kind=kind,
                                                            authoritative=str(authoritative).lower()))
    deployment = Deployment.open(folder / "datasets", results=folder / "r", create=True)
    try:
        device, email = f"D{n:05d}", f"{holder}{n}@example.org"
        with deployment.engines["biz"].begin() as conn:
            conn.execute(sa.text("CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, device TEXT)"))
            conn.execute(sa.text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, phone TEXT, device TEXT)"))
            conn.execute(sa.text("INSERT INTO accounts VALUES (1, :e, :d)"), {"e": email, "d": device})
            conn.execute(sa.text("INSERT INTO contacts VALUES (1, :p, :d)"), {"p": ANA_PHONE, "d": device})
        with store.begin() as conn:
            ana = ensure_subject(conn, {"phone": ANA_PHONE})
            if holder == "bob":
                bob = ensure_subject(conn, {"email": email})
                if kind in IDENTIFIER_KINDS:  # a kind the store links: linked to Bob as his e-mail is
                    link_identifiers(conn, bob, [(kind, device)])
            elif holder == "ana":  # her own e-mail: both links proven (a request of hers proved them), so
                # her phone's proof opens her whole subject (garde.rights.vouching); claimed links would
                # give the request a subject of its own and keep the row as another's (the safe side)
                link_identifiers(conn, ana, [("email", email)], proven=True)
                conn.execute(subject_identifiers.update().where(subject_identifiers.c.subject_id == ana)
                             .values(proven=True))
            request = verify_out_of_band(conn, submit(conn, "erasure", {"phone": ANA_PHONE}).id, "checked",
                                         actor="agent:test", identities=["phone"])
        footprint = locate(deployment, request)
        with store.connect() as conn:
            shared = shared_rows(conn, deployment, footprint, request.subject_id)
        contact = {str(ref): keys for ref, keys in shared.items()}.get("biz.contacts", {})
        # Bob's: the store links his device (its kind the store's), or his account, a system of record,
        # holds it beside his e-mail the store links to him; Ana's or nobody's: hers, as before
        expected = holder == "bob" and (kind in IDENTIFIER_KINDS or authoritative)
        assert (1 in contact) == expected, (kind, holder, authoritative, shared)
        if expected:
            assert contact[1].matched == ("phone",) and contact[1].why == "other_subject"
    finally:
        deployment.dispose()
