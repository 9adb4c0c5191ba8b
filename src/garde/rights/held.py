"""What garde itself holds about a subject, for the access answer (GDPR Art. 15(1) and (3)).

Besides the business's datasets, garde keeps its own records of a person:
their consents and the history of each (the ledger), their objections, the
suppression list entries of their identifiers, their requests (this one and
earlier ones) with every step, the legal holds that name them, the audit
entries about them, and the consent confirmations a shop's integration asked of
one of their identities (:mod:`garde.consent.confirmations`: an identity the
shop did not check, invited to confirm; red team of 2026-12-07, red29: an
address named only by one was told "no data"). Art. 15 covers all of it: an answer that left these out
would say "no data" to someone whose consents garde proves every day.

Who "they" are: the engine subjects (``subjects``) that hold one of the
identities discovery proved theirs and no other identity (matched by the
identifiers' keyed digests, never by a raw value), and the request's own
subject. An engine subject that also holds an identity discovery did not find
the requester's is someone else whose link meets one of theirs (a telephone
number the shop's record now gives the requester, which garde linked to its
former holder with their e-mail): its records are that person's, and stay out
(red team of 2026-12-07: they were read into the requester's answer, and an
erasure removed that person's answer files). Requests are theirs by
those subjects, and by those digests only when never verified: a request a
former holder of a recycled address verified is that holder's. Nothing of another
subject is read: each record is selected by those subject ids or those
digests, and a legal hold by the identity it names. What is not the subject's
to see stays out: the keyed digests themselves, the IP address digest of a
consent's evidence, one-time codes (garde never stores them in clear) and key
material, and who among the staff acted (``actor``: another person's data,
Art. 15(4)); a confirmation names the shop's integration that asked by its key's name (never
its secret).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from garde.audit import about_subjects, audit_log
from garde.audit.batch_reading import batch_seqs, entries_at, tail_batched, tail_entries
from garde.consent.confirmation_records import consent_confirmations
from garde.consent.identities import consent_identities
from garde.consent.ledger import consent_events
from garde.datasets import row_identity
from garde.keys import identifier_data_key
from garde.legal_holds import digested_scope, digested_scopes, legal_holds
from garde.rights.intake import Request, get_requests
from garde.rights.tables import identity_handovers, request_identities, requests
from garde.store.driver import driver_rows
from garde.subjects import (
    IDENTIFIER_KINDS,
    INSTRUCTED_ERASURE,
    INSTRUCTED_RESTRICTION,
    identifier_hash,
    subject_identifiers,
    subject_objections,
)
from garde.suppression import suppression_list

#: Payload keys never shown: keyed digests, codes, key material, the IP digest of an evidence.
HIDDEN_WORDS = frozenset({"hash", "digest", "code", "key", "secret", "token", "password", "salt", "ip"})
KINDS = ("consents", "objections", "suppression", "requests", "legal_holds", "audit", "confirmations")


def identity_hashes(conn: sa.Connection, identities: Mapping[str, Iterable[str]], *,
                    normalised: bool = False) -> dict[str, list[str]]:
    """The keyed digests of the identities garde keeps digests of ({kind: [hash, ...]});
    ``normalised``: the values are in their normal form already (:func:`identifier_hash`)."""
    key = identifier_data_key(conn)
    return {kind: sorted(identifier_hash(kind, value, key, normalised=normalised) for value in values)
            for kind, values in identities.items() if kind in IDENTIFIER_KINDS and values}


def engine_subjects(conn: sa.Connection, subject_id: str | None,
                    identities: Mapping[str, Iterable[str]],
                    hashes: Mapping[str, list[str]] | None = None) -> set[str]:
    """The engine subjects of a person: ``subject_id`` and those holding one of ``identities`` and no
    other identity (``hashes``: their digests, when the caller has them already).

    A person who asked once by e-mail and once by customer number may be two
    engine subjects; discovery found both identities, so both count. A subject that also holds an
    identity discovery did not find (another person's e-mail beside a number now the requester's)
    is that other person (:func:`_theirs`). Index look-ups only: the identifiers' digests, then the
    subjects and their other identities.
    """
    found = {subject_id} - {None}
    by_kind = identity_hashes(conn, identities) if hashes is None else hashes
    if by_kind:
        query = _subjects_of(tuple(by_kind))
        found |= set(conn.execute(query, _by_kind(by_kind)).scalars())
    return {str(s) for s in found}


def _by_kind(hashes: Mapping[str, list[str]]) -> dict[str, Any]:
    """The parameters of a statement made by :func:`_of_kinds`: each kind and its digests."""
    parameters: dict[str, Any] = {}
    for i, (kind, values) in enumerate(hashes.items()):
        parameters[f"kind{i}"], parameters[f"hashes{i}"] = kind, list(values)
    return parameters


def _of_kinds(kind: sa.ColumnElement[Any], digest: sa.ColumnElement[Any],
              count: int) -> list[sa.ColumnElement[bool]]:
    """``kind = :kind0 AND digest IN :hashes0``, ... for ``count`` kinds (values bound at execution)."""
    return [sa.and_(kind == sa.bindparam(f"kind{i}"), digest.in_(sa.bindparam(f"hashes{i}", expanding=True)))
            for i in range(count)]


# The statements of an access answer, built once per shape: an access request runs each of them,
# and building a statement (and its cache key) costs more than SQLite takes to run it.
@lru_cache(maxsize=64)
def _subjects_of(kinds: tuple[str, ...]) -> sa.CompoundSelect[Any]:
    return _theirs(len(kinds))


def _theirs(count: int) -> sa.CompoundSelect[Any]:
    """The engine subjects holding one of the person's identities (``count`` kinds, bound as
    :func:`_by_kind` names them) and none that is not among them: a subject linked to another
    identity as well is another person whose link meets one of theirs (a recycled telephone number
    the shop now gives the requester, linked in garde to its former holder with their e-mail)."""
    return sa.union(*_their_subjects(count))


def _their_subjects(count: int) -> list[sa.Select[Any]]:
    """The two selects of :func:`_theirs`: the subjects holding one of the person's identities and no
    other, and those of their requests given one of them, each proven with a subject of its own
    (:mod:`garde.rights.vouching`: its identity was linked to a subject shared with identities the
    shop's systems claimed) holding none but theirs, made since the identity last changed hands."""
    i, other = subject_identifiers.c, subject_identifiers.alias("other").c
    foreign = sa.exists().where(other.subject_id == i.subject_id,
                                ~sa.or_(sa.false(), *_of_kinds(other.kind, other.hash, count)))
    holding = sa.select(i.subject_id).where(sa.or_(sa.false(), *_of_kinds(i.kind, i.hash, count)), ~foreign)
    made_t, given_t = requests.alias("theirs_made"), request_identities.alias("theirs_given")
    handed_t = identity_handovers.alias("theirs_handed")
    made, given, handed = made_t.c, given_t.c, handed_t.c
    held = subject_identifiers.alias("theirs_held").c
    digests = [given.digest.in_(sa.bindparam(f"hashes{n}", expanding=True)) for n in range(count)]
    own = (sa.select(made.subject_id).select_from(made_t.join(given_t, given.request_id == made.id)
                                                  .outerjoin(handed_t, handed.digest == given.digest))
           .where(made.subject_id.is_not(None), sa.or_(sa.false(), *digests),
                  sa.or_(handed.at.is_(None), handed.at < made.received_at),
                  ~sa.exists().where(held.subject_id == made.subject_id,
                                     ~sa.or_(sa.false(), *_of_kinds(held.kind, held.hash, count)))))
    return [holding, own]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _shown(payload: Any) -> Any:
    """``payload`` without what is not the subject's to see (:data:`HIDDEN_WORDS` in a key)."""
    if isinstance(payload, dict):
        return {k: _shown(v) for k, v in payload.items() if not HIDDEN_WORDS & set(k.lower().split("_"))}
    if isinstance(payload, list):
        return [_shown(v) for v in payload]
    return payload


_c, _o, _s, _r, _h, _a, _q = (consent_events.c, subject_objections.c, suppression_list.c, requests.c,
                              legal_holds.c, audit_log.c, consent_confirmations.c)
# Every kind of record in one statement: one round trip, one pass through SQLAlchemy. Each kind
# fills the same typed slots (a tag, four moments, seven texts, a number), NULL where it has less;
# NULLs are cast to the slot's type so that both databases type each column of the union alike.
_MOMENT, _TEXT, _NUMBER = sa.DateTime(timezone=True), sa.Text(), sa.BigInteger()
_SLOTS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    *((f"d{i}", _MOMENT) for i in range(1, 5)), *((f"s{i}", _TEXT) for i in range(1, 8)), ("n", _NUMBER))
_TAGS = {kind: number for number, kind in enumerate(("consents", "objections", "suppression", "requests",
                                                      "legal_holds", "audit", "batched", "ids",
                                                      "confirmations"))}


def _kind(kind: str, **slots: sa.ColumnElement[Any]) -> sa.Select[Any]:
    columns: list[sa.ColumnElement[Any]] = [sa.literal(_TAGS[kind], sa.Integer()).label("k")]
    columns += [slots[name].label(name) if name in slots else sa.cast(sa.null(), type_).label(name)
                for name, type_ in _SLOTS]
    return sa.select(*columns)


@lru_cache(maxsize=64)
def _held_of(kinds: tuple[str, ...], digests: int, dialect: str) -> sa.CompoundSelect[Any]:
    """The statement of :func:`garde_held` for identities of ``kinds`` and ``digests`` digests.

    ``ids`` (the person's engine subjects: the request's own and those holding one of the
    identities' digests) is a subquery each kind reads by; then, in each kind's own order (the
    union is ordered by kind, moment, number, text): consents (time, id), objections (time, id),
    suppression entries (time, kind), request ids, legal holds naming a subject (id; matched to
    the identities in Python), audit entries (seq; found by :func:`garde.audit.about_subjects`,
    which reads the log's subject index as the store's ``dialect`` keeps it) and the consent
    confirmations asked of one of the identities (time; by their digests' index).
    """
    i = subject_identifiers.c
    # a common table expression: the database finds the ids once, not once per kind that reads by them
    ids = sa.union(sa.select(sa.cast(sa.bindparam("subject", type_=sa.String()), sa.String(36))),
                   *_their_subjects(len(kinds))).cte("held_ids")
    ids_query = sa.select(ids.c[0]).scalar_subquery()
    batched = batch_seqs(dialect, ids_query).subquery()
    by_identity = _of_kinds(_s.kind, _s.hash, len(kinds))
    suppressed = sa.or_(sa.false(), *by_identity, sa.tuple_(_s.kind, _s.hash).in_(
        sa.select(i.kind, i.hash).where(i.subject_id.in_(ids_query))))
    given = request_identities.c  # by index (0026), not a LIKE over every request's JSON
    # A verified request by its subject only: one made by a former holder of a recycled identity is
    # theirs (their subject), not the next holder's; a request never verified by the identity it gave.
    # A request never verified made before the identity last changed hands is its holder's then.
    made, handed = requests.alias("made"), identity_handovers.c
    asked = sa.or_(_r.subject_id.in_(ids_query), *([sa.and_(_r.subject_id.is_(None), _r.id.in_(
        sa.select(given.request_id).join(made, made.c.id == given.request_id)
        .outerjoin(identity_handovers, handed.digest == given.digest)
        .where(given.digest.in_([sa.bindparam(f"digest{n}") for n in range(digests)]),
               sa.or_(handed.at.is_(None), handed.at < made.c.received_at))))] if digests else []))
    # and those recorded with their identities alone on a subject shared with another person's (the
    # shop's systems linked them: garde.rights.vouching), never one that also named an identity not
    # theirs (another person's e-mail beside a number now theirs), nor that subject's others
    recorded, also = consent_identities.c, consent_identities.alias("also").c
    theirs: list[sa.BindParameter[Any]] = [sa.bindparam(f"digest{n}") for n in range(digests)]
    with_theirs = [sa.and_(
        _c.event_id.in_(sa.select(recorded.event_id).where(recorded.hash.in_(theirs))),
        ~sa.exists().where(also.event_id == _c.event_id, also.hash.not_in(theirs)))] if digests else []
    return sa.union_all(
        _kind("consents", d1=_c.at, d2=_c.expires_at, s1=_c.activity, s2=_c.channel, s3=_c.action,
              s4=_c.method, s5=_c.notice_version, s6=_c.user_agent, s7=_c.source, n=_c.id)
        .where(sa.or_(_c.subject_id.in_(ids_query), *with_theirs)),
        # a restriction or an erasure a client controller instructed is held for it as a processor, not
        # the subject's own
        _kind("objections", d1=_o.at, s1=_o.scope, s2=_o.reason, n=_o.id).where(
            _o.subject_id.in_(ids_query), ~_o.scope.startswith(INSTRUCTED_RESTRICTION, autoescape=True),
            ~_o.scope.startswith(INSTRUCTED_ERASURE, autoescape=True)),
        _kind("suppression", d1=_s.added_at, s1=_s.kind, s2=_s.reason).where(suppressed),
        _kind("requests", s1=_r.id).where(asked),
        _kind("legal_holds", d2=_h.starts_at, d3=_h.ends_at, d4=_h.released_at, s1=_h.scope, s2=_h.reason,
              n=_h.id).where(_h.scope_kind == "subject"),
        _kind("audit", s1=_a.at, s2=_a.kind, s3=_a.payload, n=_a.seq)
        .where(about_subjects(dialect, ids_query)),
        # the audit entries in decision batches: their seq and batch by the index (garde.audit.batch_reading),
        # and on SQLite the ids themselves, for the batches appended past the runs' frontier
        _kind("batched", n=batched.c.seq, s1=sa.cast(batched.c.first_seq, sa.Text()),
              s2=batched.c.subject_id),
        *([_kind("ids", s1=ids.c[0]).where(tail_batched())] if dialect == "sqlite" else []),
        # the confirmations a shop's integration asked of an identity of theirs (consent.confirmations),
        # answered or not: by the identity's digest, as the confirmation names no subject
        _kind("confirmations", d1=_q.asked_at, d2=_q.answered_at, s1=_q.activity, s2=_q.channel,
              s3=_q.actor, s4=_q.kind).where(sa.or_(sa.false(), *_of_kinds(_q.kind, _q.hash, len(kinds)))),
    ).order_by(*(sa.literal_column(name) for name in ("k", "d1", "n", "s1")))


def _requests(conn: sa.Connection, request: Request, others: list[str]) -> list[dict[str, Any]]:
    """This request and every other of the same subjects, or giving one of their identities (a request
    never verified is linked to no subject, but the identity it gave is theirs), with their steps
    (who acted left out)."""
    found = []
    for each in [request, *get_requests(conn, sorted(set(others) - {request.id}))]:
        found.append({
            "id": each.id, "type": each.type, "status": each.status, "received_at": _iso(each.received_at),
            "deadline": each.deadline.isoformat(),
            "extended_deadline": each.extended_deadline.isoformat() if each.extended_deadline else None,
            "extension_reason": each.extension_reason, "rejection_reason": each.rejection_reason,
            "identities": sorted(each.identity_hashes), "current": each.id == request.id,
            "steps": [{"at": _iso(s["at"]), "status": s["status"], "note": s["note"]} for s in each.steps]})
    return sorted(found, key=lambda r: (r["received_at"] or "", r["id"]))


def garde_held(conn: sa.Connection, request: Request, identities: Mapping[str, Iterable[str]],
               region: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Everything garde keeps about the subject of ``request``, whose proven ``identities`` discovery
    found ({kind: values}); ``region`` reads the telephone numbers holds name (the controller's
    country). One list per kind of record (:data:`KINDS`).

    One statement (:func:`_held_of`), and two more when the subject made other requests (theirs,
    with their steps). A suppression entry, consent or audit entry shows no digest, no IP digest
    and no actor (:data:`HIDDEN_WORDS`).
    """
    hashes = identity_hashes(conn, identities, normalised=True)  # discovery's, in their normal form
    digests = [digest for values in hashes.values() for digest in values]
    parameters = {"subject": request.subject_id, **_by_kind(hashes),
                  **{f"digest{n}": digest for n, digest in enumerate(digests)}}
    held: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    others: list[str] = []
    theirs = {kind: set(values) for kind, values in identities.items()}
    # a released hold names its identity by its keyed digest (garde.legal_holds.digested_scope)
    named = digested_scopes(hashes) | {digested_scope(identifier_data_key(conn), f"{kind}:{value}")
                                       for kind, values in theirs.items() if kind not in hashes
                                       for value in values}
    consents, objections, suppression, audit = (held[k] for k in ("consents", "objections", "suppression",
                                                                  "audit"))
    batched: list[tuple[int, int, str]] = []
    ids: set[str] = set()
    # On the driver's cursor (garde.store.driver): the same rows, without SQLAlchemy's execution path.
    for k, d1, d2, d3, d4, s1, s2, s3, s4, s5, s6, s7, n in driver_rows(
            conn, _held_of(tuple(hashes), len(digests), conn.dialect.name), parameters):
        if k == 0:
            consents.append({"activity": s1, "channel": s2, "action": s3, "at": _iso(d1),
                             "method": s4, "notice_version": s5, "user_agent": s6,
                             "expires_at": _iso(d2), "source": s7})
        elif k == 1:
            objections.append({"scope": s1, "reason": s2, "at": _iso(d1)})
        elif k == 2:
            suppression.append({"identity": s1, "reason": s2, "added_at": _iso(d1)})
        elif k == 3:
            others.append(s1)
        elif k == 4:
            kind, _, value = s1.partition(":")
            if s1 in named or row_identity(kind, value, region) in theirs.get(kind, ()):
                held["legal_holds"].append({"id": n, "identity": kind, "reason": s2,
                                            "starts_at": _iso(d2), "ends_at": _iso(d3),
                                            "released_at": _iso(d4)})
        elif k == 5:
            audit.append({"seq": n, "at": s1, "kind": s2, "details": _shown(json.loads(s3))})
        elif k == 6:
            if s1 is not None:
                batched.append((n, int(s1), s2))
        elif k == 7:
            ids.add(s1)
        else:
            held["confirmations"].append({"identity": s4, "activity": s1, "channel": s2,
                                          "asked_by": s3.removeprefix("key:"), "asked_at": _iso(d1),
                                          "answered_at": _iso(d2)})
    if batched or ids:  # the entries of decision batches (garde.audit.batches)
        found = entries_at(conn, batched) + tail_entries(conn, ids)
        audit.extend({"seq": e["seq"], "at": e["at"], "kind": e["kind"],
                      "details": _shown(json.loads(e["payload"]))} for e in found)
        audit.sort(key=lambda entry: int(entry["seq"]))
    held["requests"] = _requests(conn, request, others)
    return held


def holds_nothing_else(held: Mapping[str, list[dict[str, Any]]], request: Request) -> bool:
    """Whether garde's own records of the subject are only this request and its own trail."""
    others = [r for r in held.get("requests", []) if r["id"] != request.id]
    own_trail = all(e["details"].get("request") == request.id for e in held.get("audit", []))
    return not others and own_trail and not any(held.get(kind) for kind in KINDS
                                                 if kind not in ("requests", "audit"))
