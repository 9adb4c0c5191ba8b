"""The published documents, checked the way a DPO or a browser reads them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import export_register, render_notice
from garde.documents.art30 import build_register
from garde.problems import GardeError
from garde.register import Register, parse_register

TODAY = date(2025, 3, 14)

SHOP = """
language: fr
controller:
  name: Boutique Exemple
  country: FR
  supervisory_authority: CNIL
  contact: {email: contact@boutique.example, address: "1 rue de la Paix, Paris"}
  dpo: {name: DPO Exemple, email: dpo@boutique.example}
activities:
  - id: orders
    ref: "ex#1"
    name: {fr: Gestion des commandes, en: Order management}
    purposes: [{fr: Traiter les commandes, en: Process orders}]
    data_subjects: [customer]
    data_categories: [identity.name, contact.email, contact.delivery_address]
    legal_bases: [contract]
    recipients: [carriers, service_providers]
    transfers: [{country: US, recipient: Hébergeur, safeguard: scc}]
    retention: ["5 years after relationship_end", {rule: "10 years after invoice_date", action: archive}]
    security_measures: [Chiffrement des données]
    dpia: false
  - id: newsletter
    name: Lettre d'information
    purposes: [Envoyer la lettre d'information]
    data_subjects: [customer, prospect]
    data_categories: [contact.email]
    legal_bases: [consent]
    consent: {capture: [web_form], withdrawal: [unsubscribe_link]}
    retention: ["3 years after last_contact"]
    direct_marketing: true
  - id: fraud
    name: Lutte contre la fraude
    purposes: [Détecter les fraudes au paiement]
    data_subjects: [customer]
    data_categories: [identity.name]
    legal_bases: [{basis: legitimate_interests, legitimate_interest: Protéger nos clients contre la fraude}]
    profiling: true
  - id: distributors
    role: processor
    on_behalf_of: [Distributeur SA]
    name: Gestion des clients des distributeurs
    purposes: [Tenir le fichier clients pour le compte des distributeurs]
    data_categories: [contact.email]
"""


@pytest.fixture(scope="module")
def shop() -> Register:
    return parse_register(SHOP, "shop.yaml").register


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_has_one_row_per_activity_with_its_role(shop: Register) -> None:
    rows = csv_rows(export_register(shop, "csv", "fr", today=TODAY))
    assert [r["Activité de traitement"] for r in rows] == [
        "Gestion des commandes", "Lettre d'information", "Lutte contre la fraude",
        "Gestion des clients des distributeurs",
    ]
    assert [r["Rôle"] for r in rows] == ["Responsable de traitement"] * 3 + ["Sous-traitant"]
    orders = rows[0]
    assert orders["Base juridique (art. 6)"] == "Exécution d'un contrat"
    retention = orders["Durées de conservation"]
    assert "5 ans après la fin de la relation commerciale, puis suppression" in retention
    assert "10 ans après la date de la facture, puis archivage" in retention
    assert "États-Unis" in orders["Transferts hors UE et garanties"]
    assert rows[3]["Pour le compte de"] == (
        "Distributeur SA — ⚠ Non renseigné dans le registre : coordonnées de ce responsable de traitement")


def test_csv_in_english_uses_the_english_texts_and_keeps_the_french_ones(shop: Register) -> None:
    rows = csv_rows(export_register(shop, "csv", "en", today=TODAY))
    assert rows[0]["Processing activity"] == "Order management"
    # No English in the register: shown as written, never translated.
    assert rows[1]["Processing activity"] == "Lettre d'information"
    assert rows[1]["Retention periods"] == "3 years after the last contact, then deleted"
    assert rows[2]["Legal basis (Art. 6)"] == "Legitimate interests: Protéger nos clients contre la fraude"


def test_missing_fields_show_the_gap_marker_never_invented_text(shop: Register) -> None:
    rows = csv_rows(export_register(shop, "csv", "en", today=TODAY))
    fraud = rows[2]
    assert fraud["Retention periods"] == "⚠ Not stated in the register: retention period"
    assert fraud["Recipients"] == "⚠ Not stated in the register: recipients"
    # silence on transfers is a gap, never "no transfer" (only `no_transfer: true` says that)
    assert fraud["Transfers outside the EU and safeguards"] == (
        "⚠ Not stated in the register: transfers outside the EEA (or that there are none)")


def test_xlsx_is_a_workbook_a_dpo_can_work_in(shop: Register) -> None:
    book = openpyxl.load_workbook(io.BytesIO(export_register(shop, "xlsx", "fr", today=TODAY)))
    assert book.sheetnames == ["Couverture", "Responsable (art. 30-1)", "Sous-traitant (art. 30-2)",
                               *[a.id[:31] for a in shop.activities]]
    cover = [[c.value for c in row] for row in book["Couverture"].iter_rows()]
    assert ["Responsable du traitement", "Boutique Exemple"] in cover
    assert ["Date de génération", "14 mars 2025"] in cover
    assert any(row[0] == "Délégué à la protection des données" and "dpo@boutique.example" in row[1]
               for row in cover)
    for name, rows in (("Responsable (art. 30-1)", 3), ("Sous-traitant (art. 30-2)", 1)):
        ws = book[name]
        assert ws.freeze_panes == "B2"  # header row and first column
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows in ("1:1", "$1:$1")
        assert all((ws.row_dimensions[r].height or 0) >= 15 for r in range(2, ws.max_row + 1))
        assert ws.auto_filter.ref == ws.dimensions
        assert ws.max_row == rows + 1
        assert all(cell.font.bold for cell in ws[1])
        assert all(cell.alignment.wrap_text for row in ws.iter_rows() for cell in row)
        assert all(ws.column_dimensions[c].width >= 12 for c in "ABC")


def test_xlsx_has_a_sheet_per_activity_in_the_cnil_model_layout(shop: Register) -> None:
    """As the CNIL model register: each activity on its own sheet, a field a row, every column's text."""
    document = build_register(shop, "fr", TODAY)
    book = openpyxl.load_workbook(io.BytesIO(export_register(shop, "xlsx", "fr", today=TODAY)))
    for sheet in document.sheets:
        for activity_id, row in zip(sheet.activity_ids, sheet.rows, strict=True):
            ws = book[activity_id[:31]]
            values = [[c.value for c in r] for r in ws.iter_rows()]
            assert values[0] == [sheet.title, row["name"].plain()]
            assert values[1:] == [[c.header, row[c.key].plain() or None] for c in sheet.columns]
            assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
            long_cells = [r for r in range(2, ws.max_row + 1) if len(str(ws.cell(r, 2).value or "")) > 200]
            assert all((ws.row_dimensions[r].height or 0) > 15 for r in long_cells)


def test_xlsx_skips_the_processor_sheet_when_there_is_none(shop: Register) -> None:
    controller_only = shop.model_copy(update={"activities": shop.activities[:3]})
    book = openpyxl.load_workbook(io.BytesIO(export_register(controller_only, "xlsx", "en", today=TODAY)))
    assert book.sheetnames[:2] == ["Cover", "Controller (Art. 30(1))"]
    assert "Processor (Art. 30(2))" not in book.sheetnames


def test_html_is_a_standalone_page_with_bases_gaps_and_language_marks(shop: Register) -> None:
    page = export_register(shop, "html", "en", today=TODAY).decode()
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert "@media print" in page
    assert "Performance of a contract" in page and "Consent" in page
    assert '<strong class="gap">⚠ Not stated in the register: retention period</strong>' in page
    assert '<span lang="fr">Lettre d&#39;information</span>' in page
    assert "<span lang=\"fr\">Order management</span>" not in page


def test_markdown_table_has_a_row_per_activity(shop: Register) -> None:
    text = export_register(shop, "md", "it", today=TODAY).decode()
    table_rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table_rows) == 2 + 4  # a header row per sheet, then one row per activity
    assert "Registro delle attività di trattamento" in text
    assert "**⚠ Non indicato nel registro: periodo di conservazione**" in text


def test_json_loads_with_nulls_where_the_register_is_silent(shop: Register) -> None:
    data = json.loads(export_register(shop, "json", "en", today=TODAY))
    assert data["generated"] == "2025-03-14"
    controller, processor = data["sheets"]
    assert [r["activity"] for r in controller["rows"]] == ["orders", "newsletter", "fraud"]
    fraud = controller["rows"][2]
    assert fraud["retention"] is None
    assert "⚠ Not stated in the register: retention period" in fraud["gaps"]
    assert processor["rows"][0]["on_behalf_of"].startswith("Distributeur SA — ⚠ Not stated in the register")
    assert "⚠ Not stated in the register: processing contract (Art. 28(3))" in processor["rows"][0]["gaps"]


SECTIONS = {
    "fr": ["Responsable du traitement", "Finalités et bases juridiques", "Durées de conservation",
           "Vos droits", "Retrait du consentement", "Réclamation auprès d'une autorité de contrôle",
           "Profilage et décisions automatisées"],
    "en": ["Who is responsible for your data", "Purposes and legal bases", "How long your data is kept",
           "Your rights", "Withdrawing your consent", "Complaint to a supervisory authority",
           "Profiling and automated decisions"],
    "it": ["Titolare del trattamento", "Finalità e basi giuridiche", "Periodi di conservazione",
           "I tuoi diritti", "Revoca del consenso", "Reclamo all'autorità di controllo",
           "Profilazione e decisioni automatizzate"],
}


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_notice_has_every_article_13_section_and_the_complaint_route(shop: Register, lang: str) -> None:
    text = render_notice(shop, lang, "md", today=TODAY)
    for title in SECTIONS[lang]:
        assert f"## {title}\n" in text
    # the authority by the name it uses in the notice's language, where it has one
    assert {"fr": "Commission nationale de l'informatique et des libertés (CNIL)",
            "en": "French data protection authority (CNIL)",
            "it": "Autorità francese per la protezione dei dati personali (CNIL)"}[lang] in text
    assert "dpo@boutique.example" in text
    assert "Protéger nos clients contre la fraude" in text  # the legitimate interest pursued
    # the processor activity is its clients' to explain: only named in the sentence saying the
    # controller also acts as a processor, never with its purposes, bases or retention
    assert text.count("Gestion des clients des distributeurs") == 1
    assert "Tenir le fichier clients" not in text


def test_notice_in_italian_words_retention_with_babel_periods(shop: Register) -> None:
    text = render_notice(shop, "it", "md", today=TODAY)
    assert "3 anni dall'ultimo contatto, poi cancellazione" in text
    assert "14 marzo 2025" in text


def test_notice_shows_gaps_for_what_the_register_lacks(shop: Register) -> None:
    bare = parse_register("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n"
                          "    legal_bases: [legitimate_interests]\n    profiling: true\n").register
    page = render_notice(bare, "en", "html", today=TODAY)
    assert '<html lang="en">' in page
    for field in ("controller&#39;s contact details", "data protection officer", "purposes",
                  "legitimate interest pursued", "retention period", "recipients",
                  "competent supervisory authority", "where to send a request to exercise your rights",
                  "whether there are automated decisions, including profiling",
                  "whether providing the data is required"):
        assert f'<strong class="gap">⚠ Not stated in the register: {field}</strong>' in page
    assert "Withdrawing your consent" not in page  # no activity rests on consent


def test_unknown_format_or_language_is_a_clear_error(shop: Register) -> None:
    with pytest.raises(GardeError, match="unknown format 'pdf'"):
        export_register(shop, "pdf", "fr")
    with pytest.raises(GardeError, match="unknown language 'de'"):
        render_notice(shop, "de", "html")


def test_cli_writes_each_format_and_says_where(shop: Register, tmp_path: Path) -> None:
    source = tmp_path / "shop.yaml"
    source.write_text(SHOP, encoding="utf-8")
    runner = CliRunner()
    for fmt in ("csv", "xlsx", "md", "html", "json"):
        out = tmp_path / "out" / f"register.{fmt}"
        result = runner.invoke(app, ["register", "export", str(source), "--format", fmt, "--lang", "en",
                                     "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
        assert str(out) in result.output
    out = tmp_path / "notice" / "notice-it.html"
    result = runner.invoke(app, ["notice", str(source), "--lang", "it", "-o", str(out), "--allow-gaps"])
    assert result.exit_code == 0, result.output
    assert '<html lang="it">' in out.read_text(encoding="utf-8")
    result = runner.invoke(app, ["register", "export", str(source), "--format", "pdf"])
    assert result.exit_code == 2
    assert "unknown format 'pdf'" in result.output


def test_every_catalogue_text_exists_in_the_three_languages() -> None:
    from garde.documents.wording import load_catalogue
    from garde.taxonomy import load_vocabulary

    catalogue = load_catalogue()
    assert {key for key, texts in catalogue.items() if set(texts) != {"fr", "en", "it"}} == set()
    for event in load_vocabulary().terms("trigger_events"):
        assert f"common.retention_after.{event.id}" in catalogue
        assert f"common.retention_until.{event.id}" in catalogue


def test_csv_starts_with_a_byte_order_mark_so_spreadsheets_read_accents(shop: Register) -> None:
    content = export_register(shop, "csv", "fr", today=TODAY)
    assert content.startswith(b"\xef\xbb\xbf") and "Activité de traitement" in content.decode("utf-8-sig")


def test_html_register_lists_the_activities_then_a_sheet_per_activity(shop: Register) -> None:
    """The CNIL model's layout: it prints on A4 and reads on a phone, no column cut off."""
    document = build_register(shop, "en", TODAY)
    page = export_register(shop, "html", "en", today=TODAY).decode()
    assert "@page { size: A4;" in page and "break-before: page" in page
    for sheet in document.sheets:
        for activity_id in sheet.activity_ids:
            anchor = f"{sheet.role}-{activity_id}"
            assert f'href="#{anchor}"' in page
            section = page[page.index(f'id="{anchor}"'):]
            section = section[:section.index("</section>")]
            assert all(f"<dt>{column.header}</dt>" in section for column in sheet.columns)
