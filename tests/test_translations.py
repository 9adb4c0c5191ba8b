"""garde's gettext catalogues (src/garde/locale): complete in fr, en and it, with each
language's plural forms, and current with the texts the code and templates use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from garde import i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"translate": (2,), "translate_plural": (2, 3), "gettext": None, "ngettext": (1, 2)}


def catalogue(lang: str) -> object:
    with i18n.catalogue_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_is_translated_in_every_language(lang: str) -> None:
    entries = [m for m in catalogue(lang) if m.id]  # type: ignore[attr-defined]
    assert entries
    missing = [m.id for m in entries
               if not (all(m.string) if isinstance(m.string, tuple) else m.string) or m.fuzzy]
    assert not missing, f"{lang}: untranslated or fuzzy: {missing}"


def test_the_catalogues_hold_every_text_the_code_uses() -> None:
    """`make translations` was run: every translate()/gettext() text of the code and templates is
    in each catalogue (a new text without a translation fails here, not in front of a reader)."""
    method_map = [("src/garde/**.py", "python"), ("src/garde/documents/templates/**.j2", "jinja2")]
    keywords = {"translate": (2,), "translate_plural": (2, 3), "gettext": (1,), "ngettext": (1, 2),
                "rule_text": ((1, "c"), 2), "keyed": ((1, "c"), 2)}
    used = {m[2] if isinstance(m[2], str) else m[2][0]
            for m in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    assert "Lint report" in used and "%(num)d error" in used
    for lang in i18n.LANGUAGES:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(lang) if m.id}  # type: ignore[attr-defined]
        assert not used - known, f"{lang} lacks {sorted(used - known)}: run `make translations`"


PLURALS = {
    "fr": {0: "0\u00a0erreur", 1: "1\u00a0erreur", 2: "2\u00a0erreurs", 5: "5\u00a0erreurs"},
    "en": {0: "0 errors", 1: "1 error", 2: "2 errors", 5: "5 errors"},
    "it": {0: "0 errori", 1: "1 errore", 2: "2 errori", 5: "5 errori"},
}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("num", [0, 1, 2, 5])
def test_plural_forms_follow_the_language(lang: str, num: int) -> None:
    """French counts 0 as singular ("0 erreur"), English and Italian as plural."""
    assert i18n.translate_plural(lang, "%(num)d error", "%(num)d errors", num) == PLURALS[lang][num]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_plural_entry_has_the_forms_of_its_language(lang: str) -> None:
    cat = catalogue(lang)
    for message in cat:  # type: ignore[attr-defined]
        if message.id and isinstance(message.id, tuple):
            assert len(message.string) == cat.num_plurals, (lang, message.id)  # type: ignore[attr-defined]
            for num in (0, 1, 2, 5):
                text = i18n.translate_plural(lang, message.id[0], message.id[1], num)
                assert str(num) in text and "%" not in text


def test_italian_file_is_invariable() -> None:
    assert i18n.translate_plural("it", "%(num)d file", "%(num)d files", 2) == "2 file"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        i18n.translations("de")


def test_catalogues_are_read_from_the_po_files_without_a_build_step(tmp_path: Path) -> None:
    """No compiled .mo is needed (nor shipped): the .po a translator saved is what garde reads."""
    assert not list((ROOT / "src" / "garde" / "locale").rglob("*.mo"))
    out = subprocess.run([sys.executable, "-c", "from garde import i18n; "
                          "print(i18n.translate('it', 'Lint report'))"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "Rapporto di verifica del registro"
