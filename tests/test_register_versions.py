"""Every change to the enforced register is an audit entry; reloading the same one adds nothing."""


import sqlalchemy as sa

from garde import audit
from garde.register import parse_register
from garde.register.versions import note_register, register_hash

TEXT = """
controller: {name: Shop}
activities:
  - {id: newsletter, name: Newsletter, legal_bases: [consent]}
  - {id: orders, name: Orders, legal_bases: [contract]}
"""


def test_changes_are_recorded_once_with_what_changed(engine: sa.Engine) -> None:
    first = parse_register(TEXT, "shop.yaml").register
    changed = parse_register(TEXT.replace("[contract]", "[legitimate_interests]")
                             .replace("  - {id: newsletter, name: Newsletter, legal_bases: [consent]}\n", "")
                             + "  - {id: ads, name: Ads, legal_bases: [consent]}\n", "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, first, "registers/shop.yaml")
        assert not note_register(conn, first, "registers/shop.yaml")
        assert note_register(conn, changed, "registers/shop.yaml")
        entries = list(audit.entries(conn, kind="register.changed"))
        assert audit.verify(conn).ok
    assert len(entries) == 2
    last = entries[-1]["payload"]
    assert (last["added"], last["removed"], last["changed"]) == (["ads"], ["newsletter"], ["orders"])
    assert last["previous_hash"] == register_hash(first)


def test_the_hash_ignores_formatting_but_not_content() -> None:
    a = parse_register(TEXT, "a.yaml").register
    b = parse_register(TEXT.replace("name: Newsletter", "name:   'Newsletter'"), "b.yaml").register
    c = parse_register(TEXT.replace("name: Newsletter", "name: News"), "c.yaml").register
    assert register_hash(a) == register_hash(b) != register_hash(c)


def test_a_register_level_statement_changes_the_activities_that_inherit_it(engine: sa.Engine) -> None:
    # A recipient added for the whole register changes what applies to every activity that does not
    # override it: the audit entry says which activities, not an empty list.
    first = parse_register(TEXT, "shop.yaml").register
    changed = parse_register(
        TEXT.replace("activities:\n", "recipients: [service_providers]\nactivities:\n")
        .replace("legal_bases: [contract]}", "legal_bases: [contract], overrides: [recipients]}"),
        "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, first, "registers/shop.yaml")
        assert note_register(conn, changed, "registers/shop.yaml")
        last = list(audit.entries(conn, kind="register.changed"))[-1]["payload"]
    assert last["changed"] == ["newsletter", "orders"]  # orders: its own `overrides` changed
    measures = TEXT.replace("activities:\n", "security_measures: [Backups]\nactivities:\n")
    only_register = parse_register(measures, "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, only_register, "registers/shop.yaml")
        last = list(audit.entries(conn, kind="register.changed"))[-1]["payload"]
    assert last["changed"] == ["newsletter", "orders"]
