"""``garde shop sample``: identities that exist in the generated shop, to try the README's session on."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from garde.cli import app

runner = CliRunner()


def test_sample_prints_customers_the_shop_has_and_the_same_for_the_same_seed(tmp_path: Path) -> None:
    shop, crm = f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tmp_path / 'crm.db'}"
    generated = runner.invoke(app, ["shop", "generate", "--customers", "20", "--seed", "7",
                                    "--as-of", "2026-01-01", "--shop-url", shop, "--crm-url", crm])
    assert generated.exit_code == 0, generated.output
    result = runner.invoke(app, ["shop", "sample", "--count", "3", "--format", "json", "--shop-url", shop])
    assert result.exit_code == 0, result.output
    sample = json.loads(result.output)
    assert len(sample) == 3 and all("@" in c["email"] and c["customer_id"] for c in sample)
    text = runner.invoke(app, ["shop", "sample", "--count", "3", "--shop-url", shop]).output
    assert all(c["email"] in text for c in sample)


def test_sample_before_generate_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["shop", "sample", "--shop-url", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 2 and "no database file" in result.output
    (tmp_path / "empty.db").write_bytes(b"")
    result = runner.invoke(app, ["shop", "sample", "--shop-url", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2 and "garde shop generate" in result.output
    assert "Traceback" not in result.output
