"""What the layout reader gives: the pieces of a document's text (:class:`Chunk`) that play a
role for one purpose, grouped as the document groups them (:class:`Unit`), and the whole reading."""

from __future__ import annotations

from dataclasses import dataclass, field

from garde.analyse.document import Block
from garde.analyse.wording import BOTH


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of ``document.text`` playing one role for a purpose: its purpose, name, basis cell or
    field, data, retention, recipients, surrounding prose, or a basis label."""

    role: str
    text: str
    start: int


@dataclass
class Unit:
    layout: str  # table, section, item, paragraph
    chunks: list[Chunk] = field(default_factory=list)
    processor: bool = False  # processing on behalf of another controller (GDPR Arts. 28, 30(2))


@dataclass
class Reading:
    units: list[Unit] = field(default_factory=list)
    untied: list[Chunk] = field(default_factory=list)  # prose stating a basis for no one purpose
    # entries of a list under no heading of purposes, stating no basis: purposes only if a later
    # sentence names them again with their basis (:func:`_named_again`)
    listed: list[Chunk] = field(default_factory=list)


def chunks(role: str, block: Block | Chunk) -> list[Chunk]:
    """The chunks a cell or a field gives: one of its role, or a purpose and a basis for a column
    holding both ("Purpose and legal basis")."""
    if role == BOTH:
        return [Chunk("purpose", block.text, block.start), Chunk("basis", block.text, block.start)]
    return [Chunk(role, block.text, block.start)]
