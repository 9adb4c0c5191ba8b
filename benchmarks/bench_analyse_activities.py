"""Reading the activities of a 50-page notice and drafting its register, against reading its text.

The document is the five seeds and the analyser's test notices repeated until it holds about
150,000 characters (50 pages of 3,000). garde reads its blocks and tables, extracts every activity
with its legal bases, data and retention, and writes the draft register. The baseline, in the same
run, is the plain-text reader alone (``from_text``): the floor of reading the document's structure.
Goal (issue 16): a 50-page document analysed in under 5 seconds. The term caches are emptied
before each run, so every run reads the document afresh.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import Result, timed
from garde.analyse import wording
from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.draft import draft_register

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT.parent / "shared" / "seeds").glob("*.txt")),
           *sorted((ROOT / "tests" / "analyse_documents").glob("*.md"))]
PAGE = 3_000


def fifty_pages() -> str:
    texts = [p.read_text(encoding="utf-8") for p in SOURCES if p.exists()]
    parts: list[str] = []
    while sum(len(p) for p in parts) < 50 * PAGE:
        parts += texts
    return "\n\n".join(parts)


def analyse(text: str) -> None:
    wording._find_terms.cache_clear()
    wording._tied_bases.cache_clear()
    document = from_text(text)
    draft_register(document, extract_activities(document, "fr"), "fr")


def run() -> list[Result]:
    text = fifty_pages()
    analyse(text)  # warm the vocabularies
    garde_s = timed(lambda: analyse(text))
    baseline_s = timed(lambda: from_text(text))
    return [Result(
        "analyse", f"activities + draft of {len(text) // PAGE} pages ({len(text):,} characters)",
        garde_s * 1000, baseline_s * 1000, "ms", baseline_s / garde_s, "< 5 s absolute", garde_s < 5.0,
        note=f"garde {garde_s * 1000:.0f} ms = {garde_s / baseline_s:.0f}x reading the text",
    )]
