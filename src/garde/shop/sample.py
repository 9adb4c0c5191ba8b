"""A few of the reference shop's customers, to try requests and decisions on people who exist.

The shop is synthetic (Faker), so printing some of its customers discloses
nobody; the command reads the shop database with the operator's own access,
as any SQL client would.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from garde.shop.schema import customers


@dataclass(frozen=True)
class SampleCustomer:
    customer_id: str
    email: str | None
    phone: str | None

    def to_data(self) -> dict[str, str | None]:
        return {"customer_id": self.customer_id, "email": self.email, "phone": self.phone}


def sample_customers(engine: sa.Engine, count: int = 5) -> list[SampleCustomer]:
    """The first ``count`` customers with an e-mail address, in id order (the same for the same seed)."""
    query = (sa.select(customers.c.customer_number, customers.c.email, customers.c.phone)
             .where(customers.c.email.is_not(None)).order_by(customers.c.id).limit(count))
    with engine.connect() as conn:
        return [SampleCustomer(number, email, phone) for number, email, phone in conn.execute(query)]
