"""The curated public API: everything in ``garde.__all__`` exists, and nothing else is advertised."""

import types

import garde


def test_all_names_exist_and_are_sorted() -> None:
    for name in garde.__all__:
        assert getattr(garde, name) is not None, name
    assert sorted(garde.__all__, key=str.lower) == sorted(set(garde.__all__), key=str.lower)


def test_public_names_are_exactly_all() -> None:
    # dir(), not vars(): the package imports its names on first use
    public = {n for n in dir(garde) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if isinstance(getattr(garde, n), types.ModuleType)}
    assert public - modules == set(garde.__all__)
