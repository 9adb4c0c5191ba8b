"""Moving garde's wording between catalogue mechanisms changes no word a person reads.

The golden files in ``tests/data/wording/`` were written from the wording as it was before the
move to the gettext catalogues (``rights/strings.yaml``, ``documents/translations/*.yaml``):
every text of the request answers and mails, and of the published documents, per language. A
change of wording is a change of these files, made on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garde.documents.wording import load_catalogue
from garde.rights.wording import strings

GOLDEN = Path(__file__).parent / "data" / "wording"


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_request_answers_and_mails_say_what_they_said(lang: str) -> None:
    expected = json.loads((GOLDEN / f"rights-{lang}.json").read_text(encoding="utf-8"))
    assert strings(lang) == expected


def test_the_documents_say_what_they_said() -> None:
    """Every word of the notices and Art. 30 registers (headers, sections, retention phrases...),
    per key and language, as it was in ``documents/translations/*.yaml`` before the move."""
    expected = json.loads((GOLDEN / "documents.json").read_text(encoding="utf-8"))
    assert load_catalogue() == expected
