"""`garde analyse` on a second held-out set, black box: ten notices and registers it has never seen.

The documents (tests/data/analyse/heldout2/, labels.yaml there) were written and labelled without
reading the analyser, its cue files or the first held-out set. Two are PDFs and two DOCX, built here
from their sources (tests/heldout_documents.py); the others are read as committed. Each is analysed
by `python -m garde analyse FILE --format json` in a subprocess, as a user would run it.

Scoring:
- Art. 13 elements: `present: true` is the positive class; precision and recall over all 23 elements
  of all documents.
- (purpose, basis) pairs: the analyser's pairs are each activity's purpose (with its name) crossed with
  its legal_bases. A pair matches a label pair when the bases are equal and the purposes share words:
  both are lower-cased, stripped of accents, cut into words of 3+ letters minus stop words, and
  |common words| / min(|label words|, |analyser words|) >= 0.5. Matching is one to one, best
  overlaps first. Precision, recall and F1 over all documents.
- Findings (placeholder, consent by browsing, recoverable password, contradiction, invalid mechanism):
  recall, each label finding matched by the analyser's finding code.
Verbatim: an excerpt must occur, whitespace aside (PDF lines and HTML blocks break text differently), in
the document's source or in its text as pypdf, python-docx, selectolax or markdown-it reads it back.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from markdown_it import MarkdownIt
from pypdf import PdfReader
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from tests.heldout_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout2")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout2"
LABELS: dict[str, dict[str, Any]] = yaml.safe_load((FOLDER / "labels.yaml").read_text(encoding="utf-8"))[
    "documents"
]
LEGAL_BASES = frozenset(
    basis["id"] for basis in yaml.safe_load(
        (Path(__file__).parents[1] / "src/garde/taxonomy/data/legal_bases.yaml").read_text(encoding="utf-8")
    )
)
# The 23 Art. 13 elements, in the order the labels list them (every document lists all of them).
ELEMENTS = tuple(next(iter(LABELS.values()))["art13"])

# Floors: just under the first blind score of this set (2026-12-06, the analyser built without
# seeing it): elements P 0.987 R 0.929; pairs P 0.830 R 0.672 F1 0.743; findings 4 of 6. Then PDF
# tables (built on the helper's own PDFs, not these): pairs P 0.840 R 0.724 F1 0.778. After round 5
# (2026-12-06, written without reading this set): elements P 1.000 R 0.958; pairs P 0.900 R 0.931
# F1 0.915; findings 5 of 6. After round 6 (written without reading it either): pairs P 0.903
# R 0.966 F1 0.933.
ELEMENT_PRECISION_FLOOR = 0.99
ELEMENT_RECALL_FLOOR = 0.95
PAIR_PRECISION_FLOOR = 0.89
PAIR_RECALL_FLOOR = 0.95
PAIR_F1_FLOOR = 0.92
FINDING_RECALL_FLOOR = 0.83

PURPOSE_OVERLAP = 0.5
STOP_WORDS = frozenset(
    " ".join((
        "the and for our your you with from that this are any about into its their them which where when",
        "les des pour par avec vos nos une aux dans sur est qui que ses leur leurs",
        "del della delle dei degli per con alla alle allo nel nella sui una che gli",
        "data donnees dati personal personnelles personali information informations",
    )).split()
)
# The analyser's finding codes (docs/analyse.md), by the short names the labels use.
FINDING_CODES = {
    "consent_by_browsing": "GA001",
    "placeholder": "GA002",
    "recoverable_password": "GA003",
    "contradiction": "GA004",
    "invalid_mechanism": "GA005",
}


def figures(counts: Counter[str]) -> dict[str, float]:
    """Precision and recall of the elements, of the pairs (with F1), recall of the findings."""
    pair_p = _ratio(counts["pair_tp"], counts["pair_predicted"])
    pair_r = _ratio(counts["pair_tp"], counts["pair_labelled"])
    return {
        "element_precision": _ratio(counts["element_tp"], counts["element_tp"] + counts["element_fp"]),
        "element_recall": _ratio(counts["element_tp"], counts["element_tp"] + counts["element_fn"]),
        "pair_precision": pair_p,
        "pair_recall": pair_r,
        "pair_f1": 2 * pair_p * pair_r / (pair_p + pair_r) if pair_p + pair_r else 0.0,
        "finding_recall": _ratio(counts["finding_hits"], counts["finding_labelled"]),
    }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def squash(text: str) -> str:
    """Text compared without its whitespace: PDF lines and HTML blocks break it differently."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def words(text: str) -> set[str]:
    """A purpose's content words: lower case, no accents, 3+ letters, no stop words."""
    bare = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(char for char in bare if not unicodedata.combining(char))
    return {word for word in re.findall(r"[a-z]{3,}", bare) if word not in STOP_WORDS}


def overlap(label: str, predicted: str) -> float:
    ours, theirs = words(label), words(predicted)
    if not ours or not theirs:
        return 0.0
    return len(ours & theirs) / min(len(ours), len(theirs))


def read_back(path: Path) -> str:
    """The document's text as a reader of its format gives it (where the analyser's excerpts must be)."""
    suffix = path.suffix
    if suffix == ".pdf":  # plain text, and the layout-mode text the analyser reads on pages with a table
        pages = PdfReader(path).pages
        return "\n".join([page.extract_text() or "" for page in pages]
                         + [page.extract_text(extraction_mode="layout") or "" for page in pages])
    if suffix == ".docx":
        document = docx.Document(str(path))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)
    raw = path.read_text(encoding="utf-8")
    if suffix == ".md":
        raw += "\n" + (HTMLParser(MarkdownIt("commonmark").enable("table").render(raw)).text() or "")
    if suffix == ".html":
        tree = HTMLParser(raw)
        return "\n".join(tree.body.text(separator=separator) for separator in ("", "\n")) if tree.body else ""
    return raw


def analyse_file(path: Path, source_text: str) -> tuple[dict[str, Any], str]:
    """`garde analyse PATH --format json` as a user runs it, and every text its excerpts may come from."""
    done = subprocess.run(
        [sys.executable, "-m", "garde", "analyse", str(path), "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 1), f"{path.name}: exit {done.returncode}\n{done.stderr}"
    return json.loads(done.stdout), source_text + "\n" + read_back(path)


@functools.cache
def analysed(name: str, into: str) -> tuple[dict[str, Any], str]:
    """The analyser's JSON for one document, and every text its excerpts may come from."""
    return analyse_file(*build(FOLDER, name, Path(into)))


@pytest.fixture(scope="module")
def into(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("heldout2"))


def predicted_pairs(result: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for activity in result["activities"]:
        purpose = " ".join(str(activity.get(key) or "") for key in ("purpose", "name"))
        pairs += [(purpose, basis) for basis in activity.get("legal_bases") or []]
    return pairs


def score(name: str, result: dict[str, Any],
          labels: dict[str, dict[str, Any]] = LABELS) -> tuple[Counter[str], list[str]]:
    """One document's counts (elements, pairs, findings) and its misses, one line each."""
    label, counts, misses = labels[name], Counter[str](), []
    for element in ELEMENTS:
        expected, found = label["art13"][element]["present"], result["art13"][element]["present"]
        if expected and found:
            counts["element_tp"] += 1
            counts[f"{element}:tp"] += 1
        elif found:
            counts["element_fp"] += 1
            counts[f"{element}:fp"] += 1
            said = result["art13"][element]["evidence"]
            misses.append(f"element {element}: said present, is not ({said!r})")
        elif expected:
            counts["element_fn"] += 1
            counts[f"{element}:fn"] += 1
            misses.append(f"element {element}: missed ({label['art13'][element]['evidence']!r})")
    gold = [(pair["purpose"], pair["basis"]) for pair in label["pairs"]]
    predicted = predicted_pairs(result)
    candidates = sorted(
        ((overlap(purpose, theirs), g, p) for g, (purpose, basis) in enumerate(gold)
         for p, (theirs, their_basis) in enumerate(predicted) if basis == their_basis),
        reverse=True,
    )
    matched_gold: set[int] = set()
    matched_predicted: set[int] = set()
    for value, g, p in candidates:
        if value >= PURPOSE_OVERLAP and g not in matched_gold and p not in matched_predicted:
            matched_gold.add(g)
            matched_predicted.add(p)
    counts.update(pair_tp=len(matched_gold), pair_predicted=len(predicted), pair_labelled=len(gold))
    misses += [f"pair missed: {purpose} -> {basis}"
                      for g, (purpose, basis) in enumerate(gold) if g not in matched_gold]
    misses += [f"pair not in labels: {purpose.strip()[:70]} -> {basis}"
                      for p, (purpose, basis) in enumerate(predicted) if p not in matched_predicted]
    codes = {finding["code"] for finding in result["findings"]}
    counts["finding_labelled"] = len(label["findings"])
    for finding in label["findings"]:
        if FINDING_CODES[finding] in codes:
            counts["finding_hits"] += 1
        else:
            misses.append(f"finding missed: {finding}")
    return counts, misses


@pytest.mark.parametrize("name", sorted(LABELS))
def test_labels_are_complete_and_verbatim(name: str, into: str) -> None:
    """The set itself: every element labelled, each label excerpt in the document, bases of the taxonomy."""
    assert len(ELEMENTS) == 23
    check_label(name, LABELS[name], analysed(name, into)[1])


def check_label(name: str, label: dict[str, Any], text: str) -> None:
    """A document's label: all elements in order, each excerpt in the text, bases and findings known."""
    assert tuple(label["art13"]) == ELEMENTS
    for element, value in label["art13"].items():
        assert not value["present"] or squash(value["evidence"]) in squash(text), (name, element)
    assert {pair["basis"] for pair in label["pairs"]} <= LEGAL_BASES
    assert set(label["findings"]) <= set(FINDING_CODES)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_language_kind_and_verbatim_evidence(name: str, into: str) -> None:
    """Language and kind are right, and nothing the analyser quotes is missing from what it read."""
    check_result(name, LABELS[name], *analysed(name, into))


def check_result(name: str, label: dict[str, Any], result: dict[str, Any], text: str) -> None:
    """The analyser's language and kind are the label's, and every excerpt it quotes is in the text."""
    assert set(result["art13"]) == set(ELEMENTS)
    assert (result["language"], result["kind"]) == (label["language"], label["kind"])
    quoted = [value["evidence"] for value in result["art13"].values() if value["present"]]
    assert all(quoted), f"{name}: an element present without evidence"
    for activity in result["activities"]:
        evidence = activity.get("evidence") or []
        quoted += [evidence] if isinstance(evidence, str) else [item["excerpt"] for item in evidence]
    quoted += [finding["evidence"] for finding in result["findings"]]
    whole = squash(text)
    assert [excerpt for excerpt in quoted if squash(excerpt) not in whole] == []


def table(results: dict[str, dict[str, Any]],
          labels: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, float]]:
    """The per-document table with its misses, the per-element counts and the totals; the overall figures."""
    total = Counter[str]()
    header = ("document", "el P", "el R", "pairs tp/pred/gold", "pr P", "pr R")
    lines = ["{:36} {:>5} {:>5} {:>18} {:>5} {:>5} find".format(*header)]
    for name in sorted(results):
        counts, misses = score(name, results[name], labels)
        total.update(counts)
        mine = figures(counts)
        lines.append(
            f"{name:36} {mine['element_precision']:5.2f} {mine['element_recall']:5.2f} "
            f"{counts['pair_tp']:>8}/{counts['pair_predicted']:>4}/{counts['pair_labelled']:>4} "
            f"{mine['pair_precision']:5.2f} {mine['pair_recall']:5.2f} "
            f"{counts['finding_hits']}/{counts['finding_labelled']}"
        )
        lines += [f"    {miss}" for miss in misses]
    lines.append("per element (labelled positives: tp + fn): tp fp fn")
    for element in ELEMENTS:
        tp, fp, fn = (total[f"{element}:{kind}"] for kind in ("tp", "fp", "fn"))
        lines.append(f"    {element:38} {tp:>2} {fp:>2} {fn:>2}")
    overall = figures(total)
    lines.append(
        f"TOTAL elements P={overall['element_precision']:.3f} R={overall['element_recall']:.3f} "
        f"(tp {total['element_tp']}, fp {total['element_fp']}, fn {total['element_fn']}); "
        f"pairs P={overall['pair_precision']:.3f} R={overall['pair_recall']:.3f} F1={overall['pair_f1']:.3f} "
        f"({total['pair_tp']} of {total['pair_labelled']} labelled, {total['pair_predicted']} predicted); "
        f"findings {total['finding_hits']}/{total['finding_labelled']}"
    )
    return lines, overall


def test_figures_at_or_above_the_floors(into: str) -> None:
    """Per document and overall: element precision/recall, pair precision/recall/F1, finding recall."""
    lines, overall = table({name: analysed(name, into)[0] for name in LABELS}, LABELS)
    print("\n".join(lines))
    floors = {
        "element_precision": ELEMENT_PRECISION_FLOOR, "element_recall": ELEMENT_RECALL_FLOOR,
        "pair_precision": PAIR_PRECISION_FLOOR, "pair_recall": PAIR_RECALL_FLOOR, "pair_f1": PAIR_F1_FLOOR,
        "finding_recall": FINDING_RECALL_FLOOR,
    }
    assert below(overall, floors) == {}


def below(overall: dict[str, float], floors: dict[str, float]) -> dict[str, float]:
    """The figures under their floors (none, when the set scores as well as it did)."""
    return {name: value for name, value in overall.items() if value < floors[name]}
