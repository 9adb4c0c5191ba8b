"""An audience with addresses streamed from the generated shop: the wall and CPU time of the whole
stream (:func:`garde.audience.contacts`), its store statement per batch, the judging and what the
stream keeps of the addresses it wrote (a SQLite file of digests, :mod:`garde.audience_seen`).

The shop (SQLite) is generated once into ``--cache`` and reused; the store is empty, so every
customer is judged on the data map's relationship dates (soft opt-in). To compare two codes, run
this with each on ``PYTHONPATH`` in turn, alternated, on the same cache::

    python -m benchmarks.bench_audience --customers 50000 --cache /tmp/aud --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date
from pathlib import Path

from garde.audience import contacts
from garde.datasets import connect_datamap, load_datamap
from garde.decide import DecisionModel
from garde.shop import generate_shop
from garde.store import connect, migrate

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, required=True, help="folder of the generated shop, kept")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--activity", default="customer-relationship")
    args = parser.parse_args()
    datamap = load_datamap(ROOT / "datasets")
    folder = args.cache / str(args.customers)
    urls = {db: f"sqlite:///{folder / db}.db" for db in ("shop", "crm")}
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        engines = connect_datamap(datamap, urls, create=True)
        generate_shop(engines, args.customers, seed=7, as_of=date(2026, 12, 1))
        for engine in engines.values():
            engine.dispose()
        (folder / "done").touch()
    engines = connect_datamap(datamap, urls)
    store = connect(f"sqlite:///{folder / 'store.db'}", create=True)
    migrate(store)
    model = DecisionModel.load(ROOT / "registers" / "reference-shop.yaml")
    for _ in range(args.rounds):
        wall, cpu = time.perf_counter(), _cpu()
        count = sum(1 for _ in contacts(store, model, datamap, engines, args.activity, "email",
                                               exports=folder / "exports"))
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        print(f"{count} contacts: {wall:.2f} s wall, {cpu:.2f} s CPU, "
              f"{count / cpu:,.0f} contacts per CPU second", flush=True)


if __name__ == "__main__":
    main()
