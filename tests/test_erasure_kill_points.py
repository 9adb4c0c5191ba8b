"""An erasure killed (SIGKILL) at each of its step boundaries, then resumed, ends exactly as the same
erasure run without a kill: the same business rows, the same ``erasure.json``, the same result, each audit
entry about the request as often and saying the same, and the audit chain verified. SQLite and
PostgreSQL; a worker's jobs (on PostgreSQL the run job plans, each database is a part).

The points are enumerated, not drawn (:mod:`tests.erasure_kills`): the unkilled run lists its
boundaries (each statement, ``COMMIT`` and file written, in order); the CI tests kill just after each
``COMMIT`` and file written (every state a kill can leave), and the slow sweep between them: every
boundary with ``GARDE_KILL_POINTS=all``, else a sample that meets every kind of boundary each run
(:func:`_boundaries`). The three tests share their points' work, each point killed once a run: the
window once wrong (after a business commit) is the first test's, the other states a kill can leave
the second's, the boundaries between them the third's. Each kill is made in a copy of one world
holding Zoé's verified erasure request (her rows touch both databases and fire every ``erase:``
strategy of the map), so every run does the same work; the world and its unkilled run are made once
per database and test worker (one worker runs the module: its ``xdist_group``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde.rights.erasure import _stored_steps, apply_steps
from tests.conftest import ROOT
from tests.erasure_kills import Clones, lasting, left_over, run_forked
from tests.requests_jobs_support import World, answer, rows, shop_world
from tests.test_erasure_reference_shop import AS_OF

ZOE = "zoe.erasure@example.org"
# what a resumed run adds to the request's trail, each time it starts again (not a change of the data)
RESUMING = ("request.in_progress",)


# One worker runs the module, so that each database's world and unkilled run are made once.
pytestmark = pytest.mark.xdist_group("erasure_kill_points")


@dataclass(frozen=True)
class Unkilled:
    """Copies of a world holding Zoé's verified erasure request, the request's id, and what the
    erasure run without a kill met (its boundaries) and left (:func:`_end`)."""

    copies: Clones
    request_id: str
    labels: list[str]
    expected: dict[str, Any]


@pytest.fixture(scope="session")
def unkilled_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str | None, Unkilled]]:
    """Per database (its admin URL, None for SQLite), :class:`Unkilled`, made when first needed and
    kept until the worker ends: a world (store migrated, shop generated) and an erasure run ≈ 10 s of
    CPU each (the tests' order puts the slow ones first, which a module's fixture would make twice)."""
    with ExitStack() as stack:
        yield _Made(stack, tmp_path_factory)


class _Made(dict[str | None, Unkilled]):
    def __init__(self, stack: ExitStack, factory: pytest.TempPathFactory) -> None:
        super().__init__()
        self.stack, self.factory = stack, factory

    def __missing__(self, admin: str | None) -> Unkilled:
        folder = self.factory.mktemp("kills")
        base = self.stack.enter_context(shop_world(admin, folder / "base", customers=4))
        request_id = base.request("erasure", ZOE)
        base.deployment.dispose()  # a database copied must have no connection (PostgreSQL's TEMPLATE)
        base.store.dispose()
        copies = Clones(base.folder, {"store": base.url, "shop": base.env["GARDE_SHOP_URL"],
                                      "crm": base.env["GARDE_CRM_URL"]}, admin)
        with copies.clone(folder / "unkilled") as world:
            labels = run_forked(world, _jobs(world, request_id), None).labels
            expected = _end(world, request_id)
        assert expected["status"] == "completed" and expected["chain"]
        self[admin] = made = Unkilled(copies, request_id, labels, expected)
        return made


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def unkilled(request: pytest.FixtureRequest, unkilled_runs: dict[str | None, Unkilled]) -> Unkilled:
    """:class:`Unkilled` on SQLite, then on PostgreSQL."""
    admin = None if request.param == "sqlite" else str(request.getfixturevalue("postgres_admin_url"))
    return unkilled_runs[admin]


def _jobs(world: World, request_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [("requests.run", {"request_id": request_id, "today": AS_OF.isoformat(),
                              "datasets": str(ROOT / "datasets"), "results": str(world.results)})]


def _end(world: World, request_id: str) -> dict[str, Any]:
    """What the erasure left: rows, answer, result, and the request's audit entries (kinds and payloads,
    those a resumption adds apart), the chain verified."""
    with world.store.connect() as conn:
        logged = conn.execute(sa.text("SELECT kind, payload FROM audit_log ORDER BY seq")).all()
    about = [(kind, payload.replace(str(world.folder), "<world>")) for kind, payload in logged
             if json.loads(payload).get("request") == request_id]
    result = {k: v for k, v in world.result(request_id).items() if k not in ("file", "files", "held")}
    return {"status": world.status(request_id), "rows": rows(world), "answer": answer(world, request_id,
                                                                                      "erasure.json"),
            "result": result, "audit": sorted((k, p) for k, p in about if k not in RESUMING),
            "chain": world.chain_ok()}


def _differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    said = []
    for key, value in expected.items():
        if found[key] != value:
            if key == "audit":
                said.append(f"audit: only unkilled {sorted(set(value) - set(found[key]))}, "
                            f"only killed {sorted(set(found[key]) - set(value))}")
            elif isinstance(value, dict):
                keys = [k for k in value | found[key] if value.get(k) != found[key].get(k)]
                said.append(f"{key}: {[(k, value.get(k), found[key].get(k)) for k in keys][:4]}")
            else:
                said.append(f"{key}: {value!r} != {found[key]!r}")
    return said


def _sweep(unkilled: Unkilled, tmp_path: Path, points: list[int]) -> None:
    """Kill the erasure at each of ``points`` (each in its own copy), resume it, compare."""
    labels, request_id = unkilled.labels, unkilled.request_id
    wrong = {}
    for point in points:
        with unkilled.copies.clone(tmp_path / f"killed-{point}") as world:
            assert run_forked(world, _jobs(world, request_id), point).killed
            run_forked(world, left_over(world), None)
            differences = _differences(unkilled.expected, _end(world, request_id))
        if differences:
            wrong[f"{point} {labels[point - 1]}"] = differences
    print(f"{len(points)} kill points of {len(labels)}")
    assert not wrong, json.dumps(wrong, indent=1, default=str)


def _after_a_business_commit(labels: list[str]) -> list[int]:
    return [point for point in lasting(labels) if "shop" in labels[point - 2] or "crm" in labels[point - 2]]


def test_an_erasure_killed_after_a_business_commit_ends_as_unkilled(unkilled: Unkilled,
                                                                    tmp_path: Path) -> None:
    """The window once wrong: a business database committed, the store not told (each database)."""
    points = _after_a_business_commit(unkilled.labels)
    assert points
    _sweep(unkilled, tmp_path, points)


@pytest.mark.slow
def test_an_erasure_killed_after_each_commit_and_file_ends_as_unkilled(unkilled: Unkilled,
                                                                      tmp_path: Path) -> None:
    """After every other ``COMMIT`` and file written (those after a business commit are the test
    above's)."""
    labels = unkilled.labels
    _sweep(unkilled, tmp_path, sorted(set(lasting(labels)) - set(_after_a_business_commit(labels))))


#: every boundary with GARDE_KILL_POINTS=all (≈ 145 points a database, 1 – 2 s each: minutes); else
#: one in STRIDE of those the test above does not kill at, the offset moving with the day, and one of
#: each kind of boundary the stride missed (chosen with the day too), so that the suite stays short,
#: each run kills before every kind of statement, commit and file, and, day after day, every boundary
#: is tried (a failure names its point: rerun it with GARDE_KILL_POINTS=all)
STRIDE = 16


def boundary_kind(label: str) -> str:
    """What a boundary is, without what names this run's databases, request or mail: ``sql UPDATE``,
    ``commit shop``, ``write erasure.json``, ``write outbox *.eml``."""
    verb, _, what = label.partition(" ")
    if verb == "commit":
        return f"commit {next((name for name in ('store', 'shop', 'crm') if name in what), what)}"
    if verb == "write":
        folder, _, name = what.rpartition("/")
        return f"write {'outbox ' if folder == 'outbox' else ''}{re.sub(r'^[0-9T]+-[0-9a-f]+', '*', name)}"
    return label


def _boundaries(labels: list[str], day: int | None = None) -> list[int]:
    if os.environ.get("GARDE_KILL_POINTS") == "all":
        return list(range(1, len(labels) + 1))
    day = date.today().toordinal() if day is None else day
    between = [point for point in range(1, len(labels) + 1) if point not in set(lasting(labels))]
    chosen = set(between[day % STRIDE::STRIDE])
    kinds: dict[str, list[int]] = {}
    for point in between:
        kinds.setdefault(boundary_kind(labels[point - 1]), []).append(point)
    for points in kinds.values():
        if not chosen & set(points):
            chosen.add(points[day % len(points)])
    return sorted(chosen)


def test_the_sample_meets_every_kind_and_in_time_every_boundary() -> None:
    """:func:`_boundaries` on a run's boundaries (the SQLite erasure's shape): each day's sample kills
    before every kind of boundary the other tests do not kill after, and STRIDE days try them all."""
    labels = (["sql SELECT"] * 4 + ["sql SAVEPOINT", "sql INSERT", "sql RELEASE", "commit store",
                                    "write unkilled/store.db-commits"] + ["sql PRAGMA"] * 30
              + ["sql DELETE"] * 9 + ["commit crm", "write f7f2cb24-8453-40e8-a78d-b6021f1db60d/erasure.json",
                                      "sql UPDATE", "commit store",
                                      "write outbox/20261207T075258097601-b691774c.eml", "sql UPDATE"])
    between = [point for point in range(1, len(labels) + 1) if point not in lasting(labels)]
    kinds = {boundary_kind(labels[point - 1]) for point in between}
    assert {"write store.db-commits", "commit crm", "write erasure.json", "write outbox *.eml"} <= {
        boundary_kind(label) for label in labels}
    tried: set[int] = set()
    for day in range(STRIDE):
        sample = _boundaries(labels, day)
        assert set(sample) <= set(between)
        assert {boundary_kind(labels[point - 1]) for point in sample} == kinds, day
        assert len(sample) < len(between) // 2, day
        tried |= set(sample)
    assert tried == set(between)


@pytest.mark.slow
def test_an_erasure_killed_at_every_boundary_ends_as_unkilled(unkilled: Unkilled, tmp_path: Path) -> None:
    """Between the states a kill can leave (the tests above): before each kind of statement, commit
    and file, transactions left open; every boundary with ``GARDE_KILL_POINTS=all``."""
    _sweep(unkilled, tmp_path, _boundaries(unkilled.labels))


def test_a_step_whose_first_run_never_committed_counts_only_the_rows_it_changed(unkilled: Unkilled,
                                                                                 tmp_path: Path) -> None:
    """The run killed just before the shop's COMMIT (its rows changed already recorded in the store);
    before it is resumed, another erasure of Zoé (or the shop itself) changes those rows. Before: the
    resumed steps found nothing to change and kept the killed run's count, so the audit said this
    request changed rows it never changed. Now (PostgreSQL) the business transaction's id is recorded
    with the count and asked again: it aborted, so the resumed run's own count, 0, stands."""
    copies, request_id = unkilled.copies, unkilled.request_id
    if copies.admin_url is None:
        pytest.skip("PostgreSQL's transaction ids; on SQLite the earlier count is kept (docs/security.md)")
    [point] = [i for i, label in enumerate(unkilled.labels, start=1)
               if label.startswith("commit") and "shop" in label]
    with copies.clone(tmp_path / "killed") as world:
        assert run_forked(world, _jobs(world, request_id), point).killed
        query = sa.text("SELECT coalesce(sum(rows_changed), 0) FROM erasure_steps WHERE request_id = :r "
                        "AND dataset = 'shop'")
        with world.store.connect() as conn:
            assert conn.execute(query, {"r": request_id}).scalar_one() > 0  # recorded, never committed
        # the other writer: the same statements, committed by someone else
        theirs = [step for step in _stored_steps(world.store, request_id) if step.dataset == "shop"]
        apply_steps(world.deployment, theirs, {})
        run_forked(world, left_over(world), None)
        assert world.status(request_id) == "completed"
        with world.store.connect() as conn:
            assert conn.execute(query, {"r": request_id}).scalar_one() == 0
