"""An erasure's report (``erasure.json``): its JSON.

The report is written twice an erasure (with the plan, then completed) by pydantic-core's encoder
indented by two spaces (:func:`garde.rights.deployment.pretty`): the same text as Python's
``json.dumps(data, ensure_ascii=False, indent=2)`` (:func:`garde.rights.deployment.dumps`), byte for
byte, as the reports written before it.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given

from garde.rights.deployment import dumps, pretty
from tests.test_answer_files_json import PLAIN_DATA


@given(PLAIN_DATA)
def test_the_report_is_pythons_own_indented_json(data: Any) -> None:
    assert pretty(data) == json.dumps(data, ensure_ascii=False, indent=2).encode()


def test_a_report_of_a_plans_shape_is_the_text_it_was() -> None:
    report = {"request": "0b6c", "subject": None, "subjects": [], "date": "2025-06-01",
              "erased": [{"table": "shop.customers", "key": 7, "column": "email", "action": "hash"}],
              "kept": [{"table": "shop.invoices", "key": "INV-7", "column": "billing_name",
                        "reason": "legal obligation (activity invoicing): 'Zoé', kept until 2030-01-01"}],
              "unlinked": [], "shared": [], "own_copies": [{"file": "r/1/access.json", "removed": True}]}
    assert pretty(report) == dumps(report).encode()


def test_what_the_encoder_refuses_is_written_as_before() -> None:
    undecodable = {"erased": [{"table": "shop.notes", "key": "caf\udce9"}]}  # a lone surrogate
    assert pretty(undecodable) == dumps(undecodable)
