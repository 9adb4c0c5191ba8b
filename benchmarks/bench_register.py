"""Loading and linting a register of 1,000 activities, against plain ``yaml.safe_load``.

The register is generated from the reference shop's 24 activities, cycled
with new ids until it has 1,000 (about 25,000 lines of YAML). garde reads it
with line numbers, validates it, checks every vocabulary term, and runs all
lint rules. The baseline, in the same run, is PyYAML's safe loader (libyaml's
when available, as garde uses) reading the same file: the floor of just
reading the YAML, with no line numbers, validation or rules. Goal: load +
lint under 1 second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from benchmarks import Result, timed
from garde.lint import lint
from garde.register import load_register, read_register

ROOT = Path(__file__).resolve().parents[1]


def generated_register(activities: int) -> str:
    base = load_register(ROOT / "registers" / "reference-shop.yaml").to_data()
    templates = base["activities"]
    base["activities"] = [
        {**templates[i % len(templates)], "id": f"{templates[i % len(templates)]['id']}-{i}"}
        for i in range(activities)
    ]
    return yaml.safe_dump(base, allow_unicode=True, sort_keys=False, default_flow_style=False)


def run(activities: int = 1000) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.yaml"
        path.write_text(generated_register(activities), encoding="utf-8")
        lines = path.read_text(encoding="utf-8").count("\n")
        read_register(path)  # warm the vocabulary and reference-period caches

        def load_and_lint() -> None:
            findings = lint(read_register(path, check_terms=False))
            assert findings is not None

        garde_s = timed(load_and_lint)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        baseline_s = timed(lambda: yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
    return [Result(
        "register", f"load + lint {activities} activities ({lines:,} lines)", garde_s * 1000,
        baseline_s * 1000, "ms", baseline_s / garde_s, "< 1 s absolute", garde_s < 1.0,
        note=f"garde {garde_s * 1000:.0f} ms = {garde_s / baseline_s:.1f}x the plain YAML read",
    )]
