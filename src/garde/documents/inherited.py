"""Statements a register makes once for every activity, printed once.

Recipients, transfers, security measures and sources may be stated at the register's level
(:mod:`garde.register.inherit`). The reading documents say such a statement once ("For every
activity: ...") and then, per activity, only what it adds or, for an activity that overrides the
register, its own statement. The exact per-row cells (CSV, XLSX, JSON) are built elsewhere, from
``Register.effective``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from garde.documents.notice_rights import activity_name
from garde.documents.wording import Cell, Line, Piece, Wording, cell
from garde.register.inherit import Inheritable, register_states
from garde.register.model import Activity, Register

StatementLines = Callable[[Sequence[Any], Wording], list[Line]]
# The Art. 30 register's column of each inheritable field.
COLUMNS: dict[str, Inheritable] = {"recipients": "recipients", "transfers": "transfers",
                                   "security": "security_measures", "sources": "sources"}


def register_lines(register: Register, name: Inheritable, words: Wording,
                   lines_of: Mapping[Inheritable, StatementLines]) -> list[Line]:
    """What the register states for every activity on ``name``; for transfers, its explicit "none" too."""
    lines = lines_of[name](getattr(register, name), words) if getattr(register, name) else []
    if name == "transfers" and register.no_transfer:
        lines.append((words.word("common.word.no_transfer"),))
    return [line for line in lines if line]


def own_lines(register: Register, activity: Activity, name: Inheritable, words: Wording,
              lines_of: Mapping[Inheritable, StatementLines]) -> list[Line]:
    """What the activity states on ``name`` beyond the register's statement."""
    own = [stated.value for stated in register.effective(activity).own(name)]
    return [line for line in lines_of[name](own, words) if line] if own else []


def said_once(register: Register, activity: Activity, name: Inheritable) -> bool:
    """Whether the register states ``name`` for every activity and this activity inherits it."""
    return register_states(register, name) and register.effective(activity).inherits(name)


def common_statements(register: Register, words: Wording,
                      lines_of: Mapping[Inheritable, StatementLines]) -> tuple[tuple[str, Cell], ...]:
    """The Art. 30 register's block above the tables: each statement the register makes for all."""
    rows = []
    for column, name in COLUMNS.items():
        lines = register_lines(register, name, words, lines_of)
        if lines:
            rows.append((words.ui(f"register.column.{column}"), cell(lines)))
    return tuple(rows)


def reading_row(register: Register, activity: Activity, words: Wording, row: dict[str, Cell],
                lines_of: Mapping[Inheritable, StatementLines]) -> dict[str, Cell]:
    """``row`` with each inherited column saying "as for every activity (above)", then its own."""
    reading = dict(row)
    for column, name in COLUMNS.items():
        if column in row and said_once(register, activity, name):
            reading[column] = cell([(words.word("common.word.as_for_every_activity"),),
                                    *own_lines(register, activity, name, words, lines_of)])
    return reading


def once_then_each(register: Register, activities: list[Activity], words: Wording, name: Inheritable,
                   lines_of: Mapping[Inheritable, StatementLines],
                   full: Callable[[Activity], list[Line]], gap: str) -> tuple[list[Line], list[Line]] | None:
    """A notice's paragraph "For every activity: ..." and the items of the activities that add to it
    or state their own instead; ``None`` when the register states nothing on ``name`` for them."""
    common = register_lines(register, name, words, lines_of)
    inheriting = [a for a in activities if register.effective(a).inherits(name)]
    if not common or not inheriting:
        return None
    label: Line = (words.word("common.word.every_activity"),)
    others = [a for a in activities if all(a is not b for b in inheriting)]
    if others:  # the statement is not for these: say so where it is made, not only below
        label += (Piece(" (", words.lang), words.word("common.word.except"),
                  *words.join(activity_name(a, words) for a in others), Piece(")", words.lang))
    paragraph = words.labelled_line(label, words.join(common, "common.word.dash"))
    items: list[Line] = []
    for activity in activities:
        if any(activity is a for a in inheriting):
            own = own_lines(register, activity, name, words, lines_of)
            if own:
                heading = (*activity_name(activity, words), Piece(", ", words.lang),
                           words.word("common.word.in_addition"))
                items.append(words.labelled_line(heading, words.join(own, "common.word.dash")))
            continue
        lines = full(activity)
        value = words.join(lines, "common.word.dash") if lines else (words.gap(gap),)
        items.append(words.labelled_line(activity_name(activity, words), value))
    return [paragraph], items
