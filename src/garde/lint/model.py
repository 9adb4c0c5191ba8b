"""What the linter works with: findings, the rule table, and the context rules read.

A rule is one function that reads a :class:`Context` and yields :class:`Hit`
values (where, and the values its message needs). The rule table
(:data:`RULES`) gives each rule its stable code, severity and legal
reference; the wording (a title and a message per rule, in English in
:mod:`garde.lint.wording`) is translated in garde's gettext catalogues (fr, en, it), so a DPO
or a translator can read and correct it without touching code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from garde import i18n
from garde.lint.wording import AREAS, RULE_TEXTS
from garde.register import Activity, Jurisdiction, LoadedRegister, Register, jurisdiction
from garde.taxonomy import Vocabulary
from garde.yamlsource import FieldPath

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
LANGS = ("en", "fr", "it")
@dataclass(frozen=True)
class Finding:
    """One thing a DPO should look at, with where it is and what the law says."""

    code: str
    severity: Severity
    rule: str
    activity: str | None
    message: str
    reference: str
    url: str | None
    file: str
    line: int | None

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """What a rule found, before it is worded: the field, the activity, the message values.

    ``reference``/``url`` override the rule's own (GL007 cites the regulator
    document of the reference period it compared against); ``line`` overrides
    the line looked up from ``path`` (for problems the loader already located).
    """

    path: FieldPath
    activity: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None
    url: str | None = None
    line: int | None = None


@dataclass
class Context:
    """A loaded register and the reference data the rules compare it with."""

    loaded: LoadedRegister
    vocabulary: Vocabulary
    eea: frozenset[str] | None
    adequacy: frozenset[str]
    today: date = field(default_factory=date.today)  # the day safeguards must be valid on
    decided: frozenset[str] = frozenset()  # countries with any adequacy decision, partial ones too
    lang: str = "en"  # the language of the messages, for words a rule puts into them

    @property
    def register(self) -> Register:
        return self.loaded.register

    @property
    def jurisdiction(self) -> Jurisdiction:
        """The law and national rules of the controller's country (``data/jurisdictions.yaml``)."""
        return jurisdiction(self.register.controller.country)

    def activities(self) -> Iterator[tuple[FieldPath, Activity]]:
        """The activities carried out as controller, alone or jointly: what the controller rules check.

        A processor activity is its clients' to justify (legal basis, retention, notice...): only
        the processor rules (:meth:`processor_activities`) and the rules of the law's chapters that
        bind processors too (:meth:`every_activity`) read it.
        """
        for at, activity in self.every_activity():
            if self.register.role_of(activity) != "processor":
                yield at, activity

    def processor_activities(self) -> Iterator[tuple[FieldPath, Activity]]:
        """The activities carried out as processor on behalf of other controllers (Art. 28, 30(2))."""
        for at, activity in self.every_activity():
            if self.register.role_of(activity) == "processor":
                yield at, activity

    def every_activity(self) -> Iterator[tuple[FieldPath, Activity]]:
        """Every activity whatever its role: for rules that bind controllers and processors alike
        (transfers, GDPR Chapter V: "by a controller or processor", Art. 44)."""
        for i, activity in enumerate(self.register.activities):
            yield ("activities", i), activity

    def outside(self) -> str:
        """``outside the EEA`` (GDPR) or ``outside the UK`` (UK GDPR), in the messages' language."""
        return i18n.translate_in(self.lang, "area", AREAS[self.jurisdiction.law])

    def is_special(self, category: str) -> bool:
        """A GDPR Art. 9 (or Art. 10) category, or a finer term under one."""
        for term_id in (category, *self.vocabulary.ancestors(category)):
            term = self.vocabulary.get("categories", term_id)
            if term is not None and term.extra.get("special") is True:
                return True
        return False


Check = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """One entry of the rule table."""

    code: str
    severity: Severity
    name: str
    reference: str
    url: str | None
    check: Check | None

    def title(self, lang: str = "en") -> str:
        """The rule's title in ``lang`` (garde's gettext catalogues, msgctxt: the rule's id)."""
        return i18n.translate_in(lang, self.code, RULE_TEXTS[self.code][0])

    def template(self, lang: str) -> str:
        """The rule's message in ``lang`` with its ``{placeholders}`` unfilled."""
        return i18n.translate_in(lang, self.code, RULE_TEXTS[self.code][1])

    def message(self, lang: str, params: Mapping[str, str]) -> str:
        return self.template(lang).format_map(dict(params))


RULES: dict[str, Rule] = {}


def rule(code: str, severity: Severity, name: str, *, reference: str,
         url: str | None = None) -> Callable[[Check], Check]:
    """Register a check function in the rule table under ``code``."""

    def register(check: Check) -> Check:
        add_rule(Rule(code, severity, name, reference, url, check))
        return check

    return register


def add_rule(entry: Rule) -> None:
    if entry.code in RULES:
        raise ValueError(f"lint rule {entry.code} is defined twice")
    RULES[entry.code] = entry


def country_codes(data: Any, key: str) -> frozenset[str]:
    """The country codes listed under ``key`` of the vocabulary's ``eea.yaml`` (empty when absent)."""
    value = data.get(key) if isinstance(data, dict) else None
    return frozenset(str(c).upper() for c in value) if isinstance(value, list) else frozenset()
