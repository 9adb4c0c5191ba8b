"""Text that reads as other than it holds (garde.unseen): bidirectional controls and invisible
characters made visible in the CSV files staff open, kept as held in a subject's portability file and
a register's documents, and written as ``\\u`` escapes in the JSON staff read (the same data)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from garde.documents.spreadsheet import CsvWriter, csv_chunks
from garde.unseen import has_unseen, json_escaped, shown_text

ATTACKS = ["\u202egro.elpmaxe@bob", "12.50\u2066 €", "ana@ex\u200bample.org", "\u200f-1", "a\u2067b\u2069c",
           "\u061c5", "tag\U000e0041\U000e0042", "\ufeff=1+1"]
KEPT = ["Ørsted +44", "ناصر", "שלום", "می\u200cخواهم", "👩\u200d💻", "née\tlà\nici", "-Nadia"]


def _unseen(character: str) -> bool:
    return character not in "\u200c\u200d\t\n\r" and unicodedata.category(character) in ("Cf", "Cc")


@given(st.text())
def test_every_unseen_character_is_shown_and_nothing_else_changes(text: str) -> None:
    shown = shown_text(text)
    assert not has_unseen(shown)
    assert shown == "".join((f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") if _unseen(c)
                            else c for c in text)
    assert json.loads(json_escaped(json.dumps(text, ensure_ascii=False))) == text  # the same data
    assert not has_unseen(json_escaped(json.dumps(text, ensure_ascii=False)))


def test_a_staff_csv_shows_them_and_a_subjects_own_file_keeps_them() -> None:
    """Before: an audience's or a decision batch's CSV carried a customer's U+202E as it was, and the
    cell read as another address or amount in the DPO's spreadsheet."""
    staff, theirs = io.StringIO(), io.StringIO()
    CsvWriter(staff).writerows([[value] for value in ATTACKS + KEPT])
    CsvWriter(theirs, as_held=True).writerows([[value] for value in ATTACKS + KEPT])
    cells = [row[0] for row in csv.reader(io.StringIO(staff.getvalue()))]
    assert cells[:len(ATTACKS)] == ["\\u202egro.elpmaxe@bob", "12.50\\u2066 €", "ana@ex\\u200bample.org",
                                    "\\u200f-1", "a\\u2067b\\u2069c", "\\u061c5", "tag\\U000e0041\\U000e0042",
                                    "\\ufeff=1+1"]
    assert cells[len(ATTACKS):] == [*KEPT[:-1], "'-Nadia"]  # names in any script as written; formulas inert
    held = [row[0] for row in csv.reader(io.StringIO(theirs.getvalue()))]
    assert held[:len(ATTACKS)] == [*ATTACKS[:3], "'\u200f-1", *ATTACKS[4:-1], "'\ufeff=1+1"]  # as held, inert
    assert "".join(csv_chunks([[value] for value in ATTACKS])) == staff.getvalue().split("Ørsted")[0]
