"""The HTML report's rows of fields (issue 14): written in Python for speed, the same HTML as the
template wrote, every value escaped."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, select_autoescape

from garde.rights.access import field_rows

# The rows as the report's template wrote them before (trim_blocks, lstrip_blocks, autoescape), the
# key and value each in its own <bdi> since (garde.unseen).
TEMPLATE = """{% for field in category.fields %}
<tr><td>{{ field.record }} n° <bdi>{{ "—" if field.key is none else field.key }}</bdi> \
<span class="field">({{ field.label }})</span>\
{% if field.archived %}<br><span class="field">{{ field.archived.text }}</span>{% endif %}</td><td>\
{% if field.secret %}<em>{{ w.secret }}</em>{% elif field.withheld %}<em>{{ w.withheld }}</em>\
{% else %}<bdi>{{ field.display }}</bdi>{% endif %}</td></tr>
{% endfor %}
"""
ENVIRONMENT = Environment(autoescape=select_autoescape(default_for_string=True), trim_blocks=True,
                          lstrip_blocks=True)
TEXT = st.text(alphabet=st.sampled_from(list("ab <>&\"'é°\n")), max_size=8)
FIELD = st.fixed_dictionaries({
    "record": TEXT, "key": st.one_of(st.none(), st.integers(), TEXT), "label": TEXT,
    "archived": st.one_of(st.none(), st.fixed_dictionaries({"text": TEXT})),
    "secret": st.booleans(), "withheld": st.booleans(),
    "display": st.one_of(st.none(), TEXT, st.integers()),
})


@settings(max_examples=200, derandomize=True)
@given(fields=st.lists(FIELD, min_size=1, max_size=5), secret=TEXT, withheld=TEXT)
def test_the_rows_are_those_the_template_wrote(fields: list[dict[str, Any]], secret: str,
                                               withheld: str) -> None:
    words = {"secret": secret, "withheld": withheld}
    expected = ENVIRONMENT.from_string(TEMPLATE).render(category={"fields": fields}, w=words)
    assert str(field_rows(fields, words)) == expected


def test_a_value_is_escaped() -> None:
    field = {"record": "Order", "key": 1, "label": "<b>", "archived": None, "secret": False,
             "withheld": False, "display": "<script>alert(1)</script>"}
    html = str(field_rows([field], {"secret": "s", "withheld": "w"}))
    assert "<script>" not in html and "&lt;script&gt;" in html and "(&lt;b&gt;)" in html
