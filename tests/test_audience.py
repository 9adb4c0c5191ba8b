"""Audiences: consent or soft opt-in, minus objections and suppression; the CSV is streamed."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit, consent, subjects
from garde.audience import audience
from garde.cli import app
from garde.consent.objections import object_to
from garde.decide import DecisionModel, DecisionPoint
from garde.settings import get_settings
from garde.subjects import now
from tests.test_decide import REGISTER, register

from .conftest import mode


def people(engine: sa.Engine) -> dict[str, str]:
    """One subject per situation, by name."""
    today = now()
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for name in ("consented", "withdrew", "expired", "customer", "prospect", "objected", "suppressed",
                     "erased", "restricted", "renewed"):
            ids[name] = subjects.ensure_subject(conn, {"email": f"{name}@example.com"})
        for name in ("customer", "objected", "suppressed"):
            conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == ids[name])
                         .values(relationship_started_at=today - timedelta(days=50)))
        week = today - timedelta(days=7)
        for name in ("consented", "withdrew", "objected", "suppressed", "erased", "restricted"):
            consent.give(conn, ids[name], "newsletter", channel="email", at=week)
        consent.withdraw(conn, ids["withdrew"], "newsletter", at=today - timedelta(days=1))  # every channel
        consent.give(conn, ids["expired"], "newsletter", channel="email", at=today - timedelta(days=4 * 365))
        consent.give(conn, ids["renewed"], "newsletter", channel="email", at=today - timedelta(days=4 * 365))
        consent.give(conn, ids["renewed"], "newsletter", at=today - timedelta(days=2))  # every channel
        object_to(conn, ids["objected"], "direct_marketing")
        from garde.suppression import suppress

        suppress(conn, {"email": "suppressed@example.com"}, "complaint")
        subjects.set_state(conn, ids["erased"], "erased")
        subjects.set_state(conn, ids["restricted"], "restricted")
    return ids


def names(ids: dict[str, str], members: list[str]) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    return {by_id[m] for m in members}


def test_consent_audience_matches_decide(engine: sa.Engine) -> None:
    ids = people(engine)
    model = DecisionModel(register())
    with engine.connect() as conn:
        newsletter = [m.subject_id for m in audience(conn, model, "newsletter", "email")]
        offers = [m for m in audience(conn, model, "customer-offers", "email")]
    assert names(ids, newsletter) == {"consented", "renewed"}
    assert names(ids, [m.subject_id for m in offers]) == {"customer"}
    assert {m.basis for m in offers} == {"soft_opt_in"}
    with DecisionPoint(model, engine, audit=False) as point:
        for activity, members in (("newsletter", newsletter),
                                  ("customer-offers", [m.subject_id for m in offers])):
            allowed = {sid for sid in ids.values()
                       if point.decide(activity, sid, ["contact.email"], "email").allowed}
            assert allowed == set(members), activity


def test_audience_cli_writes_csv_and_audits(engine: sa.Engine, database_url: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ids = people(engine)
    registry = tmp_path / "register.yaml"
    registry.write_text(REGISTER, encoding="utf-8")
    monkeypatch.setenv("GARDE_DATABASE_URL", database_url)
    monkeypatch.setenv("GARDE_REGISTERS", str(registry))
    get_settings.cache_clear()
    target = tmp_path / "newsletter.csv"
    result = CliRunner().invoke(app, ["audience", "newsletter", "--channel", "email", "--subject-ids",
                                      "-o", str(target)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert names(ids, [r["subject_id"] for r in rows]) == {"consented", "renewed"}
    assert {r["basis"] for r in rows} == {"consent"}
    with engine.connect() as conn:
        (entry,) = audit.entries(conn, kind="audience")
    assert entry["payload"]["count"] == 2


@pytest.mark.usefixtures("umask_022")
def test_audience_file_is_owner_only(engine: sa.Engine, database_url: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    people(engine)
    registry = tmp_path / "register.yaml"
    registry.write_text(REGISTER, encoding="utf-8")
    monkeypatch.setenv("GARDE_DATABASE_URL", database_url)
    monkeypatch.setenv("GARDE_REGISTERS", str(registry))
    get_settings.cache_clear()
    target = tmp_path / "exports" / "newsletter.csv"
    result = CliRunner().invoke(app, ["audience", "newsletter", "--channel", "email", "--subject-ids",
                                      "-o", str(target)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
