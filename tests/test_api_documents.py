"""``/registers/{id}/documents``: what a register publishes, each with its content type, by a
name from a fixed list (no path a caller sends reaches the file system)."""

from __future__ import annotations

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
