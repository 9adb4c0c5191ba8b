"""Purposes tied to their bases by reference: by the letter or number of a list, or "respectively".

Notices, contracts' clauses and Italian informative often list the purposes first, lettered or
numbered ("a) processing your donations; b) claiming Gift Aid ..."), and state the bases apart,
naming the purposes by their letter or number: "for purposes a) and c) we rely on the contract",
"per le finalità di cui alle lettere a) e b) la base giuridica è il contratto", "les données
collectées aux fins visées aux points 1 et 3 sont traitées sur le fondement de l'intérêt légitime".
Each letter then names the purpose listed under it, and the bases the sentence ties after it (up
to the next reference) are that purpose's.

A sentence may also tie several purposes to as many bases in order: "la conservation de la
correspondance et le contrôle des accès reposent respectivement sur l'obligation légale et sur
l'intérêt légitime" (``respectively`` in ``data/structure.yaml``): the n-th purpose takes the n-th
basis.

A letter of the law's own citations ("art. 6, par. 1, lett. b) GDPR", "Art. 6(1)(a)") is no
reference to the notice's list. Nothing is invented: a reference to a letter no list of the
document holds ties nothing, and every purpose and basis is quoted from the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from garde.analyse.document import Block, Document
from garde.analyse.subjects import _alternatives, _fold
from garde.analyse.wording import (
    Match,
    bare_label,
    contains,
    find_terms,
    load_structure,
    negated,
    sentences,
    tied_bases,
)

# A list entry's label at the start of a line: "a)", "(b)", "c.", "1.", "2)", "(iv)", "iv." (a
# numbered clause's "3.1" is not one: its number goes on after the dot).
_LABEL = re.compile(r"^\s*\(?([a-z]|[ivx]{1,4}|\d{1,2})(?:\)|\.(?!\d))\s+(?=\S)")
# The same label before an item's text, where the reader took it off ("1. " of a Markdown list).
_LEAD = re.compile(r"^\s*\(?([a-z]|[ivx]{1,4}|\d{1,2})(?:\)|\.)\s*$")
# A letter in parentheses referring to a list's entry, "(b)" or "b)", not following a word or a
# citation's number ("6(1)(a)").
_LETTER = r"(?:(?<![\w)])\((?:[a-z]|[ivx]{2,4})\)|(?<![\w)(])(?:[a-z]|[ivx]{2,4})\))"
# A letter after a noun naming a list's entries, closed by ")" or by a "." ending no abbreviation.
_NAMED_LETTER = r"\(?[a-z](?:\)|\.(?!\w))"
# A citation of the law around a reference: "art. 6, par. 1, lett. b)", "... lettera a) del GDPR".
_CITED_BEFORE = re.compile(r"(?:\bart|\barticle|\barticolo|\bcomma|\bpar|\bparagraph|\bparagraphe|"
                           r"\bparagrafo)\W{0,3}\d[\w\s.,()°]{0,25}$")
_CITED_AFTER = re.compile(r"^[\s,]*(?:\w+\s+){0,2}(?:gdpr|rgpd|regolamento|reglement|regulation|codice|"
                          r"code)\b")
#: Longest word dropped before the verb that ties the bases "respectively" ("si", "are", "is").
AUXILIARY = 3
#: Most characters a sentence referring to listed purposes may have before its first reference
#: and between two references of one run ("a), b) and c)").
GAP = 12


@dataclass(frozen=True, slots=True)
class Entry:
    """A listed purpose: its label ("a", "2", "iv") and its words, as offsets in the document's text."""

    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Tied:
    """A purpose (offsets) tied to the bases a passage (offsets) states for it."""

    purpose: tuple[int, int]
    passage: tuple[int, int]
    sentence: tuple[int, int]  # the sentence that ties it, whose words are no purpose of their own
    role: str = "prose"  # "basis" when the passage is the basis's words alone


def by_reference(document: Document, language: str) -> list[Tied]:
    """Each listed purpose a sentence elsewhere ties bases to by its letter or number."""
    lists = _lists(document)
    lists += [run for run in _ordinal_runs(document, language) if not any(
        set(e.start for e in run.values()) & set(e.start for e in other.values()) for other in lists)]
    if not lists:
        return []
    text = document.text
    found: list[Tied] = []
    for block in document.blocks:
        if block.kind == "cell" or not (tied_bases(block.text, language) or _labelled(block.text)):
            continue
        previous = ""  # the sentence before
        for start, end in sentences(block.text):
            sentence, before, previous = block.text[start:end], previous, block.text[start:end]
            # a label opening its line is a list's own entry ("a) ..., sulla base del contratto;")
            groups = [g for g in _references(sentence, language) if not (
                _opens_line(text, block.start + start + g[0]) and _LABEL.match(sentence[g[0]:]))]
            if not groups:
                continue
            named = {label for _, _, labels in groups for label in labels}
            entries = _nearest(lists, block.start + start, named)
            if entries is None:
                continue
            span = (block.start + start, block.start + end)
            labelled = _labelled(sentence) if len(groups) == 1 else []
            if labelled:  # "finalità 4: consenso, revocabile in ogni momento": the basis's name alone
                a, b = labelled[0].start, labelled[-1].end
                found += [Tied((entries[label].start, entries[label].end), (span[0] + a, span[0] + b), span,
                               "basis") for label in groups[0][2] if label in entries]
                continue
            bases = [m.start for m in tied_bases(sentence, language)]
            in_order = _in_order(sentence, groups, language)
            if in_order:  # "les traitements a. et b. reposent respectivement sur X et sur Y"
                found += [Tied((entries[label].start, entries[label].end),
                               (span[0] + basis.start, span[0] + basis.end), span, "basis")
                          for label, basis in in_order if label in entries]
                continue
            leading = _leading(sentence, groups)
            if leading:  # "we rely on X for purposes 1 and 2, on Y for purpose 3 and on Z for 4"
                found += [Tied((entries[label].start, entries[label].end), (span[0] + a, span[0] + b), span,
                               "basis") for (a, b), (_, _, labels) in zip(leading, groups, strict=True)
                          for label in labels if label in entries]
                continue
            # the sentence ties a basis ("The legal basis for purposes (a) and (b) is the contract"), or goes
            # on from one that does: every basis it names states one, though a run's own words do not
            # "...; for purpose (c) it is your consent": a sentence going on after a semicolon from one
            # that ties a basis states its bases as that one does
            carried = not bases and before.rstrip().endswith(";") and bool(tied_bases(before, language))
            stated = _stated(sentence) if bases or carried else []
            for i, (_, _, labels) in enumerate(groups):
                segment = _segment(sentence, groups, i, sorted({*bases, *(m.start for m in stated)}))
                if segment is None:
                    continue
                passage, role = (span[0] + segment[0], span[0] + segment[1]), "prose"
                own = [m for m in stated if segment[0] <= m.start < segment[1]]
                if own and not tied_bases(sentence[segment[0]:segment[1]], language):
                    passage, role = (span[0] + own[0].start, span[0] + own[-1].end), "basis"
                found += [Tied((entries[label].start, entries[label].end), passage, span, role)
                          for label in labels if label in entries]
    return [t for t in found if text[t.purpose[0]:t.purpose[1]].strip()]


def _labelled(sentence: str) -> list[Match]:
    """The bases a reference's colon labels it with, by their names alone ("finalità 4: consenso, che
    può essere revocato", "purposes 1 and 2: contract"), up to the first comma or stop; [] otherwise."""
    colon = sentence.find(":")
    if colon < 0:
        return []
    after = sentence[colon + 1:]
    words = re.split(r"[,;.(]", after, maxsplit=1)[0]
    offset = colon + 1
    return [Match(m.term, offset + m.start, offset + m.end, m.words, m.content) for m in bare_label(words)]


Run = tuple[int, int, list[str]]  # a run of references in a sentence: its offsets and the labels it names


def _stated(sentence: str) -> list[Match]:
    """The bases a sentence tying them by construction names and does not deny, whatever words stand
    between its verb and them ("reposent respectivement sur ...", "we rely on X for ..., on Y for ...")."""
    denied = negated(sentence)
    return [m for m in find_terms("legal_bases", sentence) if m.term not in denied]


def _leading(sentence: str, groups: list[Run]) -> list[tuple[int, int]]:
    """Where each run of references follows its bases ("we rely on our contract for purposes 1 and 2,
    on our legal obligation for purpose 3"): for each run, the words naming the bases between the
    run before it and itself; [] when the sentence's first basis does not come before its first run,
    or a run has no basis of its own before it."""
    named = _stated(sentence)
    if len(groups) < 2 or not named or named[0].start >= groups[0][0]:
        return []
    spans: list[tuple[int, int]] = []
    previous = 0
    for start, end, _ in groups:
        own = [m for m in named if previous <= m.start and m.end <= start]
        if not own:
            return []
        spans.append((own[0].start, own[-1].end))
        previous = end
    return spans


def _in_order(sentence: str, groups: list[Run], language: str) -> list[tuple[str, Match]]:
    """A single run of references followed by as many distinct bases and the ``respectively`` cue: the
    n-th label with the n-th basis; [] otherwise."""
    structure = load_structure()
    cue = _pattern(structure.words(structure.respectively, language))
    if len(groups) != 1 or not cue.search(_fold(sentence)):
        return []
    labels = groups[0][2]
    after = [m for m in _stated(sentence) if m.start >= groups[0][1]]
    if len(labels) < 2 or len(after) != len(labels) or len({m.term for m in after}) != len(after):
        return []
    return list(zip(labels, after, strict=True))


Span = tuple[int, int]


def named_entries(document: Document, text: str, position: int, language: str) -> list[Span] | None:
    """The listed purposes a short text names by nothing but their letters or numbers (a table's
    purpose cell "a) e b)", "Purposes 1 to 3"), as offsets; None when it says more, or names no
    list's entries."""
    groups = _references(text, language)
    if not groups:
        return None
    pieces, last = [], 0
    for start, end, _ in groups:
        pieces.append(text[last:start])
        last = end
    rest = " ".join([*pieces, text[last:]])
    structure = load_structure()
    own = [w for w in re.findall(r"\w{3,}", _fold(rest))
           if w not in structure.words(structure.reference_nouns, language)]
    if own:
        return None
    labels = [label for _, _, found in groups for label in found]
    entries = _nearest(_lists(document) + _ordinal_runs(document, language), position, set(labels))
    if entries is None:
        return None
    return [(entries[label].start, entries[label].end) for label in labels]


def respectively(text: str, language: str) -> list[tuple[Span, list[tuple[Span, Span]]]]:
    """Each sentence of ``text`` tying purposes "respectively" to as many bases, in order: its span
    and, for each purpose, (the purpose, the words naming its basis); none where the counts differ."""
    structure = load_structure()
    cue = _pattern(structure.words(structure.respectively, language))
    joints = structure.words(structure.purpose_joints, language)
    markers = structure.words(structure.purpose_markers, language)
    found: list[tuple[Span, list[tuple[Span, Span]]]] = []
    for start, end in sentences(text):
        sentence = text[start:end]
        hit = cue.search(_fold(sentence))
        if hit is None or _references(sentence, language):  # "a. et b. ... respectivement": by_reference's
            continue
        named = _stated(sentence)  # "reposent respectivement sur ...": every basis it names
        bases = [m for m in named if m.start >= hit.start()]
        head = _head(sentence, hit.start(), language)
        if len(bases) < 2:  # the cue after them: "..., on your consent and our interests respectively"
            bases = [m for m in named if m.end <= hit.start()]
            if bases:
                head = (0, len(sentence[:_basis_clause(sentence, bases[0].start)].rstrip(" ,")))
        if len(bases) < 2 or len({m.term for m in bases}) < 2:
            continue
        parts = _split(sentence, head, len(bases), joints, markers)
        if parts is None:
            continue
        found.append(((start, end), [((start + a, start + b), (start + m.start, start + m.end))
                                     for (a, b), m in zip(parts, bases, strict=True)]))
    return found


def _basis_clause(sentence: str, first_basis: int) -> int:
    """Where the words stating the bases begin, the first basis at ``first_basis``: after the last
    comma before it ("marketing and analytics, on the basis of your consent ..."), else at it."""
    comma = sentence.rfind(",", 0, first_basis)
    return comma + 1 if comma > 0 else first_basis


def _opens_line(text: str, position: int) -> bool:
    return not text[text.rfind("\n", 0, position) + 1:position].strip()


def _head(sentence: str, cue: int, language: str) -> tuple[int, int]:
    """The words naming the purposes: from the sentence's start to the verb or participle before the
    cue ("... et le contrôle des accès reposent respectivement"): up to the last comma before it, or
    to the cue less its last word."""
    before = sentence[:cue].rstrip(" ,")
    comma = before.rfind(",")
    if comma > 0 and len(before[comma + 1:].split()) <= 2:
        end = comma
    else:
        words = list(re.finditer(r"\S+", before))[:-1]  # its verb ("reposent", "are based")
        while len(words) > 1 and len(words[-1].group()) <= AUXILIARY:  # "si basano", "are based"
            words.pop()
        end = words[-1].end() if words else len(before)
    del language
    return 0, len(sentence[:end].rstrip(" ,"))


def _split(sentence: str, head: tuple[int, int], count: int, joints: tuple[str, ...],
           markers: tuple[str, ...]) -> list[tuple[int, int]] | None:
    """``count`` purposes in ``sentence[head]``, split at the joints (", and to", " et ", ", "); the
    joints followed by a word introducing a use first; None when the text does not split so."""
    folded = _fold(sentence[:head[1]])
    joint = _alternatives(joints)
    marker = _alternatives(markers)
    tries = []
    if joint and marker:
        tries.append(re.compile(rf"\s*,?\s+(?:{joint})\s+(?=(?:{marker})\s)|\s*,\s*(?=(?:{marker})\s)"))
    if joint:
        tries.append(re.compile(rf"\s*,?\s+(?:{joint})\s+|\s*[,;]\s+"))
    for pattern in tries:
        cuts = list(pattern.finditer(folded))
        if len(cuts) < count - 1:
            continue
        cuts = cuts[len(cuts) - (count - 1):]
        # the first purpose starts at its own use ("We process your data to manage ..."): at the
        # last word introducing a use before the first cut, or at the sentence's start
        first_start = 0
        if marker:
            uses = [m for m in re.finditer(rf"(?<!\w)(?:{marker})\s", folded[:cuts[0].start()])]
            if uses:
                first_start = uses[0].start()
        bounds = [first_start, *(c.end() for c in cuts)]
        ends = [c.start() for c in cuts] + [head[1]]
        parts = [(a, b) for a, b in zip(bounds, ends, strict=True)]
        if all(len(re.findall(r"\w{3,}", sentence[a:b])) >= 1 for a, b in parts):
            return parts
    return None


def _lists(document: Document) -> list[dict[str, Entry]]:
    """Each run of entries labelled in sequence (a, b, c; 1, 2, 3; i, ii, iii) of two or more."""
    runs: list[dict[str, Entry]] = []
    current: dict[str, Entry] = {}
    last: str | None = None
    for entry in _entries(document):
        if last is not None and _follows(last, entry.label):
            current[entry.label] = entry
        else:
            if len(current) >= 2:
                runs.append(current)
            current = {entry.label: entry} if entry.label in ("a", "1", "i") else {}
        last = entry.label if current else None
    if len(current) >= 2:
        runs.append(current)
    return runs


def _ordinal_runs(document: Document, language: str) -> list[dict[str, Entry]]:
    """Lists whose letters or numbers the format draws rather than writes (an HTML ``<ol>``, Word's
    numbering): a run of two or more list items of one level, with no label in their text,
    introduced as purposes (its heading holds ``purpose_sections``' words, or the paragraph before it
    ends in ":" and holds them or ``purpose_cues``': "for the following purposes:", "We use your
    data to:"); its n-th item answers to the n-th letter, number and numeral."""
    structure = load_structure()
    purposes = structure.words(structure.purpose_sections, language)
    uses = structure.words(structure.purpose_cues, language)
    blocks = [b for b in document.blocks if b.kind != "cell"]
    runs: list[dict[str, Entry]] = []
    i = 0
    while i < len(blocks):
        if blocks[i].kind != "item":
            i += 1
            continue
        j = i
        while j < len(blocks) and blocks[j].kind == "item" and blocks[j].level == blocks[i].level:
            j += 1
        items = blocks[i:j]
        before = blocks[i - 1] if i and blocks[i - 1].kind != "item" else None
        heading = document.section_of(blocks[i])
        text = document.text
        labelled = any(_LABEL.match(b.text) or _LEAD.match(text[text.rfind("\n", 0, b.start) + 1:b.start])
                       for b in items)
        introduced = (heading is not None and contains(heading.text, purposes)) or (
            before is not None and before.text.rstrip().endswith(":")
            and contains(before.text, purposes + uses))
        if len(items) >= 2 and not labelled and introduced:
            run: dict[str, Entry] = {}
            for n, item in enumerate(items):
                words = item.text.rstrip(" ;,.")
                entry = Entry(str(n + 1), item.start, item.start + len(words))
                letter = chr(ord("a") + n) if n < LETTERS else ""
                numeral = _ROMANS[n] if n < len(_ROMANS) else ""
                for label in (str(n + 1), letter, numeral):
                    if label:
                        run.setdefault(label, entry)
            runs.append(run)
        i = max(j, i + 1)
    return runs


#: Most items an unlabelled run answers to letters for ("i" is then the ninth letter, not a numeral).
LETTERS = 8
_ROMANS = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")


def _entries(document: Document) -> list[Entry]:
    """The labelled lines of the document's paragraphs and items, the label before the item's text
    (a Markdown "1. ...") or inside it ("a) ...")."""
    text = document.text
    found: list[Entry] = []
    for block in document.blocks:
        if block.kind not in ("paragraph", "item"):
            continue
        for line_start, line in _block_lines(block):
            lead = text[text.rfind("\n", 0, line_start) + 1:line_start]
            own = _LABEL.match(line)
            label = own or _LEAD.match(lead)
            if label is None:
                continue
            begin = line_start + (own.end() if own else 0)
            words = text[begin:line_start + len(line)].rstrip(" ;,.")
            if words:
                found.append(Entry(label.group(1), begin, begin + len(words)))
    return found


def _block_lines(block: Block) -> list[tuple[int, str]]:
    lines = []
    offset = 0
    for line in block.text.split("\n"):
        if line.strip():
            lines.append((block.start + offset, line))
        offset += len(line) + 1
    return lines


def _follows(previous: str, label: str) -> bool:
    if previous.isdigit() and label.isdigit():
        return int(label) == int(previous) + 1
    if previous in _ROMANS and label in _ROMANS and _ROMANS.index(label) == _ROMANS.index(previous) + 1:
        return True
    return len(previous) == len(label) == 1 and previous.isalpha() and ord(label) == ord(previous) + 1


def _nearest(lists: list[dict[str, Entry]], position: int, labels: set[str]) -> dict[str, Entry] | None:
    """The list a reference names: the last one before it holding every label it names, else the
    first after it."""
    holding = [run for run in lists if labels <= set(run)]
    before = [run for run in holding if max(e.start for e in run.values()) < position]
    if before:
        return before[-1]
    return holding[0] if holding else None


def reference_runs(sentence: str, language: str) -> list[tuple[int, int]]:
    """Where ``sentence`` refers to a list's entries by their letters or numbers ("purposes 1 and 2",
    "lettere a) e b)"), as offsets: one span per run."""
    return [(start, end) for start, end, _ in _references(sentence, language)]


def _references(sentence: str, language: str) -> list[tuple[int, int, list[str]]]:
    """Each run of references in ``sentence`` ("purposes a) to c)", "lettere a) e b)", "points 1 et
    3"): its offsets and the labels it names, in order."""
    pattern = _reference_pattern(language)
    folded = _fold(sentence)
    found = []
    for match in pattern.finditer(folded):
        before, after = folded[max(0, match.start() - 40):match.start()], folded[match.end():match.end() + 40]
        if _CITED_BEFORE.search(before) or _CITED_AFTER.match(after):
            continue
        labels = _labels(match.group("run"), language)
        if labels:
            found.append((match.start(), match.end(), labels))
    return found


@lru_cache(maxsize=8)
def _reference_pattern(language: str) -> re.Pattern[str]:
    structure = load_structure()
    nouns = _alternatives(structure.words(structure.reference_nouns, language)) or "(?!)"
    joints = _alternatives((*structure.words(structure.purpose_joints, language),
                            *structure.words(structure.reference_ranges, language), "or", "ou", "o"))
    number = r"\(?\d{1,2}\)?"
    letter = _LETTER
    separator = rf"(?:\s*[,–-]\s*|\s+(?:{joints})\s+|\s*,\s*(?:{joints})\s+)"
    lettered = rf"{letter}(?:{separator}{letter})*"
    # after a noun naming the list's entries, a number, or a letter closed by ")" or "." ("les
    # traitements a. et b.", "finalità c)"; not "il a été": a bare letter is a word)
    item = rf"(?:{number}|{_NAMED_LETTER})"
    numbered = rf"(?<!\w)(?:{nouns})\.?\s+{item}(?:{separator}{item})*(?!\w|\.\d)"
    return re.compile(rf"(?P<run>{lettered}|{numbered})")


def _labels(run: str, language: str) -> list[str]:
    """The labels a run names, in order, a range ("a) to c)", "1 à 3", "a)-c)") spelt out."""
    structure = load_structure()
    ranges = _pattern(structure.words(structure.reference_ranges, language))
    labels: list[str] = []
    previous = None
    for token in re.finditer(r"\(?([a-z]{1,4})\)|(?<!\w)([a-z])\.(?!\w)|(?<!\w)(\d{1,2})(?!\w)", run):
        label = token.group(1) or token.group(2) or token.group(3)
        if previous is not None and labels:
            gap = run[previous:token.start()]
            if re.search(r"[–-]", gap) or ranges.search(gap):
                labels += _between(labels[-1], label)
        labels.append(label)
        previous = token.end()
    return list(dict.fromkeys(labels))


def _between(first: str, last: str) -> list[str]:
    if first.isdigit() and last.isdigit():
        return [str(n) for n in range(int(first) + 1, int(last))]
    if len(first) == len(last) == 1:
        return [chr(c) for c in range(ord(first) + 1, ord(last))]
    return []


def _segment(sentence: str, groups: list[tuple[int, int, list[str]]], i: int,
             bases: list[int]) -> tuple[int, int] | None:
    """The words stating the bases of the ``i``-th reference run: from it up to the next run when a
    basis the sentence ties (``bases``, their starts) is there, else from the previous run to it when
    one is there ("we rely on your consent for purpose d)"); None if neither holds one."""
    start, end, _ = groups[i]
    after_end = groups[i + 1][0] if i + 1 < len(groups) else len(sentence)
    if any(end <= b < after_end for b in bases):
        return start, len(sentence[:after_end].rstrip(" ,;"))
    before_start = groups[i - 1][1] if i else 0
    if any(before_start <= b < start for b in bases):
        return before_start, end
    return None


@lru_cache(maxsize=32)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = _alternatives(words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)" if alternatives else r"(?!)")
