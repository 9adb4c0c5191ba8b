"""Writers of the Art. 30 register: CSV, Markdown, HTML and JSON (XLSX in :mod:`.xlsx`).

Each takes the :class:`~garde.documents.art30.RegisterDocument` and returns
bytes, so the library never touches files; the CLI writes them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from garde.documents.art30 import RegisterDocument
from garde.documents.spreadsheet import CsvWriter
from garde.documents.templating import render
from garde.documents.wording import Wording


def to_csv(document: RegisterDocument) -> bytes:
    """One row per activity, both roles in one table with a role column.

    Columns are the union of both sheets' (processor-only columns are empty on
    controller rows and the reverse); multi-line cells keep their line breaks; a cell
    a spreadsheet would run as a formula starts with ``'`` (:mod:`.spreadsheet`). UTF-8 with a
    byte-order mark, so spreadsheet programs open accented text right.
    """
    words = Wording(document.lang, document.lang)
    headers: dict[str, str] = {"role": words.ui("register.column.role")}
    for sheet in document.sheets:
        for column in sheet.columns:
            headers.setdefault(column.key, column.header)
    buffer = io.StringIO()
    writer = CsvWriter(buffer, as_held=True, lineterminator="\r\n")  # the register as written
    writer.writerow(headers.values())
    for sheet in document.sheets:
        role = words.ui(f"register.role.{sheet.role}")
        for row in sheet.rows:
            writer.writerow([role if key == "role" else row[key].plain() if key in row else ""
                             for key in headers])
    return buffer.getvalue().encode("utf-8-sig")


def to_json(document: RegisterDocument) -> bytes:
    """Plain data: each cell as its text, ``null`` where the register states nothing.

    ``gaps`` lists, per row, the visible gap markers the other formats show.
    """
    data = {
        "title": document.title,
        "language": document.lang,
        "controller": document.controller,
        "generated": document.generated.isoformat(),
        "cover": {label: value.plain() for label, value in document.cover},
        "common": {label: value.plain() for label, value in document.common},
        "sheets": [
            {
                "role": sheet.role,
                "title": sheet.title,
                "heading": sheet.heading,
                "columns": [{"key": c.key, "header": c.header} for c in sheet.columns],
                "rows": [
                    {"activity": activity_id,
                     **{key: None if value.only_gap or not value.lines else value.plain()
                        for key, value in row.items()},
                     "gaps": [gap for value in row.values() for gap in value.gaps]}
                    for activity_id, row in zip(sheet.activity_ids, sheet.rows, strict=True)
                ],
            }
            for sheet in document.sheets
        ],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_markdown(document: RegisterDocument) -> bytes:
    return render("register.md.j2", doc=document).encode("utf-8")


# The columns of the summary table (the CNIL model's list of activities); every column is on the
# activity's own sheet below it.
SUMMARY_KEYS = frozenset({"ref", "name", "purposes", "legal_bases", "retention", "on_behalf_of",
                          "processing_categories"})


def to_html(document: RegisterDocument) -> bytes:
    """A summary table of the activities, then one sheet per activity with every column, as the CNIL
    model register lays it out: it prints on A4 and reads on a phone without scrolling sideways."""
    words = Wording(document.lang, document.lang)
    return render("register.html.j2", doc=document, lang=document.lang, summary_keys=SUMMARY_KEYS,
                  back=words.ui("register.layout.back")).encode("utf-8")


def _xlsx(document: RegisterDocument) -> bytes:
    from garde.documents.xlsx import to_xlsx  # openpyxl is only imported when asked for

    return to_xlsx(document)


REGISTER_WRITERS: dict[str, Callable[[RegisterDocument], bytes]] = {
    "csv": to_csv,
    "xlsx": _xlsx,
    "md": to_markdown,
    "html": to_html,
    "json": to_json,
}
