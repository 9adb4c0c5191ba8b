"""Files that every request run, command and app start would otherwise read again: read once.

Seen through Python's audit events (``open``), not by replacing our own code: a deployment opened
over the reference shop's data map reads its register once although both datasets name it (it was
read three times: once for each dataset's checks, once more for the deployment), and an app built
after another opens none of the migrations' files (each ``create_app`` read and executed every
revision module to learn the latest revision, ≈ 25 ms of CPU, which the store already knew).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from garde.datasets.loading import load_datamap
from garde.rights.deployment import Deployment, registers_of
from garde.settings import Settings
from garde.store import MIGRATIONS
from tests.conftest import ROOT

_OPENED: list[list[str]] = []  # the recordings under way (a hook cannot be removed: it records only then)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _OPENED and isinstance(args[0], str | Path):
        _OPENED[-1].append(str(Path(args[0]).resolve()))


sys.addaudithook(_hook)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """The paths opened in this process while the block runs."""
    opened: list[str] = []
    _OPENED.append(opened)
    try:
        yield opened
    finally:
        _OPENED.pop()


REGISTER = str((ROOT / "registers" / "reference-shop.yaml").resolve())


def test_a_deployment_reads_the_register_its_datasets_share_once(tmp_path: Path) -> None:
    urls = {"shop": f"sqlite:///{tmp_path / 'shop.db'}", "crm": f"sqlite:///{tmp_path / 'crm.db'}"}
    with files_opened() as opened:
        deployment = Deployment.open(ROOT / "datasets", results=tmp_path / "results", urls=urls, create=True)
    deployment.dispose()
    assert opened.count(REGISTER) == 1
    assert deployment.registers["shop"] is deployment.registers["crm"]
    assert {activity.id for activity in deployment.registers["shop"].activities} >= {"order-management"}


def test_the_map_hands_the_registers_it_read_to_the_deployment() -> None:
    loaded: dict[Path, Any] = {}
    datamap = load_datamap(ROOT / "datasets", registers=loaded)
    assert [str(path) for path in loaded] == [REGISTER]
    with files_opened() as opened:
        registers = registers_of(datamap, loaded)
    assert REGISTER not in opened
    assert registers["shop"] is registers["crm"] is loaded[Path(REGISTER)]


def test_an_app_built_after_another_reads_no_migration(tmp_path: Path) -> None:
    from garde.api import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'garde.db'}")
    create_app(settings)
    with files_opened() as opened:
        create_app(settings)
    migrations = str(MIGRATIONS.resolve())
    assert not [path for path in opened if path.startswith(migrations)]
