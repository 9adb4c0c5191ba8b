"""Audiences: every subject who may be contacted for an activity on a channel, streamed.

One set-based statement walks the subjects with, per subject, the latest
consent event that applies (a window function: the set-based form of
:func:`garde.consent.state.fold`), whether they objected and whether they
are on the suppression list; it already drops the subjects no rule could
let through. Each remaining row is then judged by
:func:`garde.decide.rules.evaluate`, the very function behind ``decide()``,
so a subject is in the audience exactly when ``decide()`` would allow the
contact — consent, or the soft opt-in rule for customers, minus objections
and the suppression list.

Rows are streamed (``yield_per``: a server-side cursor on PostgreSQL), never
all held in memory. The engine stores hashed identifiers only: :func:`audience`
gives subject ids; :func:`contacts` gives the addresses themselves, read from
the business databases of the data map and judged by the same function
(see the notes above :class:`ContactSource`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from garde import audit
from garde.audience_seen import Seen
from garde.consent.ledger import consent_channel, consent_events, latest_per_key
from garde.consent.state import ConsentEvent, as_utc
from garde.datasets import DataMap, Reference, TableMap, opened_datamap
from garde.decide.model import ActivityRules, Decision, DecisionModel, covers
from garde.decide.rules import ELECTRONIC_MAIL, SubjectFacts, evaluate
from garde.documents.spreadsheet import CsvWriter
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.store.transactions import retried
from garde.subjects import (
    IDENTIFIER_KINDS,
    identifier_hash,
    normalise_identifier,
    now,
    subject_identifiers,
    subject_objections,
    subjects,
)
from garde.suppression import subject_suppressed, suppression_list

CHANNEL_CATEGORY = {"email": "contact.email", "sms": "contact.phone", "phone": "contact.phone",
                    "post": "contact.postal_address"}


@dataclass(frozen=True)
class Member:
    """One subject of an audience and the basis that lets them be contacted."""

    subject_id: str
    basis: str  # consent, soft_opt_in, or the activity's legal basis


def _basis(decision: Decision) -> str:
    codes = decision.codes()
    if "soft_opt_in" in codes:
        return "soft_opt_in"
    grant = next((r for r in decision.reasons if r.code == "legal_basis"), None)
    return grant.message.removeprefix("legal basis: ") if grant else "allowed"


def _scope(model: DecisionModel, activity: str, channel: str,
           at: datetime | None) -> tuple[ActivityRules, datetime, list[str] | None]:
    """The activity's rules, the moment judged, and the category the channel uses (if declared)."""
    rules = model.get(activity)
    if rules is None:
        raise GardeError(f"{activity!r} is not in the register")
    if rules.processor_for is not None:  # GDPR Art. 28(3)(a): the controller's list, not ours
        raise GardeError(f"{activity!r} is carried out as a processor: its audience is its controller's "
                         "to give")
    category = CHANNEL_CATEGORY.get(channel)
    categories = [category] if category and rules.declares(category) else None
    return rules, as_utc(at) if at is not None else now(), categories


def audience(conn: sa.Connection, model: DecisionModel, activity: str, channel: str,
             at: datetime | None = None, batch: int = 2000) -> Iterator[Member]:
    """The subjects ``activity`` may contact on ``channel``, in subject-id order, streamed."""
    channel = consent_channel(channel) or channel  # asked as recorded: `Email` is `email`
    rules, moment, categories = _scope(model, activity, channel, at)
    latest = latest_per_key(activity, channel)
    s = subjects
    objected = sa.exists().where(subject_objections.c.subject_id == s.c.id,
                                 subject_objections.c.scope.in_(sorted(rules.objection_scopes())))
    query = (
        sa.select(s.c.id, s.c.state, s.c.created_at, s.c.relationship_started_at, s.c.relationship_ended_at,
                  s.c.last_contact_at, latest.c.channel, latest.c.action, latest.c.at, latest.c.expires_at)
        .select_from(s.outerjoin(latest, sa.and_(latest.c.subject_id == s.c.id, latest.c.rank == 1)))
        .where(s.c.state.in_(["active", "restricted"] if rules.legal_claims else ["active"]), ~objected)
        .order_by(s.c.id))
    if rules.marketing:
        query = query.where(~subject_suppressed(s.c.id))
    soft_opt_in = (rules.direct_marketing and channel in ELECTRONIC_MAIL and "consent" not in rules.bases)
    if "consent" in rules.bases or (rules.direct_marketing and channel in ELECTRONIC_MAIL):
        given = latest.c.action == "given"
        query = query.where(sa.or_(given, s.c.relationship_started_at.is_not(None)) if soft_opt_in else given)
    result = conn.execution_options(yield_per=batch).execute(query)
    with result:
        for row in result:
            events = () if row.action is None else (
                ConsentEvent(activity, row.channel, row.action, row.at, row.expires_at),)
            facts = SubjectFacts(
                row.id, row.state, _utc(row.created_at), _utc(row.relationship_started_at),
                _utc(row.relationship_ended_at), _utc(row.last_contact_at), frozenset(), False, events)
            decision = evaluate(activity, rules, facts, categories, channel, moment)
            if decision.allowed:
                yield Member(row.id, _basis(decision))


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def audited_audience(engine: sa.Engine, model: DecisionModel, activity: str, channel: str,
                     at: datetime | None = None, actor: str = "garde") -> Iterator[Member]:
    """:func:`audience` on its own connection; once it is exhausted, one audit entry records
    the activity, channel, member count and the SHA-256 of the member ids."""
    digest = hashlib.sha256()
    count = 0
    with engine.connect() as conn:
        for member in audience(conn, model, activity, channel, at):
            digest.update(member.subject_id.encode() + b"\n")
            count += 1
            yield member

    def auditing(conn: sa.Connection) -> None:
        audit.record(conn, "audience", {"activity": activity, "channel": channel, "count": count,
                                        "members_sha256": digest.hexdigest()}, actor=actor)

    retried(engine, auditing, what="an audience audited")


# -- audiences with contact addresses ---------------------------------------------------------------
#
# The engine's store holds hashed identifiers only; the addresses are in the business databases
# the data map describes. A contact audience streams the address column(s) of the tables whose
# subjects the activity may target, hashes each row's identities, reads what the store knows of
# those hashes (one statement per batch) and judges every row with :func:`evaluate`.

PROGRESS_EVERY = 1000  # contacts between two progress calls: a bar, not a cost
CHANNEL_IDENTITY = {"email": "email", "sms": "phone", "phone": "phone"}
POSTAL = "contact.postal_address"
NAME = "identity.name"


@dataclass(frozen=True)
class ContactSource:
    """Where one channel's addresses are: ``address_table`` (the identity table itself, or a table
    referencing it through ``join``), limited to subjects the activity uses when ``scope`` names
    the referencing tables that do (an abandoned basket, for instance)."""

    identities: TableMap
    address_table: TableMap
    address_columns: tuple[str, ...]
    join: Reference | None = None
    scope: tuple[tuple[TableMap, Reference], ...] = ()

    def __str__(self) -> str:
        return str(self.address_table.ref)


@dataclass(frozen=True)
class Contact:
    """One address an activity may use on a channel, whose subject it is, and why."""

    address: dict[str, str]
    subject_id: str | None  # None: unknown to the engine (judged on the data map's dates)
    basis: str
    source: str


def _uses(table: TableMap, activity: str) -> bool:
    return activity in table.activities()


def contact_sources(datamap: DataMap, activity: str, channel: str) -> list[ContactSource]:
    """The tables holding ``channel`` addresses of subjects ``activity`` uses (see the module notes)."""
    found: list[ContactSource] = []
    candidates: list[tuple[TableMap, TableMap, tuple[str, ...], Reference | None]] = []
    if channel in CHANNEL_IDENTITY:
        kind = CHANNEL_IDENTITY[channel]
        candidates = [(t, t, (column,), None) for t, column in datamap.with_identity(kind)]
    elif channel == "post":
        for table in datamap:
            postal = [c.name for c in table.columns.values() if covers(POSTAL, c.category)]
            if not postal:
                continue
            names = [c.name for c in table.columns.values() if covers(NAME, c.category)]
            columns = tuple(names + postal)
            if table.identities:
                candidates.append((table, table, columns, None))
            for reference in table.references.values():
                target = datamap.datasets[table.database].tables[reference.target]
                if target.identities:
                    candidates.append((target, table, columns, reference))
    else:
        raise GardeError(f"no address for channel {channel!r}: use email, sms, phone or post")
    for identities, address_table, columns, join in candidates:
        if _uses(identities, activity) or _uses(address_table, activity):
            found.append(ContactSource(identities, address_table, columns, join))
            continue
        scope = tuple((t, r) for t, r in datamap.referencing(identities) if _uses(t, activity))
        if scope:
            found.append(ContactSource(identities, address_table, columns, join, scope))
    if not found:
        raise GardeError(f"no table of the data map holds {channel} addresses of subjects {activity!r} uses")
    return found


def _relationship_columns(table: TableMap) -> tuple[str | None, str | None]:
    """Where the data map dates a subject's relationship: ``relationship_start`` when declared,
    else, for a table of customers, the row's collection (a customer record exists from the
    first purchase or account); ``relationship_end`` when declared."""
    start = table.timestamp("relationship_start")
    if start is None and table.subject == "customer":
        start = table.timestamp("collection")
    return start, table.timestamp("relationship_end")


def _source_query(source: ContactSource) -> tuple[sa.Select[Any], list[str]]:
    """Per row: the identities (``id_<kind>``), the relationship dates and the address (``a_<i>``)."""
    t, a = source.identities, source.address_table
    kinds = [k for k in t.identities if k in IDENTIFIER_KINDS]
    start, end = _relationship_columns(t)
    plain = [t.primary_key, *(t.identities[k] for k in kinds), *(r.target_column for _, r in source.scope)]
    if source.join is None:
        plain += source.address_columns
    else:
        plain.append(source.join.target_column)
    dates = [c for c in dict.fromkeys((start, end)) if c and c not in plain]
    ids = sa.table(t.name, *(sa.column(c) for c in dict.fromkeys(plain)),
                   *(sa.column(c, sa.DateTime) for c in dates))
    selected: list[Any] = [ids.c[t.identities[k]].label(f"id_{k}") for k in kinds]
    selected.append(ids.c[start].label("started") if start else sa.null().label("started"))
    selected.append(ids.c[end].label("ended") if end else sa.null().label("ended"))
    addresses, order = ids, [ids.c[t.primary_key]]
    source_from: sa.FromClause = ids
    if source.join is not None:
        names = dict.fromkeys((a.primary_key, source.join.column, *source.address_columns))
        addresses = sa.table(a.name, *(sa.column(c) for c in names))
        source_from = ids.join(addresses, addresses.c[source.join.column] == ids.c[source.join.target_column])
        order.append(addresses.c[a.primary_key])
    selected += [addresses.c[c].label(f"a_{i}") for i, c in enumerate(source.address_columns)]
    query = sa.select(*selected).select_from(source_from).where(
        sa.or_(*(addresses.c[c].is_not(None) for c in source.address_columns)))
    if source.scope:  # only subjects with rows the activity uses: a basket, an invitation...
        users = [(sa.table(r.name, sa.column(ref.column)), ref) for r, ref in source.scope]
        query = query.where(sa.or_(*(sa.exists().where(u.c[ref.column] == ids.c[ref.target_column])
                                     for u, ref in users)))
    return query.order_by(*order), kinds


_STRING, _WHEN, _NUMBER = sa.String(), sa.DateTime(timezone=True), sa.BigInteger()


def _facts_statement(activity: ActivityRules) -> sa.CompoundSelect[Any]:
    """One statement for a batch of identifier hashes (``:hashes``): per part, the matched subjects
    (0), their objections (1), suppressed subjects (2), suppressed hashes (3), consent events (4)."""
    si, sl, c = subject_identifiers, suppression_list, consent_events
    hashes: sa.BindParameter[Any] = sa.bindparam("hashes", expanding=True)
    matched = sa.select(si.c.subject_id, si.c.hash).where(si.c.hash.in_(hashes)).cte("matched")
    ids = sa.select(matched.c.subject_id)

    def row(part: int, hash: Any = None, subject: Any = None, text1: Any = None, text2: Any = None,
            d1: Any = None, d2: Any = None, d3: Any = None, d4: Any = None, number: Any = None) -> list[Any]:
        def typed(value: Any, kind: Any, label: str) -> Any:
            return (sa.cast(sa.null(), kind) if value is None else value).label(label)
        return [sa.literal_column(str(part)).label("part"), typed(hash, _STRING, "hash"),
                typed(subject, _STRING, "subject_id"), typed(text1, _STRING, "text1"),
                typed(text2, _STRING, "text2"), typed(d1, _WHEN, "d1"), typed(d2, _WHEN, "d2"),
                typed(d3, _WHEN, "d3"), typed(d4, _WHEN, "d4"), typed(number, _NUMBER, "number")]

    s, o, si2 = subjects, subject_objections, si.alias("si2")
    return sa.union_all(
        sa.select(*row(0, matched.c.hash, s.c.id, s.c.state, None, s.c.created_at,
                       s.c.relationship_started_at, s.c.relationship_ended_at, s.c.last_contact_at))
        .select_from(matched.join(s, s.c.id == matched.c.subject_id)),
        sa.select(*row(1, None, o.c.subject_id, o.c.scope))
        .where(o.c.subject_id.in_(ids), o.c.scope.in_(sorted(activity.objection_scopes()))),
        sa.select(*row(2, None, si2.c.subject_id))
        .select_from(si2.join(sl, sa.and_(sl.c.kind == si2.c.kind, sl.c.hash == si2.c.hash)))
        .where(si2.c.subject_id.in_(ids)),
        sa.select(*row(3, sl.c.hash)).where(sl.c.hash.in_(hashes)),
        sa.select(*row(4, None, c.c.subject_id, c.c.channel, c.c.action, c.c.at, c.c.expires_at, None, None,
                       c.c.id))
        .where(c.c.activity == activity.id, c.c.subject_id.in_(ids)),
    )


@dataclass
class _Known:
    """What one batch's store statement says about the hashes of the batch."""

    subject_of: dict[str, str] = field(default_factory=dict)  # hash -> subject id
    facts: dict[str, SubjectFacts] = field(default_factory=dict)
    objections: dict[str, set[str]] = field(default_factory=dict)
    suppressed_subjects: set[str] = field(default_factory=set)
    suppressed_hashes: set[str] = field(default_factory=set)
    events: dict[str, list[ConsentEvent]] = field(default_factory=dict)


def _read_store(conn: sa.Connection, statement: sa.CompoundSelect[Any], activity: str,
                hashes: list[str]) -> _Known:
    known = _Known()
    for r in conn.execute(statement, {"hashes": hashes}):
        if r.part == 0:
            known.subject_of[r.hash] = r.subject_id
            known.facts[r.subject_id] = SubjectFacts(r.subject_id, r.text1, _utc(r.d1), _utc(r.d2),
                                                     _utc(r.d3), _utc(r.d4))
        elif r.part == 1:
            known.objections.setdefault(r.subject_id, set()).add(r.text1)
        elif r.part == 2:
            known.suppressed_subjects.add(r.subject_id)
        elif r.part == 3:
            known.suppressed_hashes.add(r.hash)
        else:
            known.events.setdefault(r.subject_id, []).append(
                ConsentEvent(activity, r.text1, r.text2, as_utc(r.d1), _utc(r.d2), int(r.number)))
    return known


def _judge(rules: ActivityRules, known: _Known, hashes: dict[str, str], started: datetime | None,
           ended: datetime | None, categories: list[str] | None, channel: str, moment: datetime) -> Decision:
    """:func:`evaluate` on one row: the store's facts about the subject its identities name (the
    channel's own identity first), the data map's relationship dates where the store has none."""
    order = [CHANNEL_IDENTITY.get(channel, ""), *IDENTIFIER_KINDS]
    subject = next((known.subject_of[hashes[k]] for k in order
                    if k in hashes and hashes[k] in known.subject_of), None)
    suppressed = any(h in known.suppressed_hashes for h in hashes.values())
    base = known.facts[subject] if subject else SubjectFacts(None, None)
    facts = replace(
        base, relationship_started_at=base.relationship_started_at or started,
        relationship_ended_at=base.relationship_ended_at or ended,
        objections=frozenset(known.objections.get(subject, ())) if subject else frozenset(),
        suppressed=suppressed or (subject in known.suppressed_subjects),
        consent_events=tuple(known.events.get(subject, ())) if subject else ())
    return evaluate(rules.id, rules, facts, categories, channel, moment)


def _address_key(channel: str, address: dict[str, str]) -> str:
    return hashlib.sha256("\x1f".join([channel, *address.values()]).lower().encode()).hexdigest()


def contacts(store: sa.Engine, model: DecisionModel, datamap: DataMap, engines: Mapping[str, sa.Engine],
             activity: str, channel: str, at: datetime | None = None, batch: int = 1000, *,
             exports: Path) -> Iterator[Contact]:
    """The addresses ``activity`` may use on ``channel``, each once, streamed source by source.

    ``engines``: one per database of ``datamap`` (:func:`garde.datasets.connect_datamap`). Every
    row of every :func:`contact_sources` table is judged like ``decide()`` would judge its subject;
    a subject the store does not know is judged too (no consent, no objection), with the
    relationship dates of the data map (:func:`_relationship_columns`), so soft opt-in reaches
    customers who never met the consent form. The store's suppression list applies to the hashes
    of every identity of the row, known subject or not. What the stream wrote is kept in a folder of
    its own under ``exports`` (garde's exports folder, given by the edge: :class:`Seen`).
    """
    channel = consent_channel(channel) or channel
    rules, moment, categories = _scope(model, activity, channel, at)
    statement = _facts_statement(rules)
    seen = Seen(exports)
    try:
        with store.connect() as conn:
            for source in contact_sources(datamap, activity, channel):
                yield from _source_contacts(conn, statement, engines[source.identities.database], source,
                                            rules, categories, channel, moment, seen, batch)
    finally:
        seen.close()


def _source_contacts(conn: sa.Connection, statement: sa.CompoundSelect[Any], engine: sa.Engine,
                     source: ContactSource, rules: ActivityRules, categories: list[str] | None, channel: str,
                     moment: datetime, seen: Seen, batch: int) -> Iterator[Contact]:
    query, kinds = _source_query(source)
    data_key = identifier_data_key(conn)
    with engine.connect() as business:
        result = business.execution_options(yield_per=batch).execute(query)
        with result:
            for rows in result.partitions():
                candidates: list[tuple[dict[str, str], dict[str, str], datetime | None, datetime | None]] = []
                for r in rows:
                    address = _address(channel, source.address_columns, [r._mapping[f"a_{i}"] for i in
                                                                          range(len(source.address_columns))])
                    if address is None:
                        continue
                    hashes = _hashes(kinds, r._mapping, data_key)
                    if hashes is None:  # an identity that reads as none: its suppressions cannot be checked
                        continue
                    candidates.append((address, hashes, _utc(r.started), _utc(r.ended)))
                known = _read_store(conn, statement, rules.id,
                                    sorted({h for _, hashes, _, _ in candidates for h in hashes.values()}))
                allowed = []
                for address, hashes, started, ended in candidates:
                    decision = _judge(rules, known, hashes, started, ended, categories, channel, moment)
                    if decision.allowed:
                        allowed.append((seen.mark(channel, address), address, decision))
                fresh = seen.new([mark for mark, _, _ in allowed])
                written = set()
                for mark, address, decision in allowed:
                    if mark in fresh and mark not in written:
                        written.add(mark)
                        yield Contact(address, decision.subject_id, _basis(decision), str(source))
                seen.add(written)


def _hashes(kinds: Sequence[str], row: sa.RowMapping, key: bytes) -> dict[str, str] | None:
    """The row's identity hashes, or None when one of them is not a readable identity: the row is
    then left out, since a suppression or objection recorded under that identity could not be
    matched (not contacting is the safe side)."""
    hashes = {}
    for kind in kinds:
        value = row[f"id_{kind}"]
        if value is None or str(value).strip() == "":
            continue
        try:
            hashes[kind] = identifier_hash(kind, str(value), key)
        except GardeError:
            return None
    return hashes


def _address(channel: str, columns: tuple[str, ...], values: list[Any]) -> dict[str, str] | None:
    """The address as written to the CSV: normalised e-mail or phone; postal columns stripped."""
    if channel in CHANNEL_IDENTITY:
        kind = CHANNEL_IDENTITY[channel]
        try:
            return {kind: normalise_identifier(kind, str(values[0]))} if values[0] else None
        except GardeError:
            return None
    address = {c: "" if v is None else str(v).strip() for c, v in zip(columns, values, strict=True)}
    return address if any(address.values()) else None


def audited_contacts(store: sa.Engine, model: DecisionModel, datamap: DataMap,
                     engines: Mapping[str, sa.Engine], activity: str, channel: str,
                     at: datetime | None = None, actor: str = "garde", *, exports: Path) -> Iterator[Contact]:
    """:func:`contacts`; once exhausted, one audit entry records the activity, channel, count and
    an HMAC-SHA256 of the addresses' keys under the store's identifier data key (never the
    addresses; not a plain hash either, which an audit log's reader could recompute from guessed
    addresses for a small audience: red team of 2026-12-08)."""
    digest = hmac.new(identifier_data_key(store), digestmod=hashlib.sha256)
    count = 0
    for contact in contacts(store, model, datamap, engines, activity, channel, at, exports=exports):
        digest.update(_address_key(channel, contact.address).encode() + b"\n")
        count += 1
        yield contact

    def auditing(conn: sa.Connection) -> None:
        audit.record(conn, "audience", {"activity": activity, "channel": channel, "count": count,
                                        "addresses_hmac_sha256": digest.hexdigest()}, actor=actor)

    retried(store, auditing, what="an audience with addresses audited")


def contact_rows(store: sa.Engine, model: DecisionModel, datamap: DataMap, engines: Mapping[str, sa.Engine],
                 activity: str, channel: str, at: datetime | None = None,
                 actor: str = "garde", *, exports: Path) -> Iterator[list[str]]:
    """The audited audience with addresses as rows: first the header (the address columns,
    subject_id, basis, source; an unknown channel or activity is refused before it), then one
    row per contact. Write them with :class:`CsvWriter` (the addresses come from the business
    databases: their cells are made inert)."""
    columns = list(dict.fromkeys(
        (CHANNEL_IDENTITY[channel],) if channel in CHANNEL_IDENTITY else
        (c for s in contact_sources(datamap, activity, channel) for c in s.address_columns)))
    yield [*columns, "subject_id", "basis", "source"]
    for contact in audited_contacts(store, model, datamap, engines, activity, channel, at, actor,
                                    exports=exports):
        yield [*(contact.address.get(c, "") for c in columns), contact.subject_id or "", contact.basis,
               contact.source]


def member_rows(store: sa.Engine, model: DecisionModel, activity: str, channel: str,
                at: datetime | None = None, actor: str = "garde") -> Iterator[list[str]]:
    """The audited audience as subject ids (the store alone, no address): the header, then a row
    (subject_id, basis) per member."""
    yield ["subject_id", "basis"]
    for member in audited_audience(store, model, activity, channel, at, actor):
        yield [member.subject_id, member.basis]


def audience_rows(store: sa.Engine, model: DecisionModel, activity: str, channel: str, *,
                  exports: Path, datasets: Path | None = None, at: datetime | None = None,
                  actor: str = "garde") -> Iterator[list[str]]:
    """:func:`contact_rows` over the data map at ``datasets`` (its databases connected for the
    time of the rows and closed after them; its stream's scratch folder under ``exports``), or
    :func:`member_rows` when ``datasets`` is None.
    The header comes first: taking it loads and checks the data map and the channel."""
    if datasets is None:
        yield from member_rows(store, model, activity, channel, at, actor)
        return
    with opened_datamap(datasets) as (datamap, engines):
        yield from contact_rows(store, model, datamap, engines, activity, channel, at, actor, exports=exports)


def write_contacts_csv(handle: TextIO, store: sa.Engine, model: DecisionModel, datamap: DataMap,
                       engines: Mapping[str, sa.Engine], activity: str, channel: str,
                       at: datetime | None = None, actor: str = "garde",
                       progress: Callable[[int], None] | None = None, *, exports: Path) -> int:
    """Write the audited audience as CSV (address columns, subject_id, basis, source); returns the count.

    ``progress(n)`` is called after each ``n`` more contacts written."""
    writer = CsvWriter(handle)  # the addresses come from the business databases: made inert
    rows = contact_rows(store, model, datamap, engines, activity, channel, at, actor, exports=exports)
    writer.writerow(next(rows))
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None and count % PROGRESS_EVERY:
        progress(count % PROGRESS_EVERY)
    return count
