"""Issue 16, round 8: development documents for the kinds of misses the sixth blind set's summary
named (tests/data/analyse/dev8/, labels in its labels.yaml; no blind set's text was read):

- a purpose's section followed by a "Legal basis" heading (a GP practice's PDF); "we rely on our
  legitimate interest to <the use>" under a heading (the heading stays the purpose: two of its
  labels, heading and use together, are missed);
- a bank's informativa with purposes a) - h) and their bases by letter ranges in a later section;
- Markdown tables with an alignment row and a basis column named in plain words ("Why we can"), two
  bases in one cell;
- ALL-CAPS numbered clauses "3.3.5 MARKETING: CONSENT", one-line "Finalità: … — Base giuridica: …";
- rights said not to apply; a payroll processor naming its customer only as "your employer";
- the source of data said without "source".

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV8 = Path(__file__).parent / "data" / "analyse" / "dev8"
# Floors just under this set's figures after round 8 (a development set: an upper bound). Before the
# round: pairs P 0.889 R 0.511 F1 0.649, elements P 0.986 R 0.973 (eight documents). It labels no
# finding (its documents were written for pairs): none may be reported either.
FLOORS = Floors(pairs=(0.95, 0.90), elements=(0.95, 0.95), only_labelled_findings=True)
globals().update(dev_tests(DEV8, FLOORS))
