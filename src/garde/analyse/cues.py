"""Cue phrases: the words of the law and of notices, matched in any passage of a document.

A cue is matched on the passage's *normalised* words (case, accents, apostrophes and punctuation
ignored, as :func:`garde.taxonomy.normalise` does), whole words only; a trailing ``*`` on a word
matches any ending (``rectif*`` matches "rectification", "rectifier"). A few cues are patterns,
named with ``@``: an e-mail address, a telephone number, a web address, a duration ("13 mois", "5
years") or one whose number a template left to fill ("XXX years"), a company's name with its legal
form ("Acme Ltd"), a country outside the EEA (its name in French, English or Italian, from Babel's
CLDR data and the EEA list in ``taxonomy/data/eea.yaml``) and the words of a taxonomy kind
(``@vocabulary:legal_bases``: its labels and synonyms of two words or more, the one-word ones being
too common in prose: "contract", "Contrat").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from garde.analyse.wording import find_terms
from garde.problems import GardeError
from garde.taxonomy import LANGS, load_vocabulary, normalise


def words_of(text: str) -> str:
    """``text`` as matched: normalised words separated by single spaces, with a space at each end."""
    plain = re.sub(r"[^\w*]+", " ", normalise(text).replace("_", " "))
    # A star ends a cue's word ("rectif*"); Markdown's emphasis ("**Controller:**") is no wildcard.
    plain = re.sub(r"(?<!\w)\*+|\*{2,}", " ", plain)
    return " " + " ".join(plain.split()) + " "


def _phrase_pattern(phrase: str) -> str:
    words = words_of(phrase).split()
    return r"\s".join(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w)
                      for w in words if w != "*")


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|fr|it|eu|org|net|co\.uk|uk|gov|gouv\.fr)/\S*",
                  re.IGNORECASE)
_PHONE = re.compile(r"(?:\+|\b0)\d[\d .()/-]{7,}\d")
# A company's name with its legal form ("Acme Ltd", "Quieta S.r.l.", "Parloir Software SAS"): the
# legal form is matched with its capitals, so French "sa" or Italian "sa" are not one.
_COMPANY = re.compile(
    r"\b[A-Z0-9][\w&'’.-]*(?:\s+(?:[A-Z0-9][\w&'’.-]*|de|du|des|di|del|della|of|and|&))*\s+"
    r"(?:S\.?A\.?S\.?U?|SARL|EURL|SA|SNC|SCOP|S\.p\.A\.?|S\.r\.l\.?|S\.a\.s\.|Ltd\.?|Limited|LLP|PLC|plc|"
    r"GmbH|AG|Inc\.?|LLC|B\.?V\.?|N\.?V\.?|SE)(?![\w])")
# A number in figures or, as short notices write it, in words ("six years", "dix ans", "dieci anni").
_COUNT = (r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty|thirty|"
          r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|dix-huit|vingt|trente|"
          r"due|tre|quattro|cinque|sei|sette|otto|nove|dieci|dodici|diciotto|venti|trenta)")
_UNITS = (r"(?:years?|months?|weeks?|days?|yrs?|ans?|années?|mois|semaines?|jours?|anni|anno|mesi|mese|"
          r"settimane|giorni)\b")
_DURATION = re.compile(rf"\b{_COUNT}\s*{_UNITS}", re.IGNORECASE)
# A duration whose number a template left to fill ("XXX years", "[X] ans", "__ mesi", "[…] months",
# "<n> days"): no period at all (the placeholder is finding GA002).
PLACEHOLDER_DURATION = re.compile(
    rf"(?:(?<![\w])X{{1,4}}|\[[^\]\n]{{0,12}}\]|_{{2,}}|\.{{3,}}|…|<[^<>\n]{{0,12}}>|\bN\b)\s*(?i:{_UNITS})")

# Art. 13(2)(e) said as a consequence: a clause opening with "without"/"sans"/"senza" and the thing
# not given, then in the same sentence what cannot be done ("Without your date of birth we cannot
# ...", "Sans adresse électronique, nous ne pouvons pas ...", "Senza il certificato medico non
# possiamo ..."). Opening the clause, and not about consent: "we will not share your data without
# your consent", "without your consent we cannot send the newsletter" say no such thing.
WITHOUT_THEN_CANNOT = re.compile(
    r"(?:^|[.;:!?]\s+|\n\s*|[-–—•]\s+)(?:[Ee]ven\s+)?(?:[Ww]ithout|[Ss]ans|[Ss]enza)\s+"
    r"(?!(?:\w+['’\s]+){0,2}(?:consent|consentement|consenso|accord|autorisation|autorizzazione|permission))"
    r"[^.;:!?\n]{2,80}?"
    r"(?:\bcannot\b|\bcan\s*not\b|\bcan[’']t\b|\b(?:will|would|won[’']t)\s+not\s+be\s+able|\bwon[’']t\s+be\s+able"
    r"|\bunable\b|\bne\s+(?:pouvons|pourrons|pourrions|pouvez|pourrez|peut|pourra|pourront|sommes|serons)\b"
    r"|\bn['’]est\s+pas\s+possible|\bnon\s+(?:possiamo|potremo|potremmo|può|potrà|puoi|potrai|potete|è\s+possibile)\b)")


@dataclass(frozen=True)
class Cues:
    """A compiled set of cue phrases (and patterns): does a passage contain one, and which."""

    phrases: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...] = ()  # matched on the passage's own text
    enumerations: tuple[str, ...] = ()  # taxonomy kinds: two different terms of one, named together
    articles: frozenset[int] = frozenset()  # article numbers, referred to alone, in a range or a list

    def find(self, text: str, words: str) -> str | None:
        """The cue found in a passage (``words`` is :func:`words_of` its ``text``), or None."""
        if self.phrases is not None:
            hit = self.phrases.search(words)
            if hit:
                return hit.group(0).strip()
        for pattern in self.patterns:
            hit = pattern.search(text)
            if hit:
                return hit.group(0)
        for kind in self.enumerations:
            named = _enumeration(kind, text)
            if named:
                return named
        if self.articles:
            return next((ref for ref, numbers in article_references(text) if numbers & self.articles), None)
        return None

    def __bool__(self) -> bool:
        return self.phrases is not None or bool(self.patterns or self.enumerations or self.articles)


def compile_cues(phrases: Iterable[str]) -> Cues:
    """Cues from phrases and ``@`` pattern names."""
    plain: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    enumerations: list[str] = []
    articles: set[int] = set()
    for phrase in phrases:
        if phrase.startswith("@enumeration:"):
            enumerations.append(_known_kind(phrase.split(":", 1)[1]))
        elif phrase.startswith("@article:") and phrase.split(":", 1)[1].isdigit():
            articles.add(int(phrase.split(":", 1)[1]))
        elif phrase.startswith("@"):
            named = _named(phrase)
            plain.update(named[0])
            patterns.extend(named[1])
        elif words_of(phrase).strip():
            plain.add(phrase)
    alternatives = sorted({_phrase_pattern(p) for p in plain if _phrase_pattern(p)}, key=len, reverse=True)
    regex = re.compile(r"(?<=\s)(?:" + "|".join(alternatives) + r")(?=\s)") if alternatives else None
    return Cues(regex, tuple(patterns), tuple(enumerations), frozenset(articles))


def per_language(value: object, where: str) -> list[str]:
    """Every phrase of a ``{fr: [...], en: [...], it: [...], any: [...]}`` map, or of a plain list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, Mapping):
        unknown = set(value) - {*LANGS, "any"}
        if unknown:
            raise GardeError(f"{where}: unknown language {sorted(unknown)[0]!r} (fr, en, it or any)")
        return [str(v) for words in value.values() for v in (words or [])]
    if value is None:
        return []
    raise GardeError(f"{where}: expected a list of phrases or a {{fr:, en:, it:}} map of lists")


def _named(name: str) -> tuple[set[str], list[re.Pattern[str]]]:
    if name == "@email":
        return set(), [_EMAIL]
    if name == "@url":
        return set(), [_URL]
    if name == "@phone":
        return set(), [_PHONE]
    if name == "@duration":
        return set(), [_DURATION]
    if name == "@placeholder_duration":
        return set(), [PLACEHOLDER_DURATION]
    if name == "@without_then_cannot":
        return set(), [WITHOUT_THEN_CANNOT]
    if name == "@company":
        return set(), [_COMPANY]
    if name == "@country_outside_eea":
        return set(countries_outside_eea()), []
    if name.startswith("@vocabulary:"):
        return set(vocabulary_phrases(name.split(":", 1)[1])), []
    if name.startswith("@named:") and "{Name}" in name:
        return set(), [named_pattern(name.split(":", 1)[1])]
    raise GardeError(f"unknown cue pattern {name!r} (@email, @url, @phone, @duration, "
                     "@placeholder_duration, @without_then_cannot, @company, "
                     "@country_outside_eea, @vocabulary:<kind>, @enumeration:<kind>, @article:<number>, "
                     "@named:<words around {Name}>)")


# A proper name: capitalised words, with the particles that join them ("Harlow Vale", "Val-de-Loire",
# "Saint-Aubin-sur-Loire", "Reggio nell'Emilia"); one that opens a cue does not start with an
# article or a possessive ("The Council" names none).
_NOT_A_NAME = (r"(?!(?:The|This|That|Our|Your|Its|La|Le|Les|Ce|Cette|Notre|Votre|Il|Lo|Gli|Questo|Questa|"
               r"Nostro|Nostra)\b)")
_NAME = (r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:[ -](?:(?:de|du|des|d'|di|del|della|dei|degli|nell'|sur|sous|"
         r"en|upon|on|of|and|la|le|les|l')[ -]?)?[A-ZÀ-ÖØ-Þ][\w'’.-]*)*")


@lru_cache(maxsize=64)
def named_pattern(template: str) -> re.Pattern[str]:
    """A cue for a name in its setting: ``template``'s words (any case, any spacing) around
    ``{Name}``, a proper name ("{Name} County Council", "Comune di {Name}", "We, {Name},")."""
    before, _, after = template.partition("{Name}")

    def literal(words: str) -> str:
        parts = [re.escape(w) for w in words.split()]
        return r"\s+".join(parts)

    lead = literal(before)
    tail = literal(after)
    # an article or a common noun may stand between the setting and the name ("Nous, la librairie X,")
    lead_gap = r"\s*(?:(?:the|la|le|les|l'|il|lo|la|gli|i)\s+)?(?:[a-zà-ÿ]+\s+)?" if before.strip() else ""
    pattern = (rf"(?<!\w)(?i:{lead}){lead_gap}" if lead else r"\b" + _NOT_A_NAME) + _NAME \
        + (rf"\s*(?i:{tail})" if tail else "")
    return re.compile(pattern + (r"(?!\w)" if tail and tail[-1].isalnum() else ""))


def _known_kind(kind: str) -> str:
    known = load_vocabulary().kinds()
    if kind not in known:
        raise GardeError(f"unknown taxonomy kind {kind!r} in a cue; known: {', '.join(known)}")
    return kind


def _enumeration(kind: str, text: str) -> str | None:
    """The words from the first to the last of two or more different ``kind`` terms ``text``
    names ("your name, postal address and phone number"), or None."""
    matches = find_terms(kind, text)
    if len({m.term for m in matches}) < 2:
        return None
    return text[matches[0].start:matches[-1].end]


# A reference to articles: "art. 15", "Articles 15 to 22", "artt. 15-22", "articoli da 15 a 21",
# "articles 15, 16 et 21": the article numbers as written, ranges included.
_ARTICLES = re.compile(
    r"\bart(?:icles?|icoli|icolo|t\.|s?\.)\s*((?:da\s+)?\d{1,3}(?:\s*(?:-|–|à|a|al|to|through|,|et|and|e|ed)\s*\d{1,3})*)",
    re.IGNORECASE)
_RANGE = re.compile(r"(\d{1,3})\s*(?:-|–|à|a|al|to|through)\s*(\d{1,3})|(\d{1,3})", re.IGNORECASE)


def article_references(text: str) -> list[tuple[str, frozenset[int]]]:
    """Each reference to articles ``text`` makes, with the numbers it covers."""
    found: list[tuple[str, frozenset[int]]] = []
    for reference in _ARTICLES.finditer(text):
        numbers: set[int] = set()
        for part in _RANGE.finditer(reference.group(1)):
            if part.group(3):
                numbers.add(int(part.group(3)))
            elif int(part.group(2)) - int(part.group(1)) in range(1, 30):
                numbers.update(range(int(part.group(1)), int(part.group(2)) + 1))
        found.append((reference.group(0), frozenset(numbers)))
    return found


def vocabulary_phrases(kind: str, term_ids: Iterable[str] | None = None) -> list[str]:
    """The labels and synonyms (two words or more) of a taxonomy kind's terms (or of some of them).

    A term no longer valid (a safeguard whose ``valid_until`` has passed: the Privacy Shield since
    CJEU C-311/18) is left out: naming it states nothing that holds today (findings GA005 report it).
    """
    vocabulary = load_vocabulary()
    _known_kind(kind)
    wanted = set(term_ids) if term_ids is not None else None
    today = date.today()
    phrases: list[str] = []
    for term in vocabulary.terms(kind):
        if (wanted is not None and term.id not in wanted) or not term.valid_on(today):
            continue
        for words in (*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)):
            if len(words_of(words).split()) >= 2:
                phrases.append(words)
    return phrases


@lru_cache(maxsize=1)
def countries_outside_eea() -> tuple[str, ...]:
    """Names, in French, English and Italian, of the countries and territories outside the EEA."""
    from babel import Locale

    eea = {str(code) for code in load_vocabulary().extras.get("eea", {}).get("eea", [])}
    names: set[str] = {"USA", "U.S.A.", "UK", "U.K."}
    for lang in LANGS:
        for code, name in Locale.parse(lang).territories.items():
            if code.isalpha() and len(code) == 2 and code not in eea and code not in _NOT_THIRD_COUNTRIES:
                names.add(name)
    return tuple(sorted(names - _AMBIGUOUS))


# Codes CLDR lists that are no third country: groupings, and the EU's outermost regions and
# autonomous parts of Member States (Réunion, Guadeloupe, Canary Islands, Åland...).
_NOT_THIRD_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "RE", "GP", "MQ", "GF", "YT", "MF", "IC",
                                  "EA",                                  "AX"})
# Country names that are also common words or names in notices ("Maurice", a jersey, a chad).
_AMBIGUOUS = frozenset({"Jersey", "Guernsey", "Maurice", "Chad", "Jordan", "Georgia", "Monaco", "Man",
                        "Niger", "Tchad", "Ciad", "Giordania"})
