"""The batches' subject index cannot be rewritten so that `garde audit verify` passes (red27).

Red team of 2026-12-07 (red27). An access answer reads a subject's entries in decision batches
through an index (PostgreSQL: ``audit_batch_subjects``; SQLite: the subject runs): an index row
deleted hides an entry from the subject's answer. ``garde audit verify`` checks the index against
the batches it decodes by a count and a sum of 64-bit fingerprints, one per (seq, subject) pair.
Those fingerprints were an unkeyed hash: someone who can write the store (whom the check is
against) deleted a subject's rows and added as many made-up rows whose fingerprints summed to the
same value (Wagner's generalised birthday: 16 lists of 2^14 candidates, a second of CPU), and the
log verified. The fingerprints are now keyed with a secret drawn by each verification.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from hashlib import blake2b

import sqlalchemy as sa

from garde import audit
from garde.audit.batch_reading import subject_entries
from garde.rights import submit, verify_out_of_band
from garde.rights.held import garde_held

HEAD, TAIL = '{"activity":"newsletter","allowed":true,"at":', ',"reasons":["consent"]}'
MASK = (1 << 64) - 1
WIDTH = 14  # bits cleared at each level of the tree; each list holds 2**WIDTH candidates
LISTS = 16  # four levels: 14, 14, 14 bits cleared, then the last 22 from 2**28 pairs (≈ 64 solutions)


def _unkeyed(seq: int, subject: str) -> int:
    """The fingerprint the verification summed, as an attacker computes it (no secret in it)."""
    return int.from_bytes(blake2b(f"{seq}\0{subject}".encode(), digest_size=8).digest(), "little")


Trail = tuple[int, ...]


def _join(left: list[tuple[int, Trail]], right: list[tuple[int, Trail]], shift: int,
          last: bool) -> list[tuple[int, Trail]]:
    """The sums of a pair, one from each list, whose bits ``shift`` to ``shift + WIDTH`` are zero (all
    of them, ``last``); the bits below ``shift`` are zero in both already, so no carry comes in."""
    mask = (1 << ((64 - shift) if last else WIDTH)) - 1
    by_part: dict[int, list[tuple[int, Trail]]] = {}
    for value, trail in right:
        by_part.setdefault((value >> shift) & mask, []).append((value, trail))
    joined = []
    for value, trail in left:
        wanted = (-(value >> shift)) & mask
        for other, other_trail in by_part.get(wanted, ()):
            joined.append(((value + other) & MASK, trail + other_trail))
    return joined


def forged_rows(removed: list[tuple[int, str]], seqs: list[int],
                fingerprint: Callable[[int, str], int] = _unkeyed) -> list[tuple[int, str]]:
    """``len(seqs)`` (seq, made-up subject) pairs whose fingerprints sum to the sum of ``removed``'s."""
    assert len(seqs) == LISTS
    target = sum(fingerprint(seq, subject) for seq, subject in removed) & MASK
    for attempt in range(8):
        names = [[f"x{attempt}-{i}-{n}" for n in range(1 << WIDTH)] for i in range(LISTS)]
        level = [[((fingerprint(seqs[i], name) - (target if i == 0 else 0)) & MASK, (n,))
                  for n, name in enumerate(names[i])] for i in range(LISTS)]
        shift = 0
        while len(level) > 1:
            last = len(level) == 2
            level = [_join(level[k], level[k + 1], shift, last) for k in range(0, len(level), 2)]
            shift += WIDTH
        if level[0]:
            trail = level[0][0][1]
            return [(seqs[i], names[i][trail[i]]) for i in range(LISTS)]
    raise AssertionError("no forgery found")


def _append(conn: sa.Connection, subject: str | None, count: int) -> None:
    items = [("decision", (HEAD, 1_765_000_000.0 + n * 0.001, TAIL), subject, "garde") for n in range(count)]
    audit._append(conn, items, None, batched=True)


def test_the_batch_index_rewritten_with_fingerprints_summing_alike_fails_verification(
        engine: sa.Engine) -> None:
    victim = str(uuid.uuid4())
    with engine.begin() as conn:
        audit._append(conn, [("register.changed", {"v": 1}, None, "garde")], None)
        _append(conn, victim, LISTS)
        for _ in range(2):  # SQLite: the victim's entries inside the subject runs (past the frontier they
            _append(conn, str(uuid.uuid4()), 1100)  # are decoded from the bodies, not read by the index)
    with engine.connect() as conn:
        assert audit.verify(conn).ok
        seqs = [int(e["seq"]) for e in subject_entries(conn, victim)]
    assert len(seqs) == LISTS
    removed = [(seq, victim) for seq in seqs]
    forged = forged_rows(removed, seqs)
    assert sum(_unkeyed(*pair) for pair in forged) & MASK == sum(_unkeyed(*pair) for pair in removed) & MASK
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            run = conn.execute(sa.text("SELECT run FROM audit_subject_runs WHERE subject_id = :s LIMIT 1"),
                               {"s": victim}).scalar_one()
            conn.execute(sa.text("DELETE FROM audit_subject_runs WHERE subject_id = :s"), {"s": victim})
            conn.execute(sa.text("INSERT INTO audit_subject_runs (run, subject_id, seq) VALUES (:r, :s, :q)"),
                         [{"r": run, "s": subject, "q": seq} for seq, subject in forged])
        else:
            conn.execute(sa.text("DELETE FROM audit_batch_subjects WHERE subject_id = :s"), {"s": victim})
            conn.execute(sa.text("INSERT INTO audit_batch_subjects (subject_id, seq) VALUES (:s, :q)"),
                         [{"s": subject, "q": seq} for seq, subject in forged])
    with engine.connect() as conn:
        assert subject_entries(conn, victim) == []  # hidden from the victim's access answer
        result = audit.verify(conn)
    assert not result.ok and "access answer would miss" in str(result.reason)


def test_an_index_row_naming_someone_else_never_shows_their_entry_in_an_access_answer(
        engine: sa.Engine) -> None:
    """An index row added with the requester's subject at another subject's entry (the store written
    around garde) showed that entry in the requester's access answer until the next verification: the
    entry cut out of its batch must name the subject the index gave."""
    victim, mallory = str(uuid.uuid4()), f"mallory-{uuid.uuid4().hex[:8]}@example.com"
    with engine.begin() as conn:
        hers = submit(conn, "access", {"email": mallory}, actor="test")
        hers = verify_out_of_band(conn, hers.id, "id card", actor="agent:test", identities=["email"])
        _append(conn, victim, 3)
        for _ in range(2):  # SQLite: inside the subject runs
            _append(conn, str(uuid.uuid4()), 1100)
    assert hers.subject_id is not None
    with engine.connect() as conn:
        seq = int(subject_entries(conn, victim)[0]["seq"])
        before = garde_held(conn, hers, {"email": [mallory]})["audit"]
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            run = conn.execute(sa.text("SELECT run FROM audit_subject_runs WHERE subject_id = :s LIMIT 1"),
                               {"s": victim}).scalar_one()
            conn.execute(sa.text("INSERT INTO audit_subject_runs (run, subject_id, seq) VALUES (:r, :s, :q)"),
                         {"r": run, "s": hers.subject_id, "q": seq})
        else:
            conn.execute(sa.text("INSERT INTO audit_batch_subjects (subject_id, seq) VALUES (:s, :q)"),
                         {"s": hers.subject_id, "q": seq})
    with engine.connect() as conn:
        assert subject_entries(conn, hers.subject_id) == []
        assert [e for e in audit.entries(conn, subject_id=hers.subject_id) if e["seq"] == seq] == []
        assert garde_held(conn, hers, {"email": [mallory]})["audit"] == before
        assert not audit.verify(conn).ok  # and the next verification says the index was altered
