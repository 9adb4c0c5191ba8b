"""A shop register whose banner asks about two categories (the repository's registers ask about one),
and what the ledger holds, for the cookie banner's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from garde.consent import consent_events
from garde.store import connect
from garde.subjects import subject_identifiers
from tests.conftest import REGISTERS

REGISTER_ID = "banner-shop"
ASKED = ("cookie.analytics", "cookie.advertising")


def banner_register(folder: Path) -> Path:
    """The reference shop's register plus an advertising activity and its third-party tracker."""
    data = yaml.safe_load((REGISTERS / "reference-shop.yaml").read_text(encoding="utf-8"))
    audience = next(a for a in data["activities"] if a["id"] == "web-audience")
    data["activities"].append({
        **audience, "id": "web-advertising", "channels": ["cookie.advertising"],
        "name": {"en": "Targeted advertising", "fr": "Publicité ciblée", "it": "Pubblicità mirata"},
        "purposes": [{"en": "Show ads that match the visitor's interests",
                      "fr": "Afficher des publicités selon les centres d'intérêt du visiteur",
                      "it": "Mostrare annunci secondo gli interessi del visitatore"}]})
    data["trackers"].append({
        "name": "me_ads", "provider": {"party": "third", "name": "Ad Network SA"},
        "purpose": {"en": "Show ads that match the visitor's interests",
                    "fr": "Afficher des publicités selon les centres d'intérêt du visiteur",
                    "it": "Mostrare annunci secondo gli interessi del visitatore"},
        "activity": "web-advertising", "lifetime": "6 months", "strictly_necessary": False,
        "category": "cookie.advertising"})
    path = folder / f"{REGISTER_ID}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ledger(url: str) -> list[dict[str, Any]]:
    """The consent events, in order, with the kind of identity of their subject."""
    engine = connect(url)
    with engine.connect() as conn:
        e, i = consent_events.c, subject_identifiers.c
        rows = conn.execute(sa.select(e.activity, e.channel, e.action, e.method, e.notice_version, e.at,
                                      e.expires_at, e.actor, i.kind.label("identity"))
                            .join_from(consent_events, subject_identifiers, e.subject_id == i.subject_id)
                            .order_by(e.id)).mappings().all()
    engine.dispose()
    return [dict(row) for row in rows]
