"""An erasure killed (SIGKILL) at each of its step boundaries, then resumed, ends exactly as the same
erasure run without a kill: the same business rows, the same ``erasure.json``, the same result, each audit
entry about the request as often and saying the same, and the audit chain verified. SQLite and
PostgreSQL; a worker's jobs (on PostgreSQL the run job plans, each database is a part).

The points are enumerated, not drawn (:mod:`tests.erasure_kills`): the unkilled run lists its
boundaries (each statement, ``COMMIT`` and file written, in order); the CI test kills just after each
``COMMIT`` and file written (every state a kill can leave), the slow sweep at every boundary
(one in eight by default, all with ``GARDE_KILL_POINTS=all``). Each kill
is made in a copy of one world holding Zoé's verified erasure request (her rows touch both databases
and fire every ``erase:`` strategy of the map), so every run does the same work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clones(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Clones, str]]:
    """Copies of a world holding Zoé's verified erasure request, and the request's id."""
    admin = None if request.param == "sqlite" else str(request.getfixturevalue("postgres_admin_url"))
    with shop_world(admin, tmp_path / "base", customers=4) as base:
        request_id = base.request("erasure", ZOE)
        base.deployment.dispose()  # a database copied must have no connection (PostgreSQL's TEMPLATE)
        base.store.dispose()
        yield Clones(base.folder, {"store": base.url, "shop": base.env["GARDE_SHOP_URL"],
                                   "crm": base.env["GARDE_CRM_URL"]}, admin), request_id


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


def _sweep(clones: tuple[Clones, str], tmp_path: Path, chosen: Callable[[list[str]], list[int]]) -> None:
    copies, request_id = clones
    with copies.clone(tmp_path / "unkilled") as world:
        labels = run_forked(world, _jobs(world, request_id), None).labels
        expected = _end(world, request_id)
    assert expected["status"] == "completed" and expected["chain"]
    points = chosen(labels)
    wrong = {}
    for point in points:
        with copies.clone(tmp_path / f"killed-{point}") as world:
            assert run_forked(world, _jobs(world, request_id), point).killed
            run_forked(world, left_over(world), None)
            differences = _differences(expected, _end(world, request_id))
        if differences:
            wrong[f"{point} {labels[point - 1]}"] = differences
    print(f"{len(points)} kill points of {len(labels)}")
    assert not wrong, json.dumps(wrong, indent=1, default=str)


def test_an_erasure_killed_after_a_business_commit_ends_as_unkilled(clones: tuple[Clones, str],
                                                                    tmp_path: Path) -> None:
    """The window once wrong: a business database committed, the store not told (each database)."""
    _sweep(clones, tmp_path, lambda labels: [point for point in lasting(labels)
                                             if "shop" in labels[point - 2] or "crm" in labels[point - 2]])


@pytest.mark.slow
def test_an_erasure_killed_after_each_commit_and_file_ends_as_unkilled(clones: tuple[Clones, str],
                                                                      tmp_path: Path) -> None:
    _sweep(clones, tmp_path, lasting)


#: every boundary with GARDE_KILL_POINTS=all (≈ 145 points a database, 1 – 2 s each: minutes); else
#: one in STRIDE, the offset moving with the day, so that the suite stays short and, day after day,
#: every boundary is tried (a failure names its point: rerun it with GARDE_KILL_POINTS=all)
STRIDE = 8


def _boundaries(labels: list[str]) -> list[int]:
    every = list(range(1, len(labels) + 1))
    if os.environ.get("GARDE_KILL_POINTS") == "all":
        return every
    offset = date.today().toordinal() % STRIDE
    return every[offset::STRIDE]


@pytest.mark.slow
def test_an_erasure_killed_at_every_boundary_ends_as_unkilled(clones: tuple[Clones, str],
                                                             tmp_path: Path) -> None:
    _sweep(clones, tmp_path, _boundaries)


def test_a_step_whose_first_run_never_committed_counts_only_the_rows_it_changed(clones: tuple[Clones, str],
                                                                                 tmp_path: Path) -> None:
    """The run killed just before the shop's COMMIT (its rows changed already recorded in the store);
    before it is resumed, another erasure of Zoé (or the shop itself) changes those rows. Before: the
    resumed steps found nothing to change and kept the killed run's count, so the audit said this
    request changed rows it never changed. Now (PostgreSQL) the business transaction's id is recorded
    with the count and asked again: it aborted, so the resumed run's own count, 0, stands."""
    copies, request_id = clones
    if copies.admin_url is None:
        pytest.skip("PostgreSQL's transaction ids; on SQLite the earlier count is kept (docs/security.md)")
    with copies.clone(tmp_path / "unkilled") as world:
        labels = run_forked(world, _jobs(world, request_id), None).labels
    [point] = [i for i, label in enumerate(labels, start=1) if label.startswith("commit") and "shop" in label]
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
