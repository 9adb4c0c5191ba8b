"""Issue 16, round 14: the structure of notices (tests/data/analyse/dev14/, labels in its labels.yaml,
written before the round's rules; no blind set's text or label was read, only the lead's summary of
the kinds of structure that lose pairs):

- a numbered or lettered list of purposes ("a)", "1)", "a.", `<ol>`) whose bases come after it, in a
  sentence naming the items ("Per la finalità di cui alla lettera a) ...", "Purposes 1, 2 and 3 rely
  on ...") or in a list ("finalità 1 e 2: esecuzione del contratto");
- `<div role="button" aria-expanded>` accordions whose titles name a use in other words than their
  panel's basis; a definition list `<dl>`; run-in labels bold by CSS;
- two bases in one cell or bullet, a basis after a colon in a bullet.

Eight documents were labelled before any rule of the round; four more (a charity shop's `<ol>` with its
bases before the references, an Italian council's Bootstrap 3 collapse links, a French travel agent's
"points a) à c)", an estate agent's `<dl>` of Purpose / Lawful basis) were written and labelled after
the first rules, before running them.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence string
verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV14 = Path(__file__).parent / "data" / "analyse" / "dev14"
FLOORS = Floors(pairs=(0.95, 0.95), elements=(0.95, 0.95), only_labelled_findings=True)
globals().update(dev_tests(DEV14, FLOORS))
