"""Schemathesis over the service's own OpenAPI: generated requests to every route, every answer
checked against what the OpenAPI says.

The operations are read from ``/api/v1/openapi.json``, so a router added later is fuzzed without
touching this file. At least :data:`TOTAL` cases are sent with a ``dpo`` key (which may call
every route), half valid per the schema, half not, spread evenly over the operations (an
operation with few possible inputs, such as ``/healthz``, gives its unused share to the next
ones); then :data:`SAMPLE` cases per secured operation without a key, and as many with a role
the route does not admit (each operation another such role, in turn). Checks: never a 5xx;
the status code, content type, headers and body as documented; invalid input refused; every
4xx a ``problem+json`` whose status is the answer's. Without a key, or with a role the route
does not admit, nothing succeeds.

It runs over ASGI (the app in this process, its lifespan started by schemathesis, no socket),
on a fresh store per test, on SQLite and, when one is configured, PostgreSQL. A failing run
prints the seed: ``GARDE_FUZZ_SEED=<seed> pytest tests/test_api_schemathesis.py`` replays it.
Each local run draws a new seed; under ``CI=true`` the seed is :data:`CI_SEED` unless set.

Under ``CI=true`` the run is also bounded (:data:`CI_TOTAL`, :data:`CI_FLOOR`, :data:`CI_SAMPLE`: every
operation still gets valid and invalid cases, and cases without a key and with a role it does not
admit), so that each database takes seconds, not a minute: CI replays one fixed sample, while local
runs explore :data:`TOTAL` new cases each time. ``GARDE_FUZZ_CASES=<n>`` sets the total anywhere.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from garde.api import create_app
from garde.api.app import route_table
from garde.api.keys import ROLES
from garde.settings import Settings
from tests.api_support import REGISTER, new_keys
from tests.test_api_auth import _rule

IN_CI = os.environ.get("CI") == "true"
CI_TOTAL, CI_FLOOR, CI_SAMPLE = 300, 3, 2  # under CI=true: a fixed seed's bounded sample
TOTAL = int(os.environ.get("GARDE_FUZZ_CASES") or (CI_TOTAL if IN_CI else 1_000))  # dpo-key cases, in all
FLOOR = CI_FLOOR if IN_CI else 10  # per operation and generation mode, however many operations there are
SAMPLE = CI_SAMPLE if IN_CI else 5  # per secured operation: without a key, then with a role it does not admit
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
PROBLEM = "application/problem+json"
CI_SEED = 20261206
# An invalid body may also be refused for its size (413) where the route documents it;
# ``status_code_conformance`` still fails a 413 a route does not document.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]}}})


@dataclass
class Run:
    seed: int
    cases: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def fail(self, label: str, error: BaseException) -> None:
        text = str(error)
        lines = text.splitlines() or [repr(error)]
        first = next((line for line in lines if line.startswith("- ")), lines[0])
        self.failures.setdefault((label, first), text[:2_000])

    def report(self) -> str:
        return (f"{len(self.failures)} distinct failure(s); replay with GARDE_FUZZ_SEED={self.seed}\n\n"
                + "\n\n".join(f"== {label}: {first}\n{text}"
                                for (label, first), text in self.failures.items()))


def _problem_check(case: Any, response: Any) -> None:
    """An error of the API is a problem whose ``status`` is the answer's (``/readyz``'s 503 is its
    own documented body)."""
    if response.status_code >= 400 and case.operation.path.startswith("/api/"):
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith(PROBLEM), f"{response.status_code} answered as {content_type!r}"
        assert response.json()["status"] == response.status_code


def _seed() -> int:
    """``GARDE_FUZZ_SEED`` if set; under CI a fixed seed, so that whether a commit lands does not
    depend on the draw (other seeds are explored locally, where each run draws its own)."""
    chosen = os.environ.get("GARDE_FUZZ_SEED")
    if chosen:
        return int(chosen)
    return CI_SEED if IN_CI else random.getrandbits(32)


def _explore(run: Run, operation: Any, mode: GenerationMode, examples: int,
             send: Callable[[Any], None]) -> None:
    """Up to ``examples`` cases of ``operation`` in ``mode``, each sent by ``send``."""

    @seed(run.seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def explore(case: Any) -> None:
        run.cases += 1
        try:
            send(case)
        except (Exception, FailureGroup) as error:  # every failure is gathered, then reported
            run.fail(f"{operation.label} ({mode.value})", error)

    with contextlib.suppress(Unsatisfiable):  # no invalid input exists (an operation without parameters)
        explore()


@pytest.mark.slow
def test_generated_requests_get_documented_answers(database_url: str) -> None:
    keys = new_keys(database_url)
    app = create_app(Settings(database_url=database_url, registers=REGISTER))
    rules = {f"{method} {path}": _rule(route) for method, path, route in route_table(app)}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    run = Run(_seed())

    def as_role(role: str | None, expect_refusal: bool) -> Callable[[Any], None]:
        headers = {"Authorization": f"Bearer {keys[role]}"} if role else {}

        def send(case: Any) -> None:
            if role is None:
                case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            response = case.call(headers=headers)
            case.validate_response(response, checks=[*CHECKS, *([] if expect_refusal else
                                                                [negative_data_rejection])])
            _problem_check(case, response)
            assert not (expect_refusal and response.status_code < 400), \
                f"{response.status_code} for {role or 'no key'}"
        return send

    for index, operation in enumerate(operations):
        share = max(FLOOR, math.ceil((TOTAL - run.cases) / (2 * (len(operations) - index))))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _explore(run, operation, mode, share, as_role("dpo", False))
    assert run.cases >= TOTAL, f"only {run.cases} cases with the dpo key"
    assert not run.failures, run.report()

    sent = run.cases
    for index, operation in enumerate(operations):
        if not operation.definition.raw.get("security"):
            continue
        admitted = rules.get(f"{operation.method.upper()} {operation.path}") or frozenset(ROLES)
        others = [role for role in ROLES if role not in admitted]
        for role in [None, *([others[index % len(others)]] if others else [])]:
            _explore(run, operation, GenerationMode.POSITIVE, SAMPLE, as_role(role, True))
    assert run.cases > sent + len(operations), "no case without a key or with a role not admitted"
    assert not run.failures, run.report()
    print(f"{sent} cases with a dpo key, {run.cases - sent} without a key or with another role, "
          f"over {len(operations)} operations")
