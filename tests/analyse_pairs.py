"""The evaluation of the analyser's (purpose, legal basis) pairs against registers encoded by hand.

Purpose matching: a purpose's *words* are its normalised words (case, accents, hyphens aside) of
three letters or more. An extracted activity matches the expected activity whose name or one of
whose purposes shares the largest part of the smaller word set with the extracted purpose or name
(overlap coefficient |A ∩ B| / min(|A|, |B|)), when that part is at least :data:`MATCH`; between
expected activities stating the same purpose, the one whose name shares most with the extracted
name wins.
An extracted (purpose, basis) pair is right when its purpose matches an expected activity that
has that basis; an expected pair is found when some extracted pair is right for it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from garde.analyse.activities import Activity
from garde.analyse.document import Document, from_text
from garde.documents.art30 import build_register
from garde.documents.formats import to_csv, to_html, to_markdown
from garde.documents.notice import build_notice, write_notice
from garde.register import load_register
from garde.register.model import Register, text_in
from garde.taxonomy import normalise

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
REGISTERS = ROOT / "registers"
SEED_REGISTERS = ("dior-couture", "online-shop", "negomarkets", "net-a-porter", "deskmanager")
FIXTURES = ("commune-valbrune", "parloir-software", "hollowmere-outdoor", "quieta-salute")
MATCH = 0.6


_PUNCTUATION = ".,;:()[]'\"«»“”"


def words(text: str) -> frozenset[str]:
    stripped = (w.strip(_PUNCTUATION) for w in normalise(text).split())
    return frozenset(w for w in stripped if len(w) >= 3)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


@dataclass(frozen=True)
class Case:
    name: str
    document: Document
    language: str
    register: Register


@dataclass(frozen=True)
class Score:
    predicted: int
    right: int
    expected: int
    found: int

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.predicted + other.predicted, self.right + other.right,
                     self.expected + other.expected, self.found + other.found)


def expected_texts(register: Register) -> list[list[frozenset[str]]]:
    lang = register.language
    return [[words(text_in(a.name, lang) or ""), *(words(text_in(p, lang) or "") for p in a.purposes)]
            for a in register.activities]


def score(activities: list[Activity], register: Register) -> Score:
    texts = expected_texts(register)
    expected = {(i, b) for i, a in enumerate(register.activities) for b in a.bases()}
    predicted = right = 0
    found: set[tuple[int, str]] = set()
    for activity in activities:
        mine = [words(activity.purpose), words(activity.name or "")]
        best, best_score = None, (MATCH, 0.0)
        for i, theirs in enumerate(texts):
            value = (max(overlap(m, t) for m in mine for t in theirs), overlap(mine[1], theirs[0]))
            if value >= best_score and (best is None or value > best_score):
                best, best_score = i, value
        for basis in activity.legal_bases:
            predicted += 1
            if best is not None and (best, basis) in expected:
                right += 1
                found.add((best, basis))
    return Score(predicted, right, len(expected), len(found))


def seed_cases() -> list[Case]:
    cases = []
    for name in SEED_REGISTERS:
        register = load_register(REGISTERS / f"{name}.yaml")
        assert register.source is not None
        seed = SEEDS / Path(register.source).name
        document = from_text(seed.read_text(encoding="utf-8"), seed.name)
        cases.append(Case(f"seed {seed.name} ({name})", document, register.language, register))
    return cases


def tab_separated(csv_bytes: bytes) -> str:
    """A CSV as tab-separated lines (a cell's line breaks become spaces)."""
    rows = csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")))
    return "\n".join("\t".join(" ".join(cell.split()) for cell in row) for row in rows) + "\n"


class _Tables(HTMLParser):
    """The tables of an HTML page as tab-separated lines, one blank line between tables."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.lines.append("\t".join(self.row))
            self.row = None
        elif tag == "table":
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str) -> str:
    """What a reader of HTML tables gives, until the analyser reads HTML itself: tab-separated rows."""
    parser = _Tables()
    parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def fixture_cases() -> list[Case]:
    cases = []
    for name in FIXTURES:
        register = load_register(REGISTERS / f"{name}.yaml")
        lang = register.language
        notice = write_notice(build_notice(register, lang), "md")
        table = build_register(register, lang)
        for kind, text in (("notice.md", notice), ("register.csv", tab_separated(to_csv(table))),
                           ("register.md", to_markdown(table).decode("utf-8")),
                           ("register.html", html_tables(to_html(table).decode("utf-8")))):
            cases.append(Case(f"{name} {kind}", from_text(text, f"{name}.{kind}"), lang, register))
    return cases
