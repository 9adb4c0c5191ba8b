"""Maintainers' tools (not part of garde): ``python -m tools.screenshots``."""
