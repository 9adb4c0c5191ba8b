"""Dataset files: every bad input names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.datasets import Masking, discovery_warnings, load_datamap, parse_dataset
from garde.problems import InputError

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "registers" / "reference-shop.yaml"

GOOD = """\
database: shop
url: sqlite:///shop.db
register: reference-shop.yaml
tables:
  customers:
    subject: customer
    primary_key: id
    identities: {email: email}
    timestamps: {collection: created_at, relationship_end: ended_at}
    columns:
      first_name: {category: identity.name, activities: [customer-relationship], erase: anonymise}
      email: {category: contact.email, activities: [customer-relationship], erase: hash}
  orders:
    subject: customer
    primary_key: id
    references: {customer_id: customers.id}
    timestamps: {collection: ordered_at, transaction_end: completed_at}
    columns:
      order_number: {category: transaction.order, activities: [order-management], erase: null}
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_dataset(text, "shop.yaml", base=REGISTER.parent)


def problems_of(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse(text)
    return [str(p) for p in info.value.problems]


def test_a_good_file_loads() -> None:
    dataset = parse(GOOD)
    orders = dataset.tables["orders"]
    assert orders.references["customer_id"].target == "customers"
    assert orders.columns["order_number"].erase == Masking("null")
    assert dataset.tables["customers"].timestamp("relationship_end") == "ended_at"


def test_unknown_category_names_file_line_field_and_suggests() -> None:
    assert problems_of(GOOD.replace("identity.name", "identity.nmae")) == [
        "shop.yaml:11: tables.customers.columns.first_name.category: unknown data category "
        "'identity.nmae' (did you mean `identity.name`?)"
    ]


def test_unknown_activity_is_an_error_with_the_closest_activity() -> None:
    assert problems_of(GOOD.replace("[order-management]", "[order-managment]")) == [
        "shop.yaml:19: tables.orders.columns.order_number.activities[0]: unknown activity "
        "'order-managment' (not in the register) (did you mean `order-management`?)"
    ]


def test_a_category_the_activity_does_not_declare_is_an_error() -> None:
    (found,) = problems_of(GOOD.replace("category: transaction.order", "category: special.health"))
    assert found.startswith(
        "shop.yaml:19: tables.orders.columns.order_number.activities[0]: activity "
        "'order-management' does not declare data category 'special.health'"
    )


def test_unknown_trigger_event_is_an_error() -> None:
    assert problems_of(GOOD.replace("relationship_end:", "relation_end:")) == [
        "shop.yaml:9: tables.customers.timestamps.relation_end: unknown trigger event 'relation_end' "
        "(did you mean `relationship_end`?)"
    ]


def test_a_table_without_a_path_to_an_identity_is_an_error() -> None:
    found = problems_of(GOOD.replace("    references: {customer_id: customers.id}\n", ""))
    assert found == [
        "shop.yaml:13: tables.orders: holds personal data but no identity or chain of references leads "
        "to it: declare `identities`, a reference, or `identifiable: false` (GDPR Art. 11)"
    ]


def test_unknown_referenced_table_and_column() -> None:
    assert problems_of(GOOD.replace("customers.id}", "customer.id}")) == [
        "shop.yaml:16: tables.orders.references.customer_id: unknown table 'customer' "
        "(did you mean `customers`?)",
        "shop.yaml:13: tables.orders: holds personal data but no identity or chain of references leads "
        "to it: declare `identities`, a reference, or `identifiable: false` (GDPR Art. 11)",
    ]
    assert problems_of(GOOD.replace("customers.id}", "customers.idd}")) == [
        "shop.yaml:16: tables.orders.references.customer_id: table 'customers' has no annotated column "
        "'idd' (did you mean `id`?)"
    ]


def test_unknown_field_and_bad_strategy() -> None:
    found = problems_of(
        GOOD.replace("primary_key: id\n    references", "primary_kye: id\n    references").replace(
            "erase: hash", "erase: hsah"
        )
    )
    assert (
        "shop.yaml:12: tables.customers.columns.email.erase: unknown erase strategy 'hsah'; expected one "
        "of delete, null, hash, fixed, anonymise (did you mean `hash`?)" in found
    )
    assert "shop.yaml:15: tables.orders.primary_kye: unknown field (did you mean `primary_key`?)" in found


def test_missing_register_file_is_reported_on_the_register_field() -> None:
    (found,) = problems_of(GOOD.replace("reference-shop.yaml", "nowhere.yaml"))
    assert found.startswith("shop.yaml:3: register: register 'nowhere.yaml' cannot be used")


def test_the_shop_maps_load_and_check_clean() -> None:
    datamap = load_datamap(ROOT / "datasets")
    assert set(datamap.datasets) == {"shop", "crm"}
    assert len(datamap.tables()) == 34  # 33 and the archive of invoices
    assert datamap.table(("shop", "invoices_archive")).archive_of == "invoices"
    assert {"email", "phone", "customer_id", "loyalty_card", "cookie_id"} == set(datamap.identity_kinds())
    order = datamap.deletion_order()
    assert (
        order.index(("shop", "refunds")) < order.index(("shop", "returns")) < order.index(("shop", "orders"))
    )


def test_the_normalised_map_is_itself_a_valid_dataset_file(tmp_path: Path) -> None:
    import yaml

    datamap = load_datamap(ROOT / "datasets")
    for data in datamap.to_data():
        data["register"] = str(REGISTER)
        path = tmp_path / f"{data['database']}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    again = load_datamap(tmp_path)
    assert [t.to_data() for t in again] == [t.to_data() for t in datamap]


# -- authority: which identities may extend a subject (issue 9) ---------------------------------------

def test_authority_is_declared_per_table_or_per_identity_and_reads_back() -> None:
    phone = "{column: phone, authoritative: false}"
    dataset = parse(GOOD.replace("    identities: {email: email}\n", "    authoritative: true\n"
                                 f"    identities: {{email: email, phone: {phone}}}\n")
                    .replace("references: {customer_id: customers.id}",
                             "identities: {loyalty_card: {column: card, authoritative: true}}\n"
                             "    references: {customer_id: customers.id, "
                             "email: {to: customers.email}, ref: {to: customers.id, claim: true}}"))
    customers, orders = dataset.tables["customers"], dataset.tables["orders"]
    assert customers.identities == {"email": "email", "phone": "phone"}
    assert customers.authoritative == {"email"} and orders.authoritative == {"loyalty_card"}
    # A reference naming the target's primary key is structure; any other column may be typed by a
    # person: a claim unless the file says otherwise.
    assert [r.claim for r in orders.references.values()] == [False, True, True]
    assert customers.to_data()["identities"] == {"email": {"column": "email", "authoritative": True},
                                                 "phone": "phone"}
    assert orders.to_data()["references"] == {"customer_id": "customers.id",
                                              "email": {"to": "customers.email", "claim": True},
                                              "ref": {"to": "customers.id", "claim": True}}


def test_bad_authority_declarations_name_file_line_and_field() -> None:
    bad = GOOD.replace("    identities: {email: email}\n",
                       "    authoritative: yes please\n"
                       "    identities: {email: {column: email, authoritative: 1, checked: true}}\n").replace(
        "references: {customer_id: customers.id}",
        "authoritative: true\n    references: {customer_id: {to: customers.id, claim: maybe, by: x}}")
    assert problems_of(bad) == [
        "shop.yaml:8: tables.customers.authoritative: expected true or false",
        "shop.yaml:9: tables.customers.identities.email.checked: unknown field",
        "shop.yaml:9: tables.customers.identities.email.authoritative: expected true or false",
        "shop.yaml:17: tables.orders.authoritative: the table declares no `identities`: `authoritative` "
        "says which identities the business has checked",
        "shop.yaml:18: tables.orders.references.customer_id.by: unknown field",
        "shop.yaml:18: tables.orders.references.customer_id.claim: expected true or false",
    ]


def test_the_shop_is_the_system_of_record_and_no_crm_table_is() -> None:
    datamap = load_datamap(ROOT / "datasets")
    assert {(t.ref, kind) for t in datamap for kind in t.authoritative} == {
        (("shop", "customers"), "email"), (("shop", "customers"), "phone"),
        (("shop", "customers"), "customer_id"), (("shop", "loyalty_accounts"), "loyalty_card")}
    assert discovery_warnings(datamap) == []
    crm = load_datamap(ROOT / "datasets" / "crm.yaml")
    assert "no table is authoritative" in discovery_warnings(crm)[0]
