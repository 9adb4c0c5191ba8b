"""``garde datasets check`` against the live databases: every mask must fit the column it writes.

SQLite stores a 64-character hash in a ``VARCHAR(16)``; PostgreSQL refuses
it, in the middle of an erasure. The check reads the real schema (any
database) and names each column whose mask does not fit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.cli import app
from garde.datasets import DataMap, Masking, connect_datamap, load_datamap
from garde.datasets.live import ColumnType, check_live, mask_problem
from garde.shop import generate_shop
from tests.test_shop_discovery import _postgres_pair

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The reference shop, 20 customers, on SQLite files or two PostgreSQL databases."""
    if request.param == "sqlite":
        files = {db: f"sqlite:///{tmp_path / db}.db" for db in ("shop", "crm")}
        pairs: Iterator[dict[str, str]] = iter([files])
    else:
        pairs = _postgres_pair(request.getfixturevalue("postgres_admin_url"))
    urls = next(pairs)
    engines = connect_datamap(load_datamap(ROOT / "datasets"), urls, create=True)
    generate_shop(engines, 20, seed=1, batch_size=20)
    for engine in engines.values():
        engine.dispose()
    yield urls
    for _ in pairs:
        pass


def _env(urls: dict[str, str]) -> dict[str, str]:
    return {"GARDE_SHOP_URL": urls["shop"], "GARDE_CRM_URL": urls["crm"]}


def _maps(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    folder = tmp_path / "maps"
    folder.mkdir()
    for name in ("shop.yaml", "crm.yaml"):
        text = (ROOT / "datasets" / name).read_text(encoding="utf-8")
        text = text.replace("../registers", str(ROOT / "registers"))
        if replace and replace[0] in text:
            text = text.replace(*replace)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_reference_shop_masks_fit_their_columns(shop_urls: dict[str, str]) -> None:
    result = runner.invoke(app, ["datasets", "check", str(ROOT / "datasets")], env=_env(shop_urls))
    assert result.exit_code == 0, result.output
    assert "every mask fits its column" in result.output


def test_a_hash_too_long_for_its_column_is_named_with_file_and_line(shop_urls: dict[str, str],
                                                                   tmp_path: Path) -> None:
    passport = "passport_number: {category: identity.id_document, activities: [tax-free], erase: null}"
    maps = _maps(tmp_path, (passport, passport.replace("erase: null", "erase: hash")))
    lines = (maps / "shop.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if passport[:40] in text)
    result = runner.invoke(app, ["datasets", "check", str(maps)], env=_env(shop_urls))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert (f"shop.yaml:{line}: tables.tax_free_refunds.columns.passport_number.erase: "
            "shop.tax_free_refunds.passport_number: `hash` writes 64 characters but the column is "
            "VARCHAR(16)") in output
    assert output.count("error") == 1  # nothing else


def test_a_fixed_value_too_long_and_a_missing_column(shop_urls: dict[str, str], tmp_path: Path) -> None:
    maps = _maps(tmp_path, ('value: "***"', 'value: "engraving removed at the customer\'s request"'))
    shop = maps / "shop.yaml"
    shop.write_text(shop.read_text().replace("card_brand: {", "card_brnd: {"))
    result = runner.invoke(app, ["datasets", "check", str(maps)], env=_env(shop_urls))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert ("shop.personalisations.engraving: `fixed` writes \"engraving removed at the customer's request\" "
            "(43 characters) but the column is VARCHAR(24)") in output
    assert "shop.payments has no column 'card_brnd'" in output


def test_an_unfilled_sqlite_database_is_reported_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    env = {"GARDE_SHOP_URL": f"sqlite:///{missing}", "GARDE_CRM_URL": f"sqlite:///{missing}"}
    result = runner.invoke(app, ["datasets", "check", str(ROOT / "datasets")], env=env)
    assert result.exit_code == 2
    assert "does not exist" in result.output and "--offline" in " ".join(result.output.split())
    assert not missing.exists()
    offline = runner.invoke(app, ["datasets", "check", str(ROOT / "datasets"), "--offline"], env=env)
    assert offline.exit_code == 0, offline.output


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    datamap = load_datamap(ROOT / "datasets")
    engines = {name: sa.create_engine(f"sqlite:///{tmp_path / name}.db") for name in ("shop", "crm")}
    problems = [str(p) for p in check_live(datamap, engines)]
    assert any("database 'shop' has no table 'customers'" in p for p in problems)
    for engine in engines.values():
        engine.dispose()


TEXT16 = ColumnType("text", 16, True, "VARCHAR(16)")
TEXT16_NOT_NULL = ColumnType("text", 16, False, "VARCHAR(16) NOT NULL")
TEXT = ColumnType("text", None, True, "TEXT")
INTEGER_NOT_NULL = ColumnType("integer", None, False, "INTEGER")
INTEGER = ColumnType("integer", None, True, "INTEGER")
DATE = ColumnType("date", None, True, "DATE")


@pytest.mark.parametrize("masking, column, fits", [
    (Masking("hash"), TEXT16, False),
    (Masking("hash"), ColumnType("text", 64, True, "VARCHAR(64)"), True),
    (Masking("hash"), TEXT, True),
    (Masking("hash"), INTEGER, False),
    (Masking("null"), INTEGER_NOT_NULL, False),
    (Masking("null"), TEXT16_NOT_NULL, False),  # the placeholder needs more than 16 characters
    (Masking("null"), ColumnType("text", 80, False, "VARCHAR(80)"), True),
    (Masking("delete"), INTEGER_NOT_NULL, False),
    (Masking("fixed", value="***"), TEXT16, True),
    (Masking("fixed", value="x" * 17), TEXT16, False),
    (Masking("fixed", value=0), INTEGER_NOT_NULL, True),
    (Masking("fixed", value="none"), INTEGER, False),
    (Masking("fixed", value=None), INTEGER_NOT_NULL, False),
    (Masking("anonymise"), TEXT16, True),
    (Masking("anonymise"), ColumnType("text", 8, True, "VARCHAR(8)"), False),  # `anonymised`
    (Masking("anonymise"), INTEGER, False),
    (Masking("anonymise", keep=2), TEXT16, True),
    (Masking("anonymise", keep=2), INTEGER, False),
    (Masking("anonymise", generalise="year"), DATE, True),
    (Masking("anonymise", generalise="year"), TEXT16, False),
])
def test_each_strategy_is_checked_against_type_length_and_nullability(masking: Masking, column: ColumnType,
                                                                      fits: bool) -> None:
    assert (mask_problem(masking, column, placeholder=30) is None) is fits


def test_a_delete_column_of_a_row_that_never_stays_may_be_not_null() -> None:
    assert mask_problem(Masking("delete"), INTEGER_NOT_NULL, stays=False) is None


@given(length=st.integers(min_value=1, max_value=120), value=st.text(max_size=150))
def test_a_fixed_text_fits_exactly_when_it_is_no_longer_than_the_column(length: int, value: str) -> None:
    column = ColumnType("text", length, True, f"VARCHAR({length})")
    assert (mask_problem(Masking("fixed", value=value), column) is None) is (len(value) <= length)


def test_a_nullify_reference_on_a_not_null_column_is_named(tmp_path: Path) -> None:
    from tests.test_erasure_referrals import CLUB, _load

    url = f"sqlite:///{tmp_path / 'club.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80), "
                             "name VARCHAR(80), referrer_id INTEGER NOT NULL)"))
        conn.execute(sa.text("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
                             "total INTEGER)"))
    dataset = _load(CLUB.format(url=url), tmp_path)
    problems = [str(p) for p in check_live(DataMap({"club": dataset}), {"club": engine})]
    assert problems == ["club.yaml: tables.customers.references.referrer_id: club.customers.referrer_id "
                        "is INTEGER NOT NULL but `on_erase: nullify` sets it to NULL when the person it "
                        "points at is erased; make the column nullable"]
    engine.dispose()
