"""``/registers/{id}/documents``: what a register publishes, each with its content type, by a
name from a fixed list (no path a caller sends reaches the file system)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

from garde.documents import export_register
from garde.register import load_register
from tests.api_support import REGISTER, api_client, bearer


def test_a_register_lists_and_serves_its_documents(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        auditor = bearer(keys["auditor"])
        listed = client.get("/api/v1/registers/reference-shop/documents", headers=auditor)
        assert listed.status_code == 200, listed.text
        names = [d["name"] for d in listed.json()]
        # its Art. 30 register in its own language, its notice in each language it publishes in
        assert names == ["register-en.xlsx", "register-en.html", "register-en.csv", "register-en.json",
                         "register-en.md", "notice-fr.html", "notice-en.html", "notice-it.html"]
        types = {}
        for name in names:
            answer = client.get(f"/api/v1/registers/reference-shop/documents/{name}", headers=auditor)
            assert answer.status_code == 200, (name, answer.text)
            types[name.rsplit(".", 1)[1]] = answer.headers["content-type"]
            if name == "register-en.csv":
                assert answer.content == export_register(load_register(REGISTER), "csv", "en")
            if name == "notice-it.html":
                assert answer.text.lstrip().lower().startswith("<!doctype html")
                assert 'lang="it"' in answer.text
            if name == "register-en.xlsx":
                assert answer.content[:2] == b"PK"
        assert types == {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
                         "json": "application/json", "md": "text/markdown; charset=utf-8"}


def test_only_the_listed_names_are_served(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        dpo = bearer(keys["dpo"])
        for name in ("notice-de.html", "register-fr.csv", "register-en.exe", "lint.sarif", "%2e%2e",
                     "reference-shop.yaml", quote("../../registers/reference-shop.yaml", safe=""),
                     quote("/etc/passwd", safe=""), "register-en.csv%00.html"):
            answer = client.get(f"/api/v1/registers/reference-shop/documents/{name}", headers=dpo)
            assert answer.status_code in (404, 422), (name, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"
            assert "root:" not in answer.text and "controller:" not in answer.text
        hinted = client.get("/api/v1/registers/reference-shop/documents/register-en.cvs", headers=dpo)
        assert hinted.status_code == 404 and "register-en.csv" in hinted.json()["detail"]
        assert client.get("/api/v1/registers/nowhere/documents", headers=dpo).status_code == 404
        assert client.get("/api/v1/registers/reference-shop/documents/register-en.csv",
                          headers=bearer(keys["service"])).status_code == 403


def test_a_register_file_named_in_any_script_serves_its_documents_sandboxed(tmp_path: Path) -> None:
    """A register's id is its file's name: one outside Latin-1 (``registre-注册.yaml``) made the
    ``Content-Disposition`` header unencodable, a 500 for every document; a quote in it (``a"b``)
    ended the header's file name early. Now the name is given ASCII-only, with the full name as
    RFC 6266's ``filename*``; and an HTML document, served inline, is sandboxed like answer files."""
    for register_id in ("registre-注册", 'a"b;c'):
        folder = tmp_path / str(len(register_id))
        folder.mkdir()
        shutil.copy(REGISTER, folder / f"{register_id}.yaml")
        with api_client(f"sqlite:///{folder / 'store.db'}", registers=folder) as (client, keys):
            for name in ("register-en.xlsx", "notice-en.html"):
                answer = client.get(f"/api/v1/registers/{quote(register_id)}/documents/{name}",
                                    headers=bearer(keys["auditor"]))
                assert answer.status_code == 200, answer.text
                disposition = answer.headers["content-disposition"]
                plain = disposition.split("filename=", 1)[1].split(";")[0]
                assert re.fullmatch(r'"[A-Za-z0-9._-]+"', plain), disposition
                assert f"filename*=utf-8''{quote(register_id + '-' + name)}" in disposition
                assert answer.headers["content-security-policy"] == "sandbox"
