"""Issue 16, round 15: how notices word a legal basis and tie it to a purpose (tests/data/analyse/dev15/,
labels in its labels.yaml; no blind set's text or label was read, only the lead's summary of the kinds of
wording that lose pairs):

- the contract said indirectly ("part of your membership contract", "nell'ambito del rapporto
  contrattuale", "font partie des prestations prévues par votre contrat", non-native "for executing the
  agreement");
- consent said as an action or a condition ("only if you tick the box", "n'est activée que si vous
  l'acceptez", "solo previo suo consenso", "se ci autorizza");
- an Art. 9(2) condition beside an Art. 6 basis, legitimate interests named with the purpose, the soft
  opt-in;
- what is no pair: rights paragraphs naming consent or the contract, processors "under contract", a
  public-task cell naming the NHS contract that funds the service.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence string
verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path

from tests.analyse_dev import Floors, dev_tests

DEV15 = Path(__file__).parent / "data" / "analyse" / "dev15"
FLOORS = Floors(pairs=(0.95, 0.93), elements=(0.95, 0.95))
globals().update(dev_tests(DEV15, FLOORS))
