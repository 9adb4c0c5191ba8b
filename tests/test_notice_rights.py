"""The notice says no more than the register: legal bases with their law and wording, whether
providing the data is required, automated decisions, and the rights section derived from the
register's activities (GDPR Art. 6(3), 12, 13(2)(b)-(f), 20, 21, 22).

Each new field removed from the register turns its statement into a visible gap (or, for a
promise the law already covers, into nothing), never into invented text.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.documents import render_notice
from garde.register import parse_register

TODAY = date(2026, 12, 5)
GAP = "⚠ Not stated in the register: "

ORDERS: dict[str, Any] = {
    "id": "orders", "name": "Orders", "purposes": ["Deliver orders"],
    "data_subjects": ["customer"], "data_categories": ["contact.email"],
    "legal_bases": [
        {"basis": "contract", "wording": "Performance of the sales contract"},
        {"basis": "legal_obligation", "obligation": "Keep invoices",
         "law": {"text": "Code de commerce, art. L123-22", "reference": "https://www.legifrance.gouv.fr/x"},
         "condition": "where required"},
    ],
    "provision": {"requirement": "contract_entry",
                  "consequences": "Without an address the order cannot ship"},
    "automated_decisions": {"exists": True, "logic": "A fraud score from the order history",
                            "consequences": "A high score holds the order for a person to review"},
    "automated_means": True,
}
ARCHIVES: dict[str, Any] = {
    "id": "archives", "name": "Archives", "purposes": ["Public archives"],
    "legal_bases": [{"basis": "public_task", "law": "Code du patrimoine, art. L212-2"}],
    "provision": {"requirement": "not_required"}, "automated_decisions": False,
}
REGISTER: dict[str, Any] = {
    "controller": {"name": "Shop", "dpo": {"email": "dpo@shop.example"}},
    "rights": {"route": {"email": "rights@shop.example", "url": "https://shop.example/rights"},
               "answer_time": "15 days",
               "handled_by": [{"rights": ["portability"], "controller": "Marketplace SA",
                               "activities": ["orders"]}]},
    "activities": [ORDERS, ARCHIVES],
}


def notice(data: dict[str, Any], lang: str = "en") -> str:
    register = parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml").register
    return render_notice(register, lang, "md", today=TODAY)


def gaps(text: str) -> set[str]:
    return set(re.findall(r"⚠ Not stated in the register: ([^*\n]+?)\*\*", text))


NEW_GAPS = {"the law this basis rests on (GDPR Art. 6(3))", "whether providing the data is required",
            "consequences of not providing the data", "logic involved",
            "whether there are automated decisions, including profiling",
            "significance and envisaged consequences for the person",
            "whether the processing is carried out by automated means (Art. 20(1)(b))",
            "where to send a request to exercise your rights"}


class without:
    """A change that removes the field at ``path`` (nothing when an enclosing field is gone)."""

    def __init__(self, *path: str | int) -> None:
        self.path = path

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(data)
        node: Any = data
        for part in self.path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError):
                return data
        if isinstance(node, dict):
            node.pop(self.path[-1], None)
        return data


def test_every_statement_traces_to_the_register() -> None:
    text = notice(REGISTER)
    assert "law: Code de commerce, art. L123-22 (https://www.legifrance.gouv.fr/x)" in text
    assert "law: Code du patrimoine, art. L212-2" in text
    assert "in the source's words: “Performance of the sales contract”" in text
    assert "condition: “where required”" in text
    assert "Providing the data is necessary to enter into the contract" in text
    assert "if you do not provide it: Without an address the order cannot ship" in text
    assert "Providing the data is not required" in text
    assert "logic involved: A fraud score from the order history" in text
    assert "A high score holds the order for a person to review" in text
    assert "no decision based solely on automated processing (stated by the record)" in text
    assert "rights@shop.example" in text and "https://shop.example/rights" in text
    assert "The controller undertakes to answer within 15 days." in text
    assert "Portability: requests are handled by another controller, Marketplace SA" in text
    assert not gaps(text) & NEW_GAPS, gaps(text)  # the other gaps: fields outside this test's concern


# (field removed, the statement that goes, the gap that comes; None: the law's text alone remains)
REMOVALS = [
    (without("activities", 0, "legal_bases", 1, "law"), "Code de commerce", "the law this basis rests on"),
    (without("activities", 1, "legal_bases", 0, "law"), "Code du patrimoine", "the law this basis rests on"),
    (without("activities", 0, "legal_bases", 0, "wording"), "Performance of the sales contract", None),
    (without("activities", 0, "legal_bases", 1, "condition"), "where required", None),
    (without("activities", 0, "provision"), "necessary to enter into the contract",
     "whether providing the data is required"),
    (without("activities", 0, "provision", "consequences"), "the order cannot ship",
     "consequences of not providing the data"),
    (without("activities", 0, "automated_decisions"),
     "Orders: decisions based solely on automated processing",
     "whether there are automated decisions, including profiling"),
    (without("activities", 0, "automated_decisions", "logic"), "A fraud score", "logic involved"),
    (without("activities", 0, "automated_decisions", "consequences"), "A high score holds",
     "significance and envisaged consequences for the person"),
    (without("activities", 1, "automated_decisions"), "no decision based solely",
     "whether there are automated decisions, including profiling"),
    (without("activities", 0, "automated_means"), "Activities concerned: Orders\n",
     "whether the processing is carried out by automated means"),
    (without("rights", "route"), "rights@shop.example", "where to send a request to exercise your rights"),
    (without("rights", "answer_time"), "within 15 days", None),
    (without("rights", "handled_by"), "Marketplace SA", None),
]


@pytest.mark.parametrize(("remove", "statement", "gap"), REMOVALS, ids=[r[1][:30] for r in REMOVALS])
def test_a_field_removed_becomes_a_gap_never_invented_text(
    remove: without, statement: str, gap: str | None
) -> None:
    before = notice(REGISTER)
    assert statement in before
    text = notice(remove(REGISTER))
    assert statement not in text
    added = gaps(text) - gaps(before)
    if gap is None:
        assert not added
    else:
        assert len(added) == 1 and next(iter(added)).startswith(gap), added


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(range(len(REMOVALS)))))
def test_any_fields_removed_each_becomes_its_gap_the_others_stay(removed: set[int]) -> None:
    data = REGISTER
    for i in sorted(removed):
        data = REMOVALS[i][0](data)
    text = notice(data)
    found = gaps(text)
    for i, (remove, statement, gap) in enumerate(REMOVALS):
        enclosing_gone = any(j in removed and j != i and remove.path[:len(REMOVALS[j][0].path)]
                             == REMOVALS[j][0].path for j in range(len(REMOVALS)))
        if enclosing_gone:
            continue
        if i in removed:
            assert statement not in text
            assert gap is None or any(g.startswith(gap) for g in found), (statement, found)
        else:
            assert statement in text, statement


def activity(**changes: Any) -> dict[str, Any]:
    return {"controller": {"name": "Shop"}, "rights": {"route": {"email": "rights@shop.example"}},
            "activities": [{**copy.deepcopy(ARCHIVES), "id": "a", "name": "Activity A", **changes}]}


OBJECTION = "to processing based on a task carried out in the public interest or on legitimate interests"


@pytest.mark.parametrize("basis", ["public_task",
                                   {"basis": "legitimate_interests", "legitimate_interest": "x"}])
def test_objection_covers_public_task_and_legitimate_interests(basis: Any) -> None:
    text = notice(activity(legal_bases=[basis]))
    assert f"{OBJECTION} (Art. 21(1)). Activities concerned: Activity A" in text


@pytest.mark.parametrize("basis", ["contract", "consent", "legal_obligation", "vital_interests"])
def test_no_objection_right_where_no_activity_rests_on_public_task_or_interests(basis: str) -> None:
    assert OBJECTION not in notice(activity(legal_bases=[basis]))


def test_objection_to_direct_marketing_only_where_an_activity_is_flagged() -> None:
    assert "direct marketing" not in notice(activity())
    text = notice(activity(direct_marketing=True, legal_bases=["consent"]))
    assert "You may object at any time to direct marketing" in text


@pytest.mark.parametrize(("bases", "means", "listed"), [
    (["consent"], True, True), (["contract"], True, True),
    (["contract"], False, False),  # not automated: Art. 20(1)(b)
    (["legal_obligation"], True, False), (["public_task"], True, False),
    ([{"basis": "legitimate_interests", "legitimate_interest": "x"}], True, False),
])
def test_portability_only_on_consent_or_contract_by_automated_means(
    bases: list[Any], means: bool, listed: bool
) -> None:
    assert ("Portability:" in notice(activity(legal_bases=bases, automated_means=means))) is listed


def test_withdrawing_consent_only_where_a_basis_is_consent() -> None:
    assert "Withdrawing your consent" not in notice(activity(legal_bases=["contract"]))
    assert "Withdrawing your consent" in notice(activity(legal_bases=["consent"]))


def test_the_dpo_is_not_taken_for_the_rights_route() -> None:
    data = activity()
    data["controller"]["dpo"] = {"email": "dpo@shop.example"}
    del data["rights"]
    text = notice(data)
    assert f"{GAP}where to send a request to exercise your rights" in text


@pytest.mark.parametrize("lang", ["fr", "it"])
def test_the_new_statements_are_worded_in_french_and_italian(lang: str) -> None:
    text = notice(REGISTER, lang)
    assert "Marketplace SA" in text and "Code de commerce" in text
    assert {"fr": "15 jours", "it": "15 giorni"}[lang] in text
    assert {"fr": "Fourniture facultative", "it": "Il conferimento è facoltativo"}[lang] in text


def test_a_law_reference_becomes_a_link_only_when_it_is_a_web_address() -> None:
    data = copy.deepcopy(REGISTER)
    data["activities"][0]["legal_bases"][1]["law"]["reference"] = "javascript:alert(1)"
    register = parse_register(yaml.safe_dump(data), "shop.yaml").register
    page = render_notice(register, "en", "html", today=TODAY)
    # Not a web address: a remark of the register's, kept out of the public page (and never a link).
    assert "javascript:alert(1)" not in page and 'href="javascript' not in page
    assert '<a href="https://www.legifrance.gouv.fr/x">' in render_notice(
        parse_register(yaml.safe_dump(REGISTER), "shop.yaml").register, "en", "html", today=TODAY)


def test_no_provision_gap_for_data_obtained_elsewhere() -> None:
    # Art. 13(2)(e) concerns data collected from the person; Art. 14 has no such point.
    elsewhere = activity(sources=["third_party"])
    del elsewhere["activities"][0]["provision"]
    assert "whether providing the data is required" not in notice(elsewhere)
    from_website = activity(sources=["website"])
    del from_website["activities"][0]["provision"]
    assert f"{GAP}whether providing the data is required" in notice(from_website)
