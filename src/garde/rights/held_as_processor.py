"""Which data the organisation holds only as a processor (GDPR Art. 28, 30(2)), from the register
and the data map: computed once per table and deployment.

A column is *held as a processor* when every activity the data map gives it is a ``role:
processor`` activity naming at least one controller in ``on_behalf_of``; a table whose annotated
columns are all so held is held as a processor as a whole. A column that a controller (or joint
controller) activity also uses is the organisation's own. A processor activity naming no
controller leaves its data the organisation's own: the register names no one to forward to (the
linter reports the missing Art. 30(2)(a) field). :mod:`garde.rights.forwarding` says what a
request does with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from garde.datasets import Footprint, TableMap, TableRef
from garde.documents.wording import Wording
from garde.register import Activity, Register
from garde.register.roles import ServedController
from garde.register.values import Contact
from garde.rights.deployment import Deployment
from garde.rights.display import line_text
from garde.rights.wording import strings


def held_for(deployment: Deployment, table: TableMap) -> dict[str, tuple[str, ...]]:
    """The table's columns held only as a processor, each with the controllers it is held for
    (``on_behalf_of`` names, sorted); empty for a table of the organisation's own data."""
    def build() -> dict[str, tuple[str, ...]]:
        register = deployment.register(table.database)
        held: dict[str, tuple[str, ...]] = {}
        for name, column in table.columns.items():
            activities = [register.activity(a) for a in column.activities]
            if activities and all(a is not None and _processing_for(register.role_of(a), a)
                                  for a in activities):
                held[name] = tuple(sorted({c.name for a in activities if a for c in a.on_behalf_of}))
        return held

    return deployment.cached(("held as a processor", table.database, table.name), build)


def _processing_for(role: str, activity: Activity) -> bool:
    return role == "processor" and bool(activity.on_behalf_of)


def wholly_held(deployment: Deployment, table: TableMap) -> bool:
    """Whether every annotated column of the table is held as a processor."""
    held = held_for(deployment, table)
    return bool(held) and len(held) == len(table.columns)


def any_held(deployment: Deployment) -> bool:
    """Whether the data map has any column held as a processor (most deployments: none)."""
    return deployment.cached("holds as a processor", lambda: any(
        held_for(deployment, table) for table in deployment.datamap))


@dataclass
class Forwarding:
    """What a request found of the data held for one client controller."""

    controller: str
    found: dict[str, int]  # "database.table": rows
    keys: dict[str, list[Any]]  # "database.table": primary keys (for the store only)

    def to_data(self) -> dict[str, Any]:
        return {"controller": self.controller, "found": self.found}


def split(deployment: Deployment, footprint: Footprint) -> tuple[Footprint, list[Forwarding]]:
    """The footprint of the organisation's own data (tables held as a processor taken out, with the
    identities read there), and what was found per client controller."""
    if not any_held(deployment):
        return footprint, []
    found: dict[str, dict[str, int]] = defaultdict(dict)
    keys: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    apart: set[TableRef] = set()
    for ref in footprint.tables():
        table = deployment.datamap.table(ref)
        held = held_for(deployment, table)
        if not held:
            continue
        if wholly_held(deployment, table):
            apart.add(ref)
        by_controller: dict[str, list[Any]] = defaultdict(list)
        for row in footprint.rows(deployment.engines, ref, list(held)):
            for controller in sorted({c for name, names in held.items() if row.get(name) is not None
                                      for c in names}):
                by_controller[controller].append(row[table.primary_key])
        for controller, rows in by_controller.items():
            found[controller][str(ref)] = len(rows)
            keys[controller][str(ref)] = rows
    forwardings = [Forwarding(c, found[c], keys[c]) for c in sorted(found)]
    if not apart:
        return footprint, forwardings
    own = replace(footprint, keys={r: k for r, k in footprint.keys.items() if r not in apart},
                  found={r: rows for r, rows in footprint.found.items() if r not in apart},
                  proven={r: k for r, k in footprint.proven.items() if r not in apart},
                  matches={k: m for k, m in footprint.matches.items() if m.table not in apart},
                  seen={k: m for k, m in footprint.seen.items() if m.table not in apart})
    return own, forwardings


def own_corrections(deployment: Deployment, footprint: Footprint,
                    corrections: dict[str, str]) -> dict[str, str]:
    """A rectification's corrections without those that name only data held as a processor in the
    subject's rows (a data category, or ``database.table.column``): that data is rectified by its
    controller, to whom the request is forwarded. A correction that names nothing at all is kept
    (the rectification says so)."""
    own: set[str] = set()
    held: set[str] = set()
    for ref in footprint.tables():
        table = deployment.datamap.table(ref)
        held_columns = held_for(deployment, table)
        for name, column in table.columns.items():
            names = {column.category, f"{ref.database}.{ref.table}.{name}"}
            (held if name in held_columns else own).update(names)
    return {field: value for field, value in corrections.items() if field in own or field not in held}


def served(registers: Iterable[Register], name: str) -> ServedController | None:
    """The registers' entry for a client controller (the first activity naming it that gives a
    contact, else the first naming it)."""
    entries = [c for register in registers for a in register.as_processor()
               for c in a.on_behalf_of if c.name == name]
    return next((c for c in entries if c.contact is not None), entries[0] if entries else None)


def contact_text(contact: Contact | None, words: Wording) -> str | None:
    """A contact the register gives, on one line, as the documents word it (:meth:`Wording.contact`)."""
    return ", ".join(line_text(line) for line in words.contact(contact)) or None


def subject_notes(deployment: Deployment, forwardings: Iterable[Forwarding], words: Wording,
                  lang: str) -> list[dict[str, Any]]:
    """What the subject's answer says of each controller: its name and contact (register fields) in
    garde's sentence that the data is processed on its behalf and the request passed on to it."""
    texts = strings(lang)["report"]
    notes = []
    for forwarding in forwardings:
        entry = served(deployment.registers.values(), forwarding.controller)
        contact = contact_text(entry.contact if entry is not None else None, words)
        text = texts["processed_for"].format(controller=forwarding.controller)
        if contact:
            text += " " + texts["processed_for_contact"].format(contact=contact)
        notes.append({"controller": forwarding.controller, "contact": contact, "text": text})
    return notes
