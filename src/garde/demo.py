"""The main job, end to end, on the embedded SQLite default (what ``make demo`` runs).

1. Declare and publish: lint every register and publish its Art. 30 register and
   privacy notices (:func:`garde.publish.publish`).
2. Enforce on live data, with the reference shop as the business: generate the
   shop's two databases, record the enforced register's version, record consents
   and ask ``decide()``, export a consent-filtered audience, answer an access and an
   erasure request, plan and sweep retention, and verify the audit chain.

Everything lands in one output folder with an index page; nothing here is
special-cased for the demo: each step is the library call a deployment makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde import audit, retention
from garde.audience import write_contacts_csv
from garde.audit import AuditWriter
from garde.consent.importing import import_csv
from garde.decide import DecisionModel, DecisionPoint
from garde.documents.spreadsheet import CsvWriter
from garde.private_files import open_private, private_folder, write_private
from garde.publish import Publication, publish, write_index
from garde.register.versions import register_hash
from garde.rights import Deployment, submit, verify_out_of_band
from garde.rights import run as run_request
from garde.rights.access import report_ready
from garde.rights.copies import MANIFEST, copy_answer
from garde.rights.running import note_registers
from garde.shop import generate_shop
from garde.store import open_store

Step = Callable[[str], None]


@dataclass
class LiveReport:
    """What the live-data part of the demo did."""

    customers: int
    rows: int
    decisions: list[tuple[str, str, bool, list[str]]] = field(default_factory=list)
    audience: int = 0
    consents_imported: int = 0
    consents_already: int = 0  # imported by an earlier run: the import is idempotent
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    retention_due: int = 0
    retention_swept: int = 0
    retention_archived: int = 0  # of which moved to an intermediate archive (shop.invoices_archive)
    audit_entries: int = 0
    audit_ok: bool = False
    audit_sealed: bool = False  # by the audit key (GARDE_AUDIT_KEY; `make demo` sets a demo key)
    files: list[Path] = field(default_factory=list)


def _sample_customers(engine: sa.Engine, count: int) -> list[str]:
    """E-mails of customers who have orders (the interesting ones for requests)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT c.email FROM customers c WHERE c.email IS NOT NULL AND EXISTS "
            "(SELECT 1 FROM orders o WHERE o.customer_id = c.id) ORDER BY c.id LIMIT :n"), {"n": count})
        return [str(r[0]) for r in rows]


def _export_subscriptions(engine: sa.Engine, path: Path) -> None:
    """The shop's newsletter table as another consent tool would export it: one line per event."""
    with engine.connect() as conn, open_private(path, newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(["id", "email", "activity", "channel", "action", "at", "method"])
        rows = conn.execute(sa.text("SELECT id, email, subscribed_at, unsubscribed_at "
                                    "FROM newsletter_subscriptions WHERE email IS NOT NULL ORDER BY id"))
        for row_id, email, subscribed_at, unsubscribed_at in rows:
            writer.writerow([f"{row_id}-in", email, "newsletter", "email", "subscribed", subscribed_at,
                             "web_form"])
            if unsubscribed_at is not None:
                writer.writerow([f"{row_id}-out", email, "newsletter", "email", "unsubscribed",
                                 unsubscribed_at, "unsubscribe_link"])


def _subscribers(engine: sa.Engine) -> tuple[str, str]:
    """One subscriber still subscribed and one who unsubscribed."""
    with engine.connect() as conn:
        still = conn.execute(sa.text("SELECT email FROM newsletter_subscriptions WHERE unsubscribed_at "
                                     "IS NULL AND email IS NOT NULL ORDER BY id LIMIT 1")).scalar_one()
        gone = conn.execute(sa.text("SELECT email FROM newsletter_subscriptions WHERE unsubscribed_at "
                                    "IS NOT NULL AND email IS NOT NULL ORDER BY id LIMIT 1")).scalar_one()
    return str(still), str(gone)


def run_live(out: Path, customers: int = 1000, seed: int = 1, step: Step | None = None) -> LiveReport:
    """Generate the reference shop and run every enforcement flow over it; files go to ``out``.

    They hold the shop's (synthetic) personal data: ``out`` and its files are owner-only.
    """
    say = step or (lambda _: None)
    private_folder(out)
    store = open_store()
    deployment = Deployment.open(create=True)
    try:
        say(f"generating the reference shop ({customers} customers)")
        generated = generate_shop(deployment.engines, customers, seed)
        report = LiveReport(customers, generated.total_rows)
        # The shop and crm databases serve one register: enforce each distinct register once.
        registers = {register_hash(r): r for r in deployment.registers.values()}
        model = DecisionModel(list(registers.values()))
        with store.begin() as conn:
            note_registers(conn, deployment)

        say("importing the shop's newsletter subscriptions into the consent ledger")
        consents_file = out / "newsletter-consents.csv"
        _export_subscriptions(deployment.engines["crm"], consents_file)
        imported = import_csv(store, consents_file, source="shop-newsletter")
        report.consents_imported = imported.added
        report.consents_already = imported.already_there
        report.files.append(consents_file)

        say("asking decide()")
        subscribed, unsubscribed = _subscribers(deployment.engines["crm"])
        customer = _sample_customers(deployment.engines["shop"], 1)[0]
        with AuditWriter(store, max_delay=None) as writer, \
                DecisionPoint(model, store, audit=writer) as point:
            for email in (subscribed, unsubscribed, customer):
                decision = point.decide("newsletter", {"email": email}, channel="email")
                report.decisions.append(("newsletter", email, decision.allowed,
                                         [r.code for r in decision.reasons]))

        say("exporting the newsletter audience")
        audience_file = out / "audience-newsletter.csv"
        with open_private(audience_file, newline="") as handle:
            report.audience = write_contacts_csv(handle, store, model, deployment.datamap,
                                                 deployment.engines, "newsletter", "email", exports=out)
        report.files.append(audience_file)

        alice, bob = _sample_customers(deployment.engines["shop"], 2)
        for kind, email in (("access", alice), ("erasure", bob)):
            say(f"answering an {kind} request")
            with store.begin() as conn:
                request = submit(conn, kind, {"email": email}, language="fr")
            with store.begin() as conn:
                verify_out_of_band(conn, request.id, "demo: identity checked by the demo agent",
                                   actor="demo", identities=["email"])
            done = run_request(store, request.id, deployment)
            folder = deployment.results / done.id
            report_ready(folder, deployment.results)
            for produced in sorted(folder.glob("*")):
                if produced.name == MANIFEST or produced.name.startswith("."):
                    continue
                # Recorded: an erasure of this subject will find and remove the published copy.
                target = out / f"{kind}-{produced.name}"
                report.files.append(copy_answer(deployment, done.id, produced, target))
            report.requests[kind] = {"id": done.id, "status": done.status}

        say("planning and sweeping retention")
        plan = retention.plan(store, deployment.datamap, deployment.engines, days=30)
        report.retention_due = sum(s.today for s in plan.steps)
        plan_file = out / "retention-plan.json"
        write_private(plan_file, json.dumps(plan.to_data(), ensure_ascii=False, indent=2, default=str))
        report.files.append(plan_file)
        swept = retention.sweep(store, deployment.datamap, deployment.engines)
        report.retention_swept = swept.total()
        report.retention_archived = sum(n for step, n in swept.affected.items() if step.endswith(":archive"))

        say("verifying the audit chain")
        verification = audit.verify_store(store)
        with store.connect() as conn:
            audit_file = out / "audit.jsonl"
            with open_private(audit_file) as handle:
                for entry in audit.entries(conn):
                    handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        report.files.append(audit_file)
        report.audit_entries, report.audit_ok = verification.checked, verification.ok
        report.audit_sealed = verification.sealed
        return report
    finally:
        deployment.dispose()
        store.dispose()


def run_demo(out: Path, registers: Path, customers: int = 1000, seed: int = 1,
             step: Step | None = None) -> tuple[list[Publication], LiveReport]:
    """Publish every register, then run the live flows over the reference shop."""
    publications = publish([registers], out, progress=(lambda name: step(f"publishing {name}"))
                           if step else None)
    live = run_live(out / "live", customers, seed, step)
    write_index(out, publications, live.files)
    return publications, live
