"""The JSON every command prints with ``--format json``: one pydantic model per command.

These models are the one description of the CLI's JSON: ``tests/test_cli_json.py``
checks each command's output against its model, docs/cli.md's tables are generated
from them (``python -m garde.cli.schemas --write docs/cli.md``, checked by a test),
and each command's ``--help`` says what its exit status 1 means from :data:`COMMANDS`.
Each field carries its meaning and an example value; the documented example of a
command is built from them and validated too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


def f(meaning: str, example: Any, *, absent: bool = False) -> Any:
    """A field with its meaning and an example value (both go to docs/cli.md); ``absent``: it may
    be left out of the output (it then reads as null)."""
    if absent:
        return Field(default=None, description=f"{meaning} (may be absent)", examples=[example])
    return Field(description=meaning, examples=[example])


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------------------

class Step(Output):
    status: str = f("status the request entered", "received")
    at: str = f("when (ISO 8601, UTC)", "2026-03-02T09:14:03+00:00")
    actor: str = f("who did it", "garde")
    note: str | None = f("what was said or done", None)


class Request(Output):
    id: str = f("request id (any 8 or more first characters name it)", "3f2a9c41e0b54d2f9b1c7a8e6d5f4c3b")
    type: str = f("access, portability, rectification, erasure, restriction or objection", "access")
    status: str = f("received, verified, in_progress, completed, failed or rejected", "verified")
    subject_id: str | None = f("the engine's subject id, once known", "9c1d2e3f4a5b6c7d")
    identities: list[str] = f("identity kinds given (values are never shown)", ["email"])
    language: str = f("language of the answer", "fr")
    details: dict[str, Any] = f("corrections, scope or reason given with the request", {})
    received_at: str = f("when it was received (ISO 8601)", "2026-03-02T09:14:03+00:00")
    deadline: str = f("due date (GDPR Art. 12(3): one month)", "2026-04-02")
    extended_deadline: str | None = f("due date once extended by two months", None)
    extension_reason: str | None = f("why it was extended, as told to the subject", None)
    due: str = f("the date it is due now", "2026-04-02")
    overdue: bool = f("open and past its due date", False)
    verified_at: str | None = f("when every identity used was proven", "2026-03-02T09:20:11+00:00")
    verification: str | None = f("how it was verified", "code")
    started_at: str | None = f("when it was first run", None)
    completed_at: str | None = f("when it was answered", None)
    rejected_at: str | None = f("when it was refused", None)
    rejection_reason: str | None = f("why it was refused (Art. 12(4))", None)
    result: dict[str, Any] | None = f("what the run did: answer files, rows per table", None)
    proofs: dict[str, dict[str, Any] | None] = f(
        "per identity kind: how it was proven (method, at, by, note), null when not", {"email": None})
    awaiting: list[str] = f("a rectification's new identities (kinds) still to be proven by a code sent to "
                            "them, or checked by staff, before it runs", [])
    wrong_attempts: int = f("wrong codes typed so far", 0)
    locked: bool = f("locked after too many wrong codes", False)
    locked_at: str | None = f("when it was locked", None)
    steps: list[Step] = f("every step, oldest first", [])


class Forwarding(Output):
    controller: str = f("the client controller, as the register's on_behalf_of names it", "Brand SpA")
    contact: str | None = f("its contact, from the register", "privacy@brand.example")
    dpo: str | None = f("its DPO's contact, from the register", "dpo@brand.example")
    status: str = f("to_forward, forwarded, restricted, lifted (its restriction) or erased (on its "
                    "instruction)", "forwarded")
    found: dict[str, int] = f("rows found per database.table (never a value)", {"hub.parcels": 2})
    noted_at: str = f("when the request found it", "2026-03-02T09:20:40+00:00")
    forwarded_at: str | None = f("when the DPO recorded it passed on", "2026-03-02T10:02:00+00:00")
    forwarded_by: str | None = f("who recorded it", "dpo:marie")
    note: str | None = f("how it was passed on", "mailed to its DPO")
    instruction: str | None = f("the controller's instruction to erase or to restrict, as recorded", None)
    instructed_by: str | None = f("who gave it, for the controller", None)
    erased_at: str | None = f("when the instructed erasure ran", None)
    erasure: dict[str, Any] | None = f("what it erased and kept, rows changed per database", None)
    lifted_at: str | None = f("when the controller's restriction was lifted on its instruction", None)
    lift_instruction: str | None = f("the controller's instruction to lift it, as recorded", None)
    lifted_by: str | None = f("who gave it, for the controller", None)


class RequestShown(Request):
    forwardings: list[Forwarding] | None = f(
        "data held as a processor that the request found, per client controller (GDPR Art. 28(3)(e)): "
        "to pass on to it", [], absent=True)


class RequestRun(Request):
    job_id: int | None = f("PostgreSQL: the queued job's id (a worker runs the request; follow it with "
                           "`garde request show`)", 42, absent=True)
    queued: bool | None = f("PostgreSQL: true, the request was queued, not run here", True, absent=True)


class Submitted(Output):
    request: Request = f("the request as recorded", None)
    codes_sent: list[str] = f("identities a one-time code was sent to", ["email"])
    unproven: list[str] = f("identities given but not proven yet (not used until proven)", [])


class Resumed(Output):
    job_id: int | None = f("the job queued for the workers (null: run here, or a job already waits)", None)
    queued: bool = f("queued for the workers (PostgreSQL), not run here", False)
    status: str = f("the request's status now", "completed")


class Verified(Output):
    request_id: str = f("the request", "3f2a9c41e0b54d2f9b1c7a8e6d5f4c3b")
    method: Literal["code", "out_of_band"] = f("a one-time code, or an agent's check", "code")
    identities: list[str] = f("identity kinds proven by this command", ["email"])
    message: str = f("what it means for the request", "email verified")
    resumed: Resumed | None = f("a rectification that waited for this proof of its new e-mail or phone, "
                                "run or queued now; null: nothing waited on it", None)


class CodesSent(Output):
    request_id: str = f("the request", "3f2a9c41e0b54d2f9b1c7a8e6d5f4c3b")
    sent: list[str] = f("identities a new code was sent to (empty: none to send)", ["phone"])


# -- consent ---------------------------------------------------------------------------------------

class ConsentEvent(Output):
    event_id: str = f("the event's receipt id (`garde consent receipt ID`)",
                      "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b")
    subject_id: str = f("the engine's subject id", "9c1d2e3f4a5b6c7d")
    activity: str = f("activity id of the register", "newsletter")
    channel: str | None = f("channel, null for every channel", "email")
    action: str = f("given, withdrawn, refused or expired", "given")
    at: str = f("when it happened (ISO 8601, UTC)", "2026-03-02T09:14:03+00:00")
    recorded_at: str = f("when garde recorded it", "2026-03-02T09:14:03+00:00")
    method: str = f("how it was collected", "web_form")
    notice_version: str | None = f("hash of the notice shown", None)
    ip_hash: str | None = f("HMAC of the IP address (never the address)", None)
    user_agent: str | None = f("browser user agent", None)
    expires_at: str | None = f("when the consent lapses (`consent.expiry`)", None)
    actor: str = f("who recorded it", "garde")
    source: str | None = f("tool it was imported from", None)


class ConsentState(Output):
    activity: str = f("activity id", "newsletter")
    channel: str | None = f("channel, null for every channel", "email")
    status: str = f("given, withdrawn, refused, expired", "given")
    dpv: str | None = f("W3C DPV consent status", "dpv:ConsentGiven")
    since: str | None = f("since when", "2026-03-02T09:14:03+00:00")
    expires_at: str | None = f("when it lapses", None)
    receipt: str | None = f("receipt id of the event it derives from", "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b")


class Gpc(Output):
    recorded: bool = f("false when the objection was already recorded", True)


class ConsentImport(Output):
    read: int = f("rows read", 120)
    added: int = f("events added to the ledger", 118)
    already_there: int = f("rows imported before (nothing added twice)", 0)
    new_subjects: int = f("subjects garde met for the first time", 100)
    changed: int = f("added events whose id was imported before with another event", 0)
    set_aside: int = f("withdrawals or refusals listed after a later consent", 0)
    evidence_kept: int = f("rows imported before with other evidence (the first kept)", 0)
    problems: list[str] = f("rows refused, each naming its line (exit status 1 when any)",
                            ["export.csv, line 7: at: not a date"])
    notes: list[str] = f("rows a DPO should look at (at most 100)", [])


# -- decisions, lint -------------------------------------------------------------------------------

class Reason(Output):
    code: str = f("stable reason code", "consent.given")
    message: str = f("the reason in words", "consent given on 2026-03-02")
    blocks: bool = f("this reason refuses the use", False)
    categories: list[str] | None = f("data categories it concerns, when not all", None, absent=True)


class Decision(Output):
    activity: str = f("activity id", "newsletter")
    subject_id: str | None = f("the engine's subject id (null: never met)", "9c1d2e3f4a5b6c7d")
    channel: str | None = f("channel asked about", "email")
    allowed: bool = f("whether the activity may use the data (exit status 1 when not)", True)
    categories: list[str] = f("data categories it may use", ["contact.email"])
    reasons: list[Reason] = f("every reason, blocking or not", [])


class Finding(Output):
    code: str = f("rule code (docs/lint.md)", "GL001")
    severity: Literal["error", "warning", "info"] = f("an error makes exit status 1", "error")
    rule: str = f("rule name", "legal-basis-missing")
    activity: str | None = f("activity id, when the finding is about one", "newsletter")
    message: str = f("what is wrong", "no legal basis")
    reference: str = f("the article or guidance", "GDPR Art. 6(1)")
    url: str | None = f("link to the reference", None)
    file: str = f("register file", "registers/online-shop.yaml")
    line: int | None = f("line in the file", 12)


class Findings(RootModel[list[Finding]]):
    """Every finding, in file and line order."""


# -- audit -----------------------------------------------------------------------------------------

class Verification(Output):
    ok: bool = f("the log verifies (exit status 1 when not)", True)
    checked: int = f("entries checked (before the first bad one when broken)", 1520)
    first_bad: int | None = f("sequence number of the first bad entry", None)
    reason: str | None = f("what is wrong with it", None)
    warnings: list[str] = f("what the verification could not prove (no audit key...)", [])
    head_hash: str = f("hash of the last entry checked, when ok", "5e1c…")
    sealed: bool = f("every entry is sealed by a configured audit key", True)
    checkpoints: int = f("checkpoints checked against", 0)


class Checkpoint(Output):
    at: str = f("when the checkpoint was taken", "2026-03-02T09:14:03+00:00")
    entries: int = f("entries in the log then", 1520)
    seq: int = f("sequence number of the last entry", 1520)
    hash: str = f("its hash", "5e1c…")
    key: str | None = f("id of the audit key that MAC'd it, null when none", "k1")


class CheckpointWritten(Output):
    verification: Verification = f("the verification that preceded it", None)
    checkpoint: Checkpoint | None = f("what was appended; null when the log does not verify (exit 1)", None)


class HeadExported(Output):
    day: str = f("the day of the run (one export per head and day)", "2026-03-02")
    ok: bool | None = f("the log verifies (exit status 1 when not: nothing exported); null when the head "
                        "was exported today already (not verified again)", True)
    seq: int | None = f("sequence number of the head considered", 1520)
    head: Checkpoint | None = f("the head exported by this run, null when none", None)
    file: str | None = f("the append-only file, if one", "/var/lib/garde-checkpoints/audit.jsonl")
    url: str | None = f("the outside address POSTed to, without its query", None)
    written: bool = f("a line was appended to the file by this run", True)
    posted: bool = f("the head was POSTed by this run", False)
    why_not: str | None = f("why nothing was exported: already exported today, the log does not verify",
                            None)
    verification: Verification | None = f("the verification that preceded it, null when none ran", None)


# -- scheduled work: reminders, renewals -----------------------------------------------------------

class DueRequest(Output):
    request_id: str = f("the request", "3f2a9c41e0b54d2f9b1c7a8e6d5f4c3b")
    type: str = f("access, portability, rectification, erasure, restriction or objection", "access")
    status: str = f("its status (open)", "verified")
    received: str = f("the day it was received", "2026-02-10")
    due: str = f("the day its answer is due (extended or not)", "2026-03-10")
    days_left: int = f("days until it is due; negative: days past", 3)
    overdue: bool = f("past its due date", False)


class Reminder(Output):
    day: str = f("the day of the run", "2026-03-07")
    within_days: int = f("requests due within this many days are listed, with every overdue one", 7)
    to: str | None = f("the DPO's address (dpo_email, or the register's DPO)", "dpo@example.com")
    sent: bool = f("a mail was sent by this run", True)
    why_not: str | None = f("why not: nothing due, already sent today (same list), dry run", None)
    overdue: int = f("how many are overdue", 0)
    requests: list[DueRequest] = f("the requests listed, earliest due first", [])
    closed_unverified: list[str] = f("the requests nobody proved an identity of in unverified_request_days, "
                                     "closed first (a dry run: those it would close)", [])


class Renewal(Output):
    subject_id: str = f("garde's subject id (never an identity)", "9c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f")
    subject_kind: str | None = f("customer, prospect, visitor...", "customer")
    activity: str = f("the activity consented to", "newsletter")
    channel: str | None = f("the channel, null for every channel", "email")
    given_at: str = f("when the consent was given (ISO 8601)", "2025-02-01T10:00:00+00:00")
    lapses_on: str = f("the day it lapses", "2026-03-01")
    days_left: int = f("days until it lapses; negative: lapsed that many days ago", 12)
    status: Literal["lapsing", "lapsed"] = f("lapsing (ahead) or lapsed (in the window, not renewed since)",
                                             "lapsing")
    limit: str = f("what sets the lapse", "cookie_consent_months (13 months)")


class Renewals(Output):
    day: str = f("the day of the run", "2026-02-17")
    within_days: int = f("consents lapsing within this many days, or lapsed within as many before, "
                         "are listed", 30)
    lapsing: int = f("how many lapse within the window", 1)
    lapsed: int = f("how many lapsed within the window and were not renewed", 0)
    consents: list[Renewal] = f("the list (empty on stdout when written to --output)", [])
    output: str | None = f("the file the list was written to (CSV, or JSON), null when none", "renewals.csv")


# -- retention, holds ------------------------------------------------------------------------------

class Sweep(Output):
    """On PostgreSQL without ``--inline`` or ``--dry-run``: only ``job_id`` (the sweep runs on the
    workers; ``garde jobs show`` and ``garde retention runs`` follow it)."""

    run: str = f("run id (an interrupted run is resumed under its id)", "7b2e…", absent=True)
    today: str = f("the day the rules were evaluated for", "2026-03-02", absent=True)
    dry_run: bool = f("counted only, nothing changed", False, absent=True)
    resumed: bool = f("this run resumed an interrupted one", False, absent=True)
    batches: int = f("audited batches committed", 3, absent=True)
    affected: dict[str, int] = f("rows per step `database.table:operation`", {"shop.orders:delete": 1200},
                                 absent=True)
    job_id: int = f("the queued sweep's job (PostgreSQL): the other fields are then absent", 42, absent=True)


class RetentionRun(Output):
    id: str = f("run id", "7b2e…")
    today: str = f("the day it evaluated the rules for", "2026-03-02")
    status: str = f("running (interrupted: the next sweep resumes it) or done", "done")
    dry_run: bool = f("a dry run", False)
    batch_size: int = f("rows per batch", 10000)
    started_at: str = f("when it started", "2026-03-02T02:00:00+00:00")
    finished_at: str | None = f("when it ended", "2026-03-02T02:03:10+00:00")
    resumed: int = f("how many times it was resumed", 0)
    summary: dict[str, Any] = f("affected rows per step and batches", {"affected": {}, "batches": 0})


class RetentionRuns(RootModel[list[RetentionRun]]):
    """Past sweeps, newest first."""


class RetentionPlan(Output):
    today: str = f("as of", "2026-03-02")
    days: int = f("days looked ahead", 30)
    steps: list[dict[str, Any]] = f("per table and operation: activities, columns, today, held, by_day", [])
    activities: dict[str, list[str]] = f("steps per activity", {})
    holds: list[dict[str, Any]] = f("active legal holds and the rows they keep", [])
    kept: list[dict[str, Any]] = f("columns never due and why", [])
    due_for_review: list[dict[str, Any]] = f(
        "rows whose `review` rule is due: a person decides what follows (never swept)", [])
    not_executable: list[dict[str, Any]] = f(
        "rules the sweep cannot apply: a criterion or a condition in words", [])


class Hold(Output):
    id: int = f("hold id", 3)
    scope_kind: Literal["subject", "table", "activity"] = f("what it covers", "table")
    scope: str = f("the subject `kind:value`, `database.table` or activity id", "shop.orders")
    reason: str = f("why the data is kept", "litigation")
    starts_at: str = f("since when", "2026-03-02T09:14:03+00:00")
    ends_at: str | None = f("when it ends (null: until released)", None)
    released_at: str | None = f("when it was released", None)


class Holds(RootModel[list[Hold]]):
    """The holds in force (with --all, every hold)."""


# -- API keys ----------------------------------------------------------------------------------------

class ApiKey(Output):
    id: str = f("the key's id (the first part of the key, not secret)", "3f2a9c0e5b7d4e1f")
    name: str = f("who holds it (the audit log's actor is `key:<name>`)", "shop-checkout")
    role: Literal["dpo", "agent", "service", "auditor", "opendsr"] = f("what it may do (docs/api.md)",
                                                                        "service")
    created_at: str = f("when", "2026-03-02T09:14:03+00:00")
    revoked_at: str | None = f("when it was revoked (null: live)", None)


class ApiKeyCreated(ApiKey):
    key: str = f("the key, shown this once (only its SHA-256 is kept)", "gk_3f2a9c0e5b7d4e1f_Xq…")


class ApiKeys(RootModel[list[ApiKey]]):
    """Every API key, revoked ones included, oldest first."""


# -- keys, datasets, shop, requests listed ---------------------------------------------------------

class StoreKey(Output):
    purpose: str = f("what the key protects", "identifier")
    fingerprint: str = f("HMAC of a fixed label under the key (never the key)", "a1b2c3…")
    origin: str = f("where the data key came from", "generated")
    created_at: str = f("when", "2026-03-02T09:14:03+00:00")
    rotated_at: str | None = f("last rotation", None)


class KeyStatus(Output):
    store: StoreKey | None = f("the store's key record (null: none yet)", None)
    configured_fingerprint: str = f("fingerprint of GARDE_IDENTIFIER_KEY", "a1b2c3…")
    matches: bool = f("the configured key opens the store (exit status 1 when not)", True)
    demo_key: bool = f("the configured key is the public demo key", False)


class Rotation(Output):
    old_fingerprint: str = f("the key replaced", "a1b2c3…")
    new_fingerprint: str = f("the new key", "d4e5f6…")
    audit_seq: int = f("audit entry recording the rotation", 1521)


class DatasetFile(Output):
    database: str = f("database name in the data map", "shop")
    file: str = f("dataset file", "datasets/shop.yaml")
    tables: int = f("tables annotated", 12)


class DatasetsChecked(Output):
    databases: list[DatasetFile] = f("one entry per database", [])
    tables: int = f("tables annotated in all", 14)
    columns: int = f("columns annotated", 80)
    identities: list[str] = f("identity kinds a request can use", ["customer_id", "email", "phone"])
    live: bool = f("the databases were read and every mask fits its column (false with --offline)", True)
    warnings: list[str] = f("what discovery cannot do (status unchanged)", [])


class Generated(Output):
    customers: int = f("customers generated", 1000)
    seed: int = f("seed (same seed and date, same data)", 0)
    as_of: str = f("the day the data ends at", "2026-03-02")
    seconds: float = f("time taken", 1.8)
    total_rows: int = f("rows in all", 11234)
    rows: dict[str, int] = f("rows per table", {"customers": 1000})


class SampleCustomer(Output):
    customer_id: str = f("customer number", "C000001")
    email: str | None = f("e-mail address", "alphonse.perret.1@messagerie.example")
    phone: str | None = f("telephone", None)


class Samples(RootModel[list[SampleCustomer]]):
    """A few generated customers, in id order."""


class Requests(RootModel[list[Request]]):
    """Requests, oldest first."""


class ConsentStates(RootModel[list[ConsentState]]):
    """The subject's consents as they stand now."""


class Footprint(Output):
    identities: dict[str, list[str]] = f("identity values found, per kind", {"email": ["ana@example.com"]})
    matches: list[dict[str, Any]] = f("how each identity was matched (given or linked, where)", [])
    not_followed: list[dict[str, Any]] = f("identities seen but not followed (values withheld)", [])
    tables: dict[str, list[Any]] = f("primary keys of the subject's rows per table", {"shop.customers": [1]})


class TaxonomyTerm(Output):
    kind: str = f("which list: categories, subjects, legal_bases...", "categories")
    id: str = f("the term's id, as registers write it", "contact.email")
    label: str = f("its label in --lang", "E-mail address")
    dpv: str | None = f("W3C DPV key", "pd:EmailAddress")
    fideslang: str | None = f("fideslang key", "user.contact.email")
    synonyms: dict[str, list[str]] = f("per language, the words documents may use for it",
                                       {"fr": ["adresse électronique"]})


class Taxonomy(RootModel[list[TaxonomyTerm]]):
    """The vocabulary's terms, kind by kind."""


class Released(Output):
    id: int = f("the hold released", 3)
    released: bool = f("always true (an unknown or released hold is exit status 2)", True)


class Placed(Output):
    hold: Hold = f("the hold as recorded", None)


# -- analyse ---------------------------------------------------------------------------------------

class Art13Element(Output):
    present: bool = f("the document says it (only ever with evidence)", True)
    evidence: str = f("a verbatim excerpt of the document that says it; empty when absent",
                      "Vous pouvez demander l'effacement de vos données.")


class AnalyseFinding(Output):
    code: str = f("rule code (GA001..., docs/analyse.md)", "GA001")
    severity: Literal["error", "warning", "info"] = f("an error makes exit status 1", "error")
    rule: str = f("rule name", "browsing-as-consent")
    message: str = f("what is wrong, in the document's language", "Browsing is treated as consent")
    reference: str = f("the article or guidance", "GDPR Arts. 4(11), 7")
    url: str | None = f("link to the reference", None)
    evidence: str = f("the verbatim excerpt it was found in", "En visitant le site, vous acceptez la notice.")


class Analysis(Output):
    language: Literal["fr", "en", "it"] = f("the document's language (detected, or --lang)", "fr")
    kind: Literal["notice", "register"] = f("a privacy notice, or a register (mostly tables of activities)",
                                            "notice")
    art13: dict[str, Art13Element] = f(
        "per Art. 13 element (controller_identity ... source_of_data, docs/analyse.md): present, evidence",
        {})
    activities: list[dict[str, Any]] = f(
        "processing activities read in it: purpose, name, legal_bases (ids), retention {text, rule}, "
        "categories, recipients, evidence [{field, value, excerpt}], role (controller; processor: "
        "processing on behalf of another controller, Arts. 28, 30(2), with no legal basis), on_behalf_of "
        "(a processor's activity: the controller the document names for it, Art. 30(2)(a), or null)", [])
    findings: list[AnalyseFinding] = f("problems beyond completeness (GA001...)", [])


# -- the store and its jobs -------------------------------------------------------------------------

class DbUpgrade(Output):
    database: str = f("the store (its URL without password)", "postgresql+psycopg://garde@db/garde")
    before: str | None = f("the schema revision before (null: a new store)", "0019")
    after: str | None = f("the schema revision now", "0021")
    queue_schema: str | None = f("the newest procrastinate migration the store has (null on SQLite: no "
                                 "queue, jobs run inline)", "03.04.00_50_post_add_retry_failed_job_procedure")


class JobEvent(Output):
    type: str = f("deferred, started, deferred_for_retry, failed, succeeded, cancelled, retried...",
                  "started")
    at: str = f("when (ISO 8601)", "2026-03-02T02:30:01+00:00")


class Job(Output):
    id: int = f("job id", 42)
    kind: str = f("what the job does", "retention.sweep")
    queue: str = f("the queue it waits in (`garde worker --queue`)", "retention")
    status: str = f("todo, doing, succeeded, failed, cancelled or aborted", "succeeded")
    attempts: int = f("runs ended so far (a worker that died counts one)", 1)
    arguments: dict[str, Any] = f("what it was given", {"today": None, "batch_size": 50000})
    scheduled_at: str | None = f("not before (ISO 8601), if delayed", None)
    created_at: str | None = f("when it was queued", "2026-03-02T02:30:00+00:00")
    updated_at: str | None = f("when its status last changed", "2026-03-02T02:31:12+00:00")
    events: list[JobEvent] = f("its history (`jobs show`; empty in `jobs list`)", [])


class Jobs(RootModel[list[Job]]):
    pass


class JobsPruned(Output):
    days: int = f("finished jobs older than this many days were deleted", 30)
    jobs: int = f("jobs deleted, with their history", 412)
    staged_files: int = f("consent files staged for deleted import jobs, deleted with them", 0)


@dataclass(frozen=True)
class Report:
    """A command's JSON output and what its exit status 1 means (None: only a declined confirmation)."""

    model: type[BaseModel]
    refused: str | None = None


COMMANDS: dict[str, Report] = {
    "lint": Report(Findings, "an error-severity finding"),
    "decide": Report(Decision, "not allowed"),
    "request submit": Report(Submitted),
    "request verify": Report(Verified),
    "request send-code": Report(CodesSent),
    "request unlock": Report(Request),
    "request list": Report(Requests),
    "request show": Report(RequestShown),
    "request forward": Report(Forwarding),
    "request instruct-erasure": Report(Forwarding, "a confirmation declined"),
    "request instruct-restriction": Report(Forwarding),
    "request lift-restriction": Report(Forwarding),
    "request run": Report(RequestRun, "a confirmation declined (erasure, rectification, restriction)"),
    "request extend": Report(Request),
    "request reject": Report(Request),
    "consent give": Report(ConsentEvent),
    "consent withdraw": Report(ConsentEvent),
    "consent show": Report(ConsentStates),
    "consent import": Report(ConsentImport, "rows refused"),
    "consent gpc": Report(Gpc),
    "audit verify": Report(Verification, "the log does not verify"),
    "audit checkpoint": Report(CheckpointWritten, "the log does not verify: nothing written"),
    "audit export-head": Report(HeadExported, "the log does not verify: nothing exported"),
    "request remind": Report(Reminder),
    "consent renewals": Report(Renewals),
    "retention plan": Report(RetentionPlan),
    "retention sweep": Report(Sweep, "a confirmation declined"),
    "retention runs": Report(RetentionRuns),
    "hold place": Report(Placed),
    "hold list": Report(Holds),
    "hold release": Report(Released),
    "keys create": Report(ApiKeyCreated),
    "keys list": Report(ApiKeys),
    "keys revoke": Report(ApiKey),
    "keys show": Report(KeyStatus, "the configured key does not open the store"),
    "keys rotate-identifier": Report(Rotation, "a confirmation declined"),
    "datasets check": Report(DatasetsChecked),
    "datasets find": Report(Footprint),
    "shop generate": Report(Generated, "a confirmation declined"),
    "shop sample": Report(Samples),
    "taxonomy": Report(Taxonomy),
    "analyse": Report(Analysis, "an error-severity finding"),
    "db upgrade": Report(DbUpgrade),
    "jobs list": Report(Jobs),
    "jobs show": Report(Job),
    "jobs retry": Report(Job),
    "jobs cancel": Report(Job),
    "jobs prune": Report(JobsPruned),
}

# Commands that write a document or a file format of their own rather than a report.
DOCUMENTS: dict[str, str] = {
    "notice": "the privacy notice (HTML, Markdown...)",
    "register show": "the normalised register, itself a register file (docs/register.md); `--format json`",
    "register export": "the Art. 30 register (HTML, CSV, XLSX...)",
    "datasets show": "the normalised data map, itself a dataset file (docs/datasets.md); `--format json`",
    "datasets graph": "the reference graph (text, dot, svg, png)",
    "consent history": "the ledger's events, one JSON object per line (`--format jsonl`), as "
                       "`consent give` prints one",
    "consent receipt": "a consent receipt (ISO/IEC TS 27560, Kantara CR 1.1 fields), always JSON",
    "audit export": "audit entries, one JSON object per line, with their hashes",
    "audience": "a CSV of the contacts, streamed (the count goes to stderr)",
    "demo": "a folder of published documents (out/index.html); with `--serve`, then serves the pages until "
            "stopped (docs/web.md)",
    "serve": "nothing: it serves the API until stopped (its log goes to stderr); docs/api.md",
    "worker": "nothing: it runs jobs until stopped (its log goes to stderr); PostgreSQL only",
}
