"""NOT NULL columns of rows that stay: a placeholder for text, a clear refusal in the plan otherwise.

A member row stays while one of its visits stays; once its own rule has
expired its columns are masked. ``erase: delete`` masks with NULL, which a
NOT NULL column refuses: the sweep reflects the table once and writes
``expired:<database>.<table>:<key>`` into a NOT NULL text column, and
leaves a NOT NULL integer column alone, saying so in the plan — it never
stops halfway on a constraint.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import retention
from garde.datasets import DataMap, connect_datamap, load_datamap
from garde.retention.policy import registers_for
from garde.store import open_store

TODAY = date(2025, 6, 1)

REGISTER = """
controller: {name: Club}
activities:
  - id: membership
    name: Membership
    purposes: [Run the club]
    data_subjects: [customer]
    data_categories: [contact.email, marketing.loyalty]
    legal_bases: [contract]
    retention: [1 year after last_contact]
  - id: visits-log
    name: Visits
    purposes: [Keep the visits book]
    data_subjects: [customer]
    data_categories: [personal_life.preferences]
    legal_bases: [contract]
    retention: [5 years after collection]
"""

DATASET = """
database: club
url_env: GARDE_CLUB_URL
register: register.yaml
tables:
  members:
    subject: customer
    primary_key: id
    identities: {email: email}
    timestamps: {last_contact: last_contact_at}
    columns:
      email: {category: contact.email, activities: [membership], erase: delete}
      points: {category: marketing.loyalty, activities: [membership], erase: null}
      tier: {category: marketing.loyalty, activities: [membership], erase: delete}
  visits:
    subject: customer
    primary_key: id
    references: {member_id: members.id}
    timestamps: {collection: visited_at}
    columns:
      note: {category: personal_life.preferences, activities: [visits-log], erase: delete}
"""

metadata = sa.MetaData()
members = sa.Table("members", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("email", sa.String(120), nullable=False, unique=True),
                   sa.Column("points", sa.Integer, nullable=False), sa.Column("tier", sa.String(10)),
                   sa.Column("last_contact_at", sa.DateTime, nullable=False))
visits = sa.Table("visits", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
                  sa.Column("note", sa.String(100)), sa.Column("visited_at", sa.DateTime, nullable=False))


class Club:
    def __init__(self, store_url: str, folder: Path, business_url: str) -> None:
        (folder / "register.yaml").write_text(REGISTER)
        (folder / "club.yaml").write_text(DATASET)
        self.datamap: DataMap = load_datamap(folder / "club.yaml")
        self.engines = connect_datamap(self.datamap, {"club": business_url}, create=True)
        self.store = open_store(store_url)
        self.registers = registers_for(self.datamap)

    def close(self) -> None:
        for engine in (self.store, *self.engines.values()):
            engine.dispose()


@pytest.fixture
def club(database_url: str, tmp_path: Path) -> Iterator[Club]:
    business = f"sqlite:///{tmp_path / 'club.db'}" if database_url.startswith("sqlite") else database_url
    found = Club(database_url, tmp_path, business)
    engine = found.engines["club"]
    metadata.drop_all(engine)
    metadata.create_all(engine)
    old, recent = datetime(2023, 1, 10), datetime(2025, 3, 1)
    with engine.begin() as conn:
        conn.execute(members.insert(), [
            {"id": 1, "email": "a@example.com", "points": 10, "tier": "gold", "last_contact_at": old},
            {"id": 2, "email": "b@example.com", "points": 20, "tier": "gold", "last_contact_at": old},
            {"id": 3, "email": "c@example.com", "points": 30, "tier": "blue", "last_contact_at": recent},
            {"id": 4, "email": "d@example.com", "points": 40, "tier": "blue", "last_contact_at": old},
        ])
        conn.execute(visits.insert(), [
            {"id": 1, "member_id": 1, "note": "likes tea", "visited_at": recent},  # keeps member 1
            {"id": 2, "member_id": 2, "note": "window seat", "visited_at": recent},  # keeps member 2
            {"id": 3, "member_id": 3, "note": "-", "visited_at": recent},
        ])
    yield found
    found.close()


def test_not_null_columns_get_a_placeholder_or_are_refused_in_the_plan(club: Club) -> None:
    plan = retention.plan(club.store, club.datamap, club.engines, today=TODAY, registers=club.registers)
    refused = {(k["table"], k["column"]): k["why"] for k in plan.kept}
    assert list(refused) == [("club.members", "points")]
    assert "NOT NULL and not text" in refused[("club.members", "points")][0]
    step = {(s.table, s.operation): s for s in plan.steps}
    assert (step[("club.members", "delete")].today, step[("club.members", "mask")].today) == (1, 2)
    columns = {c["column"]: c for c in step[("club.members", "mask")].columns}
    assert columns["email"]["mask"] == "expired:{table}:{key}"
    assert columns["tier"]["mask"] == "delete" and columns["tier"]["mask_refused"] is None

    result = retention.sweep(club.store, club.datamap, club.engines, today=TODAY, registers=club.registers)
    assert result.affected == {"club.members:delete": 1, "club.members:mask": 2}
    with club.engines["club"].connect() as conn:
        rows = {r.id: (r.email, r.points, r.tier) for r in conn.execute(sa.select(members))}
    assert rows == {1: ("expired:club.members:1", 10, None), 2: ("expired:club.members:2", 20, None),
                    3: ("c@example.com", 30, "blue")}
    again = retention.sweep(club.store, club.datamap, club.engines, today=TODAY, registers=club.registers)
    assert again.total() == 0
