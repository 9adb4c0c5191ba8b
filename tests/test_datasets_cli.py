"""``garde datasets`` and ``garde shop`` as users reach them: through the CLI."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde.cli import app

ROOT = Path(__file__).resolve().parents[1]
DATASETS = str(ROOT / "datasets")
runner = CliRunner()


def test_check_reports_the_shop_maps() -> None:
    result = runner.invoke(app, ["datasets", "check", DATASETS, "--offline"])
    assert result.exit_code == 0, result.output
    assert "ok: 2 databases, 34 tables" in result.output


def test_check_renders_problems_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "datasets" / "shop.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("../registers", str(ROOT / "registers")).replace("identity.title", "identity.titel"),
        encoding="utf-8",
    )
    line = next(n for n, words in enumerate(text.splitlines(), 1) if "identity.title" in words)
    result = runner.invoke(app, ["datasets", "check", str(bad)])
    assert result.exit_code == 2
    expected = (f"bad.yaml:{line}: tables.customers.columns.title.category: "
                "unknown data category 'identity.titel'")
    assert expected in result.output.replace("\n", "")


def test_graph_as_text_and_dot(tmp_path: Path) -> None:
    text = runner.invoke(app, ["datasets", "graph", DATASETS])
    assert text.exit_code == 0, text.output
    assert "└── shop.refunds.return_id → returns.id  (customer)" in text.output
    assert "shop.cctv_footage  (shop_visitor, not identifiable)" in text.output
    out = tmp_path / "map.dot"
    dot = runner.invoke(app, ["datasets", "graph", DATASETS, "--format", "dot", "-o", str(out)])
    assert dot.exit_code == 0, dot.output
    source = out.read_text(encoding="utf-8")
    assert source.startswith("digraph datamap {")
    assert 'subgraph "cluster_crm"' in source and 'subgraph "cluster_shop"' in source
    assert '"identity:email" -> "crm.contacts"' in source
    assert '"shop.orders" -> "shop.customers" [label="customer_id"]' in source


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_graph_renders_with_graphviz(tmp_path: Path, fmt: str, magic: bytes) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz not installed (apt-get install graphviz): the DOT source is tested above")
    out = tmp_path / f"map.{fmt}"
    result = runner.invoke(app, ["datasets", "graph", DATASETS, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_shop_generate_then_find_a_subject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop, crm = f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tmp_path / 'crm.db'}"
    result = runner.invoke(
        app,
        [
            "shop",
            "generate",
            "--customers",
            "50",
            "--seed",
            "3",
            "--as-of",
            "2025-01-31",
            "--shop-url",
            shop,
            "--crm-url",
            crm,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "customers" in result.output and "50 customers" in result.output.replace("\n", " ")
    monkeypatch.setenv("GARDE_SHOP_URL", shop)
    monkeypatch.setenv("GARDE_CRM_URL", crm)
    found = runner.invoke(
        app, ["datasets", "find", "customer_id=C00000007", "--datasets", DATASETS, "--format", "json"]
    )
    assert found.exit_code == 0, found.output
    assert '"shop.customers": [\n      7\n    ]' in found.output
    assert '"how": "given"' in found.output and '"how": "linked"' in found.output
    text = runner.invoke(app, ["datasets", "find", "customer_id=C00000007", "--datasets", DATASETS]).output
    assert "customer_id: C00000007  [given]" in text
    assert "linked: shop.customers.email, reached from customer_id C00000007" in " ".join(text.split())


def test_find_with_an_identity_no_table_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for database in ("shop", "crm"):  # databases that exist: a missing one is an error of its own
        sqlite3.connect(tmp_path / f"{database}.db").close()
        monkeypatch.setenv(f"GARDE_{database.upper()}_URL", f"sqlite:///{tmp_path / database}.db")
    result = runner.invoke(app, ["datasets", "find", "passport=X1", "--datasets", DATASETS])
    assert result.exit_code == 2
    assert "no table declares identity 'passport'" in result.output


def test_check_warns_when_no_table_is_authoritative() -> None:
    quiet = runner.invoke(app, ["datasets", "check", DATASETS, "--offline"])
    assert "warning" not in quiet.output
    result = runner.invoke(app, ["datasets", "check", str(ROOT / "datasets" / "crm.yaml"), "--offline"])
    assert result.exit_code == 0, result.output
    assert "warning: no table is authoritative: discovery will find only the rows holding the identities" in (
        " ".join(result.output.split()))


def test_graph_marks_the_authoritative_identities() -> None:
    text = runner.invoke(app, ["datasets", "graph", DATASETS]).output
    assert "shop.customers.email  (customer)  [authoritative: extends the search]" in text
    assert "crm.contacts.email  (prospect)  (references shown above)\n" in text
