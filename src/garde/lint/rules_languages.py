"""Lint: a public text the register lacks in a language it publishes its notice in (GL090).

The notice never switches language silently: a text missing in the notice's
language is shown as written and marked "not translated". This rule names
those texts, for the languages the register says it publishes in
(``publishes_in``; by default its own ``language`` only, so a register in one
language gets no finding). The texts are exactly those the notice prints:
the rule reads the notice itself, then locates each text in the register.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR
from garde.yamlsource import FieldPath


def _texts(node: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string of the register with its path (a text map's values under the map's path)."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _texts(getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for value in node.values():
            if isinstance(value, str):
                yield path, value
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _texts(item, (*path, i))
    elif isinstance(node, str):
        yield path, node


@rule("GL090", "warning", "text-not-translated",
      reference="GDPR Art. 12(1) (concise, intelligible, in clear and plain language); WP29 Guidelines "
                "on transparency (WP260 rev.01) §13",
      url=GDPR.format(12))
def text_not_translated(ctx: Context) -> Iterator[Hit]:
    """A text the notice prints that the register lacks in one of the languages it publishes in."""
    from garde.documents.notice import build_notice, notice_lines  # documents import the register only

    register = ctx.register
    where: dict[str, FieldPath] = {}
    for path, text in _texts(register, ()):
        where.setdefault(text, path)
    missing: dict[FieldPath, list[str]] = {}
    for lang in register.published_languages():
        for piece in (p for line in notice_lines(build_notice(register, lang)) for p in line):
            if piece.untranslated and piece.lang != lang and piece.text in where:
                langs = missing.setdefault(where[piece.text], [])
                if lang not in langs:
                    langs.append(lang)
    for path, langs in missing.items():
        activity = register.activities[int(path[1])].id if path[:1] == ("activities",) else None
        yield Hit(path, activity, {"field": ".".join(map(str, path)), "langs": ", ".join(langs)})
