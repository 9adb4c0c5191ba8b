"""Issue 16, round 12: development documents for the layouts of pairs the tenth blind set's summary
named (tests/data/analyse/dev12/, labels in its labels.yaml; no blind set's text or label was read):

- a plain text whose sections are headed by lines in capitals, one use each (English, French; Italian
  with each heading's text on the next line);
- an HTML page of `<section>`s whose paragraphs open with a run-in bold label naming the use;
- a PDF with one h3 heading per use; Italian `<details>`/`<summary>` accordions with bullets giving
  consent by ticking a box;
- a DOCX in prose under a generic heading ("Processing this data"), with an Art. 9 condition's
  paragraph that ties no Art. 6 basis;
- elements in other words: a partnership as the controller, "Nothing is sent abroad", "Le
  consentement peut être retiré", "un format réutilisable", Italian rights under one verb.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV12 = Path(__file__).parent / "data" / "analyse" / "dev12"
FLOORS = Floors(pairs=(0.95, 0.90), elements=(0.95, 0.95), only_labelled_findings=True)
globals().update(dev_tests(DEV12, FLOORS))
