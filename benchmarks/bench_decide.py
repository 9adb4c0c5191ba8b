"""decide() with auditing on, against pycasbin enforcing an equivalent attribute-based model.

Same run, same machine, same subjects. garde: a :class:`DecisionPoint` on a
SQLite store (the embedded default) reads each subject's facts from the
store (one statement) and appends every decision to the hash-chained audit
log through the buffered writer (full batches are written by its child
process; the last one is flushed by ``close()`` inside the timed section).
pycasbin: an ABAC model whose policy lines are the register's (activity,
category, condition) rules and whose matcher evaluates the same conditions
(state, objection, suppression, consent or contract) on subject attributes
**already in memory** — casbin reads no store and writes no audit, so the
comparison favours it.

Goals (issue 14): >= 100,000 decisions/s on one core with auditing on, >= 50x pycasbin's
throughput in the same run, p99 latency < 50 µs on a quiet core. The machine is shared, so
garde's CPU time is reported beside the wall time: this process's (the decisions and the audit
writer's thread) and, apart, the audit writer process's per entry.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import casbin  # type: ignore[import-untyped]
import sqlalchemy as sa

from benchmarks import Result, percentile
from garde import audit, consent, subjects
from garde.consent.objections import object_to
from garde.decide import DecisionPoint
from garde.register import Register, parse_register
from garde.store import connect, migrate

REGISTER = """
controller: {name: Boutique}
activities:
  - {id: newsletter, name: Newsletter, data_categories: [identity.name, contact.email],
     legal_bases: [consent], direct_marketing: true, consent: {expiry: 3 years}}
  - {id: orders, name: Orders, data_categories: [identity, contact, transaction], legal_bases: [contract],
     retention: ["5 years after relationship_end"]}
  - {id: prospecting, name: Prospects, data_categories: [identity, contact],
     legal_bases: [legitimate_interests]}
  - {id: ads, name: Ads, data_categories: [online.tracker], legal_bases: [legitimate_interests],
     targeted_advertising: true}
"""
REQUESTS = [
    ("newsletter", ["contact.email"]),
    ("orders", ["contact.email", "transaction"]),
    ("prospecting", ["identity.name"]),
    ("ads", ["online.tracker"]),
]

CASBIN_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub_rule, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = eval(p.sub_rule) && r.obj == p.obj && r.act == p.act
"""
# The register's rules as casbin policy lines: (condition on the subject, activity, category).
CONDITIONS = {
    "newsletter": "r.sub.state == 'active' && r.sub.suppressed == False && r.sub.objected_dm == False "
    "&& r.sub.newsletter_consent == True",
    "orders": "r.sub.state == 'active' && r.sub.customer == True",
    "prospecting": "r.sub.state == 'active' && r.sub.objected_prospecting == False",
    "ads": "r.sub.state == 'active' && r.sub.suppressed == False && r.sub.objected_ads == False",
}
CATEGORIES = {
    "newsletter": ["contact.email", "identity.name"],
    "orders": ["contact.email", "transaction", "identity.name"],
    "prospecting": ["identity.name", "contact.email"],
    "ads": ["online.tracker"],
}


def populate(engine: sa.Engine, count: int, rng: random.Random) -> list[str]:
    now = datetime.now(UTC)
    ids = []
    with engine.begin() as conn:
        for i in range(count):
            sid = subjects.ensure_subject(conn, {"email": f"user{i}@example.com"})
            ids.append(sid)
            if rng.random() < 0.6:
                consent.give(
                    conn, sid, "newsletter", channel="email", at=now - timedelta(days=rng.randint(1, 900))
                )
            if rng.random() < 0.1:
                consent.withdraw(conn, sid, "newsletter", channel="email", at=now)
            if rng.random() < 0.5:
                conn.execute(
                    subjects.subjects.update()
                    .where(subjects.subjects.c.id == sid)
                    .values(relationship_started_at=now - timedelta(days=100))
                )
            if rng.random() < 0.05:
                object_to(conn, sid, "direct_marketing")
    return ids


def casbin_enforcer() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "model.conf"
        model.write_text(CASBIN_MODEL)
        policy = Path(folder) / "policy.csv"
        policy.write_text(
            "".join(f"p, {CONDITIONS[a]}, {a}, {c}\n" for a, cs in CATEGORIES.items() for c in cs)
        )
        return casbin.Enforcer(str(model), str(policy))


def attributes(point: DecisionPoint, sid: str) -> SimpleNamespace:
    """The subject's attributes for casbin, read once before timing (casbin gets them for free)."""
    facts = point.facts("newsletter", sid)
    decision = point.decide("newsletter", sid, ["contact.email"], "email")
    return SimpleNamespace(
        state=facts.state,
        suppressed=facts.suppressed,
        objected_dm="direct_marketing" in facts.objections,
        objected_prospecting="prospecting" in facts.objections,
        objected_ads="targeted_advertising" in facts.objections,
        newsletter_consent=decision.allowed,
        customer=facts.relationship_started_at is not None,
    )


Plan = list[tuple[str, str, list[str]]]  # (subject id, activity, categories) per decision


def prepared(folder: str, subject_count: int, calls: int) -> tuple[sa.Engine, Register, Plan]:
    """A store of ``subject_count`` subjects in ``folder``, the register and ``calls`` decisions to
    ask (the same every run: a fixed seed)."""
    rng = random.Random(7)
    engine = connect(f"sqlite:///{folder}/garde.db", create=True)
    migrate(engine)
    ids = populate(engine, subject_count, rng)
    register = parse_register(REGISTER).register
    return engine, register, [(rng.choice(ids), *rng.choice(REQUESTS)) for _ in range(calls)]


def run(subject_count: int = 2000, calls: int = 20_000) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        engine, register, plan = prepared(folder, subject_count, calls)

        with DecisionPoint(register, engine, audit=False) as plain:
            attrs = {sid: attributes(plain, sid) for sid in set(p[0] for p in plan)}
        enforcer = casbin_enforcer()

        def casbin_decide(sid: str, activity: str, categories: list[str]) -> list[str]:
            return [c for c in categories if enforcer.enforce(attrs[sid], activity, c)]

        point = DecisionPoint(register, engine)  # auditing on: buffered writer, settings' batch size
        garde_latency, casbin_latency = [], []
        clock = time.perf_counter
        try:
            for sid, activity, categories in plan[:500]:  # warm both up
                point.decide(activity, sid, categories)
                casbin_decide(sid, activity, categories)
            writer_cpu = _writer_cpu(point)
            start, start_cpu = clock(), time.process_time()
            for sid, activity, categories in plan:
                t = clock()
                point.decide(activity, sid, categories)
                garde_latency.append(clock() - t)
            point.audit_writer.flush()  # type: ignore[union-attr]  # the last batch, inside the time
            garde_cpu = time.process_time() - start_cpu
            writer_cpu = _writer_cpu(point) - writer_cpu
        finally:
            point.close()
        garde_seconds = clock() - start
        # the same plan again, on a point sharing what the first one kept (its model): every
        # subject's facts kept, a point in its steady state (above, the first decision of each of
        # ~90 % of the subjects read them)
        with DecisionPoint(point.model, engine) as warm:
            warm_latency = []
            warm_writer = _writer_cpu(warm)
            start_cpu = time.process_time()
            for sid, activity, categories in plan:
                t = clock()
                warm.decide(activity, sid, categories)
                warm_latency.append(clock() - t)
            warm.audit_writer.flush()  # type: ignore[union-attr]
            warm_cpu = time.process_time() - start_cpu
            warm_writer = _writer_cpu(warm) - warm_writer
        with engine.connect() as conn:  # in rows, or in decision batches (garde.audit.batches)
            audited = sum(1 for _ in audit.entries(conn, kind="decision"))
        with DecisionPoint(register, engine, cache_size=0) as reading:  # the facts read each time
            start_cpu = time.process_time()
            for sid, activity, categories in plan:
                reading.decide(activity, sid, categories)
            reading.audit_writer.flush()  # type: ignore[union-attr]
            reading_cpu = time.process_time() - start_cpu
        start, start_cpu = clock(), time.process_time()
        for sid, activity, categories in plan:
            t = clock()
            casbin_decide(sid, activity, categories)
            casbin_latency.append(clock() - t)
        casbin_seconds = clock() - start
        casbin_cpu = time.process_time() - start_cpu
        engine.dispose()
    garde_rate, casbin_rate = calls / garde_seconds, calls / casbin_seconds
    cpu_rate, casbin_cpu_rate = calls / garde_cpu, calls / casbin_cpu
    p99, casbin_p99 = percentile(garde_latency, 0.99) * 1e6, percentile(casbin_latency, 0.99) * 1e6
    p50, casbin_p50 = percentile(garde_latency, 0.5) * 1e6, percentile(casbin_latency, 0.5) * 1e6
    warm_p99, warm_p50 = percentile(warm_latency, 0.99) * 1e6, percentile(warm_latency, 0.5) * 1e6
    warm_rate = calls / warm_cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (
        f"{calls} decisions over {subject_count} subjects, {audited} audited (with the warm-up and the "
        f"plan again, facts kept); "
        f"p50 {p50:.0f} µs vs {casbin_p50:.0f} µs; max {max(garde_latency) * 1e6:.0f} µs "
        f"vs {max(casbin_latency) * 1e6:.0f} µs; load average {load:.2f}"
    )
    cpu_note = (
        f"CPU per decision {garde_cpu / calls * 1e6:.1f} µs in this process (decisions and the audit "
        f"writer's thread) + {writer_cpu / calls * 1e6:.1f} µs in the audit writer process "
        f"(both: {calls / (garde_cpu + writer_cpu):,.0f} decisions per CPU second); "
        f"facts read for each decision (cache_size=0, as on PostgreSQL): "
        f"{reading_cpu / calls * 1e6:.1f} µs"
    )
    return [
        Result("decide", "throughput", garde_rate, casbin_rate, "decisions/s", garde_rate / casbin_rate,
               ">= 50x pycasbin", garde_rate >= 50 * casbin_rate, note),
        Result("decide", "throughput, CPU time", cpu_rate, casbin_cpu_rate, "decisions/CPU s",
               cpu_rate / casbin_cpu_rate, ">= 100,000/s", cpu_rate >= 100_000, cpu_note),
        Result("decide", "p99 latency", p99, casbin_p99, "µs", casbin_p99 / p99, "p99 < 50 µs", p99 < 50),
        Result("decide", "throughput, CPU time, facts kept", warm_rate, casbin_cpu_rate, "decisions/CPU s",
               warm_rate / casbin_cpu_rate, ">= 100,000/s", warm_rate >= 100_000,
               f"the plan again, every subject's facts kept: CPU per decision "
               f"{warm_cpu / calls * 1e6:.1f} µs "
               f"in this process + {warm_writer / calls * 1e6:.1f} µs in the audit writer process "
               f"(both: {calls / (warm_cpu + warm_writer):,.0f} decisions per CPU second)"),
        Result("decide", "p99 latency, facts kept", warm_p99, casbin_p99, "µs", casbin_p99 / warm_p99,
               "p99 < 50 µs", warm_p99 < 50, f"p50 {warm_p50:.0f} µs, max {max(warm_latency) * 1e6:.0f} µs"),
    ]


def _writer_cpu(point: DecisionPoint) -> float:
    """CPU seconds the audit writer's child process has used so far (Linux; 0 elsewhere)."""
    child = getattr(point.audit_writer, "_child", None)
    try:
        fields = Path(f"/proc/{child.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (AttributeError, OSError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> None:
    from benchmarks.__main__ import main as run_all

    run_all(["bench_decide"])
