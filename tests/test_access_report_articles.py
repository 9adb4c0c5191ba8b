# ruff: noqa: E501  (the template as it was, line for line)
"""The HTML report's activity articles (issue 14): rendered once per text, the same HTML as the
report's template wrote for each answer, every text escaped."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from garde.rights.access import _environment

# The activities as the report's template wrote them before (its loop, inline).
BEFORE = """{% for activity in a.activities %}
<article>
<h3>{{ activity.name }}</h3>
<dl>
<dt>{{ w.purposes }}</dt>
<dd>{% for p in activity.purposes %}{{ p }}{% if not loop.last %}<br>{% endif %}{% else %}<span class="gap">{{ w.not_stated }}</span>{% endfor %}</dd>
<dt>{{ w.legal_bases }}</dt>
<dd>{% for b in activity.legal_bases %}{{ b.label }}{% if b.legitimate_interest %} ({{ b.legitimate_interest }}){% endif %}{% if b.obligation %} ({{ b.obligation }}){% endif %}{% if not loop.last %}<br>{% endif %}{% else %}<span class="gap">{{ w.not_stated }}</span>{% endfor %}</dd>
<dt>{{ w.categories }}</dt>
<dd>{{ activity.categories | map(attribute="label") | join(", ") }}</dd>
<dt>{{ w.recipients }}</dt>
<dd>{{ activity.recipients | join(", ") if activity.recipients else "" }}{% if not activity.recipients %}<span class="gap">{{ w.not_stated }}</span>{% endif %}</dd>
<dt>{{ w.retention }}</dt>
<dd>{% for r in activity.retention %}{{ r }}{% if not loop.last %}<br>{% endif %}{% else %}<span class="gap">{{ w.not_stated }}</span>{% endfor %}</dd>
<dt>{{ w.sources }}</dt>
<dd>{{ activity.sources | join(", ") if activity.sources else "" }}{% if not activity.sources %}<span class="gap">{{ w.not_stated }}</span>{% endif %}</dd>
{% if activity.transfers %}
<dt>{{ w.transfers }}</dt>
<dd>{{ activity.transfers | join(", ") }}</dd>
{% endif %}
</dl>
</article>
{% endfor %}
"""
NOW = """{% for activity in a.activities %}
{{ activity_article(activity, w) }}
{% endfor %}
"""
TEXT = st.text(alphabet=st.sampled_from(list("ab <>&\"'é\n")), max_size=6)
TEXTS = st.lists(TEXT, max_size=3)
ACTIVITY = st.fixed_dictionaries({
    "id": TEXT, "name": st.one_of(st.none(), TEXT),
    "purposes": st.lists(st.one_of(st.none(), TEXT), max_size=3),
    "legal_bases": st.lists(st.fixed_dictionaries({
        "basis": TEXT, "label": TEXT, "legitimate_interest": st.one_of(st.none(), TEXT),
        "obligation": st.one_of(st.none(), TEXT)}), max_size=2),
    "categories": st.lists(st.fixed_dictionaries({"id": TEXT, "label": TEXT}), max_size=3),
    "recipients": TEXTS, "retention": TEXTS, "sources": TEXTS, "transfers": TEXTS,
    "fields": st.just([]),
})
KEYS = ("purposes", "legal_bases", "categories", "recipients", "retention", "sources", "transfers", "not_stated")
WORDS = st.fixed_dictionaries(dict.fromkeys(KEYS, TEXT))


@settings(max_examples=150, derandomize=True)
@given(activities=st.lists(ACTIVITY, max_size=4), words=WORDS)
def test_the_articles_are_those_the_template_wrote(activities: list[dict[str, Any]],
                                                   words: dict[str, str]) -> None:
    """Many examples share texts, so articles come from the cache as well as fresh: a cached article
    shown for an activity whose texts differ in anything would fail here."""
    environment = _environment()
    expected = environment.from_string(BEFORE).render(a={"activities": activities}, w=words)
    for _ in range(2):  # rendered, then from the cache
        assert environment.from_string(NOW).render(a={"activities": activities}, w=words) == expected


def test_a_text_is_escaped() -> None:
    activity = {"id": "x", "name": "<b>", "purposes": ["<script>alert(1)</script>"], "legal_bases": [],
                "categories": [{"id": "c", "label": "&"}], "recipients": [], "retention": [], "sources": [],
                "transfers": [], "fields": []}
    words = dict.fromkeys(KEYS, "w")
    html = _environment().from_string(NOW).render(a={"activities": [activity]}, w=words)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<h3>&lt;b&gt;</h3>" in html
    assert "&amp;" in html
