"""Words of the published documents, each piece tagged with its language.

The documents print two kinds of text: the register's own (names, purposes,
legitimate interests...) and the words around them (headers, section
titles, retention phrases...). The first is never translated: a text the
register lacks in the chosen language is shown in the language it has, and
the piece says so, so HTML can mark it with ``lang=``. The second comes from
garde's gettext catalogues (:mod:`garde.documents.texts`, translated in ``src/garde/locale``;
a DPO or a translator can read and correct the ``.po`` files); the supervisory authorities'
names and pages are data (``translations/authorities.yaml``);
periods, dates and country names come from Babel's CLDR data.

A field the register leaves empty becomes a *gap* piece ("⚠ Not stated in
the register: retention period"), never an invented text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.units import format_unit

from garde.documents.links import mail_href, safe_href
from garde.documents.texts import TEXTS
from garde.periods import Period
from garde.register.jurisdiction import jurisdiction
from garde.register.model import Contact, Register, Registration, RetentionRule, Text, text_lang
from garde.retention_rule import RetentionPeriod
from garde.taxonomy import LANGS, Vocabulary, load_vocabulary, normalise
from garde.taxonomy.free import FreeTerm
from garde.yamlsource import load_yaml

TRANSLATIONS = Path(__file__).parent / "translations"


@dataclass(frozen=True)
class Piece:
    """A run of text in one language; ``gap`` marks what the register does not state."""

    text: str
    lang: str
    gap: bool = False
    href: str | None = None  # a link target :func:`~garde.documents.links.safe_href` allowed
    # A register text shown in another language than the document's because the register lacks it
    # there: the notice marks the passage (never a silent switch of language).
    untranslated: bool = False


Line = tuple[Piece, ...]


@dataclass(frozen=True)
class Cell:
    """The content of one table cell or notice field: lines of pieces."""

    lines: tuple[Line, ...] = ()

    def plain(self, separator: str = "\n") -> str:
        return separator.join("".join(p.text for p in line) for line in self.lines)

    @property
    def gaps(self) -> list[str]:
        return [p.text for line in self.lines for p in line if p.gap]

    @property
    def only_gap(self) -> bool:
        return bool(self.lines) and all(p.gap for line in self.lines for p in line)


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, dict[str, str]]:
    """Every text of the documents' wording (:mod:`garde.documents.texts`, translated in garde's
    gettext catalogues), keyed ``<part>.<path>`` (``common.gap.field``), in fr, en and it."""
    return {text.context: {lang: text(lang) for lang in LANGS} for text in TEXTS}


@dataclass(frozen=True)
class Authority:
    id: str
    name: str
    language: str
    url: str | None
    aliases: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()  # (language, the name it uses in that language)

    def named(self, lang: str) -> tuple[str, str]:
        """The authority's name in ``lang`` where it has one, else its own name: (name, language)."""
        return next(((name, lang) for code, name in self.names if code == lang), (self.name, self.language))


@lru_cache(maxsize=1)
def load_authorities(path: Path = TRANSLATIONS / "authorities.yaml") -> tuple[Authority, ...]:
    rows = load_yaml(path)[0]
    return tuple(Authority(id=str(r["id"]), name=str(r["name"]), language=str(r["language"]),
                           url=r.get("url"), aliases=tuple(r.get("aliases", ())),
                           names=tuple((str(k), str(v)) for k, v in (r.get("names") or {}).items()))
                 for r in rows)


class Wording:
    """Everything a document needs to put the register into words in ``lang``.

    ``law`` is the law governing the register (``garde.register.jurisdiction``): under the
    UK GDPR the words that name the law, the area data leaves or the authority come from
    the ``uk_gdpr.`` keys (:mod:`garde.documents.texts.uk_gdpr`), which hold only the keys that differ.
    """

    def __init__(self, lang: str, register_lang: str, vocabulary: Vocabulary | None = None,
                 law: str = "gdpr") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
        self.lang = lang
        self.register_lang = register_lang
        self.vocabulary = vocabulary or load_vocabulary()
        self.catalogue = load_catalogue()
        self.locale = Locale.parse(lang)
        self.law = law
        # A public document (the notice): the register's internal notes (``reference:``) stay out.
        self.public = False

    @classmethod
    def for_register(cls, register: Register, lang: str, vocabulary: Vocabulary | None = None) -> Wording:
        """Words for ``register``'s documents, under the law of the controller's country."""
        return cls(lang, register.language, vocabulary, jurisdiction(register.controller.country).law)

    # -- the catalogue -------------------------------------------------------------------------

    def ui(self, key: str, **values: str) -> str:
        """The catalogue's text for ``key`` in the document's language (and the register's law)."""
        texts = self.catalogue.get(f"{self.law}.{key}") or self.catalogue[key]
        text = texts.get(self.lang) or texts["en"]
        return text.format(**values) if values else text

    def word(self, key: str, **values: str) -> Piece:
        return Piece(self.ui(key, **values), self.lang)

    def gap(self, field: str) -> Piece:
        """A visible marker for a field the register leaves empty."""
        return Piece(self.ui("common.gap.field", field=self.ui(f"common.field.{field}")), self.lang,
                     gap=True)

    # -- the register's own texts and terms ----------------------------------------------------

    def text(self, value: Text | None) -> Piece | None:
        """A register text in the document's language if it has it, else as written."""
        if value is None:
            return None
        if isinstance(value, str):
            return Piece(value, self.register_lang, untranslated=self.register_lang != self.lang)
        lang = text_lang(value, self.lang, self.register_lang)
        chosen = value.get(self.lang) or next(iter(value.values()), "")
        return Piece(chosen, lang, untranslated=lang != self.lang)

    def name(self, name: str) -> Piece:
        """A proper name (a company's, a cookie's): in no language, so it reads as part of the
        document's own (a French notice naming "Maison Exemple SAS" is still all French)."""
        return Piece(name, self.lang)

    def term(self, kind: str, term_id: str) -> Piece:
        """A vocabulary term's label, tagged with the language the label is really in; a term in
        the register's own words (``{other: ...}``) exactly as written, never a neighbour's label."""
        if isinstance(term_id, FreeTerm):
            lang = term_id.lang_of(self.lang, self.register_lang)
            return Piece(term_id.text(self.lang), lang, untranslated=lang != self.lang)
        term = self.vocabulary.get(kind, term_id)
        if term is None:
            return Piece(term_id, self.lang)
        for lang in (self.lang, "en", *term.labels):
            if lang in term.labels:
                return Piece(term.labels[lang], lang)
        return Piece(term_id, self.lang)

    def terms(self, kind: str, term_ids: Iterable[str]) -> Line:
        return self.join(self.term(kind, term_id) for term_id in term_ids)

    def join(self, pieces: Iterable[Piece | Line], separator: str = "common.word.list_separator") -> Line:
        """Pieces (or lines) one after the other, with a localised separator between them."""
        line: list[Piece] = []
        for item in pieces:
            if line:
                line.append(self.word(separator))
            line.extend((item,) if isinstance(item, Piece) else item)
        return tuple(line)

    def labelled(self, label_key: str, line: Line) -> Line:
        """``Label : value``, the label from the catalogue."""
        return self.labelled_line((self.word(label_key),), line)

    def labelled_line(self, label: Line, line: Line) -> Line:
        """``label : value``."""
        return (*label, self.word("common.word.label_separator"), *line)

    # -- CLDR (Babel) ----------------------------------------------------------------------------

    def period(self, period: Period) -> str:
        """``3 ans``, ``13 months``, ``2 anni``."""
        unit = f"duration-{period.unit}"
        text = str(format_unit(period.count, unit, length="long", locale=self.locale))
        if unit in text:  # Babel has no long form for some locales (it: years, months)
            text = str(format_unit(period.count, unit, length="short", locale=self.locale))
        return text.replace("\xa0", " ").replace("\u202f", " ")

    def date(self, day: date) -> str:
        return str(format_date(day, format="long", locale=self.locale))

    def country(self, code: str) -> str:
        return str(self.locale.territories.get(code.upper(), code))

    def language_name(self, code: str) -> str:
        return str(self.locale.languages.get(code, code))

    # -- composite phrases -----------------------------------------------------------------------

    def retention(self, rule: RetentionRule) -> Line:
        """``3 ans après le dernier contact, puis suppression`` (GDPR Art. 13(2)(a)).

        Only what the register says: a range as a range, a criterion and a
        condition in the register's own words. A rule kept without limit is
        printed as the register states it, in its own words: neither a gap nor
        an invented period.
        """
        period = rule.rule
        if period is not None and period.words is not None:
            return (self.word("common.retention_indefinite"), Piece(" ", self.lang),
                    *self.quoted(Piece(period.words, self.register_lang)))
        pieces: list[Piece] = []
        if period is not None:
            pieces.append(self.retention_period(period))
        criterion = self.text(rule.criterion)
        if criterion:
            if pieces:
                pieces.append(self.word("common.word.dash"))
            pieces += self.introduced("common.retention_criterion", criterion)
        condition = self.text(rule.condition)
        if condition:
            pieces += self.introduced("common.retention_condition", condition)
        action = self._action(rule)
        pieces += action[:1]
        reference = None if self.public else self.text(rule.reference)
        if reference:
            pieces += [Piece(" (", self.lang), reference, Piece(")", self.lang)]
        return (*pieces, *action[1:])

    def _action(self, rule: RetentionRule) -> list[Piece]:
        """What happens when the rule is due; for an archive, until when and who may read it, only
        as the register states them (a missing end is said to be missing)."""
        if rule.action != "archive":
            return [self.word(f"common.retention_action.{rule.action}")]
        until = rule.final
        if until is None or until.indefinite:
            # GL070: a visible gap, like every field the register leaves out
            pieces = [self.word("common.retention_archive.no_until"), Piece(" ", self.lang),
                      self.gap("archive_end")]
        else:
            phrase = self.retention_period(until).text
            pieces = [self.word("common.retention_archive.until", until=phrase)]
        access = self.text(rule.archive.access) if rule.archive is not None else None
        if access is not None:
            pieces += [self.word("common.retention_archive.access"), access]
        return pieces

    def introduced(self, key: str, piece: Piece) -> Line:
        """``Criterion …: “the register's words”``: a catalogue phrase, then the register's text quoted."""
        return (self.word(key), Piece(" ", self.lang), *self.quoted(piece))

    def retention_period(self, period: RetentionPeriod) -> Piece:
        """``3 ans après le dernier contact``, ``entre 3 et 5 ans après la fin du contrat``."""
        table = "after" if period.period else "until"
        key = f"common.retention_{table}.{period.event}"
        if key not in self.catalogue:
            key = f"common.retention_{table}._other"
        values = {"event": self.term("trigger_events", period.event).text}
        if period.period:
            values["period"] = self.period(period.period)
            if period.lower is not None:
                values["period"] = self.word("common.retention_range", lower=self.period(period.lower),
                                             period=values["period"]).text
        return self.word(key, **values)

    def quoted(self, piece: Piece) -> Line:
        """The register's (or the source's) own words, between the language's quotation marks."""
        opening, closing = ("« ", " »") if self.lang == "fr" else ("“", "”")
        return (Piece(opening, self.lang), piece, Piece(closing, self.lang))

    def contact(self, contact: Contact | None) -> list[Line]:
        """A contact as lines: name, address, e-mail, telephone, website."""
        if contact is None:
            return []
        lines: list[Line] = []
        name = self.text(contact.name)
        if name and name.text:  # a name is not translated (the language it is written in is kept)
            lines.append((Piece(name.text, name.lang),))
        address = self.text(contact.address)
        if address and address.text:  # a postal address is in no language: written as the post reads it
            lines.append((self.name(address.text),))
        for plain, href in ((contact.email, mail_href), (contact.phone, None), (contact.url, safe_href)):
            if plain:
                lines.append((Piece(plain, self.lang, href=href(plain) if href else None),))
        return lines

    def registrations(self, registrations: Iterable[Registration]) -> list[Line]:
        """``SIREN : 552 100 554`` per official number, the kind's label from the catalogue."""
        lines: list[Line] = []
        for registration in registrations:
            key = f"common.registration.{registration.kind}"
            label = self.word(key) if key in self.catalogue else Piece(registration.kind, self.register_lang)
            lines.append(self.labelled_line((label,), (Piece(registration.value, self.register_lang),)))
        return lines

    def authority(self, name: str | None) -> Line:
        """The supervisory authority a subject may complain to, with its website if known."""
        if not name:
            return (self.gap("supervisory_authority"),)
        wanted = normalise(name)
        for known in load_authorities():
            if wanted in {normalise(known.id), normalise(known.name), *map(normalise, known.aliases)}:
                line: tuple[Piece, ...] = (Piece(*known.named(self.lang)),)
                if known.url:
                    link = Piece(known.url, self.lang, href=safe_href(known.url))
                    line += (self.word("common.word.dash"), link)
                return line
        return (Piece(name, self.register_lang),)


def cell(lines: Sequence[Line], gap: Piece | None = None) -> Cell:
    """A cell of ``lines``; when there are none, the ``gap`` marker (or nothing)."""
    kept = tuple(line for line in lines if line)
    if not kept and gap is not None:
        return Cell(((gap,),))
    return Cell(kept)
