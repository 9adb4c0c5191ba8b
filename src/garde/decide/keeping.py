"""What a decision point keeps between decisions, shared by the points of one model on one
store: each subject's facts with the counters they were read at, and the answers given on them
(:mod:`garde.decide.point` decides when they still hold)."""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from garde.decide.model import Decision, DecisionModel
from garde.decide.rules import SubjectFacts
from garde.store.commits import CommitCounter

# a subject by id, or by its identities as a tuple; an answer by (activity, categories, channel)
SubjectKey = str | tuple[tuple[str, str], ...]
AnswerKey = tuple[str, tuple[str, ...] | None, str | None]
PayloadParts = tuple[str, str]  # a decision's audit payload before and after its time (payload_parts)
# an answer kept: from when, until when (None: for good), the decision, its audit payload's parts, and
# the same bounds as POSIX microseconds (decide() compares its clock's in them: no datetime made)
Answer = tuple[datetime, datetime | None, Decision, PayloadParts | None, int, int | None]


class Entry:
    """A subject's facts as read, the buckets they belong to and the sum of those buckets' counters
    in the same snapshot (None: not counted), and the answers given on them."""

    __slots__ = ("answers", "buckets", "check", "facts", "seen", "stamp")

    def __init__(self, facts: SubjectFacts, buckets: tuple[str, ...], stamp: int | None) -> None:
        self.facts, self.buckets, self.stamp = facts, buckets, stamp
        # the statement reading its counters, its arguments and the row it returns while they hold
        self.check: tuple[str, Any, Any] | None = None
        # the store's commit word (garde.store.commits, with Kept.epoch) read before the last check
        # that found these facts current, nothing in flight; while the word stays so, no commit since
        self.seen: int | None = None
        self.answers: dict[AnswerKey, Answer] = {}


class Kept:
    """What the points of one model on one store keep (subjects' facts and answers, by subject;
    ``shared``: answers by question and :func:`garde.decide.rules.facts_key`, for every subject
    in the same state); ``counted``: whether the store counts its writes (None: not asked yet);
    ``commits``: the SQLite store's commit counter (None: none, every kept decision reads its
    counters), with the look at the store that catches writes the counter does not see
    (``outside_sum``: the sum of every bucket's counter at the last look, ``outside_at``: when
    the next is due, monotonic; ``epoch``: moved when a look found that sum changed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counted: bool | None = None
        self.commits: CommitCounter | None = None
        self.outside_sum: int | None = None
        self.outside_at = 0.0
        self.epoch = 0
        self.entries: dict[SubjectKey, Entry] = {}
        self.shared: dict[tuple[AnswerKey, tuple[Any, ...]], Answer] = {}


_KEPT: weakref.WeakKeyDictionary[sa.Engine, weakref.WeakKeyDictionary[DecisionModel, Kept]] = (
    weakref.WeakKeyDictionary())
_KEPT_LOCK = threading.Lock()


def kept_for(engine: sa.Engine, model: DecisionModel) -> Kept:
    with _KEPT_LOCK:
        by_model = _KEPT.setdefault(engine, weakref.WeakKeyDictionary())
        kept = by_model.get(model)
        if kept is None:
            kept = by_model[model] = Kept()
        return kept
