"""Issue 16, round 14: one test per rule written from the kinds of structure the lead's summary said
lose pairs (no blind set's text or label read), each on a text of its own, not dev14's: bases tied
to a list's entries after it (a letter written "a.", "respectively", bases before the references, a
basis after the reference's colon), accordions whose title is a `<div role="button">` or a link, a
definition list of labelled fields, bold set by CSS, a basis after a colon glossed or after a long
lead.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.document import Document, from_text
from garde.analyse.findings import alternative_bases
from garde.analyse.readers.html_reader import read_html
from tests.test_analyse_round7_rules import assert_verbatim, pairs


def _pairs(document: Document, language: str) -> set[tuple[str, str]]:
    activities = extract_activities(document, language)
    assert_verbatim(document, activities)
    return pairs(activities)


def _html(body: str, language: str = "en") -> Document:
    return read_html(f'<html lang="{language}"><body><h1>Privacy</h1>{body}</body></html>', "n.html")


# -- bases tied to a list's entries after the list -------------------------------------------------------

LETTERED = ("Pourquoi nous traitons vos données\n"
            "a. gérer les inscriptions aux stages de poterie ;\n"
            "b. conserver les factures ;\n"
            "c. publier les photos des créations.\n\n"
            "Les traitements a. et b. reposent respectivement sur l'exécution du contrat et sur une "
            "obligation légale. Le traitement c. repose sur votre consentement.\n")


def test_letters_written_with_a_dot_after_a_noun_name_the_list_s_entries() -> None:
    """"Les traitements a. et b.", "Le traitement c.": the letters of a list written "a." (seen failing:
    one pair, the sentence's own words as the purpose)."""
    assert _pairs(from_text(LETTERED, "n.txt"), "fr") == {
        ("gérer les inscriptions aux stages de poterie", "contract"),
        ("conserver les factures", "legal_obligation"),
        ("publier les photos des créations", "consent")}


def test_a_lone_letter_is_a_word_not_a_reference() -> None:
    """"Le traitement a été ...": French "a" is a verb; only a letter closed by ")" or "." names an entry."""
    text = LETTERED.replace("Le traitement c. repose", "Le traitement a été conçu pour cela ; c. repose")
    found = _pairs(from_text(text, "n.txt"), "fr")
    assert ("gérer les inscriptions aux stages de poterie", "consent") not in found


LEADING = ("<h2>Why we use it</h2><p>We use your information to:</p><ol><li>book your dog into the "
           "kennels;</li><li>send your vet the notes of any treatment;</li><li>keep our accounts;</li>"
           "<li>post photos of your dog on our page.</li></ol><p>We rely on our contract with you for "
           "purposes 1 and 2, on our legal obligation for purpose 3, and on your consent for purpose 4.</p>")


def test_bases_before_their_references_are_the_references_own() -> None:
    """"We rely on X for purposes 1 and 2, on Y for purpose 3 ...": each run of references takes the
    bases written before it, after the run before (seen failing: no pair at all)."""
    assert _pairs(_html(LEADING), "en") == {
        ("book your dog into the kennels", "contract"),
        ("send your vet the notes of any treatment", "contract"), ("keep our accounts", "legal_obligation"),
        ("post photos of your dog on our page", "consent")}


def test_bases_each_tied_to_entries_are_no_alternatives() -> None:
    """The bases of such a sentence are each its entries', no choice left open: no GA006 (seen failing:
    "Legal bases given as alternatives ... (our contract with you / your consent)"); a hedge between two
    bases for the same entries still is one."""
    sentence = LEADING.split("<p>We rely")[1].split("</p>")[0]
    assert alternative_bases("We rely" + sentence, "en") is None
    assert alternative_bases("For purpose 4 we may rely on your consent or on our legitimate interests.",
                             "en") is not None


def test_a_run_s_own_basis_in_a_sentence_that_ties_one() -> None:
    """"The legal basis for purposes (a) and (b) is the contract; for purpose (c) it is your consent":
    the sentence ties a basis, so each run takes the basis its own words name (seen failing: (a) and
    (b) had no basis, nor (c))."""
    text = ("# Notice\n\n## Purposes\n\nWe use your data to:\n\n(a) open your account;\n(b) deliver "
            "orders;\n(c) send offers.\n\nThe legal basis for purposes (a) and (b) is the contract; for "
            "purpose (c) it is your consent.\n")
    assert _pairs(from_text(text, "n.md"), "en") == {
        ("open your account", "contract"), ("deliver orders", "contract"), ("send offers", "consent")}


def test_a_basis_named_alone_after_a_reference_s_colon() -> None:
    """"finalità 3: consenso, revocabile ...": a one-word basis after the reference's colon is its basis
    (seen failing: that purpose had none, and "consenso, ..." became a purpose)."""
    html = ("<h2>Perché li trattiamo</h2><ol><li>prenotare le visite;</li><li>tenere la contabilità;</li>"
            "<li>inviare gli auguri di compleanno.</li></ol><p>Le basi giuridiche:</p><ul>"
            "<li>finalità 1: esecuzione del contratto;</li><li>finalità 2: obbligo di legge;</li>"
            "<li>finalità 3: consenso, revocabile in ogni momento.</li></ul>")
    assert _pairs(_html(html, "it"), "it") == {
        ("prenotare le visite", "contract"), ("tenere la contabilità", "legal_obligation"),
        ("inviare gli auguri di compleanno", "consent")}


# -- accordions, definition lists, bold by CSS ------------------------------------------------------------

PANEL = ('<div class="item"><div role="button" tabindex="0" aria-expanded="false" aria-controls="p{n}">'
         '{title}</div><div id="p{n}" hidden><p>{text}</p></div></div>')


def test_a_div_made_a_button_titles_its_panel() -> None:
    """`<div role="button" aria-expanded>`: a theme's accordion title names the use its panel states
    (seen failing: the panel's sentence as the purpose, the title lost)."""
    panels = [("Fitting your kitchen", "We use your address and plans to fit it. We need this to perform "
                                       "our contract with you."),
              ("Design tips", "We e-mail design ideas only with your consent.")]
    body = "<h2>How we use your data</h2>" + "".join(
        PANEL.format(n=n, title=title, text=text) for n, (title, text) in enumerate(panels))
    assert _pairs(_html(body), "en") == {("Fitting your kitchen", "contract"), ("Design tips", "consent")}


def test_a_collapse_link_titles_its_panel_and_a_link_in_a_sentence_does_not() -> None:
    """Bootstrap 3's `<a data-toggle="collapse">` titles its panel (seen failing); a toggling link
    inside a sentence stays the sentence's words."""
    body = ('<h2>I trattamenti</h2><div><a data-toggle="collapse" href="#a" aria-expanded="false">Biblioteca '
            'civica</a><div id="a"><p>Registriamo i prestiti dei libri. Il trattamento è necessario per '
            "l'esecuzione di un compito di interesse pubblico.</p></div></div>")
    assert _pairs(_html(body, "it"), "it") == {("Biblioteca civica", "public_task")}
    inline = _html('<div>Read <a aria-expanded="false" aria-controls="x">more</a> about it.</div>')
    assert [b.text for b in inline.blocks if b.kind == "heading"] == ["Privacy"]


def test_a_definition_list_of_labelled_fields() -> None:
    """`<dt>Purpose</dt><dd>...</dd><dt>Lawful basis</dt><dd>...</dd>`: the terms label the values
    after them, a group per purpose (seen failing: no pair, each term a section of its own)."""
    body = ("<h2>How we use it</h2><dl><dt>Purpose</dt><dd>Valuing your house for sale.</dd>"
            "<dt>Lawful basis</dt><dd>Contract.</dd><dt>Purpose</dt><dd>Telling you about new listings.</dd>"
            "<dt>Lawful basis</dt><dd>Consent, which you can withdraw.</dd></dl>")
    assert _pairs(_html(body), "en") == {("Valuing your house for sale", "contract"),
                                         ("Telling you about new listings", "consent")}


def test_a_term_naming_a_use_still_titles_its_definition() -> None:
    """`<dt>Newsletter</dt><dd>Consent ...</dd>` (round 3's reading) is unchanged: only a field's label
    ("Purpose", "Base légale") labels the value after it."""
    body = "<h2>Purposes</h2><dl><dt>Newsletter</dt><dd>Sent only with your consent.</dd></dl>"
    assert _pairs(_html(body), "en") == {("Newsletter", "consent")}


def test_a_label_paragraph_labels_the_paragraph_after_it() -> None:
    """`<p class="label">Finalité :</p><p>...</p>`: the field's label on its own line (seen failing: the
    basis paragraph named no basis of its own, so no pair)."""
    body = ('<h2>Nos traitements</h2><h3>Prêt de matériel</h3><p class="label">Finalité :</p><p>Gérer les '
            'prêts de matériel aux associations.</p><p class="label">Base légale :</p><p>Mission d\'intérêt '
            "public.</p>")
    assert _pairs(_html(body, "fr"), "fr") == {
        ("Gérer les prêts de matériel aux associations", "public_task")}


def test_a_list_of_bases_introduced_by_a_colon_is_no_field() -> None:
    """"Our legal bases are:" then bullets names bases in general, it labels no value."""
    text = ("# How we use your data\n\nOur legal bases are:\n\n- your consent;\n- the performance of a "
            "contract.\n")
    assert _pairs(from_text(text, "n.md"), "en") == set()


@pytest.mark.parametrize("style", ['style="font-weight:700"', 'style="font-weight: bold"', 'class="fw-bold"'])
def test_bold_by_css_is_a_run_in_label(style: str) -> None:
    """A run-in label bold by its style or class names the paragraph as `<strong>` does (seen failing:
    no name)."""
    document = _html(f"<h2>Uses</h2><p><span {style}>Deliveries.</span> We use your address to deliver "
                     "your order, which is necessary to perform our contract with you.</p>")
    names = [a.name for a in extract_activities(document, "en")]
    assert names == ["Deliveries"]


# -- a basis after a colon ---------------------------------------------------------------------------------

def test_a_basis_after_a_colon_glossed_after_a_comma() -> None:
    """"<use>: legitimate interests, to ...": the basis named alone, then what it is for (seen failing)."""
    text = ("# Notice\n\n## What we do and why\n\n- Checking your licence before you drive off: legitimate "
            "interests, to keep our vans from being stolen\n- Offers by text: consent, withdrawn by replying "
            "STOP\n")
    assert _pairs(from_text(text, "n.md"), "en") == {
        ("Checking your licence before you drive off", "legitimate_interests"), ("Offers by text", "consent")}


def test_a_gloss_naming_another_basis_is_a_hedge_not_a_gloss() -> None:
    text = "# Notice\n\n## Uses\n\n- Offers by text: consent, or legitimate interests for customers\n"
    assert ("Offers by text", "consent") not in _pairs(from_text(text, "n.md"), "en")


def test_a_long_lead_holding_a_column_word_is_a_use() -> None:
    """"Route guides and offers by email: consent": the lead's "email" (a contact column's word) does not
    make it a field's label; a short label ("Email: ...") still is one (seen failing: the lead and its
    basis as the purpose)."""
    text = "# Notice\n\n## Uses\n\n- Route guides and offers by email: consent\n- Bookings: contract\n"
    assert _pairs(from_text(text, "n.md"), "en") == {("Route guides and offers by email", "consent"),
                                                     ("Bookings", "contract")}


@given(st.permutations(["contract", "legal_obligation", "consent"]))
def test_each_run_of_references_takes_the_bases_before_it(order: list[str]) -> None:
    """Whatever the order of the bases, each run of references takes the one written before it."""
    words = {"contract": "our contract with you", "legal_obligation": "our legal obligation",
             "consent": "your consent"}
    sentence = (f"We rely on {words[order[0]]} for purpose 1, on {words[order[1]]} for purpose 2, and on "
                f"{words[order[2]]} for purpose 3.")
    html = ("<h2>Why we use it</h2><p>We use your information to:</p><ol><li>book rooms;</li>"
            f"<li>keep accounts;</li><li>send offers.</li></ol><p>{sentence}</p>")
    assert _pairs(_html(html), "en") == set(zip(["book rooms", "keep accounts", "send offers"], order,
                                                strict=True))
