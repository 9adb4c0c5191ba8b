"""The answer to an access request (GDPR Art. 15): a JSON file and an HTML report.

All the subject's rows, then their data grouped by category and by activity;
how each identity was matched (given, or found in a record of reference) and
which identities met on the way were not followed (kind only: the value may
be someone else's, Art. 15(4), and is withheld from the rows too);
for each activity what Art. 15(1) requires: purposes (a), categories (b),
recipients (c), retention (d), source when not the subject (g), transfers
(15(2)); then the rights (e) and the complaint route (f). Then what garde
itself keeps of the subject (:mod:`garde.rights.held`: consents, objections,
suppression entries, requests, legal holds, audit entries). "We hold no
data" is said only when the datasets hold nothing and garde nothing but this
request's own trail, with the controller and its supervisory authority named.
Texts are in the subject's language: garde's own words from the catalogues,
the register's texts in that language when the register has it (never
machine-translated); fields by the data map's labels, else their category's;
dates and amounts as the language writes them (:mod:`garde.rights.display`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from garde.datasets import ColumnMap, Footprint, IdentityMatch, TableMap, TableRef
from garde.documents.art30 import transfer_statement
from garde.documents.notice_rights import ALWAYS, rights_items
from garde.documents.wording import Wording
from garde.private_files import opened_within, write_private_files
from garde.register import Activity, Register, jurisdiction
from garde.register.jurisdiction import supervisory_authority
from garde.rights.archived import archived_note
from garde.rights.deployment import Deployment, compact, plain, where
from garde.rights.display import day, field_value, line_text, moment
from garde.rights.held import holds_nothing_else
from garde.rights.held_as_processor import Forwarding, held_for, subject_notes
from garde.rights.intake import Request
from garde.rights.shared import Shared, theirs_alone
from garde.rights.shared import withheld as withheld_columns
from garde.rights.wording import strings
from garde.subjects import now
from garde.unseen import isolated

TEMPLATES = Path(__file__).parent / "templates"


#: A database value of these types is JSON as it is (:func:`~garde.rights.deployment.plain` leaves it).
_JSON_NATIVE = frozenset({str, int, float, type(None)})


def subject_rows(deployment: Deployment, footprint: Footprint) -> dict[TableRef, list[dict[str, Any]]]:
    """The subject's rows, annotated columns only, one query per table (per chunk of keys)."""
    return {ref: footprint.rows(deployment.engines, ref) for ref in footprint.tables()}


def _activity_info(activity: Activity, register: Register, words: Wording) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        piece = words.text(value)
        return piece.text if piece else None

    applies = register.effective(activity)  # with the register's statements for every activity
    return {
        "id": activity.id,
        "name": text(activity.name),
        "purposes": [text(p) for p in activity.purposes],
        "legal_bases": [{"basis": b.basis, "label": words.term("legal_bases", b.basis).text,
                         "legitimate_interest": text(b.legitimate_interest), "obligation": text(b.obligation)}
                        for b in activity.legal_bases],
        "recipients": [text(r.name) or words.term("recipients", r.kind).text
                       for r in applies.recipient_list()],
        "retention": [line_text(words.retention(rule)) for rule in activity.retention],
        "sources": [words.term("sources", s).text for s in applies.source_list()],
        "transfers": [line_text(line) for line in transfer_statement(register, activity, words)],
    }


def _wording(deployment: Deployment, lang: str, register_lang: str, law: str = "gdpr") -> Wording:
    return deployment.cached(("wording", lang, register_lang, law),
                             lambda: Wording(lang, register_lang, deployment.vocabulary, law))


def _activity(deployment: Deployment, database: str, activity_id: str, lang: str) -> dict[str, Any] | None:
    """An activity's Art. 15 texts in ``lang``, worded once per deployment (they depend only on the
    register): a request copies them, it does not word them again."""
    def build() -> dict[str, Any] | None:
        register = deployment.register(database)
        activity = register.activity(activity_id)
        if activity is None:
            return None
        law = jurisdiction(register.controller.country).law  # "outside the UK" for a UK controller
        return _activity_info(activity, register, _wording(deployment, lang, register.language, law))

    return deployment.cached(("activity", database, activity_id, lang), build)


def _closing(deployment: Deployment, lang: str, authority: str | None,
             used: dict[str, set[str]]) -> dict[str, Any]:
    """The rights (Art. 15(1)(e)) and the complaint route (f) in ``lang``: the rights the activities
    that use the subject's data give, as the notice derives them (``used``: database -> activity ids)."""
    def build() -> dict[str, Any]:
        rights: list[str] = []
        for database, ids in sorted(used.items()):
            register = deployment.register(database)
            activities = [a for a in register.activities if a.id in ids]
            for line in rights_items(register, activities, _wording(deployment, lang, register.language)):
                if line_text(line) not in rights:
                    rights.append(line_text(line))
        words = _wording(deployment, lang, "en")
        return {"rights": rights or [words.ui(f"notice.text.right_{key}") for key in ALWAYS],
                "complaint": words.ui("notice.text.complaint") + line_text(words.authority(authority))}

    key = tuple(sorted((database, tuple(sorted(ids))) for database, ids in used.items()))
    return deployment.cached(("closing", lang, authority, key), build)


def _kind_label(kind: str, words: dict[str, Any]) -> str:
    return str(words["identity_kinds"].get(kind) or kind.replace("_", " "))


def _matched(deployment: Deployment, footprint: Footprint, lang: str) -> dict[str, list[dict[str, Any]]]:
    """How each identity was matched, in ``lang``; identities not followed by kind and place only."""
    words = strings(lang)["report"]

    def place(match: IdentityMatch) -> dict[str, str]:
        assert match.table is not None and match.column is not None
        return {"record": deployment.datamap.table(match.table).label_in(lang),
                "field": match.column.replace("_", " ")}

    matched = []
    for match in footprint.identity_matches():
        entry = {**match.to_data(), "label": _kind_label(match.kind, words)}
        if match.how == "given":
            entry["text"] = words["how_given"]
        else:
            via = f"{_kind_label(match.via[0], words)} {match.via[1]}" if match.via else "—"
            entry["text"] = words["how_linked"].format(**place(match), via=via)
        matched.append(entry)
    unfollowed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for match in footprint.not_followed():
        entry = {**match.to_data(), "label": _kind_label(match.kind, words)}
        key = "how_not_followed_yours" if match.proven_row else "how_not_followed"
        entry["text"] = words[key].format(**place(match))
        unfollowed.setdefault((match.kind, entry["table"], entry["column"]), entry)
    return {"identities": matched, "not_followed": list(unfollowed.values())}


def _controller(deployment: Deployment, controllers: dict[str, Register]) -> Register | None:
    """The register the answer speaks for: the one whose data it shows, else the deployment's first."""
    return next(iter(controllers.values()), None) or next(iter(deployment.registers.values()), None)


def _columns_described(deployment: Deployment, table: TableMap,
                       lang: str) -> dict[str, tuple[str, str, str, str]]:
    """Each annotated column's place (``shop.customers.email``), record, field label in ``lang`` and
    name in words: they depend on the data map alone, so they are worded once per deployment, not per
    field shown."""
    def build() -> dict[str, tuple[str, str, str, str]]:
        record, vocabulary = table.label_in(lang), deployment.vocabulary
        return {name: (where(table, name), record,
                       column.label_in(lang) or vocabulary.label("categories", column.category, lang),
                       name.replace("_", " "))
                for name, column in table.columns.items()}

    return deployment.cached(("columns in words", table.database, table.name, lang), build)


def _own_columns(deployment: Deployment, table: TableMap) -> list[tuple[str, ColumnMap, tuple[str, ...]]]:
    """The table's annotated columns that are the organisation's own (not held as a processor), each
    with the activities it answers for: a column a processor activity also uses is answered for the
    organisation's own activities only."""
    def build() -> list[tuple[str, ColumnMap, tuple[str, ...]]]:
        held = held_for(deployment, table)
        register = deployment.register(table.database)
        return [(name, column, tuple(a for a in column.activities
                                     if (found := register.activity(a)) is None
                                     or register.role_of(found) != "processor"))
                for name, column in table.columns.items() if name not in held]

    return deployment.cached(("own columns", table.database, table.name), build)


def build_access(request: Request, deployment: Deployment, footprint: Footprint,
                 held: dict[str, list[dict[str, Any]]] | None = None,
                 processed_for: Sequence[Forwarding] = (), shared: Shared | None = None) -> dict[str, Any]:
    """The access answer as plain data (what ``access.json`` holds); ``held``: what garde keeps of the
    subject (:func:`garde.rights.held.garde_held`); ``processed_for``: what was found of the data held
    as a processor, per client controller (named, with its contact; nothing of the data itself).

    ``footprint`` holds no table held as a processor as a whole (:func:`~garde.rights.held_as_processor.
    split`); the columns of a table that are so held are left out of its rows, once per table."""
    lang = request.language
    country = deployment.phone_region
    vocabulary = deployment.vocabulary
    words = strings(lang)["report"]
    rows = subject_rows(deployment, footprint)
    categories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    activities: dict[tuple[str, str], dict[str, Any]] = {}
    controllers: dict[str, Register] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    for ref, table_rows in rows.items():
        table = deployment.datamap.table(ref)
        register = deployment.register(ref.database)
        controllers.setdefault(register.controller.name, register)
        secrets = deployment.secret_columns(table)
        described = _columns_described(deployment, table, lang)
        columns = _own_columns(deployment, table)
        if len(columns) < len(table.columns):  # held as a processor: not the subject's answer's
            apart = held_for(deployment, table)
            table_rows = [{k: v for k, v in stored.items() if k not in apart} for stored in table_rows]
        tables[str(ref)] = []
        for stored in table_rows:
            if theirs_alone(shared, ref, stored.get(table.primary_key)):
                continue  # found only through another person's row: nothing of the subject's (shared)
            # Credentials (categories marked secret): the answer says they exist, never shows them;
            # nor an identity of a claimed row that may be someone else's, nor what a row that is
            # another person's holds besides the subject's identities (Art. 15(4), garde.rights.shared).
            withheld = withheld_columns(footprint, shared, ref, stored)
            hidden = secrets | withheld
            row = {k: None if k in hidden else v if type(v) in _JSON_NATIVE else plain(v)
                   for k, v in stored.items()}
            tables[str(ref)].append(row)
            key = row[table.primary_key]
            archived = archived_note(deployment, table, stored, lang)
            for name, column, activity_ids in columns:
                if stored.get(name) is None:
                    continue
                shown = None if name in hidden else field_value(stored[name], name, stored, lang, country,
                                                                words)
                place, record, label, words_name = described[name]
                field = {"where": place, "key": key, "value": row[name], "display": shown,
                         "record": record, "field": words_name, "label": label,
                         "secret": name in secrets, "withheld": name in withheld, "archived": archived}
                categories[column.category].append(field)
                for activity_id in activity_ids:
                    entry = activities.get((ref.database, activity_id))
                    if entry is None:
                        info = _activity(deployment, ref.database, activity_id, lang)
                        if info is None:
                            continue
                        entry = activities[ref.database, activity_id] = {
                            **info, "categories": set(), "fields": []}
                    entry["categories"].add(column.category)
                    entry["fields"].append(field)
    first = _controller(deployment, controllers)
    authority = supervisory_authority(first.controller.supervisory_authority,
                                      first.controller.country) if first else None
    used: dict[str, set[str]] = defaultdict(set)
    for database, activity_id in activities:
        used[database].add(activity_id)
    held = held if held is not None else {}
    nothing = not categories and holds_nothing_else(held, request) and not processed_for

    def category_label(category: str) -> str:  # worded once per deployment and language
        return deployment.cached(("category label", category, lang),
                                 lambda: vocabulary.label("categories", category, lang))

    return {
        "request": request.id, "generated_at": now().isoformat(), "language": lang,
        "controllers": sorted(controllers) or ([first.controller.name] if first else []),
        "no_data": nothing,
        "no_data_text": words["no_data"].format(
            controller=first.controller.name if first else "—",
            authority=line_text(_wording(deployment, lang, "en").authority(authority)) if authority
            else words["no_authority"]) if nothing else None,
        "held": held,
        "processed_for": subject_notes(deployment, processed_for, _wording(deployment, lang, "en"), lang),
        **_matched(deployment, footprint, lang),
        "tables": tables,
        "categories": [{"id": category, "label": category_label(category), "fields": fields}
                       for category, fields in sorted(categories.items())],
        "activities": [{**entry, "categories": [{"id": c, "label": category_label(c)}
                                                for c in sorted(entry["categories"])]}
                       for _, entry in sorted(activities.items())],
        **_closing(deployment, lang, authority, used),
    }


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.globals["field_rows"] = field_rows
    environment.filters["bdi"] = isolated  # a value in its own <bdi> (garde.unseen)
    environment.globals["activity_article"] = activity_article
    return environment


#: The report's words an activity's article uses.
_ARTICLE_WORDS = ("purposes", "legal_bases", "categories", "recipients", "retention", "sources", "transfers",
                  "not_stated")


def activity_article(activity: dict[str, Any], words: dict[str, Any]) -> Markup:
    """An activity's article in the HTML report (``access_activity.html.j2``), rendered once per text.

    Its texts come from the register, worded once per deployment and language, and the categories
    of the subject's data it uses: most answers repeat the same few articles. Keyed by everything the
    article shows, so two answers share one only when they would render it alike.
    """
    key = (activity["name"], tuple(activity["purposes"]),
           tuple((b["label"], b["legitimate_interest"], b["obligation"]) for b in activity["legal_bases"]),
           tuple(c["label"] for c in activity["categories"]), tuple(activity["recipients"]),
           tuple(activity["retention"]), tuple(activity["sources"]), tuple(activity["transfers"]),
           tuple(words[k] for k in _ARTICLE_WORDS))
    return _article(key)


@lru_cache(maxsize=1024)
def _article(key: tuple[Any, ...]) -> Markup:
    name, purposes, bases, categories, recipients, retention, sources, transfers, words = key
    activity = {"name": name, "purposes": list(purposes),
                "legal_bases": [{"label": label, "legitimate_interest": interest, "obligation": obligation}
                                for label, interest, obligation in bases],
                "categories": [{"label": label} for label in categories], "recipients": list(recipients),
                "retention": list(retention), "sources": list(sources), "transfers": list(transfers)}
    return Markup(_environment().get_template("access_activity.html.j2").render(
        activity=activity, w=dict(zip(_ARTICLE_WORDS, words, strict=True))))


def field_rows(fields: list[dict[str, Any]], words: dict[str, Any]) -> Markup:
    """The table rows of a category's fields in the HTML report, one line each, every value escaped.

    The report's largest part (a row per field of every record): written here rather than in the
    template, where each row took a dozen attribute look-ups; the same HTML as the template wrote
    (``tests/test_access_report_rows.py`` holds it to the template's own rendering).
    """
    secret, withheld = f"<em>{escape(words['secret'])}</em>", f"<em>{escape(words['withheld'])}</em>"
    rows = []
    for field in fields:
        archived = field["archived"]
        note = f'<br><span class="field">{_escaped(archived["text"])}</span>' if archived else ""
        # the key and the value in their own <bdi>: a bidirectional control in them reorders only
        # themselves, never the record's name or label beside them (garde.unseen)
        value = secret if field["secret"] else withheld if field["withheld"] else \
            f'<bdi>{_escaped(field["display"])}</bdi>'
        key = "—" if field["key"] is None else _escaped(field["key"])  # withheld: another person's row
        rows.append(f'<tr><td>{_escaped(field["record"])} n° <bdi>{key}</bdi> <span class='
                    f'"field">({_escaped(field["label"])})</span>{note}</td><td>{value}</td></tr>\n')
    return Markup("".join(rows))


def _escaped(value: Any) -> str:
    """``value`` as text, escaped as markupsafe's ``escape`` does (the same five characters, the same
    entities), without a ``Markup`` object per value: a report escapes five values per field."""
    return (str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def _activity_name(deployment: Deployment, activity_id: str, lang: str) -> str:
    for database, register in deployment.registers.items():
        if register.activity(activity_id) is not None:
            info = _activity(deployment, database, activity_id, lang)
            return str(info["name"]) if info and info["name"] else activity_id
    return activity_id


def held_view(held: dict[str, list[dict[str, Any]]], lang: str,
              deployment: Deployment | None) -> dict[str, list[dict[str, str]]]:
    """garde's records of the subject as a person reads them: names, words and dates in ``lang``."""
    words = strings(lang)["report"]["held"]
    country = deployment.phone_region if deployment is not None else None
    vocabulary = deployment.vocabulary if deployment is not None else None

    def when(value: str | None) -> str:
        return moment(value, lang, country)

    def on(value: str | None) -> str:
        return day(value, lang, country)

    def term(kind: str, term_id: str | None) -> str:
        if not term_id:
            return "—"
        return vocabulary.label(kind, term_id, lang) if vocabulary is not None else term_id

    def activity(activity_id: str) -> str:
        return _activity_name(deployment, activity_id, lang) if deployment is not None else activity_id

    def word(group: str, key: str | None) -> str:
        return str(words[group].get(key) or key or "—")

    def audited(kind: str) -> str:
        """An audit entry's kind in words: its own, else a request step's (``request.verified``)."""
        step = kind.removeprefix("request.")
        if kind not in words["kinds"] and step != kind and step in words["statuses"]:
            return f'{words["request"].lower()} : {word("statuses", step)}' if lang == "fr" \
                else f'{words["request"].lower()}: {word("statuses", step)}'
        return word("kinds", kind)

    identity = strings(lang)["report"]["identity_kinds"]
    return {
        "consents": [{"at": when(c["at"]), "activity": activity(c["activity"]),
                      "channel": term("channels", c["channel"]), "action": word("actions", c["action"]),
                      "method": term("consent_methods", c["method"]), "expires": when(c["expires_at"])}
                     for c in held.get("consents", [])],
        "objections": [{"at": when(o["at"]), "scope": activity(o["scope"]) if o["scope"] != "direct_marketing"
                        else word("kinds", "objection"), "reason": o["reason"] or ""}
                       for o in held.get("objections", [])],
        "suppression": [{"at": when(e["added_at"]), "reason": e["reason"],
                         "identity": str(identity.get(e["identity"], e["identity"]))}
                        for e in held.get("suppression", [])],
        "requests": [{"id": r["id"], "type": word("types", r["type"]), "received": when(r["received_at"]),
                      "status": word("statuses", r["status"]), "current": r["current"],
                      "steps": [{"at": when(step["at"]), "status": word("statuses", step["status"]),
                                 "note": step["note"] or ""} for step in r["steps"]]}
                     for r in held.get("requests", [])],
        "legal_holds": [{"identity": str(identity.get(h["identity"], h["identity"])), "reason": h["reason"],
                         "from": on(h["starts_at"]), "until": on(h["ends_at"]),
                         "released": on(h["released_at"])} for h in held.get("legal_holds", [])],
        "audit": [{"at": when(e["at"]), "what": audited(e["kind"])} for e in held.get("audit", [])],
        "confirmations": [{"at": when(q["asked_at"]), "activity": activity(q["activity"]),
                           "channel": term("channels", q["channel"]),
                           "identity": str(identity.get(q["identity"], q["identity"])),
                           "asked_by": q["asked_by"],
                           "answered": when(q["answered_at"]) if q["answered_at"] else words["not_answered"]}
                          for q in held.get("confirmations", [])],
    }


def access_words(answer: dict[str, Any], request: Request,
                 deployment: Deployment | None = None) -> dict[str, Any]:
    """What the run words for the HTML report beside the answer: the introduction (the request's id,
    its date of receipt, the controllers) and garde's records of the subject in words
    (:func:`held_view`). They depend on the request and on the register as it is when the request
    runs, so they are kept with the answer (:data:`WORDS`), not worded again when the report is read."""
    words = strings(request.language)["report"]
    wording = (_wording(deployment, request.language, "en") if deployment is not None
               else Wording(request.language, "en"))
    received = wording.date(request.received_at.date())
    intro = words["intro"].format(request=request.id, received=received,
                                  controller=", ".join(answer["controllers"]) or "—")
    return {"language": request.language, "intro": intro,
            "held": held_view(answer.get("held", {}), request.language, deployment)}


def access_report(answer: dict[str, Any], words: dict[str, Any]) -> str:
    """The HTML report of an access answer, from the answer and what its run worded
    (:func:`access_words`): the same bytes from the answer in memory as from ``access.json`` read back."""
    lang = words["language"]
    report = strings(lang)["report"]
    return _environment().get_template("access.html.j2").render(
        a=answer, w=report, h=report["held"], intro=words["intro"], lang=lang, held=words["held"])


def render_access_html(answer: dict[str, Any], request: Request, deployment: Deployment | None = None) -> str:
    """The HTML report of ``answer``, worded now (:func:`access_words`, then :func:`access_report`)."""
    return access_report(answer, access_words(answer, request, deployment))


#: The hidden file of a request's folder that holds what its run worded for the HTML report, until
#: the report is rendered from it and ``access.json`` (:func:`report_ready`); owner-only like them.
WORDS = ".access-words.json"
REPORT = "access.html"


def write_access(request: Request, deployment: Deployment, footprint: Footprint,
                 held: dict[str, list[dict[str, Any]]] | None = None,
                 processed_for: Sequence[Forwarding] = (), shared: Shared | None = None) -> dict[str, Any]:
    """Write ``access.json`` and what the run worded for the HTML report (:data:`WORDS`); return what
    the request records as its result. ``access.html`` is rendered the first time someone lists or
    reads the answer's files (:func:`report_ready`): most answers are downloaded once, if ever, and
    the render was a tenth of the request's CPU."""
    answer = build_access(request, deployment, footprint, held, processed_for, shared)
    folder = deployment.results / request.id  # created by the files' write, no link followed
    # One line each, no spaces: machine formats (the HTML report is the readable one), written by
    # pydantic-core's encoder (:func:`compact`). Both files through one walk to the folder, on the disk
    # before the completion commits (``durable``: docs/requests.md, "An answer's files survive a crash").
    words = access_words(answer, request, deployment)
    files = write_private_files(folder, {"access.json": compact(answer), WORDS: compact(words)},
                                within=deployment.results, durable=True)
    return {"files": [str(files[0]), str(folder / REPORT)],
            "tables": footprint.counts(), "categories": len(answer["categories"]),
            "activities": len(answer["activities"]),
            "held": {kind: len(records) for kind, records in answer["held"].items()}}


def report_ready(folder: Path, results: Path, *, rendered: Callable[[], object] | None = None) -> None:
    """Render the HTML report of the access answer in ``folder`` (a request's folder of ``results``)
    if its run left it to be rendered, and keep it there, owner-only; then the run's words go.

    Every reader of a request's answer files calls this before it lists or serves them (staff's API and
    pages, the subject's, the demo, an erasure's plan of garde's own copies). Written whole under a
    hidden name, then renamed: a reader at the same time sees no report or the whole one. The whole
    of it holds the folder's lock (:meth:`~garde.private_files.OpenFolder.lock`): an erasure planning
    the removal of the subject's copies waits for a reader rendering, then lists the report it
    rendered, so no report is renamed into the folder after the erasure removed its files; two readers
    take turns, the second finding it rendered. A folder without the words (an answer read before,
    another request's type) is left as it is. ``rendered``: called between the render and the rename
    (tests interleave an erasure there)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    with opened_within(folder, results) as opened:
        opened.lock()
        words = opened.read(WORDS)
        if words is None:
            return
        answer = opened.read("access.json")
        if answer is None:  # removed meanwhile (an erasure of the subject's copies): nothing to show
            opened.remove(WORDS)
            return
        report = access_report(json.loads(answer), json.loads(words))
        if rendered is not None:
            rendered()
        # on the disk before the words go: a crash between them leaves the words, rendered again
        opened.replace(REPORT, report, durable=True)
        opened.remove(WORDS)
