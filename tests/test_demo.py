"""The main job end to end (what `make demo` runs), on a small shop in a temporary folder."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from garde.demo import run_demo, run_live
from garde.settings import get_settings

from .conftest import REGISTERS, ROOT, mode


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in {
        "GARDE_DATABASE_URL": f"sqlite:///{tmp_path / 'garde.db'}",
        "GARDE_SHOP_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "GARDE_CRM_URL": f"sqlite:///{tmp_path / 'crm.db'}",
        "GARDE_DATASETS": str(ROOT / "datasets"),
        "GARDE_REGISTERS": str(REGISTERS / "reference-shop.yaml"),
        "GARDE_RESULTS": str(tmp_path / "results"),
        "GARDE_OUTBOX": str(tmp_path / "outbox"),
        "GARDE_AUDIT_KEY": "garde-demo-audit-key-change-me",  # as `make demo` sets it
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_demo_publishes_and_enforces_on_the_reference_shop(isolated: Path) -> None:
    out = isolated / "out"
    publications, live = run_demo(out, REGISTERS, customers=120, seed=3)
    assert len(publications) == len(list(REGISTERS.glob("*.yaml")))
    assert live.rows > 1000
    allowed = [decision[2] for decision in live.decisions]
    assert allowed == [True, False, False]
    # the newsletter keeps an address "until consent_withdrawn" (first reached): withdrawn, past retention
    assert [d[3] for d in live.decisions][1:] == [["consent_withdrawn", "retention_passed"],
                                                  ["consent_missing"]]
    assert live.consents_imported > 0 and live.audience > 0
    assert {r["status"] for r in live.requests.values()} == {"completed"}
    access = json.loads((out / "live" / "access-access.json").read_text(encoding="utf-8"))
    # Credentials are confirmed to exist but never shown, in the data or in the report.
    accounts = access["tables"].get("shop.accounts", [])
    assert all(row["password_hash"] is None for row in accounts)
    secrets = [f for c in access["categories"] if c["id"] == "account.password" for f in c["fields"]]
    assert len(secrets) == len(accounts) and all(f["secret"] and f["value"] is None for f in secrets)
    assert live.audit_ok and live.audit_sealed and live.audit_entries > 10
    assert live.retention_swept == live.retention_due
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "live/audience-newsletter.csv" in index and "reference-shop/notice-fr.html" in index
    entries = [json.loads(line) for line in (out / "live" / "audit.jsonl").read_text().splitlines()]
    versions = [e for e in entries if e["kind"] == "register.changed"]
    assert len(versions) == 1  # shop and crm serve one register; requests found it unchanged
    assert versions[0]["payload"]["source"].endswith("registers/reference-shop.yaml")
    lines = (out / "live" / "audience-newsletter.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == live.audience + 1


@pytest.mark.usefixtures("umask_022")
def test_live_results_are_owner_only(isolated: Path) -> None:
    live = isolated / "out" / "live"
    report = run_live(live, customers=40, seed=5)
    assert {path.name: mode(path) for path in report.files} == {path.name: 0o600 for path in report.files}
    assert mode(live) == mode(isolated / "results") == 0o700
    assert {mode(p) for p in (isolated / "results").rglob("*")} == {0o600, 0o700}
    assert mode(isolated / "garde.db") == 0o600
