"""``/dpo/jobs``: the queue, read-only, for a DPO's session only; never a job's arguments."""

from __future__ import annotations

from pathlib import Path

from garde.jobs import submit
from garde.jobs.builtin import ping
from garde.store import open_store
from tests.api_support import bearer
from tests.web_support import log_in, web_client


def test_the_jobs_page_lists_the_queue_to_a_dpo_only(database_url: str, tmp_path: Path) -> None:
    with web_client(database_url, tmp_path) as (client, keys):
        store = open_store(database_url)
        try:
            submitted = submit(store, ping, {"message": "secret-argument"})
        finally:
            store.dispose()
        for who in ({}, bearer(keys["dpo"]), bearer(keys["auditor"])):  # no session: the login form
            answer = client.get("/dpo/jobs", headers=who, follow_redirects=False)
            assert (answer.status_code, answer.headers["location"]) == (303, "/dpo/login")
        log_in(client, keys["dpo"])
        page = client.get("/dpo/jobs?lang=en")
        assert page.status_code == 200
        assert "secret-argument" not in page.text  # arguments may name a request: not on this page
        if submitted.queued:
            assert f'<tr class="todo"><th scope="row">{submitted.job_id}</th><td><code>garde.ping</code>' \
                in page.text
        else:
            assert "there is no job queue" in page.text
        assert 'href="/dpo/jobs" aria-current="page"' in page.text
