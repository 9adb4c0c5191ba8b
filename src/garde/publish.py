"""Publish a set of registers: lint findings, Art. 30 registers and privacy notices.

One call turns a folder of register files into the documents a DPO hands
over: for each register, the Art. 30 register (XLSX for the DPO, HTML to
read, CSV and JSON for tools) in its own language, the privacy notice in each
language the register publishes (``publishes_in``; by default its own language only, so a
notice never appears in a language the controller did not write it in), and the lint
findings as SARIF (for tools) and as a report to read in the register's language; plus an
index page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from garde.documents import build_notice, export_register, write_notice
from garde.documents.lint_report import render_lint_html
from garde.documents.notice_layout import Counts
from garde.documents.templating import render
from garde.lint import Finding, lint, to_sarif
from garde.lint.report import message_language
from garde.problems import NotFound, closest
from garde.register import Register, read_register
from garde.taxonomy import LANGS

REGISTER_DOCUMENT_FORMATS = ("xlsx", "html", "csv", "json", "md")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "json": "application/json", "md": "text/markdown; charset=utf-8",
}


@dataclass
class Publication:
    """What was published for one register."""

    register_file: Path
    controller: str
    activities: int
    findings: list[Finding]
    files: list[Path] = field(default_factory=list)
    # The notices published knowingly as drafts: language -> their gaps and untranslated passages.
    drafts: dict[str, Counts] = field(default_factory=dict)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def register_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(p for p in path.glob("*.y*ml")) if path.is_dir() else [path]
    return found


@dataclass(frozen=True)
class Document:
    """One document a register publishes: the Art. 30 register in one format, or the notice in
    one language. ``name`` is its file name, as :func:`publish` writes it."""

    name: str
    kind: str  # register, notice
    lang: str
    format: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def own_language(register: Register) -> str:
    """The language the register's Art. 30 register is published in: its own (else English)."""
    return register.language if register.language in LANGS else "en"


def register_documents(register: Register) -> list[Document]:
    """The documents ``register`` publishes: its Art. 30 register in every format, in its own
    language, and its notice in each language it publishes (``publishes_in``)."""
    own = own_language(register)
    found = [Document(f"register-{own}.{fmt}", "register", own, fmt) for fmt in REGISTER_DOCUMENT_FORMATS]
    found += [Document(f"notice-{lang}.html", "notice", lang, "html")
              for lang in register.published_languages() if lang in LANGS]
    return found


def register_document(register: Register, name: str) -> tuple[Document, bytes]:
    """One of :func:`register_documents`, by its name, and its content; NotFound for any other
    name (the name is looked up in that list: it never reaches a file system). A notice with gaps
    is the draft, with its banner, as :func:`publish` writes it."""
    documents = {document.name: document for document in register_documents(register)}
    document = documents.get(name)
    if document is None:
        hint = closest(name, documents)
        raise NotFound(f"no document {name!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                       + f"; this register publishes {', '.join(documents)}")
    if document.kind == "register":
        return document, export_register(register, document.format, document.lang)
    return document, write_notice(build_notice(register, document.lang), "html").encode("utf-8")


def publish(paths: Iterable[Path], out: Path,
            progress: Callable[[str], None] | None = None) -> list[Publication]:
    """Lint and publish every register in ``paths`` into ``out``; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    publications = []
    for path in register_files(paths):
        if progress:
            progress(path.name)
        loaded = read_register(path)
        register = loaded.register
        findings = lint(loaded)
        folder = out / path.stem
        folder.mkdir(exist_ok=True)
        publication = Publication(path, register.controller.name, len(register.activities), findings)
        own = own_language(register)
        for document in register_documents(register):
            if document.kind == "register":
                target = folder / document.name
                target.write_bytes(register_document(register, document.name)[1])
                publication.files.append(target)
        for lang in register.published_languages():
            target = folder / f"notice-{lang}.html"
            notice = build_notice(register, lang)  # a draft carries its banner: published knowingly
            target.write_text(write_notice(notice, "html"), encoding="utf-8")
            publication.files.append(target)
            if notice.counts.draft:
                publication.drafts[lang] = notice.counts
        sarif = folder / "lint.sarif"
        sarif.write_text(json.dumps(to_sarif(findings), ensure_ascii=False, indent=2), encoding="utf-8")
        publication.files.append(sarif)
        # The report a DPO reads, in the register's language (SARIF stays in English, for tools).
        # It names the register file as published, not where this machine keeps it.
        worded = findings if message_language(own) == "en" else lint(loaded, lang=message_language(own))
        worded = [replace(finding, file=path.name) for finding in worded]
        report = folder / f"lint-{own}.html"
        report.write_text(render_lint_html(worded, lang=own, files=[path.name]), encoding="utf-8")
        publication.files.append(report)
        publications.append(publication)
    write_index(out, publications)
    return publications


def write_index(out: Path, publications: list[Publication], extra: Iterable[Path] = ()) -> Path:
    """``out/index.html``: every published document, then any ``extra`` files (e.g. live results)."""
    page = _index(publications, out, list(extra))
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"


def _link(path: Path, out: Path) -> dict[str, str]:
    """A link to a published file, relative to ``out``: percent-encoded, so that a folder named
    like ``javascript:x`` stays a path and never reads as a URL scheme (the template escapes it)."""
    return {"href": quote(path.relative_to(out).as_posix()), "name": path.name}


def _index(publications: list[Publication], out: Path, extra: list[Path]) -> str:
    rows = [{"controller": p.controller, "register": p.register_file.name, "activities": p.activities,
             "errors": p.count("error"), "warnings": p.count("warning"),
             "drafts": [{"lang": lang, "gaps": c.gaps, "untranslated": c.untranslated}
                        for lang, c in p.drafts.items()],
             "links": [_link(f, out) for f in p.files]} for p in publications]
    return render("index.html.j2", publications=rows, extra=[_link(f, out) for f in extra])
