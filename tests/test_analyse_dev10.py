"""Issue 16, round 10: development documents for the kinds of misses the eighth blind set's summary
named (tests/data/analyse/dev10/, labels in its labels.yaml; no blind set's text or label was read):

- DOCX registers with several legal bases in one cell (the cell's paragraphs, " ; ", each basis with
  its article, a basis cell naming the purpose each serves), eight columns, cells merged over rows,
  plural basis headers ("Base(s) légale(s)", "Bases légales");
- sections headed in capitals in a plain text, run-in titled paragraphs, bold-led paragraphs in
  Markdown and in HTML (`<p><strong>…</strong> – …</p>`);
- bases worded as duties ("we are required by the Money Laundering Regulations to", "ci impongono di");
- a notice inside an HTML form (its labels and paragraphs among the inputs; English chrome, option
  values and script around French text);
- a processor's notice, and a notice with a section of processing done for its customers;
- withdrawal, automated decisions, sources and portability worded without their usual words.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV10 = Path(__file__).parent / "data" / "analyse" / "dev10"
FLOORS = Floors(pairs=(0.95, 0.90), elements=(0.95, 0.90), only_labelled_findings=True)
globals().update(dev_tests(DEV10, FLOORS))
