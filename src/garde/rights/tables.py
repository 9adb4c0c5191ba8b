"""The store's tables for data-subject requests (built by migrations 0003 and 0006).

``requests`` holds one row per request with its lifecycle timestamps, how
each of its identities was proven, its count of wrong codes and its lock;
``request_steps`` every transition, timestamped, with who made it;
``verification_codes`` the hash of the one-time code sent to each identity;
``verification_sends`` when a code was sent to which identity (hashed), for
the limits per request and per identity;
``erasure_steps`` the erasure plan, written before anything is erased;
``request_forwardings`` what a request found of data held as a processor, per client controller,
and what became of it (migrations 0028, 0034);
``subject_sessions`` the data subjects' one-time-code sessions (migration 0014);
``identity_handovers`` when a value last changed hands (0027).
"""

from __future__ import annotations

import sqlalchemy as sa

from garde.store import metadata

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("subject_id", sa.String(36), index=True),
    # The raw identities are needed to find the subject in the datasets; they
    # are dropped when the request is closed (only their hashes stay).
    sa.Column("identities", sa.Text),
    sa.Column("identity_hashes", sa.Text, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("extended_deadline", sa.Date),
    sa.Column("extension_reason", sa.Text),
    sa.Column("verified_at", sa.DateTime(timezone=True)),
    sa.Column("verification", sa.String(16)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("rejected_at", sa.DateTime(timezone=True)),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("result", sa.Text),
    # {kind: {method, at, by, note}}: how each identity was proven; an identity not here is not used.
    sa.Column("proofs", sa.Text),
    # Wrong codes checked, across every code of the request (claimed atomically before comparing).
    sa.Column("wrong_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_at", sa.DateTime(timezone=True)),
)

# Each digest a request gave (its ``identity_hashes``' values), so that a subject's requests are found
# by an index: a ``LIKE '%digest%'`` over every request's JSON read the whole table (0026).
request_identities = sa.Table(
    "request_identities",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
)

# The last moment each keyed digest changed hands in garde's store (a rectification linked it to a subject
# or unlinked it from one): a request never verified that named it before then was made by whoever held
# it then, not by its holder now (0027).
identity_handovers = sa.Table(
    "identity_handovers",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

request_steps = sa.Table(
    "request_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("note", sa.Text),
)

verification_codes = sa.Table(
    "verification_codes",
    metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("salt", sa.String(32), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

verification_sends = sa.Table(
    "verification_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("identity_hash", sa.String(64), nullable=False, index=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    # The address's mailbox (its digest without a ``+tag``): the day's codes are counted on it (0029).
    sa.Column("mailbox_hash", sa.String(64), index=True),
)

erasure_steps = sa.Table(
    "erasure_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False, index=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("table_name", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("columns", sa.Text, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    # rows the step's statement changed, recorded before its database commits (NULL: not run yet)
    sa.Column("rows_changed", sa.Integer),
    # PostgreSQL: the business transaction that recorded rows_changed (pg_current_xact_id), asked again
    # when the step is resumed: a count of a transaction that aborted is void (migration 0036)
    sa.Column("business_xact", sa.String(32)),
)

# A data subject's session (:mod:`garde.rights.sessions`): a one-time code to one identity, then a
# short-lived token. Only hashes of the code and the token are kept; the raw identity only while
# the session may still be used (a request submitted in it needs it), then it is wiped.
subject_sessions = sa.Table(
    "subject_sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("identity_hash", sa.String(64), nullable=False, index=True),
    # The identity's mailbox (digest without a ``+tag``), on which the day's codes are counted (0029).
    sa.Column("mailbox_hash", sa.String(64), index=True),
    sa.Column("identity", sa.Text),
    sa.Column("subject_id", sa.String(36)),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("salt", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("wrong_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_at", sa.DateTime(timezone=True)),
    sa.Column("token_hash", sa.String(64), unique=True),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)


# A request that met data the organisation holds only as a processor (GDPR Art. 28(3)(e), 30(2)):
# one row per client controller (an ``on_behalf_of`` name), what was found (``found``: rows per
# table; ``keys``: the rows themselves, so an instructed erasure is exact, never shown to the
# subject), when the DPO forwarded it, and the controller's instruction to erase, with who gave it.
request_forwardings = sa.Table(
    "request_forwardings",
    metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
    sa.Column("controller", sa.String(256), primary_key=True),
    sa.Column("found", sa.Text, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("forwarded_at", sa.DateTime(timezone=True)),
    sa.Column("forwarded_by", sa.String(128)),
    sa.Column("forward_note", sa.Text),
    sa.Column("instruction", sa.Text),
    sa.Column("instructed_by", sa.Text),
    sa.Column("erased_at", sa.DateTime(timezone=True)),
    sa.Column("erasure", sa.Text),
    # the controller's instruction to lift its restriction (Art. 18(3); migration 0034)
    sa.Column("lifted_at", sa.DateTime(timezone=True)),
    sa.Column("lift_instruction", sa.Text),
    sa.Column("lifted_by", sa.Text),
)
