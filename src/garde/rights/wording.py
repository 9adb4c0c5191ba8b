"""The fr/en/it words of request answers, read from ``strings.yaml`` (data, not code)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from garde.yamlsource import load_yaml

STRINGS = Path(__file__).parent / "strings.yaml"


def _pick(node: Any, lang: str) -> Any:
    if isinstance(node, dict) and node and set(node) <= {"fr", "en", "it"}:
        return node.get(lang) or node["en"]
    if isinstance(node, dict):
        return {key: _pick(child, lang) for key, child in node.items()}
    return node


@lru_cache(maxsize=4)
def strings(lang: str) -> dict[str, Any]:
    """Every string of ``strings.yaml`` in ``lang`` (English when a text lacks it)."""
    return dict(_pick(load_yaml(STRINGS)[0], lang))
