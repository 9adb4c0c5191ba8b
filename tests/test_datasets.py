"""Dataset table labels: what a data subject reads instead of a table name."""

import re

import pytest

from garde.datasets import parse_dataset
from garde.problems import InputError

from .conftest import REGISTERS


def test_a_table_label_is_a_text_or_a_language_map() -> None:
    text = f"""
database: crm
url: sqlite://
register: {REGISTERS / "reference-shop.yaml"}
tables:
  contacts:
    label: LABEL
    primary_key: id
"""
    table = parse_dataset(text.replace("LABEL", "{fr: Fiche contact, en: Contact record}"),
                          "crm.yaml").tables["contacts"]
    assert (table.label_in("fr"), table.label_in("it")) == ("Fiche contact", "Contact record")
    assert parse_dataset(text.replace("LABEL", "Contacts"), "crm.yaml").tables["contacts"].label_in(
        "fr") == "Contacts"
    with pytest.raises(InputError, match=re.escape("crm.yaml:7: tables.contacts.label: expected a text")):
        parse_dataset(text.replace("LABEL", "[1, 2]"), "crm.yaml")
