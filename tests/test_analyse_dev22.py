"""Issue 16, round 22: pairs in prose paragraphs and FAQ answers, and the Art. 13 elements said without
their usual words (tests/data/analyse/dev22/, labels in its labels.yaml; no blind set's text or label
was read, only the lead's summary of the kinds of misses):

- "the law obliges us to A and to B" (two duties), a paragraph whose last clause names the basis;
- paragraphs opening with a demonstrative ("This is what we need to ...", "Ceci nous permet ...")
  whose activity is named by the processing the sentence describes;
- prose under headings and bold run-in paragraphs ("part of the subscription", "in our legitimate
  interests and yours");
- someone's agreement beside another basis, a section on whether data is compulsory, an FAQ answer on
  where data comes from: no consent pair;
- sources, automated decisions, the requirement to provide and FAQ answers (transfers denied, data
  listed in prose, a service line with an e-mail address) said without their usual words.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence string
verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV22 = Path(__file__).parent / "data" / "analyse" / "dev22"
FLOORS = Floors(pairs=(0.95, 0.88), elements=(0.98, 0.96))
globals().update(dev_tests(DEV22, FLOORS))
