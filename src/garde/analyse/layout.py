"""Where a document states its purposes: which pieces of text belong to one purpose.

Tables: a header row whose cells name a purpose column and at least one other (basis, data,
retention, recipients) starts a table of activities; each following row is one purpose, a row
without a purpose cell continues the one above (a purpose cell spanning several rows), and a line
of a cell wrapped onto its own line (a line of tab-separated text with one cell) continues the cell
of its column. Prose: a heading whose section holds labelled fields ("Purpose: ...", "Legal basis:
...") is one purpose; a bullet is one purpose with the basis it states, or the basis of the bare
label that follows a run of bullets (a table's column extracted from a PDF); a paragraph that ties
a basis is one purpose in a section that lists purposes, else its heading is the purpose. A basis
stated anywhere else is *untied*: stated for the whole document, tied to no purpose.
"""

from __future__ import annotations

import re
from collections import Counter

from garde.analyse.basis_first import uses_of_basis
from garde.analyse.document import Block, Document
from garde.analyse.named_again import named_by_clause, named_in_untied, named_purposes
from garde.analyse.on_behalf import processor_heading, processor_role, processor_spans, says_on_behalf
from garde.analyse.passages import plain_sections
from garde.analyse.references import by_reference, named_entries, respectively
from garde.analyse.run_together import basis_of_list, listed_after_colon, pointed_back, states_use
from garde.analyse.subjects import clauses, conditional, hedged_use, ties
from garde.analyse.table_rows import read_tables
from garde.analyse.units import Chunk, Reading, Unit, chunks
from garde.analyse.wording import (
    BOTH,
    FUNCTION_WORDS,
    GENERAL_BASES,
    bare_label,
    column_role,
    contains,
    describes_basis,
    find_terms,
    lists_bases,
    load_structure,
    names_only_bases,
    sentences,
    tied_bases,
    tokens,
    without,
)

#: The fewest paragraphs of a section, each stating a use of the data and its basis, that make each
#: of them a purpose (one alone is the section's purpose, named by its heading).
USES_IN_SECTION = 2


def read_layout(document: Document, language: str) -> Reading:
    reading = Reading()
    consumed = read_tables(document, language, reading)
    _prose(document, language, reading, consumed)
    _referenced(document, language, reading)
    _named_again(reading, language, document)
    pointed_back(document, reading, language)
    reading.units.sort(key=lambda u: min((c.start for c in u.chunks), default=0))
    _processors(document, language, reading.units)
    return reading


def _referenced(document: Document, language: str, reading: Reading) -> None:
    """Purposes tied to their bases by a list's letter or number, or "respectively"
    (:mod:`garde.analyse.references`): a unit per purpose, in place of what the rest of the reading
    made of the sentences that tie them (their words are no purpose of their own)."""
    text = document.text
    units: list[Unit] = []
    spans: list[tuple[int, int]] = []
    for tied in by_reference(document, language):
        (a, b), (c, d) = tied.purpose, tied.passage
        units.append(Unit("item", [Chunk("purpose", text[a:b], a), Chunk(tied.role, text[c:d], c)]))
        spans.append(tied.sentence)
    for block in document.blocks:
        if block.kind == "cell":
            continue
        for (s, e), pairs in respectively(block.text, language):
            spans.append((block.start + s, block.start + e))
            for (a, b), (c, d) in pairs:
                units.append(Unit("paragraph", [Chunk("purpose", block.text[a:b], block.start + a),
                                                Chunk("basis", block.text[c:d], block.start + c)]))
    for unit in [u for u in reading.units if u.layout == "table"]:
        # a table's purpose cell naming listed purposes by their letters ("a) e b) | Contratto")
        purpose = next((c for c in unit.chunks if c.role == "purpose"), None)
        named = named_entries(document, purpose.text, purpose.start, language) if purpose else None
        if purpose is None or not named:
            continue
        reading.units.remove(unit)
        others = [c for c in unit.chunks if c is not purpose]
        units += [Unit("table", [Chunk("purpose", text[a:b], a), *others]) for a, b in named]
    if not units:
        return
    # what the rest of the reading made of the tying sentences, and of the entries themselves (an
    # entry whose own words name a basis, "c) adempimento degli obblighi fiscali", read twice)
    named = [(c.start, c.start + len(c.text)) for u in units for c in u.chunks if c.role == "purpose"]
    reading.units = [u for u in reading.units if not any(
        c.role == "purpose" and (any(s <= c.start < e for s, e in spans)
                                 or any(c.start < b and a < c.start + len(c.text) for a, b in named))
        for c in u.chunks)]
    reading.untied = [c for c in reading.untied if not any(s <= c.start < e for s, e in spans)]
    reading.units += units


def _basis_headings(document: Document, language: str) -> list[tuple[int, bool]]:
    """Each heading's start, and whether it names the legal bases ("Our lawful basis", "Base
    giuridica"): what stands under it, up to the next heading, is a section on the bases."""
    structure = load_structure()
    headings = document.headings or plain_sections(list(document.blocks), language)[1]
    words = structure.words(structure.basis_sections, language)
    return [(h.start, contains(h.text, words)) for h in headings]


def _named_again(reading: Reading, language: str, document: Document | None = None) -> None:
    """Purposes listed with no basis, then named again as the subject of a sentence stating one
    (:mod:`garde.analyse.named_again`): the sentence's basis is theirs, its subject no purpose of
    its own."""
    listed = [u for u in reading.units if u.layout == "item" and [c.role for c in u.chunks] == ["purpose"]]
    entries = [Unit("item", [chunk]) for chunk in reading.listed]  # a purpose only once named again
    if not listed and not entries:
        return
    texts = [u.chunks[0].text for u in (*listed, *entries)]
    named_by_clause(reading, (*listed, *entries), language)
    for unit in [u for u in reading.units if u.layout == "paragraph"
                 and [c.role for c in u.chunks] == ["purpose", "prose"]]:
        named = named_purposes(unit.chunks[0].text, texts, language)
        if named:
            reading.units.remove(unit)
            subject = unit.chunks[0]
            for i in named:  # the subject's wording kept as the purpose's name ("La prise de rendez-vous")
                chunks = (*listed, *entries)[i].chunks
                chunks.append(unit.chunks[1])
                if not any(c.role == "name" for c in chunks):
                    chunks.append(Chunk("name", subject.text, subject.start))
    if document is not None:
        heads = _basis_headings(document, language)
        named_in_untied(reading, (*listed, *entries), language,
                        lambda at: next((b for h, b in reversed(heads) if h <= at), False))
    reading.units += [u for u in entries if len(u.chunks) > 1]


def _processors(document: Document, language: str, units: list[Unit]) -> None:
    """Mark the units stating processing on behalf of another controller (:mod:`garde.analyse.on_behalf`)."""
    spans = processor_spans(document, language)
    for unit in units:
        start = min((c.start for c in unit.chunks), default=0)
        unit.processor = unit.processor or any(a <= start < b for a, b in spans) or any(
            says_on_behalf(c.text, language) for c in unit.chunks if c.role in ("purpose", "prose")) or any(
            processor_role(c.text, language) for c in unit.chunks if c.role == "role")


_FIELD = re.compile(r"^[*_\s]*([^:*_\n()]{2,60}?)[*_\s]*[:：][*_\s]*(\S.*)$", re.S)


def _field(block: Block, language: str) -> tuple[str, Chunk, Chunk] | None:
    """A labelled field ("**Legal basis**: Consent", "Finalità: ..."): its role, its label and its
    value; a label that is a legal basis ("Consent: to send the newsletter") gives role ``label``."""
    match = _FIELD.match(block.text)
    if match is None:
        return None
    label = Chunk("label", match.group(1), block.start + match.start(1))
    role = column_role(label.text, language)
    if role is None and not bare_label(label.text):
        return None
    role = role or "label"
    return role, label, Chunk(role, match.group(2), block.start + match.start(2))


def _sections(document: Document, consumed: set[int], language: str) -> list[tuple[list[Block], list[Block]]]:
    """Each heading's section: (its heading and the headings above it, the blocks up to the next).
    The document's title (its first heading, alone at the top level, above others) heads no section:
    what follows it is the document's own introduction."""
    sections: list[tuple[list[Block], list[Block]]] = [([], [])]
    trail: list[Block] = []
    headings = document.headings
    blocks = list(document.blocks)
    if not headings:  # a plain text: its short lines standing alone are its headings
        blocks, headings = plain_sections(blocks, language)
    top = min((h.level for h in headings), default=0)
    title = headings[0] if len(headings) > 1 and [h.level for h in headings].count(top) == 1 \
        and headings[0].level == top else None
    for block in blocks:
        if block.kind == "cell" or block.start in consumed or block is title:
            continue
        if block.kind == "heading" and block.level > MARKED_LEVELS and _label_alone(block.text, language):
            # a definition list's term naming a field ("<dt>Finalité</dt><dd>...</dd>"): the label of
            # the value after it, as "Finalité : ..." is, not a section of its own
            sections[-1][1].append(Block("paragraph", block.text, block.start, block.level))
        elif block.kind == "heading":
            trail = [h for h in trail if h.level < block.level] + [block]
            sections.append((list(trail), []))
        else:
            sections[-1][1].extend(_list_lines(block))
    return [(trail, _marked_paragraphs(body, language)) for trail, body in sections]


def _marked_paragraphs(body: list[Block], language: str) -> list[Block]:
    """Paragraphs that each open with a list's letter or dash ("a) iscrizione ...;", then "b) ..."),
    as a DOCX or HTML writes a lettered list one paragraph an entry, after a sentence stating a basis
    and ending in ":" ("... per l'esecuzione di un compito di interesse pubblico, per le seguenti
    finalità:"): items, as the lines of one paragraph are (:func:`_list_lines`), so that sentence
    gives them its basis. Elsewhere such paragraphs stay as they are (each may state its own basis,
    or be named by its letter where the bases are stated)."""
    found: list[Block] = []
    run = False  # in a run of marked paragraphs after a basis sentence ending in ":"
    for block in body:
        mark = _MARKED.match(block.text) if block.kind == "paragraph" and "\n" not in block.text else None
        if mark is None:
            run = block.kind == "paragraph" and block.text.rstrip().endswith(":") \
                and bool(tied_bases(block.text, language))
            found.append(block)
        elif run:
            found.append(Block("item", block.text[mark.end():], block.start + mark.end(), 1))
        else:
            found.append(block)
    return found


# A line of a paragraph that is a list entry: "a) ...", "(b) ...", "i. ...", "– ...", "• ...".
_MARKED = re.compile(r"^(?:\(?[a-z]\)|\(?[ivx]{1,4}[.)]|[–—•·▪◦])\s+(?=\S)")


# A contract's numbered clause: "3.1 The Supplier processes ...", "12.4. Le Prestataire ...".
_CLAUSE = re.compile(r"^\d{1,2}(?:\.\d{1,2})+\.?\s+(?=\S)")


def _list_lines(block: Block) -> list[Block]:
    """A paragraph whose lines are a lettered or dashed list (plain text, a PDF's text; one entry
    after a line ending in ":") as its introduction and one item per entry, and a numbered clause
    ("3.1 ...") as an item of its own
    (a purpose when it ties a basis, as a bullet does); any other block as it is."""
    if block.kind == "paragraph" and _CLAUSE.match(block.text):
        return [Block("item", block.text, block.start, 1)]
    if block.kind != "paragraph" or "\n" not in block.text:
        return [block]
    lines = _lines(block)
    marked = [_MARKED.match(line.text) for line in lines]
    # one entry is a list too when a line ending in ":" introduces it ("Con il suo consenso ...: a) ...")
    introduced = any(m and i and lines[i - 1].text.rstrip().endswith(":") for i, m in enumerate(marked))
    if sum(1 for m in marked if m) < (1 if introduced else 2):
        return [block]
    parts: list[Block] = []
    for line, mark in zip(lines, marked, strict=True):
        if mark:
            parts.append(Block("item", line.text[mark.end():], line.start + mark.end(), 1))
        elif parts and parts[-1].kind == "item":  # an entry wrapped onto the next line
            last = parts[-1]
            end = line.start + len(line.text)
            parts[-1] = Block("item", block.text[last.start - block.start:end - block.start], last.start, 1)
        else:
            parts.append(Block("paragraph", line.text, line.start))
    return parts


#: Most words of a heading that only announces a legal basis ("Legal basis", "Our lawful basis for
#: this"), as a purpose's own sub-section does.
BASIS_HEADING_WORDS = 6


def _prose(document: Document, language: str, reading: Reading, consumed: set[int]) -> None:
    structure = load_structure()
    # the section before, when its heading may name one purpose and it tied no basis of its own
    untold: Block | None = None
    repeated = Counter(h.text for h in document.headings)
    for trail, body in _sections(document, consumed, language):
        heading = trail[-1] if trail else None
        before, last, untold = len(reading.units), untold, None
        titles = " / ".join(h.text for h in trail)
        purposes = structure.words(structure.purpose_sections, language)
        # "Purposes and legal bases" lists purposes; "Legal basis" alone states bases for all.
        own_purposes = heading is not None and (contains(heading.text, purposes)
                                                or _processing_only(heading.text, language))
        others = structure.words(structure.other_sections, language)
        # "Ateliers pour enfants" is a use, not a section on children's data
        audience = structure.words(structure.for_audience, language)
        if not own_purposes and trail and contains(without(titles, audience), others):
            continue
        bases_named = heading is not None and contains(
            heading.text, structure.words(structure.basis_sections, language))
        basis_section = bases_named and not own_purposes
        # a processor's section lists the processing it carries out for its customers (Art. 30(2)(b))
        listing = contains(titles, purposes) or (heading is not None
                                                 and processor_heading(heading.text, language))
        if not basis_section and _fields_unit(heading, body, language, reading):
            continue
        if own_purposes and bases_named:  # "Purposes and legal bases": "<purpose> : <its basis>"
            body = _purpose_colon_basis(body, language, reading)
        if basis_section and last is not None and heading is not None and len(heading.text.split()) \
                <= BASIS_HEADING_WORDS and (last.level < heading.level or repeated.get(heading.text, 0) > 1):
            # "Providing your care" (what is done) then "Legal basis" (on what basis): the basis is
            # that purpose's, whether the basis heading sits under it or, as a PDF's headings read,
            # beside it, repeated after each purpose (one "Legal basis" beside the others is the
            # document's)
            _walk(last, body, language, reading, False, (False, False))
            continue
        _walk(heading, body, language, reading, basis_section, (own_purposes, listing))
        if heading is not None and not own_purposes and not basis_section:
            _heading_names(heading, reading.units[before:], language)
            if len(reading.units) == before:
                _heading_basis(heading, body, language, reading)
        if heading is not None and not basis_section and not listing and len(reading.units) == before \
                and column_role(heading.text, language) is None:
            untold = heading


def _processing_only(heading: str, language: str) -> bool:
    """A heading naming nothing but the processing in general ("Processing this data", "Traitement
    de vos données"): it announces the uses its paragraphs state (structure.yaml
    `processing_headings`)."""
    structure = load_structure()
    words = [word for word, _, _ in tokens(heading)]
    generic = {*structure.words(structure.generic_uses, language),
               *structure.words(structure.demonstratives, language), *FUNCTION_WORDS}
    processing = set(structure.words(structure.processing_headings, language))
    return any(w in processing for w in words) and all(w in generic or w in processing for w in words)


def _heading_names(heading: Block, units: list[Unit], language: str) -> None:
    """A section whose one purpose its prose names in its own words ("Il registro dei prestiti ... ci
    permette di ..., sulla base del nostro legittimo interesse" under "SICUREZZA DEGLI STRUMENTI"):
    its heading names that purpose, as a run-in label does."""
    if len(units) != 1 or column_role(heading.text, language) is not None:
        return
    chunks = units[0].chunks
    if not any(c.role in ("name", "purpose") and c.start == heading.start for c in chunks) \
            and not any(c.role == "name" for c in chunks):
        chunks.append(Chunk("name", heading.text, heading.start))


# A heading naming its purpose and, in parentheses, its basis alone: "Orders and delivery (contract)".
_HEADING_LABEL = re.compile(r"^(.{3,80}?)\s*\(([^()]{3,80})\)\s*$")


def _heading_basis(heading: Block, body: list[Block], language: str, reading: Reading) -> None:
    """A heading naming its use and its basis alone ("Newsletter – consent", "Orders and delivery
    (contract)", "Fraud checks: legitimate interests", an accordion's title), over prose stating no
    basis: one purpose, the heading's basis its own."""
    match = _titled(heading.text, language) or _HEADING_LABEL.match(heading.text)
    if match is None or not bare_label(match.group(2)) or bare_label(match.group(1)):
        return
    purpose = Chunk("purpose", match.group(1).strip(), heading.start + match.start(1))
    basis = Chunk("basis", match.group(2), heading.start + match.start(2))
    prose = [Chunk("prose", b.text, b.start) for b in body if b.kind in ("paragraph", "item")]
    reading.units.append(Unit("section", [purpose, basis, *prose]))


# "<purpose, details in parentheses> : <a sentence stating its basis>": a short lead, no sentence
# ending inside it, then a colon (the purpose's words may hold parentheses and commas).
_PURPOSE_COLON = re.compile(
    r"^[*_\s]*([^:.;!?\n]{3,160}?(?:\([^()]{0,200}\)[^:.;!?\n]{0,60}?)?)[*_\s]*[:：]\s+(\S.*)$", re.S)
#: Most words a purpose's lead may have before the colon (a longer lead is a sentence, not a label).
LEAD_WORDS = 30


def _purpose_colon_basis(body: list[Block], language: str, reading: Reading) -> list[Block]:
    """In a section headed with purposes AND legal bases, each paragraph "<purpose> : <its basis>"
    is one purpose, the bases named after the colon its own (a basis cell, in prose); the others
    are left to the usual reading."""
    left: list[Block] = []
    for block in body:
        match = _PURPOSE_COLON.match(block.text) if block.kind == "paragraph" else None
        statement = match.group(2) if match else ""
        named = {m.term for m in find_terms("legal_bases", statement)}
        lead = match.group(1) if match else ""
        # a lead naming bases ("we process your data on these bases: consent, contract, ...") or a
        # statement naming three bases or more lists the bases in general: no one purpose's
        # "... per le seguenti finalità: A (lett. e); B (lett. a)": a list run together, read as one later
        if match is None or len(lead.split()) > LEAD_WORDS or not named or len(named) >= GENERAL_BASES \
                or column_role(lead, language) == "basis" or find_terms("legal_bases", lead) \
                or listed_after_colon(block, language):
            left.append(block)
            continue
        purpose = Chunk("purpose", lead.strip(), block.start + match.start(1))
        basis = Chunk("basis", statement, block.start + match.start(2))
        reading.units.append(Unit("paragraph", [purpose, basis]))
    return left


def _fields_unit(heading: Block | None, body: list[Block], language: str, reading: Reading) -> bool:
    """Labelled fields ("Purpose: ...", "Legal basis: ...", one per line or per bullet): a group of
    them per purpose, a new group at each purpose field. A section with one group is one purpose,
    named by its heading (or, with no purpose field, whose purpose is the heading)."""
    groups: list[dict[str, Chunk]] = []
    others: list[Chunk] = []
    label: str | None = None  # a field's label standing alone, its value on the next line
    for owner, line in ((block, line) for block in body if block.kind in ("item", "paragraph")
                        for line in _lines(block)):
        found = _field(line, language)
        if label is not None and found is None:
            found = label, Chunk("label", "", line.start), Chunk(label, line.text, line.start)
        # a label is a definition list's term ("<dt>Finalité</dt>", its level kept from the title the
        # reader made of it), or a line ending in ":" ("Finalité :")
        alone = line.text.endswith((":", "：")) or owner.level > MARKED_LEVELS
        label = _label_alone(line.text, language) if found is None and alone else None
        if label is not None:
            continue
        if found is None or found[0] == "label":
            others.append(Chunk("prose", line.text, line.start))
            continue
        for chunk in chunks(found[0], found[2]):
            if not groups or (chunk.role in ("purpose", "name") and chunk.role in groups[-1]):
                groups.append({})
            groups[-1].setdefault(chunk.role, chunk)
    # a heading naming the data, the recipients or the retention ("Categorie di dati trattati" over its
    # accordion's next titles, "Base giuridica", "Destinatari") is no purpose the fields under it tie
    if len(groups) == 1 and heading is not None and ("purpose" in groups[0] or (
            "basis" in groups[0] and column_role(heading.text, language) not in _NOT_PURPOSES)):
        own = "name" if "purpose" in groups[0] else "purpose"
        unit = Unit("section", [Chunk(own, heading.text, heading.start), *groups[0].values(), *others])
        reading.units.append(unit)
        return True
    units = [Unit("section", list(group.values())) for group in groups if "purpose" in group]
    reading.units += units
    return bool(units)


#: Levels of the headings a format marks (h1 – h6); deeper ones are titles a reader made of a
#: definition list's term, a disclosure's summary or an accordion's button.
MARKED_LEVELS = 6
#: Most words a field's label standing alone may have ("Durée de conservation", "Base légale").
LABEL_WORDS = 4
_FIELD_ROLES = frozenset({"purpose", "basis", "data", "retention", "recipients", "subjects"})


def _label_alone(text: str, language: str) -> str | None:
    """The role of a field's label standing on its own line, its value on the next ("Finalité :",
    a ``<p class="label">``, a ``<dt>``): purpose, basis, data...; None for any other text."""
    label = text.strip().rstrip(":：").strip()
    if not label or len(label.split()) > LABEL_WORDS or ":" in label:
        return None
    role = column_role(label, language)
    if role not in _FIELD_ROLES:
        return None
    # nothing but the column's words ("Base légale", "Durée de conservation"): "Our legal bases are:"
    # introduces a list of bases, it labels no value
    structure = load_structure()
    phrases = {_content_words(phrase) for phrase in structure.words(structure.columns[role], language)
               + structure.words(structure.columns[role], "")}
    return role if _content_words(label) in phrases else None


def _content_words(text: str) -> tuple[str, ...]:
    return tuple(word for word, _, _ in tokens(text) if word not in FUNCTION_WORDS)


def _lines(block: Block) -> list[Block]:
    """The lines of a block, each with its place in the text."""
    lines = []
    offset = 0
    for line in block.text.split("\n"):
        stripped = line.strip()
        if stripped:
            lines.append(Block(block.kind, stripped, block.start + offset + line.index(stripped)))
        offset += len(line) + 1
    return lines


def _walk(heading: Block | None, body: list[Block], language: str, reading: Reading,
          basis_section: bool, purpose_section: tuple[bool, bool]) -> None:
    """``purpose_section``: whether the heading itself announces purposes (its paragraphs are
    purposes), and whether it or a heading above it does (its bullets are purposes)."""
    own_purposes, listing = purpose_section
    pending: list[Block] = []  # bullets waiting for the basis label that may follow them
    intro: list[Chunk] = []  # the basis a paragraph ending in ":" states for the bullets after it
    heading_prose: list[Chunk] = []
    emitted = False
    for i, block in enumerate(body):
        chunk = Chunk("prose", block.text, block.start)
        titled = _titled_basis(block, language) if block.kind in ("item", "paragraph") else []
        if titled:
            reading.units += titled
            emitted = True
            continue
        if block.kind == "item" and names_only_bases(block.text):
            continue  # a bullet naming a basis, no purpose ("- the performance of a contract;")
        if not bare_label(block.text) and lists_bases(block.text, language) \
                and not clauses(block.text, language) and not hedged_use(block.text, language):
            if block.kind != "item":
                reading.untied.append(chunk)  # the bases the law allows, in general: no purpose's
            continue
        if block.kind == "item":
            found = _field(block, language)
            if found is not None and found[0] == "label":
                _, label, value = found
                reading.units.append(Unit("item", [label, Chunk("purpose", value.text, value.start)]))
                emitted = True
            elif conditional(block.text, language):
                continue  # "where we rely on legitimate interests, you may object": no purpose
            elif uses_of_basis(block, language):
                reading.units += uses_of_basis(block, language)
                emitted = True
            elif tied_bases(block.text, language):
                reading.units += _clause_units("item", block, language) \
                    or [Unit("item", [Chunk("purpose", block.text, block.start)])]
                emitted = True
            elif intro:
                reading.units.append(Unit("item", [Chunk("purpose", block.text, block.start), *intro]))
                emitted = True
            else:
                pending.append(block)
            continue
        intro = []
        if bare_label(block.text):
            if pending:
                for item in pending:
                    reading.units.append(Unit("item", [Chunk("purpose", item.text, item.start),
                                                       Chunk("label", block.text, block.start)]))
                pending, emitted = [], True
            continue
        following_items = i + 1 < len(body) and body[i + 1].kind == "item"
        if following_items and block.text.rstrip().endswith(":") and says_on_behalf(block.text, language):
            intro = [chunk]  # "We process it on behalf of the school ...:" then the tasks, listed
            continue
        if not tied_bases(block.text, language):
            if listing and _lead(block) is not None:  # "**Lettre :** nous vous envoyons …": a purpose
                reading.listed.append(Chunk("purpose", block.text, block.start))  # once named again
            continue
        if describes_basis(block.text, language):  # "Our legitimate interests are ...": of those around it
            reading.untied.append(chunk)
            continue
        if conditional(block.text, language):  # a basis named to say what follows from it (objecting)
            reading.untied.append(chunk)
            continue
        if following_items and block.text.rstrip().endswith(":"):
            intro = [chunk]
            continue
        run_together = listed_after_colon(block, language)
        if run_together:  # a list or lettered items the PDF ran into one paragraph, each with its basis
            reading.units += run_together
            emitted = True
            continue
        first = i - 1
        while first > 0 and body[first - 1].kind == "item":
            first -= 1
        # a list of purposes: under a heading announcing them, or after "Trattiamo i suoi dati per:"
        purposes_listed = listing or (first > 0 and body[first - 1].text.rstrip().endswith(":")
                                      and contains(body[first - 1].text, structure_cues(language)))
        after_list = basis_of_list(block, language) \
            if pending and body[i - 1].kind == "item" and purposes_listed else None
        if after_list is not None:  # "- A; - B." then "La base giuridica è il contratto.": A's and B's
            above = [item for item in pending if item.start >= body[first].start]  # the list just above
            reading.units += [Unit("item", [Chunk("purpose", item.text, item.start), after_list])
                              for item in above]
            pending, emitted = [item for item in pending if item not in above], True
            continue
        if uses_of_basis(block, language):  # "For A, B and C, we rely on our public task."
            reading.units += uses_of_basis(block, language)
            emitted = True
            continue
        if _lead(block) is not None and not basis_section:
            # "**Billing.** We issue invoices ...: the law requires us to": the bold lead names the
            # paragraph's purpose, whatever its sentences name as their subjects ("for your contact
            # details, it rests on the contract")
            reading.units.append(_paragraph_unit(block))
            emitted = True
            continue
        # under no heading, or one announcing purposes, "this processing" is the use stated just
        # before (unless a bold lead names the paragraph's purpose: "**Orders.** We use ...")
        refer_back = heading is None or (own_purposes and _lead(block) is None)
        scope = (refer_back, heading is None or own_purposes)
        handled, tied = _by_subject(block, language, reading, scope)
        if handled:
            emitted = emitted or tied
        elif heading is None and states_use(block.text, language):
            reading.units.append(_paragraph_unit(block))  # "We use your e-mail to ..., with your consent."
            emitted = True
        elif basis_section or heading is None:
            reading.untied.append(chunk)
        elif own_purposes:
            reading.units.append(_paragraph_unit(block))
            emitted = True
        else:
            heading_prose.append(chunk)
    if listing:  # bullets of a section listing purposes: purposes, their basis unknown
        reading.units += [Unit("item", [Chunk("purpose", b.text, b.start)]) for b in pending]
        emitted = emitted or bool(pending)
    elif heading is None or column_role(heading.text, language) not in _NOT_PURPOSES:
        reading.listed += [Chunk("purpose", b.text, b.start) for b in pending]
    if heading_prose and heading is not None:
        # paragraphs each stating a use and its basis ("We record this only because you gave us your
        # consent", "We keep records ... because we are required to by law"): a purpose each, under
        # any heading ("What we do with your information"), rather than one purpose named by it
        uses = [c for c in heading_prose if states_use(c.text, language)
                or any(tie.purposes for tie in ties(c.text, language, True))]
        # after run-in labels or items read as purposes, a paragraph stating its own use and basis
        # ("Nous conservons les factures ... : c'est une obligation légale") is one more
        if len(uses) >= USES_IN_SECTION or (emitted and uses):
            reading.units += [_paragraph_unit(Block("paragraph", c.text, c.start)) for c in uses]
            reading.untied += [c for c in heading_prose if c not in uses]
        elif emitted or (column_role(heading.text, language) in _NOT_PURPOSES
                         and not any(states_use(c.text, language) for c in heading_prose)):
            # a heading naming the data, the recipients or the retention names no purpose, unless
            # its prose states a use: "Les données que nous traitons" whose list says "...
            # nécessaires au remboursement" ties nothing, "CCTV data" saying "we record ..." does
            reading.untied += heading_prose
        elif _sentence_groups(heading_prose, language):
            # "Keeping in touch": "We send our newsletter with your consent. We post our catalogue on
            # the basis of our legitimate interests.": a purpose per sentence, the heading its name
            reading.units += [Unit("paragraph", [Chunk("purpose", text, at), Chunk("name", heading.text,
                                                                                 heading.start)])
                              for text, at in _sentence_groups(heading_prose, language)]
        else:
            reading.units.append(_section_unit(heading, heading_prose, language))


def structure_cues(language: str) -> tuple[str, ...]:
    """The words stating a use of the data (structure.yaml ``purpose_cues``)."""
    structure = load_structure()
    return structure.words(structure.purpose_cues, language)


def _sentence_groups(prose: list[Chunk], language: str) -> list[tuple[str, int]]:
    """A section's sentences grouped up to each one tying a basis ("We collect your address to deliver.
    This is necessary for the contract." is one group), when two groups or more tie different bases:
    each group's text and place; empty otherwise (the section is one purpose, named by its heading)."""
    groups: list[tuple[str, int, frozenset[str]]] = []
    for chunk in prose:
        start: int | None = None
        for a, b in sentences(chunk.text):
            start = a if start is None else start
            bases = frozenset(m.term for m in tied_bases(chunk.text[a:b], language))
            if bases:
                text = chunk.text[start:b].strip()
                groups.append((text, chunk.start + chunk.text.index(text, start), bases))
                start = None
    if len(groups) < USES_IN_SECTION or len({bases for _, _, bases in groups}) < len(groups):
        return []
    return [(text, at) for text, at, _ in groups]


# A clause's title line: "3.3.5 MARKETING: CONSENT", "Newsletter – Consent", its number optional;
# the purpose's words, then after a colon or a dash nothing but the basis's name.
_TITLE_BASIS = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?([^:：\n]{3,80}?)\s*(?:[:：]|\s[–—-]\s)"
                          r"\s*([^:\n]{3,80}?)[.;]?$")


def _titled_basis(block: Block, language: str) -> list[Unit]:
    """A clause or paragraph whose first line names a purpose and its basis alone ("3.3.5 MARKETING:
    CONSENT"), the lines after it saying what is done ("We send you offers by e-mail ..."): one
    purpose, the sentence after the title its words and the title its name. Lines that are each
    "<purpose>: <basis>" are a purpose each."""
    lines = _lines(block)
    matches = [_titled(line.text, language) for line in lines]
    if all(matches) and len(lines) > 1:
        return [Unit("item", [Chunk("purpose", m.group(1).strip(), line.start + m.start(1)),
                              Chunk("basis", m.group(2), line.start + m.start(2))])
                for line, m in zip(lines, matches, strict=True) if m]
    first = block.text.split("\n", 1)[0].rstrip()
    match = _titled(first, language)
    if match is None or any(matches[1:]):
        return []
    title = Chunk("purpose", match.group(1).strip(), block.start + match.start(1))
    basis = Chunk("basis", match.group(2), block.start + match.start(2))
    rest = block.text[len(first):]
    body = rest.lstrip()
    if not body:
        return [Unit("item", [title, basis])]
    at = block.start + len(first) + len(rest) - len(body)
    a, b = sentences(body)[0]
    use = Chunk("purpose", body[a:b].strip(), at + a + len(body[a:b]) - len(body[a:b].lstrip()))
    return [Unit("item", [use, Chunk("name", title.text, title.start), basis, Chunk("prose", body, at)])]


# The same line with the basis glossed after a comma ("Checking your identity: legitimate interests,
# to keep our fleet from being stolen", "Newsletter: consenso, revocabile in ogni momento").
_TITLE_GLOSSED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?([^:：\n]{3,80}?)\s*(?:[:：]|\s[–—-]\s)"
                            r"\s*([^:,;\n]{3,80}?)\s*,\s*(\S[^\n]*)$")


def _titled(line: str, language: str) -> re.Match[str] | None:
    match = _TITLE_BASIS.match(line)
    if match is None or not bare_label(match.group(2)):
        # the gloss names no basis of its own ("Marketing: consent, or legitimate interests" is a hedge)
        match = _TITLE_GLOSSED.match(line)
        if match is None or find_terms("legal_bases", match.group(3)):
            return None
    # a field's label ("Legal basis: consent", "Finalità: ...") is no purpose; a longer lead naming a
    # use is one, whatever header word it holds ("Route guides and offers by email: consent")
    role = column_role(match.group(1), language)
    short = len(match.group(1).split()) <= LABEL_WORDS
    label = role in ("basis", "purpose", BOTH) or (role is not None and short)
    named = bare_label(match.group(2))
    if not named or len({m.term for m in named}) >= GENERAL_BASES or bare_label(match.group(1)) or label \
            or find_terms("legal_bases", match.group(1)):
        return None
    return match


def _section_unit(heading: Block, prose: list[Chunk], language: str) -> Unit:
    """A section's purpose, named by its heading, with the prose stating its basis; the paragraph tying
    the basis, which says what is done, is its name ("Helping you with your case": "We use it to take
    up your case ... in the public interest"); a paragraph stating no use of its own ("We do this with
    your consent") leaves the name to the one before it that states one."""
    tying = next((c for c in prose if tied_bases(c.text, language)), None)
    if tying is not None and not states_use(tying.text, language):
        tying = next((c for c in prose if c.start < tying.start and states_use(c.text, language)), tying)
    if tying is None:
        return Unit("section", [Chunk("purpose", heading.text, heading.start), *prose])
    return Unit("section", [Chunk("purpose", heading.text, heading.start),
                            Chunk("name", tying.text, tying.start), *prose])


#: Column roles whose heading names what the section is about other than a purpose.
_NOT_PURPOSES = ("data", "subjects", "recipients", "retention")


def _by_subject(block: Block, language: str, reading: Reading,
                scope: tuple[bool, bool]) -> tuple[bool, bool]:
    """A paragraph whose sentences state bases with the purpose as their subject ("L'envoi de la
    lettre repose sur votre consentement"), or two purposes each with its basis, or for the whole
    page: a purpose per subject or clause, the page's bases untied. ``scope``: under no heading
    (refer back), "this processing" is the use stated in the sentence before (under one, the
    heading names it); under no heading or one of purposes (uses are purposes), a sentence that
    states a use and its basis is a purpose. Returns whether the paragraph was read so, and
    whether it tied a basis."""
    refer_back, uses_are_purposes = scope
    found = ties(block.text, language, refer_back)
    if not any(tie.purposes or tie.whole for tie in found):
        return False, False
    for tie in found:
        sentence = Chunk("prose", block.text[tie.start:tie.end], block.start + tie.start)
        for a, b in tie.purposes:
            purpose = Chunk("purpose", block.text[a:b], block.start + a)
            reading.units.append(Unit("paragraph", [purpose, sentence]))
        if tie.purposes:
            continue
        if uses_are_purposes and not tie.whole and states_use(sentence.text, language):
            reading.units.append(Unit("paragraph", [Chunk("purpose", sentence.text, sentence.start)]))
        else:
            reading.untied.append(sentence)
    return True, any(tie.purposes for tie in found)


def _clause_units(layout: str, block: Block, language: str) -> list[Unit]:
    """A unit per purpose of a block whose sentence states two, each with its own basis."""
    units = []
    for tie in clauses(block.text, language):
        for a, b in tie.purposes:
            clause = Chunk("prose", block.text[tie.start:tie.end], block.start + tie.start)
            units.append(Unit(layout, [Chunk("purpose", block.text[a:b], block.start + a), clause]))
    return units


_BOLD_LEAD = re.compile(r"^(\*\*|__)(.+?)\1")


def _lead(block: Block) -> Chunk | None:
    """A paragraph's run-in label naming it: Markdown's bold ("**Orders.** We use ...") or the one its
    reader marked (an HTML ``<strong>`` opening the paragraph, :attr:`Block.lead`)."""
    match = _BOLD_LEAD.match(block.text)
    text, at = (match.group(2), match.start(2)) if match else (block.text[:block.lead], 0)
    name = text.strip().rstrip(".:").strip()
    return Chunk("name", name, block.start + at + text.index(name)) if name else None


def _paragraph_unit(block: Block) -> Unit:
    """A paragraph stating a purpose and its basis; a run-in label ("**Orders.** We use...") names it."""
    unit = Unit("paragraph", [Chunk("purpose", block.text, block.start)])
    lead = _lead(block)
    if lead is not None:
        unit.chunks.append(lead)
    return unit
