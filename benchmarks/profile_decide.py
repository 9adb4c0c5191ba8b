"""cProfile of ``bench_decide.py``'s timed loop (audited decisions, fresh point): where the CPU goes.

``python -m benchmarks.profile_decide [N]``: the N functions with the most own time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile

from benchmarks.bench_decide import prepared
from garde.decide import DecisionPoint


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine, register, plan = prepared(folder, 2000, 20_000)
        with DecisionPoint(register, engine) as point:
            for sid, activity, categories in plan[:500]:
                point.decide(activity, sid, categories)
            profile = cProfile.Profile()
            profile.enable()
            for sid, activity, categories in plan:
                point.decide(activity, sid, categories)
            point.audit_writer.flush()  # type: ignore[union-attr]
            profile.disable()
        engine.dispose()
    pstats.Stats(profile).sort_stats("tottime").print_stats(int(argv[0]) if argv else 30)


if __name__ == "__main__":
    main(sys.argv[1:])
