"""Where a person's values are left: every table of a store and every file under a folder, searched
for each value in every spelling garde writes it in. A test says where a value may stay (and why:
the law's article) and asserts it is found nowhere else.

    found = leftovers(engine, [folder], spellings({"email": ana, "phone": "+33612345678"}))
    assert found == [], found
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import sqlalchemy as sa


@dataclass(frozen=True)
class Leftover:
    value: str  # the kind of value ("email", "name"...) found
    where: str  # "table.column" or a file's path (and its zip member)

    def __str__(self) -> str:
        return f"{self.value} in {self.where}"


def spellings(values: Mapping[str, str]) -> dict[str, set[str]]:
    """Each value (by what it is) in every form garde may write it: as given, lowercased, its e-mail
    domain in punycode, a phone number in E.164 and without its '+', JSON-escaped (ASCII), URL-encoded
    and in base64 (a mail's body)."""
    found: dict[str, set[str]] = {}
    for what, value in values.items():
        forms = {value, value.lower(), value.casefold()}
        if "@" in value:
            local, _, domain = value.rpartition("@")
            forms.add(f"{local}@{domain.encode('idna').decode('ascii')}".lower())
        try:
            number = phonenumbers.parse(value, "FR")
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            forms |= {e164, e164.lstrip("+")}
        except phonenumbers.NumberParseException:
            pass
        for form in list(forms):
            forms.add(json.dumps(form)[1:-1])
            forms.add(urllib.parse.quote(form))
            forms.add(base64.b64encode(form.encode()).decode("ascii"))
        found[what] = {form for form in forms if len(form) >= 4}  # a shorter one matches by chance
    return found


def in_store(engine: sa.Engine, values: Mapping[str, set[str]],
             allowed: Iterable[tuple[str, str]] = ()) -> list[Leftover]:
    """Every column of every table of the store (procrastinate's and Alembic's too) holding one of
    ``values``' spellings, casefolded, except the (value kind, ``table.column``) pairs ``allowed``."""
    excused = set(allowed)
    found: list[Leftover] = []
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        for table in sorted(names):
            result = conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, cell in zip(columns, row, strict=True):
                    text = _text(cell).casefold()
                    for what in _held(text, values):
                        if (what, f"{table}.{column}") not in excused:
                            found.append(Leftover(what, f"{table}.{column}"))
    return sorted(set(found), key=str)


def in_files(folders: Iterable[Path], values: Mapping[str, set[str]],
             allowed: Iterable[tuple[str, str]] = (), skip: Iterable[Path] = ()) -> list[Leftover]:
    """Every file under ``folders`` (and every member of a zip among them) whose bytes hold one of
    ``values``' spellings, except the (value kind, file name) pairs ``allowed`` and the files or
    folders in ``skip`` (the business databases, say)."""
    excused = set(allowed)
    skipped = [path.resolve() for path in skip]
    found: list[Leftover] = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            if any(path.resolve() == s or s in path.resolve().parents for s in skipped):
                continue
            for where, data in _contents(path):
                for what in _held(data.decode("utf-8", "replace").casefold(), values):
                    if (what, path.name) not in excused:
                        found.append(Leftover(what, str(where)))
    return sorted(set(found), key=str)


def owner_only(folders: Iterable[Path]) -> list[str]:
    """Every file under ``folders`` others may read or write, and every folder they may enter."""
    loose = []
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            if path.is_symlink():
                continue
            bits = os.stat(path).st_mode & 0o077
            if bits:
                loose.append(f"{path} {oct(os.stat(path).st_mode & 0o777)}")
    return loose


def _held(text: str, values: Mapping[str, set[str]]) -> set[str]:
    """The kinds of ``values`` found in ``text`` (casefolded), each on its own: a name found only
    inside the e-mail address that spells it (``ana.lopez@…``) is the address, not the name."""
    found = set()
    for what, forms in values.items():
        rest = text
        for other, longer in values.items():
            if other != what:
                for form in sorted(longer, key=len, reverse=True):
                    if any(f.casefold() in form.casefold() for f in forms):
                        rest = rest.replace(form.casefold(), " ")
        if any(form.casefold() in rest for form in forms):
            found.add(what)
    return found


def _contents(path: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    found = [(str(path), data)]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            found += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
    return found


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bytes | bytearray | memoryview):
        return bytes(cell).decode("utf-8", "replace")
    if isinstance(cell, dict | list):
        return json.dumps(cell, ensure_ascii=False) + json.dumps(cell)
    return str(cell)
