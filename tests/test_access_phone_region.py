"""A telephone number written as its owner writes it at home finds them (issue 11).

The reference shop's controller is French: ``06 01 23 45 67`` and
``+33 6 01 23 45 67`` are one number there. Before, the national spelling
became the identity ``0601234567``, which no row holds (the shop keeps
E.164), so the request found nobody while the international spelling found
the customer. The region a number without its country code is read in is
the controller's country (the registers the data map names).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde.cli import app
from garde.problems import GardeError
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import locate
from garde.shop import generate_shop
from garde.subjects import normalise_identifier
from tests.test_shop_discovery import _postgres_pair

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _spaced(national: str) -> str:
    return " ".join(national[i:i + 2] for i in range(0, len(national), 2))


def _french_customer_phone(deployment: Deployment) -> str:
    with deployment.engines["shop"].connect() as conn:
        phone = conn.execute(sa.text("SELECT phone FROM customers WHERE phone LIKE '+33%' "
                                     "ORDER BY id LIMIT 1")).scalar_one()
    return str(phone)


@pytest.fixture
def reference_shop(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The generated reference shop (FR controller) on the store's kind of database."""
    if engine.dialect.name == "sqlite":
        files = {db: f"sqlite:///{tmp_path / db}.db" for db in ("shop", "crm")}
        pairs: Iterator[dict[str, str]] = iter([files])
    else:
        pairs = _postgres_pair(request.getfixturevalue("postgres_admin_url"))
    opened = Deployment.open(ROOT / "datasets", results=tmp_path / "results", urls=next(pairs), create=True)
    generate_shop(opened.engines, 40, seed=5, as_of=date(2025, 6, 1), batch_size=40)
    yield opened
    opened.dispose()
    for _ in pairs:
        pass


def test_a_national_phone_number_finds_the_customer_its_international_form_finds(
        engine: sa.Engine, reference_shop: Deployment) -> None:
    assert reference_shop.phone_region == "FR"
    phone = _french_customer_phone(reference_shop)
    national, international = _spaced("0" + phone[3:]), f"+33 {phone[3]} {_spaced(phone[4:])}"
    found = []
    for spelling in (national, international):
        with engine.begin() as conn:
            request = submit(conn, "access", {"phone": spelling}, region=reference_shop.phone_region)
            request = verify_out_of_band(conn, request.id, "checked", actor="agent:test",
                                         identities=["phone"])
        footprint = locate(reference_shop, request)
        found.append({str(ref): sorted(footprint.primary_keys(*ref)) for ref in footprint.tables()})
    assert found[0] and found[0] == found[1]


def test_a_national_number_is_read_in_the_region_given() -> None:
    assert normalise_identifier("phone", "06 01 23 45 67", region="FR") == "+33601234567"
    # Italy keeps the 0 of a fixed line after its country code: a library knows, a rule of thumb does not.
    assert normalise_identifier("phone", "06 1234 5678", region="IT") == "+390612345678"
    assert normalise_identifier("phone", "020 7946 0958", region="GB") == "+442079460958"
    assert normalise_identifier("phone", "+39 06 1234 5678", region="FR") == "+390612345678"


def test_a_number_too_short_for_its_region_is_refused() -> None:
    with pytest.raises(GardeError, match="is not a telephone number"):
        normalise_identifier("phone", "06 01 23", region="FR")


def test_the_cli_reads_a_national_number_in_the_controllers_country(cli_env: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    urls = {db: f"sqlite:///{cli_env / db}.db" for db in ("shop", "crm")}
    monkeypatch.setenv("GARDE_SHOP_URL", urls["shop"])
    monkeypatch.setenv("GARDE_CRM_URL", urls["crm"])
    monkeypatch.setenv("GARDE_DATASETS", str(ROOT / "datasets"))
    shop = Deployment.open(ROOT / "datasets", urls=urls, create=True)
    generate_shop(shop.engines, 40, seed=5, as_of=date(2025, 6, 1), batch_size=40)
    phone = _french_customer_phone(shop)
    shop.dispose()
    national = _spaced("0" + phone[3:])
    submitted = runner.invoke(app, ["request", "submit", "--type", "access", "--phone", national,
                                    "--no-code"])
    assert submitted.exit_code == 0, submitted.output
    request_id = re.search(r"request (\S+) received", submitted.output).group(1)  # type: ignore[union-attr]
    verified = runner.invoke(app, ["request", "verify", request_id, "--out-of-band", "called back",
                                   "--checked", "phone"])
    assert verified.exit_code == 0, verified.output
    ran = runner.invoke(app, ["request", "run", request_id])
    assert ran.exit_code == 0, ran.output
    answer = json.loads((cli_env / "results" / request_id / "access.json").read_text())
    assert answer["tables"]["shop.customers"][0]["phone"] == phone
    # run from the CLI, the folder the operator opens next holds the HTML report too
    folder = cli_env / "results" / request_id
    assert sorted(p.name for p in folder.iterdir()) == ["access.html", "access.json"]
