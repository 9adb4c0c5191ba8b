"""Answers of the API that carry personal data are kept by no cache and read as what they say.

A subject's requests, consents and answer files, and staff's view of a request, travel as JSON or
as files: a shared cache (a company proxy, a CDN in front of ``garde serve``) or the browser's
disk cache must not keep them (``Cache-Control: no-store``), and no browser may sniff them into
HTML (``X-Content-Type-Options: nosniff``). An answer file downloaded by its subject is as
sandboxed as one downloaded by staff (``Content-Security-Policy: sandbox``).
"""

from __future__ import annotations

import pytest
from httpx import Headers

from tests.api_support import bearer, subject_token
from tests.subjects_support import ME, World


def _private(headers: Headers, where: str) -> None:
    assert headers.get("cache-control") == "no-store", where
    assert headers.get("x-content-type-options") == "nosniff", where


@pytest.mark.parametrize("subjects_app", ["sqlite"], indirect=True)
def test_a_subjects_answers_and_files_are_never_cached_nor_sniffed(subjects: World) -> None:
    bea = bearer(subject_token(subjects.client, subjects.bea, subjects.outbox))
    for path in (f"{ME}/requests", f"{ME}/requests/{subjects.requests[subjects.bea][0]}", f"{ME}/consents",
                 f"{ME}/files"):
        answer = subjects.client.get(path, headers=bea)
        assert answer.status_code == 200, answer.text
        _private(answer.headers, path)
    for request_id, name in subjects.files[subjects.bea]:
        download = subjects.client.get(f"{ME}/requests/{request_id}/files/{name}", headers=bea)
        assert download.status_code == 200
        _private(download.headers, name)
        assert download.headers["content-security-policy"] == "sandbox"
        assert download.headers["content-disposition"].startswith("attachment")
    staff = bearer(subjects.keys["agent"])
    for path in (f"/api/v1/requests/{subjects.requests[subjects.bea][0]}", "/api/v1/requests"):
        answer = subjects.client.get(path, headers=staff)
        assert answer.status_code == 200, answer.text
        _private(answer.headers, path)
    refused = subjects.client.get(f"{ME}/requests", headers=bearer("gs_nothing"))
    assert refused.status_code == 401
    _private(refused.headers, "a refusal")
