"""Issue 16, round 7: development documents for the kinds of misses the fifth blind set's summary
named (tests/data/analyse/dev7/, labels in its labels.yaml; no blind set's text was read):

- purposes as a lettered or numbered list, their bases stated elsewhere and tied back by letter or
  number ("for purposes a) and c)", "di cui alle lettere a) e b)", "aux fins visées aux points 1 et 3");
- bases tied "respectively" ("rispettivamente", "respectivement") to the purposes listed before;
- numbered clauses (3.1, 3.2 ...), each a purpose and its basis;
- register tables whose basis cell is merged over several rows (HTML rowspan, a DOCX vertical merge,
  a PDF cell spanning rows);
- the source of data, recipients named without the word, "we make no automated decisions";
- a processor's notice naming no controller, and a retention left as a placeholder ("XXX years").

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV7 = Path(__file__).parent / "data" / "analyse" / "dev7"
# Floors just under this set's figures after round 7 (a development set: an upper bound). Before the
# round: pairs P 0.833 R 0.357 F1 0.500, elements P 0.957 R 0.967.
globals().update(dev_tests(DEV7, Floors(pairs=(0.95, 0.90), elements=(0.95, 0.95))))
