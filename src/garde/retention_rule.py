"""Retention rules in the words a DPO uses.

A rule is ``<period> after <event>`` (``13 months after collection``,
``10 years after invoice_date``), a range ``between <n> and <m> <unit> after
<event>`` (also ``<n> to <m> <unit> after <event>``), or ``until <event>``
(``until consent_withdrawn``), followed by what happens when it is due:
delete, anonymise, archive or review. The French and Italian forms read the
same way (``entre 3 et 5 ans après la fin du contrat``, ``10 anni dalla data
della fattura``, ``jusqu'au retrait du consentement``), and an event may be
named by its vocabulary label or synonym instead of its id.

A range is due at its upper bound: the register allows the data to be kept
up to it (GDPR Art. 5(1)(e) is met by the period the register states), so
``period`` holds the upper bound and ``lower`` the start of the range, which
only the documents print.

A register may also say the data is kept without any limit (``indefinitely``,
``sans limite``, ``illimitato``...): that loads as an *indefinite* rule, kept
in the register's own words, never due, so the retention sweep never deletes
on it and the linter reports it (GL027). Events are terms of the
``trigger_events`` vocabulary; the datasets say which column holds each
event's date.

A rule may end with a condition in words (``10 years after invoice_date
where the customer is a business``): :func:`split_condition` separates it,
and the register keeps it apart (:class:`garde.register.model.RetentionRule`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from garde.periods import Period, Unit
from garde.taxonomy import load_vocabulary, normalise

Action = Literal["delete", "anonymise", "archive", "review"]
ACTIONS: tuple[Action, ...] = ("delete", "anonymise", "archive", "review")
#: How several rules of one activity over the same data combine: the data goes at the first one
#: reached (the default, what every register in this repository means), or only once all of them
#: have been reached ("latest of").
Combination = Literal["first_reached", "latest_of"]
COMBINATIONS: tuple[Combination, ...] = ("first_reached", "latest_of")

# Unit words (en, fr, it), normalised (see garde.taxonomy.normalise).
_UNITS: dict[str, Unit] = {
    "day": "day", "days": "day", "jour": "day", "jours": "day", "giorno": "day", "giorni": "day",
    "week": "week", "weeks": "week", "semaine": "week", "semaines": "week", "settimana": "week",
    "settimane": "week",
    "month": "month", "months": "month", "mois": "month", "mese": "month", "mesi": "month",
    "year": "year", "years": "year", "an": "year", "ans": "year", "annee": "year", "annees": "year",
    "anno": "year", "anni": "year",
}
_UNIT = "(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")"
# "after" and "until", with the articles French and Italian fold into them.
_AFTER_WORDS = ("after", "apres", "dopo", "a compter de", "a compter du", "a compter des", "a partir de",
                "a partir du", "from", "da", "dal", "dallo", "dalla", "dall'", "dai", "dalle", "dagli")
_UNTIL_WORDS = ("until", "jusqu'a", "jusqu'au", "jusqu'aux", "fino a", "fino al", "fino alla", "fino all'",
                "fino ai", "fino alle", "fino allo")


def _words(words: tuple[str, ...]) -> str:
    """An alternation of ``words``, longest first, ending at a space or an apostrophe."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"(?:{alternatives})(?:\s+|(?<='))"


_AFTER = re.compile(rf"^(\d+)\s*{_UNIT}\s+{_words(_AFTER_WORDS)}(.+)$")
_RANGE = re.compile(
    rf"^(?:(?:between|entre|tra|fra|de|da|from)\s+)?(\d+)\s*{_UNIT}?\s+(?:and|to|et|a|e)\s+(\d+)\s*{_UNIT}"
    rf"\s+{_words(_AFTER_WORDS)}(.+)$")
_UNTIL = re.compile(rf"^{_words(_UNTIL_WORDS)}(.+)$")
_ARTICLES = ("the ", "la ", "le ", "les ", "l'", "il ", "lo ", "i ", "gli ", "del ", "della ", "dell'")
# Words that open a condition in words at the end of a rule (en, fr, it): whole words only, so that
# "fine della sessione" holds no "se".
_CONDITION_WORDS = ("where", "if", "when", "provided that", "lorsque", "lorsqu'", "si", "s'il", "quand",
                    "dans le cas où", "dans le cas ou", "se", "quando", "qualora", "nel caso in cui")
_CONDITION = re.compile(rf"\s+{_words(_CONDITION_WORDS)}(?=\S)", re.I)
# What registers write for "kept without limit" (en, fr, it), in normalised form (see
# garde.taxonomy.normalise: case, accents and hyphens do not matter).
INDEFINITE_WORDS = frozenset({
    "indefinitely", "indefinite", "no limit", "without limit", "unlimited", "permanent",
    "permanently", "forever", "no time limit",
    "sans limite", "sans limite de duree", "sans limitation de duree", "illimite", "illimitee",
    "indefiniment", "duree indeterminee", "pour une duree indeterminee", "pour toujours",
    "illimitato", "illimitata", "senza limite", "senza limiti", "senza limiti di tempo",
    "a tempo indeterminato", "tempo indeterminato", "per sempre",
})


class RuleSyntaxError(ValueError):
    """The text is not a retention rule; the message shows the accepted forms."""


FORMS = ("write '<n> days|weeks|months|years after <event>' (e.g. '3 years after last_contact'), "
         "'between <n> and <m> years after <event>', or 'until <event>' (e.g. 'until consent_withdrawn'), "
         "in English, French or Italian; data kept without limit is written 'indefinitely'; "
         "a rule the register gives only in words is written as a `criterion`")


def split_condition(text: str) -> tuple[str, str | None]:
    """``(rule, condition)`` from ``10 years after invoice_date where the customer is a business``.

    The condition is kept in the register's own words; None when the text has none.
    """
    match = _CONDITION.search(text.replace("’", "'"))  # same length: the indices hold for ``text``
    if match is None:
        return text, None
    return text[:match.start()], text[match.end():].strip().rstrip(".")


def event_id(words: str) -> str:
    """The trigger event ``words`` names: an id as written, else the term whose label or synonym
    it is (articles aside); unknown words are kept, for the loader to report with a suggestion."""
    words = words.strip(" .")
    vocabulary = load_vocabulary()
    candidates = [words, words.replace("_", " ")]
    for article in _ARTICLES:
        if words.startswith(article):
            candidates.append(words[len(article):])
    for candidate in candidates:
        term = vocabulary.resolve("trigger_events", candidate)
        if term is not None:
            return term.id
    return words


@dataclass(frozen=True)
class RetentionPeriod:
    """When data is due: ``period`` after ``event``, or at ``event`` when period is None.

    A range (``lower`` set) is due at its upper bound, ``period``. An
    indefinite rule (``words`` set, ``event`` empty) states that the data is
    kept without limit: it is never due.
    """

    event: str
    period: Period | None = None
    words: str | None = None
    lower: Period | None = None

    def __post_init__(self) -> None:
        if self.lower is not None and (self.period is None
                                       or self.lower.approx_days() >= self.period.approx_days()):
            raise RuleSyntaxError(f"a range runs from the shorter period to the longer, not from "
                                  f"{self.lower} to {self.period}")

    @property
    def indefinite(self) -> bool:
        return self.words is not None

    @classmethod
    def indefinitely(cls, words: str) -> RetentionPeriod:
        """The register's statement that data is kept without limit, in its own words."""
        return cls(event="", words=" ".join(words.split()))

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        plain = normalise(re.sub(r"(\d)\s*[-–]\s*(\d)", r"\1 to \2", text)).strip(" .")
        if plain in INDEFINITE_WORDS:
            return cls.indefinitely(text.strip().rstrip("."))
        if match := _AFTER.match(plain):
            period = Period(int(match.group(1)), _UNITS[match.group(2)])
            return cls(event=event_id(match.group(3)), period=period)
        if match := _RANGE.match(plain):
            upper_unit = _UNITS[match.group(4)]
            lower = Period(int(match.group(1)), _UNITS[match.group(2)] if match.group(2) else upper_unit)
            upper = Period(int(match.group(3)), upper_unit)
            return cls(event=event_id(match.group(5)), period=upper, lower=lower)
        if match := _UNTIL.match(plain):
            return cls(event=event_id(match.group(1)))
        raise RuleSyntaxError(f"{text!r} is not a retention rule; {FORMS}")

    def __str__(self) -> str:
        if self.words is not None:
            return self.words
        if self.period is None:
            return f"until {self.event}"
        if self.lower is not None:
            lower = str(self.lower.count) if self.lower.unit == self.period.unit else str(self.lower)
            return f"between {lower} and {self.period} after {self.event}"
        return f"{self.period} after {self.event}"

    def approx_days(self) -> int | None:
        """Rough length of the period (a range's upper bound), for comparisons."""
        return None if self.period is None else self.period.approx_days()


def retention_short_form(value: Any) -> Any:
    """A retention rule's fields from what the register wrote (a text, or a mapping).

    A condition at the end of the rule's text moves to ``condition``; a rule
    written otherwise than its normalised form (in French or Italian, with an
    event's label) keeps the register's text as ``wording`` unless one is given.
    """
    fields = {"rule": value} if isinstance(value, str) else value
    if not isinstance(fields, dict) or not isinstance(fields.get("rule"), str):
        return value
    fields = dict(fields)
    text = fields["rule"]
    rule, condition = split_condition(text)
    if condition is not None:
        if fields.get("condition") is not None:
            raise ValueError(f"{text!r} states a condition, and `condition` gives another: keep one")
        fields["rule"], fields["condition"] = rule, condition
    try:
        normalised = str(RetentionPeriod.parse(rule))
    except RuleSyntaxError:
        return fields  # the rule's own validation reports it
    if fields.get("wording") is None and normalise(normalised) != normalise(rule).strip(" ."):
        fields["wording"] = " ".join(text.split())
    return fields
