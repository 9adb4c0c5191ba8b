"""The reference shop "Maison Exemple": a retail schema over two databases.

``shop`` holds the selling side (customers, orders, payments, invoices,
deliveries, returns, loyalty, the web site's cookies and sessions, the
stores' CCTV index); ``crm`` holds marketing and relations (prospects,
newsletter, events, influencers, press, candidates, customer service), so a
request really crosses databases. Nothing here is special to garde: the
shop is declared by ``datasets/shop.yaml`` and ``datasets/crm.yaml`` like any
other database.

Every identity and reference column is indexed: discovery looks rows up by
them (``WHERE col IN (...)``) and must stay fast at a million customers.
Timestamps are naive UTC.
"""

from __future__ import annotations

import sqlalchemy as sa

_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
shop = sa.MetaData(naming_convention=_CONVENTION)
crm = sa.MetaData(naming_convention=_CONVENTION)
METADATA = {"shop": shop, "crm": crm}


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)


def _ref(name: str, target: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable, index=True)


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime, nullable=nullable)


def _text(name: str, length: int = 80, *, index: bool = False, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), index=index, nullable=nullable)


# ---------------------------------------------------------------------------------------------- shop

customers = sa.Table(
    "customers", shop, _id(),
    # Nullable: an erased customer whose invoices the law keeps stays as a row without them.
    _text("customer_number", 16, index=True),
    _text("email", 120, index=True),
    _text("phone", 20, index=True),
    _text("title", 8), _text("first_name"), _text("last_name"),
    sa.Column("birth_date", sa.Date), _text("language", 2), _text("country", 2),
    _at("created_at", False), _at("last_contact_at", False), _at("relationship_ended_at"),
)
accounts = sa.Table(
    "accounts", shop, _id(), _ref("customer_id", "customers.id"),
    _text("login", 120), _text("password_hash", 64),
    _at("created_at", False), _at("last_login_at"), _at("closed_at"),
)
addresses = sa.Table(
    "addresses", shop, _id(), _ref("customer_id", "customers.id"),
    _text("kind", 10), _text("recipient"), _text("street", 120), _text("postal_code", 10), _text("city"),
    _text("country", 2), _at("created_at", False),
)
orders = sa.Table(
    "orders", shop, _id(), _ref("customer_id", "customers.id"),
    _text("order_number", 16), _text("channel", 8), sa.Column("total_cents", sa.Integer),
    _text("currency", 3), _at("ordered_at", False), _at("completed_at"),
)
payments = sa.Table(
    "payments", shop, _id(), _ref("order_id", "orders.id"),
    # Tokenised by the payment provider: never a card number (PCI DSS; CNIL deliberation 2018-303).
    _text("card_token", 40), _text("card_brand", 12), sa.Column("amount_cents", sa.Integer),
    _at("paid_at", False), _at("settled_at"),
)
invoices = sa.Table(
    "invoices", shop, _id(), _ref("order_id", "orders.id"),
    _text("invoice_number", 16), _text("billing_name"), _text("billing_address", 200),
    sa.Column("amount_cents", sa.Integer), _at("issued_at", False),
)
# The intermediate archive of invoices (datasets/shop.yaml, `archive:`): every column of an invoice
# plus when the retention sweep archived it; no foreign key, since an archived invoice outlives the
# order it points at in the live tables.
invoices_archive = sa.Table(
    "invoices_archive", shop, _id(), sa.Column("order_id", sa.Integer, nullable=False, index=True),
    _text("invoice_number", 16), _text("billing_name"), _text("billing_address", 200),
    sa.Column("amount_cents", sa.Integer), _at("issued_at", False), _at("archived_at", False),
)
deliveries = sa.Table(
    "deliveries", shop, _id(), _ref("order_id", "orders.id"),
    _text("recipient"), _text("address", 200), _text("carrier", 20), _text("tracking_number", 24),
    _at("shipped_at", False), _at("delivered_at"),
)
returns = sa.Table(
    "returns", shop, _id(), _ref("order_id", "orders.id"),
    _text("reason", 120), _at("requested_at", False), _at("closed_at"),
)
refunds = sa.Table(
    "refunds", shop, _id(), _ref("return_id", "returns.id"),
    sa.Column("amount_cents", sa.Integer), _at("refunded_at", False),
)
tax_free_refunds = sa.Table(
    "tax_free_refunds", shop, _id(), _ref("order_id", "orders.id"),
    _text("passport_number", 16), _text("nationality", 2), sa.Column("amount_cents", sa.Integer),
    _at("requested_at", False), _at("refunded_at"),
)
appointments = sa.Table(
    "appointments", shop, _id(), _ref("customer_id", "customers.id"),
    _text("store", 40), _text("notes", 200), _at("created_at", False), _at("appointment_at", False),
)
personalisations = sa.Table(
    "personalisations", shop, _id(), _ref("order_id", "orders.id"),
    _text("engraving", 24), _at("created_at", False),
)
wishlist_items = sa.Table(
    "wishlist_items", shop, _id(), _ref("customer_id", "customers.id"),
    _text("product_sku", 16), _at("added_at", False),
)
basket_items = sa.Table(
    "basket_items", shop, _id(), _ref("customer_id", "customers.id"),
    _text("product_sku", 16), sa.Column("quantity", sa.Integer), _at("added_at", False), _at("reminded_at"),
)
reviews = sa.Table(
    "reviews", shop, _id(), _ref("customer_id", "customers.id"),
    _text("product_sku", 16), sa.Column("rating", sa.Integer), _text("body", 300), _at("created_at", False),
)
loyalty_accounts = sa.Table(
    "loyalty_accounts", shop, _id(), _ref("customer_id", "customers.id"),
    _text("card_number", 16, index=True), _text("tier", 10), sa.Column("points", sa.Integer),
    _at("enrolled_at", False), _at("last_activity_at"),
)
fraud_checks = sa.Table(
    "fraud_checks", shop, _id(), _ref("order_id", "orders.id"),
    sa.Column("score", sa.Integer), _text("decision", 10), _at("checked_at", False),
)
browsers = sa.Table(  # one row per cookie identifier the site set
    "browsers", shop, _id(), _ref("customer_id", "customers.id", nullable=True),
    _text("cookie_id", 36, index=True), _text("consent", 60), _text("user_agent", 120),
    _at("first_seen_at", False), _at("last_seen_at"),
)
web_sessions = sa.Table(
    "web_sessions", shop, _id(), _ref("browser_id", "browsers.id"),
    _text("ip_address", 40), _text("landing_page", 80), sa.Column("pages", sa.Integer),
    _at("started_at", False),
)
cctv_footage = sa.Table(  # an index of recordings: who is filmed is unknown (GDPR Art. 11)
    "cctv_footage", shop, _id(),
    _text("store", 40), _text("camera", 20), _text("file_path", 120),
    _at("recorded_from", False), _at("recorded_to", False),
)

# ----------------------------------------------------------------------------------------------- crm

# Personal-data columns are nullable (the primary key aside): a row that stays because another row
# points at it has its expired or erased columns set to NULL (retention sweep, erasure).
contacts = sa.Table(  # prospects, and customers as the marketing team knows them
    "contacts", crm, _id(),
    _text("email", 120, index=True), _text("phone", 20, index=True),
    _text("customer_number", 16, index=True),
    _text("first_name"), _text("last_name"), _text("language", 2), _text("source", 20),
    _text("interests", 120), _at("created_at", False), _at("last_contact_at", False),
)
newsletter_subscriptions = sa.Table(
    "newsletter_subscriptions", crm, _id(), _ref("contact_id", "contacts.id"),
    _text("email", 120, index=True), _text("language", 2), _text("topics", 60),
    _at("subscribed_at", False), _at("unsubscribed_at"),
)
segments = sa.Table(
    "segments", crm, _id(), _ref("contact_id", "contacts.id"),
    _text("segment", 30), sa.Column("spend_band", sa.Integer), _at("computed_at", False),
)
events = sa.Table(  # shared by every guest: no subject
    "events", crm, _id(), _text("name", 80), _text("city", 40), _at("event_date", False),
)
influencers = sa.Table(
    "influencers", crm, _id(),
    _text("email", 120, index=True), _text("full_name"), _text("handle", 40),
    _at("created_at", False), _at("last_contact_at", False), _at("contract_ended_at"),
)
influencer_profiles = sa.Table(
    "influencer_profiles", crm, _id(), _ref("influencer_id", "influencers.id"),
    _text("network", 20), _text("url", 120), sa.Column("followers", sa.Integer), _at("captured_at", False),
)
fashion_professionals = sa.Table(
    "fashion_professionals", crm, _id(),
    _text("email", 120, index=True), _text("phone", 20, index=True), _text("full_name"),
    _text("publication", 60), _text("job_title", 60), _at("created_at", False), _at("last_contact_at", False),
)
event_invitations = sa.Table(
    "event_invitations", crm, _id(), _ref("event_id", "events.id"),
    _ref("contact_id", "contacts.id", nullable=True),
    _ref("professional_id", "fashion_professionals.id", nullable=True),
    _ref("influencer_id", "influencers.id", nullable=True),
    _text("status", 10), _at("invited_at", False), _at("event_date", False),
)
candidates = sa.Table(
    "candidates", crm, _id(),
    _text("email", 120, index=True), _text("phone", 20, index=True), _text("full_name"),
    _text("position", 60), _text("cv_path", 120), _text("interview_notes", 300),
    _at("applied_at", False), _at("last_contact_at", False),
)
tickets = sa.Table(
    "tickets", crm, _id(),
    _text("email", 120, index=True), _text("customer_number", 16, index=True),
    _text("topic", 60), _text("status", 10), _at("opened_at", False), _at("closed_at"),
)
ticket_messages = sa.Table(
    "ticket_messages", crm, _id(), _ref("ticket_id", "tickets.id"),
    _text("author", 10), _text("body", 300), _at("sent_at", False),
)
call_recordings = sa.Table(
    "call_recordings", crm, _id(), _ref("ticket_id", "tickets.id"),
    _text("phone", 20, index=True), _text("recording_path", 120), sa.Column("duration_s", sa.Integer),
    _at("recorded_at", False),
)
survey_responses = sa.Table(
    "survey_responses", crm, _id(), _ref("contact_id", "contacts.id"),
    sa.Column("score", sa.Integer), _text("comment", 300), _at("answered_at", False),
)
