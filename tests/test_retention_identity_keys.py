"""A retention sweep of a table keyed by an identity keeps no swept address in clear.

Red team of 2026-12-07 (red30). A data map may key a table by an identity (a newsletter list whose
primary key is the address). A sweep journals the keys of each batch it deletes or masks
(``retention_batches.keys``, to resume a run) and audits the batch with its first and last key
(``retention.batch``: ``first_key``, ``last_key``). So the addresses of people whose data was swept
because it was due stayed in clear in garde's store for ever: in the journal, and in an append-only,
sealed log an ``auditor`` key reads (`GET /api/v1/audit/export`). The erasure's records were fixed
for the same tables (``tests/test_erasure_identity_keys.py``); the sweep's were not. Now the audit
entry holds such keys as keyed digests, and the journal once the run is finished (a run still going
needs them to resume). Seen failing on SQLite before the fix; PostgreSQL sweeps this table by pages
(``ctid``), which journal no key, and is checked too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import retention
from garde.datasets import load_datamap
from garde.rights.deployment import Deployment
from tests.leftovers import in_store, spellings
from tests.test_erasure_identity_keys import letters_list

ANA, BOB = "ana.swept@example.org", "bob.swept@example.org"


@pytest.fixture
def letters(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The erasure test's newsletter list keyed by the address, subscribed in 2020, last contacted
    then: due for deletion by 2026 (the register's "3 years after last_contact")."""
    timestamps = "collection: subscribed_at, last_contact: subscribed_at"
    with letters_list(engine, tmp_path, request, (ANA, BOB), timestamps=timestamps,
                      subscribed="2020-01-01") as deployment:
        yield deployment


def test_a_sweep_keeps_no_swept_identity_key_in_clear(engine: sa.Engine, letters: Deployment,
                                                      tmp_path: Path) -> None:
    datamap = load_datamap(tmp_path / "datasets")
    swept = retention.sweep(engine, datamap, letters.engines, today=date(2026, 12, 7))
    with letters.engines["letters"].connect() as conn:
        assert list(conn.execute(sa.text("SELECT email FROM subscribers")).scalars()) == []
    assert swept is not None
    left = in_store(engine, spellings({"email": ANA}) | spellings({"email_bob": BOB}))
    assert left == [], "\n".join(map(str, left))
    with engine.connect() as conn:
        audited = [json.loads(p) for p in conn.execute(sa.text(
            "SELECT payload FROM audit_log WHERE kind = 'retention.batch'")).scalars()]
    assert audited and all(set(entry.get("last_key", {"hmac_sha256": ""})) == {"hmac_sha256"}
                           for entry in audited)


def test_a_batchs_digest_of_its_keys_cannot_be_recomputed_from_a_guessed_address(
        engine: sa.Engine, letters: Deployment, tmp_path: Path) -> None:
    """Red team of 2026-12-08 (red31, low). Beside the sealed first and last key, ``retention.batch``
    kept ``keys_sha256``: a plain SHA-256 of the batch's keys as journalled. A batch of one address (a
    daily sweep of a newsletter list lets a few go at a time) was confirmed offline by whoever reads
    the log (an ``auditor`` key) from a list of guessed addresses. For a table keyed by an identity the
    digest is now keyed (``keys_hmac_sha256``, under the store's identifier data key)."""
    import hashlib

    from garde.retention.journal import keys_json

    datamap = load_datamap(tmp_path / "datasets")
    retention.sweep(engine, datamap, letters.engines, today=date(2026, 12, 7), batch_size=1)
    with engine.connect() as conn:
        audited = [json.loads(p) for p in conn.execute(sa.text(
            "SELECT payload FROM audit_log WHERE kind = 'retention.batch'")).scalars()]
    guesses = {hashlib.sha256(keys_json(keys).encode()).hexdigest() for keys in ([ANA], [BOB], [ANA, BOB])}
    assert audited
    assert not [entry for entry in audited if guesses & {str(v) for v in entry.values()}], audited
