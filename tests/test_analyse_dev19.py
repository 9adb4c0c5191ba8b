"""Issue 16, round 19: the findings and Art. 13 elements the last two blind sets missed
(tests/data/analyse/dev19/, labels in its labels.yaml; no blind set's text or label was read, only the
lead's summary of the kinds of misses):

- a password sent back after "forgot password" (GA003), worded with its verb and object in en/fr/it;
- "stored only in the UK", "hébergées exclusivement en France", "restano esclusivamente in Italia", then a
  provider in a named city or country outside (GA004);
- the source said in a plain sentence, the requirement to provide as "without X we cannot Y", automated
  placement or tiers worded without "automated decision", "nothing leaves the UK";
- what is none of these: hashed passwords with a reset link, EU storage with a US provider under SCCs
  stated honestly, registers whose data categories name compulsory vaccinations.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence string
verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV19 = Path(__file__).parent / "data" / "analyse" / "dev19"
FLOORS = Floors(pairs=(0.98, 0.83), elements=(0.99, 0.95))
globals().update(dev_tests(DEV19, FLOORS))
