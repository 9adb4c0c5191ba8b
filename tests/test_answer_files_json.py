"""An access answer's files: their JSON.

``access.json`` and the run's words for the report (:data:`garde.rights.access.WORDS`) are written by
pydantic-core's encoder on one line without spaces (:func:`garde.rights.deployment.compact`): the
same text as Python's ``json.dumps`` with ``ensure_ascii=False`` and the separators ``,`` and ``:``,
byte for byte (numbers with an exponent aside: ``1e-7`` for ``1e-07``, the same number).
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from garde.rights.deployment import compact

_TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # a lone surrogate is no UTF-8 text
_SCALARS = st.none() | st.booleans() | st.integers() | _TEXT
#: garde's plain data (floats aside): also an erasure's report's (tests/test_erasure_report_json.py)
PLAIN_DATA = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=30)


@given(PLAIN_DATA)
def test_compact_json_is_pythons_own_without_spaces(data: Any) -> None:
    assert compact(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@given(st.floats(allow_nan=False))
def test_a_float_reads_back_as_the_same_number(number: float) -> None:
    assert json.loads(compact({"total": number})) == {"total": number}
    assert math.isnan(json.loads(compact(math.nan)))
