"""Issue 16, round 11: development documents for the kinds of misses the ninth blind set's summary
named (tests/data/analyse/dev11/, labels in its labels.yaml; no blind set's text or label was read):

- pairs inside `<details>`/`<summary>` sections;
- withdrawal worded as "reply STOP", "pull out of the study", turning it off in the phone's or the
  app's settings;
- the Art. 13(2)(e) statement as "participation is voluntary", "if you refuse … we cannot";
- consent without the word ("with your agreement", "si vous l'autorisez", "con il suo accordo");
- duties ("we are legally obliged", "la legge ci obbliga") and "misure precontrattuali".

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV11 = Path(__file__).parent / "data" / "analyse" / "dev11"
FLOORS = Floors(pairs=(0.85, 0.70), elements=(0.95, 0.90), only_labelled_findings=True)
globals().update(dev_tests(DEV11, FLOORS))
