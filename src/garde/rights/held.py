"""What garde itself holds about a subject, for the access answer (GDPR Art. 15(1) and (3)).

Besides the business's datasets, garde keeps its own records of a person:
their consents and the history of each (the ledger), their objections, the
suppression list entries of their identifiers, their requests (this one and
earlier ones) with every step, the legal holds that name them, and the audit
entries about them. Art. 15 covers all of it: an answer that left these out
would say "no data" to someone whose consents garde proves every day.

Who "they" are: the engine subjects (``subjects``) that hold one of the
identities discovery proved theirs (matched by the identifiers' keyed digests,
never by a raw value), and the request's own subject. Nothing of another
subject is read: each record is selected by those subject ids or those
digests, and a legal hold by the identity it names. What is not the subject's
to see stays out: the keyed digests themselves, the IP address digest of a
consent's evidence, one-time codes (garde never stores them in clear) and key
material, and who among the staff acted (``actor``: another person's data,
Art. 15(4)).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from garde.audit import audit_log
from garde.consent.ledger import consent_events
from garde.datasets import row_identity
from garde.keys import identifier_data_key
from garde.legal_holds import legal_holds
from garde.rights.intake import Request, get_requests
from garde.rights.tables import requests
from garde.subjects import IDENTIFIER_KINDS, identifier_hash, subject_identifiers, subject_objections
from garde.suppression import suppression_list

#: Payload keys never shown: keyed digests, codes, key material, the IP digest of an evidence.
HIDDEN_WORDS = frozenset({"hash", "digest", "code", "key", "secret", "token", "password", "salt", "ip"})
KINDS = ("consents", "objections", "suppression", "requests", "legal_holds", "audit")


def identity_hashes(conn: sa.Connection, identities: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The keyed digests of the identities garde keeps digests of ({kind: [hash, ...]})."""
    key = identifier_data_key(conn)
    return {kind: sorted(identifier_hash(kind, value, key) for value in values)
            for kind, values in identities.items() if kind in IDENTIFIER_KINDS and values}


def engine_subjects(conn: sa.Connection, subject_id: str | None,
                    identities: Mapping[str, Iterable[str]],
                    hashes: Mapping[str, list[str]] | None = None) -> set[str]:
    """The engine subjects of a person: ``subject_id`` and those holding one of ``identities``
    (``hashes``: their digests, when the caller has them already).

    A person who asked once by e-mail and once by customer number may be two
    engine subjects; discovery found both identities, so both count. Index
    look-ups only: the identifiers' digests, then the subjects.
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
def _subjects_of(kinds: tuple[str, ...]) -> sa.Select[Any]:
    i = subject_identifiers.c
    return sa.select(i.subject_id).where(sa.or_(*_of_kinds(i.kind, i.hash, len(kinds))))


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


_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_c, _o, _a = consent_events.c, subject_objections.c, audit_log.c
_CONSENTS = sa.select(_c.activity, _c.channel, _c.action, _c.at, _c.method, _c.notice_version, _c.user_agent,
                      _c.expires_at, _c.source).where(_c.subject_id.in_(_IDS)).order_by(_c.at, _c.id)
_OBJECTIONS = sa.select(_o.scope, _o.reason, _o.at).where(_o.subject_id.in_(_IDS)).order_by(_o.at, _o.id)
_AUDIT = sa.select(_a.seq, _a.at, _a.kind, _a.payload).where(_a.subject_id.in_(_IDS)).order_by(_a.seq)


def _consents(conn: sa.Connection, ids: list[str]) -> list[dict[str, Any]]:
    return [{"activity": r.activity, "channel": r.channel, "action": r.action, "at": _iso(r.at),
             "method": r.method, "notice_version": r.notice_version, "user_agent": r.user_agent,
             "expires_at": _iso(r.expires_at), "source": r.source}
            for r in conn.execute(_CONSENTS, {"ids": ids})]


def _objections(conn: sa.Connection, ids: list[str]) -> list[dict[str, Any]]:
    return [{"scope": r.scope, "reason": r.reason, "at": _iso(r.at)}
            for r in conn.execute(_OBJECTIONS, {"ids": ids})]


@lru_cache(maxsize=64)
def _suppression_of(kinds: tuple[str, ...], by_subject: bool) -> sa.Select[Any]:
    s, i = suppression_list.c, subject_identifiers.c
    theirs = _of_kinds(s.kind, s.hash, len(kinds))
    if by_subject:
        theirs.append(sa.tuple_(s.kind, s.hash).in_(sa.select(i.kind, i.hash).where(i.subject_id.in_(_IDS))))
    return sa.select(s.kind, s.reason, s.added_at).where(sa.or_(*theirs)).order_by(s.added_at, s.kind)


def _suppression(conn: sa.Connection, ids: list[str],
                 hashes: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Suppression entries of the subject's identifiers: by kind, reason and date, never the digest."""
    if not ids and not hashes:
        return []
    rows = conn.execute(_suppression_of(tuple(hashes), bool(ids)), {**_by_kind(hashes), "ids": ids})
    return [{"identity": r.kind, "reason": r.reason, "added_at": _iso(r.added_at)} for r in rows]


@lru_cache(maxsize=64)
def _requests_of(by_subject: bool, digests: int) -> sa.Select[Any]:
    r = requests.c
    theirs: list[sa.ColumnElement[bool]] = [r.subject_id.in_(_IDS)] if by_subject else []
    # identity_hashes is a JSON object of {kind: digest}: a digest appears there as a quoted string.
    # A digest is hex: no LIKE wildcard to escape in it.
    theirs += [r.identity_hashes.contains(sa.bindparam(f"digest{i}")) for i in range(digests)]
    return sa.select(r.id).where(sa.or_(*theirs))


def _requests(conn: sa.Connection, request: Request, ids: list[str],
              hashes: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """This request and every other of the same subjects, or giving one of their identities (a request
    never verified is linked to no subject, but the identity it gave is theirs), with their steps
    (who acted left out)."""
    digests = [f'"{digest}"' for values in hashes.values() for digest in values]
    others: list[str] = []
    if ids or digests:
        parameters = {"ids": ids, **{f"digest{i}": digest for i, digest in enumerate(digests)}}
        others = list(conn.execute(_requests_of(bool(ids), len(digests)), parameters).scalars())
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


def _legal_holds(conn: sa.Connection, identities: Mapping[str, Iterable[str]],
                 region: str | None) -> list[dict[str, Any]]:
    """The holds whose scope names one of the subject's identities (``kind:value``), released ones too."""
    theirs = {kind: set(values) for kind, values in identities.items()}
    h = legal_holds.c
    found = []
    for hold in conn.execute(sa.select(legal_holds).where(h.scope_kind == "subject").order_by(h.id)):
        kind, _, value = hold.scope.partition(":")
        if row_identity(kind, value, region) in theirs.get(kind, ()):
            found.append({"id": hold.id, "identity": kind, "reason": hold.reason,
                          "starts_at": _iso(hold.starts_at), "ends_at": _iso(hold.ends_at),
                          "released_at": _iso(hold.released_at)})
    return found


def _audit(conn: sa.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """The audit entries naming the subject (by engine subject id: the log keeps no raw identity)."""
    if not ids:
        return []
    return [{"seq": r.seq, "at": r.at, "kind": r.kind, "details": _shown(json.loads(r.payload))}
            for r in conn.execute(_AUDIT, {"ids": ids})]


def garde_held(conn: sa.Connection, request: Request, identities: Mapping[str, Iterable[str]],
               region: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Everything garde keeps about the subject of ``request``, whose proven ``identities`` discovery
    found ({kind: values}); ``region`` reads the telephone numbers holds name (the controller's
    country). One list per kind of record (:data:`KINDS`)."""
    hashes = identity_hashes(conn, identities)
    ids = sorted(engine_subjects(conn, request.subject_id, identities, hashes))
    return {"consents": _consents(conn, ids) if ids else [],
            "objections": _objections(conn, ids) if ids else [],
            "suppression": _suppression(conn, ids, hashes),
            "requests": _requests(conn, request, ids, hashes),
            "legal_holds": _legal_holds(conn, identities, region),
            "audit": _audit(conn, ids)}


def holds_nothing_else(held: Mapping[str, list[dict[str, Any]]], request: Request) -> bool:
    """Whether garde's own records of the subject are only this request and its own trail."""
    others = [r for r in held.get("requests", []) if r["id"] != request.id]
    own_trail = all(e["details"].get("request") == request.id for e in held.get("audit", []))
    return not others and own_trail and not any(held.get(kind) for kind in KINDS
                                                 if kind not in ("requests", "audit"))
