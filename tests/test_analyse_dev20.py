"""Issue 16, round 20: (purpose, legal basis) pairs per item and without cross-products
(tests/data/analyse/dev20/, labels in its labels.yaml; no blind set's text or label was read, only the
lead's summary of the kinds of misses):

- headed items under one section whose bases differ ("Ticket sale: ... (contract)", bold lead-ins whose
  bases a closing sentence names, sub-headings with one sentence, one item with two bases);
- a large HTML accordion whose lists are introduced by one basis each, beside sections on security,
  legal duties and data categories that name bases;
- an Italian shop's purposes by letter and its bases referring back to the letters;
- public bodies' PDFs: bullets of purposes, then a lawful-basis section naming what each basis covers;
- French associations enumerating purposes, then one basis sentence per group;
- cookie policies, one purpose per cookie category.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence string
verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV20 = Path(__file__).parent / "data" / "analyse" / "dev20"
FLOORS = Floors(pairs=(0.95, 0.96), elements=(0.99, 0.95))
globals().update(dev_tests(DEV20, FLOORS))
