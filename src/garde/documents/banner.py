"""The cookie banner's configuration: what ``banner.js`` shows, read from the register.

One category per ``cookie.*`` channel of the register's trackers (:func:`garde.register.banner_view`):
its label, the purposes of its trackers, the activities they serve (what a choice is recorded
against in the consent ledger), and each tracker's provider and lifetime. The texts are in the
page's language where the register has them, else as written, marked untranslated as the notice
marks them; each passage carries its language (``{"text", "lang"}``) so the page can say so (WCAG 3.1.2).

``version`` changes when what the banner asks about changes (the register's trackers, the choice's
lifetime): a browser that remembers a choice made under another version asks again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from garde.documents.notice import notice_version
from garde.documents.notice_layout import finisher
from garde.documents.trackers import lifetime_line, provider_line
from garde.documents.wording import Line, Wording
from garde.register.banner import banner_view
from garde.register.model import Register

UI = ("title", "intro", "accept_all", "refuse_all", "customise", "save", "close", "necessary", "choice",
      "trackers", "reopen", "saved")
MAX_CATEGORIES = 32  # the vocabulary has five cookie categories; a choice naming more is not a banner's


def banner_version(register: Register, months: int) -> str:
    """The version of what the banner asks: a hash of the register's trackers and the choice's lifetime."""
    trackers = [t.model_dump(mode="json") for t in register.trackers]
    canonical = json.dumps({"trackers": trackers, "months": months}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def consent_categories(register: Register) -> dict[str, tuple[str, ...]]:
    """Each category the banner asks about (a ``cookie.*`` channel) and the register's activities its
    trackers serve: a choice on the category is recorded on each of them."""
    known = {a.id for a in register.activities}
    out: dict[str, tuple[str, ...]] = {}
    for category in banner_view(register).needing_consent():
        if category.id is None:
            continue  # no channel to record it on: lint GL077 asks the register for one
        served = [t.activity for t in register.trackers
                  if t.category == category.id and t.needs_consent and t.activity in known]
        out[category.id] = tuple(dict.fromkeys(a for a in served if a))
    return out


def banner_config(register: Register, register_id: str, lang: str, months: int) -> dict[str, Any]:
    """What the banner shows in ``lang`` (fr, en, it), as JSON data."""
    words = Wording.for_register(register, lang)
    finish = finisher(words)
    activities = consent_categories(register)
    categories = []
    for category in banner_view(register, lang).categories:
        trackers = [t for t in register.trackers
                    if t.category == category.id and t.needs_consent == category.needs_consent]
        said = (words.text(t.purpose) for t in trackers)
        shown = dict.fromkeys(p for p in said if p and p.text.strip())
        purposes = [_passages(finish((piece,))) for piece in shown]
        label = (words.term("channels", category.id),) if category.id else (words.gap("tracker_category"),)
        categories.append({
            "id": category.id, "choice": category.needs_consent and category.id is not None,
            "label": _passages(label), "purposes": purposes,
            "activities": list(activities.get(category.id or "", ())),
            "trackers": [{"name": t.name, "provider": _passages(finish(provider_line(register, t, words))),
                          "lifetime": _passages(lifetime_line(t, words))} for t in trackers],
        })
    return {
        "register": register_id, "lang": lang, "version": banner_version(register, months),
        "notice_version": notice_version(register, lang), "months": months,
        "texts": {key: words.ui(f"banner.{key}") for key in UI}
        | {key: words.ui(f"trackers.column.{key}") for key in ("provider", "lifetime", "purpose")},
        "categories": categories,
    }


def _passages(line: Line) -> list[dict[str, str]]:
    """A line as passages of one language each (neighbours in the same language joined)."""
    out: list[dict[str, str]] = []
    for piece in line:
        if out and out[-1]["lang"] == piece.lang:
            out[-1]["text"] += piece.text
        else:
            out.append({"text": piece.text, "lang": piece.lang})
    return out
