"""Hostile register and dataset files are refused quickly, in little memory, with a clear error.

A YAML file is a program of sorts: aliases let 300 bytes expand to millions of
values ("billion laughs"), and nesting can run Python's recursion out. garde
reads files written by hand, so the limits sit far above any real register
(the largest seed is 23 kB, 5 levels deep) and each refusal names the file and line.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from garde.problems import InputError
from garde.register import load_register, parse_register
from garde.yamlsource import MAX_BYTES, MAX_DEPTH, MAX_VALUES, load_yaml, parse_yaml

from .conftest import REGISTERS


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """``width ** levels`` strings from a few hundred bytes."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def problems_of(text: str, name: str = "bomb.yaml") -> list[str]:
    with pytest.raises(InputError) as info:
        parse_register(text, name)
    return [str(p) for p in info.value.problems]


def test_billion_laughs_is_refused_in_well_under_a_second_and_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 700
    # In a child process, so the time and the peak memory measured are the load's alone.
    script = textwrap.dedent(f"""
        import resource, time
        from garde.problems import InputError
        from garde.register import load_register
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        try:
            load_register({str(bomb)!r})
        except InputError as exc:
            print("refused:", exc)
        print("seconds:", time.perf_counter() - start)
        print("grew_kb:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    report = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert "more than" in report["refused"] and str(bomb) in report["refused"]
    assert float(report["seconds"]) < 0.5
    assert int(report["grew_kb"]) < 50_000


def test_an_alias_bomb_names_the_file_and_the_line_where_the_expansion_passes_the_limit() -> None:
    found = problems_of(billion_laughs())
    assert len(found) == 1
    assert found[0].startswith("bomb.yaml:")
    line = int(found[0].split(":")[1])
    assert 1 <= line <= 9
    assert f"more than {MAX_VALUES:,} values" in found[0]


def test_an_alias_that_contains_itself_is_refused() -> None:
    assert problems_of("controller: &c {name: [*c]}\n") == [
        "bomb.yaml:1: controller.name[0]: an alias refers to a value that contains it (a loop)"]


def test_aliases_and_merge_keys_of_a_normal_size_are_still_read() -> None:
    value, source = parse_yaml("x: &x [1, 2]\ny: [*x, *x]\nbase: &b {a: 1, b: 2}\nz:\n  <<: *b\n  b: 3\n",
                               "small.yaml")
    assert value == {"x": [1, 2], "y": [[1, 2], [1, 2]], "base": {"a": 1, "b": 2}, "z": {"a": 1, "b": 3}}
    assert source.line(("y", 1)) == 2 and source.line(("z", "b")) == 6


def test_a_key_that_is_a_mapping_is_a_clear_error() -> None:
    assert problems_of("? {a: 1}\n: x\n") == ["bomb.yaml:1: a key must be a text, not a list or a mapping"]


def test_an_alias_as_a_key_is_read_if_it_names_a_text_and_refused_if_it_names_a_list() -> None:
    value, _ = parse_yaml("name: &k title\nlabels: {*k : Title}\n", "keys.yaml")
    assert value == {"name": "title", "labels": {"title": "Title"}}
    assert problems_of("l: &l [1, 2]\nm: {*l : x}\n") == [
        "bomb.yaml:2: m: a key must be a text, not a list or a mapping"]


def test_two_documents_in_one_file_are_a_clear_error() -> None:
    assert problems_of("a: 1\n---\nb: 2\n")[0].startswith("bomb.yaml:2: one document per file")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 990, 5000])
def test_deep_nesting_is_refused_with_the_line_not_a_recursion_error(depth: int) -> None:
    found = problems_of("controller:\n  name: " + "[" * depth + "]" * depth + "\n")
    assert len(found) == 1
    assert found[0].startswith("bomb.yaml:2:")
    assert "nest" in found[0]


def test_nesting_just_under_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 2
    value, _ = parse_yaml("x: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert value["x"] is not None


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as handle:
        handle.write("activities:\n")
        line = "  - {id: a, name: b}\n"
        handle.write(line * (MAX_BYTES // len(line) + 1))
    with pytest.raises(InputError) as info:
        load_register(big)
    assert [str(p) for p in info.value.problems] == [
        f"{big}: {big.stat().st_size:,} bytes, over the limit of {MAX_BYTES:,} bytes for a register or "
        "dataset file"]


def test_text_over_the_size_limit_is_refused() -> None:
    found = problems_of("x: " + "a" * MAX_BYTES + "\n")
    assert found and "over the limit" in found[0]


def test_too_many_values_without_aliases_are_refused(tmp_path: Path) -> None:
    # small values, so the file stays under the size limit but holds more values than allowed
    count = MAX_VALUES + 1
    assert 2 * count < MAX_BYTES
    found = problems_of("[" + ",".join(["1"] * count) + "]\n")
    assert found and f"more than {MAX_VALUES:,} values" in found[0]


def test_a_folder_given_as_a_register_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_yaml(tmp_path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path}: is a folder, not a file"]


def test_the_seed_registers_are_far_under_the_limits() -> None:
    for path in REGISTERS.glob("*.yaml"):
        assert path.stat().st_size * 20 < MAX_BYTES
        load_register(path)
