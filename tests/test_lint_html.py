"""`garde lint --format html`: a report a DPO reads, per register and activity, in fr, en and it,
escaped, and linked from the index `garde demo` publishes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from garde.cli import app
from garde.documents.lint_report import render_lint_html
from garde.lint import RULES, Finding, lint, lint_paths
from garde.publish import publish
from garde.register import read_register

from .conftest import REGISTERS
from .test_documents_hostile import _Tags

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "data" / "hostile" / "register.yaml"
runner = CliRunner()


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def finding(**changes: object) -> Finding:
    values: dict[str, object] = dict(
        code="GL001", severity="error", rule="legal-basis", activity="orders",
        message="no Art. 6(1) legal basis is declared for this activity", reference="GDPR Art. 6(1)",
        url="https://gdpr-info.eu/art-6-gdpr/", file="registers/shop.yaml", line=12)
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


HEADINGS = {"fr": ("Rapport de contrôle du registre", "Traitement", "Référence juridique"),
            "en": ("Lint report", "Activity", "Legal reference"),
            "it": ("Rapporto di verifica del registro", "Trattamento", "Riferimento normativo")}


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_report_is_written_in_its_language_with_counts_groups_and_locations(lang: str) -> None:
    negomarkets = REGISTERS / "negomarkets.yaml"
    findings = lint_paths([negomarkets], lang="en" if lang == "it" else lang)
    result = runner.invoke(app, ["lint", str(negomarkets), "--format", "html", "--lang", lang])
    page = result.output
    assert f'<html lang="{lang}">' in page and 'name="viewport"' in page
    for heading in HEADINGS[lang]:
        assert heading in page
    errors = sum(f.severity == "error" for f in findings)
    counted = {"fr": f"{errors}\u00a0erreurs", "en": f"{errors} errors", "it": f"{errors} errori"}[lang]
    assert counted in page
    # Each finding: code, message, file:line; each activity is a heading of its own.
    for f in findings:
        assert f.code in page and f"{f.file}:{f.line}" in page
    activities = {f.activity for f in findings if f.activity}
    assert all(f"<code>{activity}</code></h3>" in page for activity in activities)
    assert len(re.findall(r"<h3>", page)) == len(activities) + any(f.activity is None for f in findings)
    # The legal reference is a link where the rule names one.
    linked = {f.url for f in findings if f.url}
    assert linked and all(f'href="{url}"' in page for url in linked)
    # Scrolling tables can be reached with the keyboard and are named.
    regions = [a for t, a in tags(page) if t == "div" and "table-scroll" in (a.get("class") or "")]
    assert regions and all(a.get("tabindex") == "0" and a.get("aria-label") for a in regions)
    assert "@media print" in page


def test_italian_report_gives_the_rules_in_italian() -> None:
    """The rules' titles and messages come from the same catalogues as the report: in Italian,
    no passage marked as another language."""
    findings = lint(read_register(REGISTERS / "negomarkets.yaml"), lang="it")
    page = render_lint_html(findings, lang="it")
    assert findings and 'class="message" lang=' not in page
    assert RULES["GL001"].title("it") == "Base giuridica mancante"
    for code in {f.code for f in findings}:
        assert escape(RULES[code].title("it")) in page
        assert escape(RULES[code].title("en")) not in page


@pytest.mark.parametrize(("lang", "counts"), [
    ("fr", "1\u00a0erreur, 0\u00a0avertissement et 2\u00a0notes d’information"),
    ("en", "1 error, 0 warnings and 2 information notes"),
    ("it", "1 errore, 0 avvisi e 2 note informative"),
])
def test_counts_take_each_languages_plural_forms(lang: str, counts: str) -> None:
    findings = [finding(), finding(severity="info", code="GL033"), finding(severity="info", code="GL033")]
    assert counts in render_lint_html(findings, lang=lang)


def test_a_clean_register_reads_no_findings() -> None:
    page = render_lint_html([], lang="fr", files=["registers/clean.yaml"])
    assert "registers/clean.yaml" in page and "Aucun constat." in page


def test_what_a_register_says_is_shown_as_text_never_run() -> None:
    """Messages quote register text and file names are the operator's: nothing of it becomes markup."""
    hostile = finding(activity="<script>alert('activity')</script>",
                      message="<img src=x onerror=alert('message')>", url="javascript:alert('url')",
                      reference="<b>Art. 6</b>", file="<svg onload=alert('file')>.yaml")
    page = render_lint_html([hostile], lang="en")
    assert [t for t, _ in tags(page) if t in {"script", "img", "svg", "b"}] == []
    assert "javascript:" not in page  # a reference URL a browser would run is not a link
    assert "&lt;img src=x onerror=alert(&#39;message&#39;)&gt;" in page


def test_the_hostile_register_publishes_an_escaped_report(tmp_path: Path) -> None:
    folder = tmp_path / "registers"
    folder.mkdir()
    (folder / "<img src=x onerror=alert(1)>.yaml").write_text(HOSTILE.read_text(encoding="utf-8"),
                                                                encoding="utf-8")
    (publication,) = publish([folder], tmp_path / "out")
    (report,) = [f for f in publication.files if f.name == "lint-en.html"]
    page = report.read_text(encoding="utf-8")
    assert [t for t, _ in tags(page) if t in {"script", "img", "svg"}] == []
    assert "&lt;img src=x onerror=alert(1)&gt;.yaml" in page


def test_the_index_links_each_registers_report_in_its_language(tmp_path: Path) -> None:
    publications = publish([REGISTERS / "negomarkets.yaml", REGISTERS / "net-a-porter.yaml"], tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    hrefs = {a["href"] for t, a in tags(index) if t == "a"}
    assert {"negomarkets/lint-fr.html", "net-a-porter/lint-it.html"} <= hrefs
    french = (tmp_path / "negomarkets" / "lint-fr.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in french and "Rapport de contrôle du registre" in french
    italian = (tmp_path / "net-a-porter" / "lint-it.html").read_text(encoding="utf-8")
    assert '<html lang="it">' in italian and "Rapporto di verifica del registro" in italian
    assert len(publications) == 2


def test_the_published_report_names_the_register_file_not_the_build_machines_path(tmp_path: Path) -> None:
    """A published page shows `negomarkets.yaml:12`, not where the DPO's checkout happens to live."""
    publish([REGISTERS / "negomarkets.yaml"], tmp_path)
    page = (tmp_path / "negomarkets" / "lint-fr.html").read_text(encoding="utf-8")
    assert str(REGISTERS) not in page
    assert re.search(r"<code>negomarkets\.yaml:\d+</code>", page)
