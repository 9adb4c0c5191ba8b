"""What a proven identity vouches for: a subject's whole record, or only what was made with it.

The consent API, imports and the CLI link every identity a call names to one engine subject, so
that ``decide()`` and a withdrawal find it by any of them; those links are the shop's word
(*claimed*), and the shop relays what a visitor typed into a public form. A proof (a session's
code, a request's code, staff's check) shows who holds one identity, not that its holder is the
person of the subject's other identities. So the rights side opens a subject's whole record to a
proof only when:

- the proven identity's link to it is **proven** (made or confirmed by a proof, below), or
- the subject holds no identity but those the proof proved (nothing else to tell apart).

A link proven once opens the whole subject only while every other identity it holds is proven too:
whoever proved a subject of their own number, then typed a victim's e-mail beside it into the shop's
form (the victim unknown to garde yet), would otherwise read and change the victim's later consents
(red team of 2026-12-07, red27).

Otherwise the proof is *narrowed*: a session reaches the requests that proved its identity (or
named it, never verified) and the consents recorded with it, and changes only those; a request
gets a subject of its own, so that running it (restriction, erasure) leaves the shared subject's
state, records and sessions alone, while the business data it finds from its proven identities is
the requester's as before (:func:`garde.rights.running.locate`).

A proof confirms (marks proven) the links of the identities it proved when it opens the whole
subject that way: a subject of only those identities, or one a proven link of theirs opens. A proof
never confirms a link to a subject holding an identity it did not prove: whoever proves the first of
two identities a form named (the attacker's number beside a victim's e-mail) would otherwise own
the victim's later records (red team of 2026-12-07, red25).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from garde.subjects import subject_identifiers

Digest = tuple[str, str]  # (kind, keyed digest)


def vouches(conn: sa.Connection, subject_id: str, proven: Collection[Digest]) -> bool:
    """Whether identities a proof proved (``proven``) open ``subject_id``'s whole record."""
    i = subject_identifiers.c
    links = conn.execute(sa.select(i.kind, i.hash, i.proven).where(i.subject_id == subject_id)).all()
    given = set(proven)
    mine = [(link.kind, link.hash) in given for link in links]
    # all the subject's identities proven by this proof; or one of them proven before, and every other
    # identity proven too (a link the shop's systems made since that proof is a claim: red27)
    return all(mine) or (any(link.proven and own for link, own in zip(links, mine, strict=True))
                         and all(link.proven or own for link, own in zip(links, mine, strict=True)))


def confirm(conn: sa.Connection, subject_id: str, proven: Collection[Digest]) -> bool:
    """Mark the links of ``proven`` to ``subject_id`` proven when they open its whole record
    (:func:`vouches`); whether they do."""
    if not proven or not vouches(conn, subject_id, proven):
        return False
    i = subject_identifiers.c
    conn.execute(subject_identifiers.update().where(
        i.subject_id == subject_id, i.proven.is_(sa.false()),
        sa.or_(*(sa.and_(i.kind == kind, i.hash == digest) for kind, digest in proven))).values(proven=True))
    return True
