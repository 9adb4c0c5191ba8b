"""Consent renewal: the consents that lapse soon, and those lapsed that nobody renewed, to ask again.

A consent given lasts until the first of:

- its own expiry, recorded with it (the cookie banner's lifetime, an import's column);
- its activity's ``consent.expiry`` in the register (the purpose's renewal period);
- the ``consent_renewal_periods`` setting for its channel (``email``, or ``cookie`` for every
  ``cookie.*`` channel): the period a shop chose for a kind of consent;
- for a cookie or tracker channel (``cookie.*``), ``cookie_consent_months``: at most 13 months
  (CNIL délibérations 2020-091 and 2020-092, the reference lifetime of a tracker consent).

The list names each consent whose deciding event (:func:`garde.consent.state.deciding_event`) is a
consent that lapses within ``within`` days of ``today``, either way: ``lapsing`` when that is still
ahead, ``lapsed`` when it passed and the subject has not renewed, withdrawn or refused since. A
consent lapsed longer ago is no longer listed: run daily, each one is on the lists of the
``within`` days before it lapses and of the ``within`` days after, and the list does not grow
with every visitor who never came back. It carries
garde's subject id and the subject's kind, never an identity: the shop reaches the person through
its own records (docs/consent.md, "Renewing consents"). Reading it is audited
(``consent.renewals_listed``, with the count), as every export of consents is; it changes nothing,
so running it twice gives the same list.

The settings' periods are stricter than ``decide()``, which applies only a consent's own expiry and
its activity's: a consent this list calls ``lapsed`` only by a setting's period is still ``given``
to ``decide()`` until the shop records it renewed or withdrawn.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

import sqlalchemy as sa

from garde import audit
from garde.consent.ledger import consent_events
from garde.consent.state import ConsentEvent, as_utc, deciding_event
from garde.decide.model import DecisionModel
from garde.documents.spreadsheet import CsvWriter
from garde.periods import Period
from garde.private_files import open_private
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.subjects import now, subjects

COOKIE = "cookie"
BATCH = 500  # subjects whose events are read in one query
COLUMNS = ("subject_id", "subject_kind", "activity", "channel", "given_at", "lapses_on", "days_left",
           "status", "limit")


@dataclass(frozen=True)
class Renewal:
    """One consent to renew: ``days_left`` negative once it has lapsed."""

    subject_id: str
    subject_kind: str | None
    activity: str
    channel: str | None
    given_at: datetime
    lapses_at: datetime
    days_left: int
    limit: str  # what sets the lapse: "its own expiry", "activity consent.expiry (13 months)"...

    @property
    def status(self) -> Literal["lapsing", "lapsed"]:
        return "lapsed" if self.days_left < 0 else "lapsing"

    def row(self) -> list[Any]:
        return [self.subject_id, self.subject_kind or "", self.activity, self.channel or "",
                self.given_at.isoformat(), self.lapses_at.date().isoformat(), self.days_left, self.status,
                self.limit]

    def to_data(self) -> dict[str, Any]:
        return dict(zip(COLUMNS, [self.subject_id, self.subject_kind, self.activity, self.channel,
                                  self.given_at.isoformat(), self.lapses_at.date().isoformat(),
                                  self.days_left, self.status, self.limit], strict=True))


@dataclass(frozen=True)
class Renewals:
    """The renewal list of ``day``: consents lapsing within ``within_days`` days, or lapsed within the
    last ``within_days`` days and not renewed."""

    day: date
    within_days: int
    consents: tuple[Renewal, ...]
    output: Path | None = None  # the file the list was written to

    def to_data(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "within_days": self.within_days,
                "lapsing": sum(r.status == "lapsing" for r in self.consents),
                "lapsed": sum(r.status == "lapsed" for r in self.consents),
                "consents": [r.to_data() for r in self.consents],
                "output": None if self.output is None else str(self.output)}


@dataclass(frozen=True)
class Limits:
    """The renewal periods that apply: per activity (the register), per channel (settings), cookies."""

    activities: Mapping[str, Period | None]
    channels: Mapping[str, Period]
    cookie: Period

    def lapse(self, event: ConsentEvent) -> tuple[datetime, str] | None:
        """When the consent ``event`` gave lapses, and what sets it; None when nothing limits it."""
        given = as_utc(event.at)
        found: list[tuple[datetime, str]] = []
        if event.expires_at is not None:
            found.append((as_utc(event.expires_at), "its own expiry"))
        period = self.activities.get(event.activity)
        if period is not None:
            found.append((period.after(given), f"activity consent.expiry ({period})"))
        channel = event.channel or ""
        for key in (channel, channel.split(".")[0]) if channel else ():
            if key in self.channels:
                found.append((self.channels[key].after(given), f"consent_renewal_periods[{key}] "
                                                               f"({self.channels[key]})"))
                break
        if channel.startswith(f"{COOKIE}."):
            found.append((self.cookie.after(given), f"cookie_consent_months ({self.cookie})"))
        return min(found, key=lambda item: item[0]) if found else None

    def earliest_start(self, horizon: datetime) -> datetime | None:
        """The latest moment a consent may have been given and still lapse before ``horizon`` under
        some period (None: no period applies, only consents' own expiries)."""
        periods = [p for p in self.activities.values() if p is not None] + [*self.channels.values(),
                                                                            self.cookie]
        return max(p.before(horizon) for p in periods) if periods else None


def limits(settings: Settings, model: DecisionModel | None) -> Limits:
    channels = {key: Period.parse(text) for key, text in settings.consent_renewal_periods.items()}
    return Limits(dict(model.validity()) if model is not None else {}, channels,
                  Period(settings.cookie_consent_months, "month"))


def renewals(store: sa.Engine, settings: Settings | None = None, *, today: date | None = None,
             within: int | None = None, model: DecisionModel | None = None, output: Path | None = None,
             actor: str = "garde") -> Renewals:
    """The consents lapsing on or before ``today`` + ``within`` days (default: the
    ``consent_renewal_days`` setting), and those lapsed within as many days before it and not renewed,
    by lapse date; audited. Written to ``output`` (default: the ``consent_renewal_file`` setting, if
    set) as :func:`write_list` does, before the audit entry commits."""
    settings = settings or get_settings()
    today = today or now().date()
    within = settings.consent_renewal_days if within is None else within
    if within < 0:
        raise GardeError(f"--within {within}: expected 0 days or more")
    if model is None and settings.registers.exists():
        model = DecisionModel.load(settings.registers)
    rules = limits(settings, model)
    window = (datetime.combine(today - timedelta(days=within), time(), UTC),  # lapses on or after it
              datetime.combine(today + timedelta(days=within + 1), time(), UTC))  # and before it
    target = output or settings.consent_renewal_file
    with store.begin() as conn:
        found = sorted(_renewals(conn, rules, window, today),
                       key=lambda r: (r.lapses_at, r.subject_id, r.activity, r.channel or ""))
        listed = Renewals(today, within, tuple(found), target)
        if target is not None:
            write_list(target, listed)
        audit.record(conn, "consent.renewals_listed", {"day": today.isoformat(), "within_days": within,
                                                      "count": len(found), "written": target is not None},
                     actor=actor)
    return listed


def _renewals(conn: sa.Connection, rules: Limits, window: tuple[datetime, datetime],
              today: date) -> Iterator[Renewal]:
    floor, horizon = window
    for batch in _batches(_candidates(conn, rules, floor, horizon)):
        query = sa.select(subjects.c.id, subjects.c.kind).where(subjects.c.id.in_(batch))
        kinds = {row.id: row.kind for row in conn.execute(query)}
        for subject_id, events in _events(conn, batch).items():
            for event in _deciding(events):
                lapse = rules.lapse(event)
                if lapse is not None and floor <= lapse[0] < horizon:
                    yield Renewal(subject_id, kinds.get(subject_id), event.activity, event.channel,
                                  as_utc(event.at), lapse[0], (lapse[0].date() - today).days, lapse[1])


def _candidates(conn: sa.Connection, rules: Limits, floor: datetime, horizon: datetime) -> list[str]:
    """Subjects with a consent given that may lapse between ``floor`` and ``horizon``: its own expiry
    is before ``horizon``, or it was given early enough for some period to end before it; and its
    own expiry, if any, is not before ``floor`` (the lapse is never later than it). A superset:
    the fold decides."""
    e = consent_events.c
    may_lapse = [e.expires_at < horizon]
    start = rules.earliest_start(horizon)
    if start is not None:
        may_lapse.append(e.at <= start)
    not_long_ago = sa.or_(e.expires_at.is_(None), e.expires_at >= floor)
    query = (sa.select(e.subject_id).where(e.action == "given", not_long_ago, sa.or_(*may_lapse))
             .distinct().order_by(e.subject_id))
    return list(conn.execute(query).scalars())


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), BATCH):
        yield list(items[start:start + BATCH])


def _events(conn: sa.Connection, batch: list[str]) -> dict[str, list[ConsentEvent]]:
    e = consent_events.c
    query = (sa.select(e.subject_id, e.activity, e.channel, e.action, e.at, e.expires_at, e.id, e.event_id)
             .where(e.subject_id.in_(batch)).order_by(e.subject_id, e.id))
    found: dict[str, list[ConsentEvent]] = defaultdict(list)
    for row in conn.execute(query):
        found[row.subject_id].append(ConsentEvent(row.activity, row.channel, row.action, as_utc(row.at),
                                                  None if row.expires_at is None else as_utc(row.expires_at),
                                                  int(row.id), row.event_id))
    return found


def _deciding(events: Sequence[ConsentEvent]) -> Iterator[ConsentEvent]:
    """The deciding event of each (activity, channel) the events mention, when it is a consent; the
    events on every channel (``None``) apply to each channel, as :func:`garde.consent.state.fold`."""
    keys = sorted({(e.activity, e.channel) for e in events}, key=lambda k: (k[0], k[1] or ""))
    for activity, channel in keys:
        event = deciding_event(e for e in events
                               if e.activity == activity and (e.channel is None or e.channel == channel))
        if event is not None and event.action == "given" and event.channel == channel:
            yield event


def write_list(path: Path, listed: Renewals) -> Path:
    """Write the list to ``path``, owner-only (0600): JSON when it ends in ``.json``, else CSV
    (:func:`write_csv`). Written beside it, then renamed over it: a reader never sees half a list,
    and the previous list stays whole if writing fails (a GardeError naming the file)."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open_private(partial, newline="") as handle:
            if path.suffix.lower() == ".json":
                json.dump(listed.to_data(), handle, ensure_ascii=False, indent=2)
            else:
                write_csv(handle, listed.consents)
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # its folder may be what could not be made
            partial.unlink(missing_ok=True)
        raise GardeError(f"renewal list {path}: cannot be written ({exc.strerror or exc})") from None
    return path


def write_csv(handle: TextIO, consents: Iterable[Renewal]) -> int:
    """The list as CSV (a header, then one row per consent), every cell made inert for spreadsheets;
    returns the count."""
    writer = CsvWriter(handle)
    writer.writerow(COLUMNS)
    count = 0
    for renewal in consents:
        writer.writerow(renewal.row())
        count += 1
    return count
