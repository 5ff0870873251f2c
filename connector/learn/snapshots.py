"""Point-in-time snapshots: what was known about each person on a date, and what followed.

A snapshot of a person on date ``d`` holds only what happened up to ``d``
(touches at or before it; the profile as the ledger holds it, see the README's
caveat), and its label says whether the person reached the target in the
``horizon`` days after ``d``. People who reached the target before ``d`` are
not snapshotted (they are no longer prospects), nor are people created after
``d``, nor people with no touch and no creation in the ``active_days`` before
``d`` (dormant records carry no signal and would swamp the data).

Dates form one grid, ``step`` days apart, ending ``horizon`` days before the
end of the test period. Training takes the dates whose whole horizon ends by
``train_until`` (no training label peeks into the test period); testing takes
the dates from ``train_until`` on. Never a random split: the back-test asks
"had we trained then, how would it have ranked what came next?".

Features, one column each (names are stable; the README lists them):

- ``rule:NAME``: the touches the behavior rule NAME scored (first matching
  rule, caps applied) decayed with the mapping's half-life, so a learned
  weight per column is exactly a rule's points per fresh touch;
- ``fit:NAME``: 1 when the fit rule NAME holds (groups: first match only);
- ``type:TYPE:30d`` and ``type:TYPE:90d``: touches of the type in the window;
- ``channel:CHANNEL:90d``: touches on the channel in the last 90 days;
- ``recency:days_since_touch`` (capped at 365) and ``volume:touches_365d``.

The rule-based score of each snapshot (behavior decayed to ``d`` plus fit, as
``score_person`` computes it) rides along for the side-by-side back-test.

Account snapshots (``level="account"``) are the same on accounts: an account
is snapshotted on ``d`` when one of its people was known by then, it had not
reached the target, and it was active (a touch of its people, or its first
person, in the ``active_days`` before ``d``); its label says whether the
account reached the target (an opportunity on it created, or won) within the
horizon. Its columns: ``rule:NAME`` and the type/channel windows summed over
its people, ``account_fit:NAME`` (the account fit rules on the Account's
firmographics and target tier), ``people_fit:NAME`` (how many of its known
people hold the person fit rule), ``people:known``, ``people:engaged_90d``
(people with a touch in 90 days), recency and volume. Its rule score is the
account fit plus the engagement score (``score_account``'s two numbers added).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from connector.engine.scoring_config import ScoringMapping
from connector.learn.history import History, Target
from connector.learn.ledger import Ledger, ledger_of

DAY = 86_400.0
Level = Literal["person", "account"]


@dataclass(frozen=True)
class Prepared:
    """The ledger and, for one target, when each person and account first reached it."""

    ledger: Ledger
    reached: npt.NDArray[np.float64]  # per person, epoch seconds, inf when never
    account_reached: npt.NDArray[np.float64]  # per account

    @property
    def map_ids(self) -> list[str]:
        return self.ledger.map_ids

    @property
    def feature_names(self) -> list[str]:
        return self.names("person")

    @property
    def rule_columns(self) -> int:
        return self.rule_columns_of("person")

    def names(self, level: Level) -> list[str]:
        p = self.ledger
        windows = ([f"type:{t}:30d" for t in p.types] + [f"type:{t}:90d" for t in p.types]
                   + [f"channel:{c}:90d" for c in p.channels])
        if level == "person":
            return ([f"rule:{n}" for n in p.rule_names] + [f"fit:{n}" for n in p.fit_names]
                    + windows + ["recency:days_since_touch", "volume:touches_365d"])
        return ([f"rule:{n}" for n in p.rule_names]
                + [f"account_fit:{n}" for n in p.account_fit_names]
                + [f"people_fit:{n}" for n in p.fit_names] + windows
                + ["people:known", "people:engaged_90d", "recency:days_since_touch",
                   "volume:touches_365d"])

    def rule_columns_of(self, level: Level) -> int:
        """How many leading columns follow scoring.yaml rules (what ``--features rules``
        reads): behavior, then fit; at account level the account fit rules and how
        many of the account's people hold each person fit rule."""
        lg = self.ledger
        if level == "person":
            return len(lg.rule_names) + len(lg.fit_names)
        return len(lg.rule_names) + len(lg.account_fit_names) + len(lg.fit_names)


@dataclass(frozen=True)
class Snapshots:
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int8]
    rule_score: npt.NDArray[np.float64]
    date: npt.NDArray[np.float64]  # epoch seconds of each snapshot
    person: npt.NDArray[np.int64]  # index into map_ids (account_ids at account level)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def positives(self) -> int:
        return int(self.y.sum())


def prepare(source: History | Ledger, scoring: ScoringMapping, free_mail: frozenset[str],
            target: Target) -> Prepared:
    """Every touch matched to its rule once (see ``connector.learn.ledger``), and the
    moments each person and account reached the target."""
    ledger = source if isinstance(source, Ledger) else ledger_of(source, scoring, free_mail)
    return Prepared(ledger, ledger.reached_at(target), ledger.account_reached_at(target))


def _count(idx: npt.NDArray[np.int64], cat: npt.NDArray[np.int64], n: int, k: int,
           weights: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
    if k == 0:
        return np.zeros((n, 0))
    flat = np.bincount(idx * k + cat, weights=weights, minlength=n * k)
    return np.asarray(flat, dtype=np.float64).reshape(n, k)


@dataclass(frozen=True)
class _Window:
    """The touches up to one snapshot date, grouped (by person or by account)."""

    group: npt.NDArray[np.int64]
    time: npt.NDArray[np.float64]
    age: npt.NDArray[np.float64]
    rule: npt.NDArray[np.int64]
    points: npt.NDArray[np.float64]
    type: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    person: npt.NDArray[np.int64]

    @classmethod
    def of(cls, p: Ledger, d: float, group: npt.NDArray[np.int64] | None) -> _Window:
        upto = p.t_time <= d
        if group is not None:  # the touches of people with an account
            upto &= group[p.t_person] >= 0
        person = p.t_person[upto]
        time = p.t_time[upto]
        return cls(person if group is None else group[person], time, d - time,
                   p.t_rule[upto], p.t_points[upto], p.t_type[upto], p.t_channel[upto],
                   person)

    def decay(self, half_life_days: float | None) -> npt.NDArray[np.float64]:
        if not half_life_days:
            return np.ones_like(self.age)
        return np.asarray(np.power(0.5, self.age / (half_life_days * DAY)), dtype=np.float64)

    def common(self, p: Ledger, n: int, decay: npt.NDArray[np.float64]
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                          npt.NDArray[np.float64]]:
        """(decayed rule columns, type and channel windows, last touch) per group."""
        scored = self.rule >= 0
        rule_counts = _count(self.group[scored], self.rule[scored], n, len(p.rule_names),
                             decay[scored])
        w30, w90 = self.age <= 30 * DAY, self.age <= 90 * DAY
        t30 = _count(self.group[w30], self.type[w30], n, len(p.types))
        t90 = _count(self.group[w90], self.type[w90], n, len(p.types))
        c90 = _count(self.group[w90], self.channel[w90], n, len(p.channels))
        last = np.full(n, -np.inf)
        np.maximum.at(last, self.group, self.time)
        return rule_counts, np.hstack([t30, t90, c90]), last

    def tail(self, d: float, n: int, last: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Recency (days since the last touch, capped at 365) and touches in 365 days."""
        since = np.minimum(np.where(np.isfinite(last), (d - last) / DAY, 365.0), 365.0)
        w365 = self.age <= 365 * DAY
        volume = np.bincount(self.group[w365], minlength=n).astype(np.float64)
        return np.column_stack([since, volume])


def _one_date(p: Prepared, d: float, horizon: float, active: float) -> Snapshots:
    lg = p.ledger
    n = len(lg.map_ids)
    w = _Window.of(lg, d, None)
    decay = w.decay(lg.half_life_days)
    rule_counts, windows, last = w.common(lg, n, decay)
    eligible = (lg.created <= d) & (p.reached > d) & (
        (d - last <= active) | (d - lg.created <= active))
    behavior_exact = np.bincount(w.group, weights=w.points * decay, minlength=n)
    # score_person rounds the decayed sum half up; capped touches carry 0 points
    rule_score = np.floor(behavior_exact + 0.5) + lg.fit_points
    x = np.hstack([rule_counts, lg.fit, windows, w.tail(d, n, last)])
    rows = np.flatnonzero(eligible)
    y = (p.reached[rows] <= d + horizon).astype(np.int8)
    return Snapshots(x=x[rows].astype(np.float32), y=y, rule_score=rule_score[rows],
                     date=np.full(rows.shape[0], d), person=rows.astype(np.int64))


def _one_account_date(p: Prepared, d: float, horizon: float, active: float) -> Snapshots:
    """Account snapshots: the touches of every person matched to the account, summed;
    how many of its people were known and engaged, and how many hold each person fit
    rule; the account's own fit. The rule score riding along is the account's fit plus
    its engagement (members' decayed behavior points in the engagement window), as
    ``score_account`` computes them at ``d``."""
    lg = p.ledger
    n = len(lg.account_ids)
    w = _Window.of(lg, d, lg.person_account)
    rule_counts, windows, last = w.common(lg, n, w.decay(lg.half_life_days))
    members = (lg.person_account >= 0) & (lg.created <= d)
    member_account = lg.person_account[members]
    known = np.bincount(member_account, minlength=n).astype(np.float64)
    first = np.full(n, np.inf)
    np.minimum.at(first, member_account, lg.created[members])
    people_fit = np.zeros((n, len(lg.fit_names)))
    np.add.at(people_fit, member_account, lg.fit[members])
    recent = np.zeros(n)
    engaged = np.unique(np.column_stack([w.group, w.person])[w.age <= 90 * DAY], axis=0)
    if engaged.size:
        np.add.at(recent, engaged[:, 0], 1.0)
    inside = w.age < lg.engagement_window_days * DAY
    engagement = np.bincount(w.group[inside], minlength=n,
                             weights=(w.points * w.decay(lg.engagement_half_life_days))[inside])
    rule_score = np.floor(engagement + 0.5) + lg.account_fit_points
    eligible = (known > 0) & (p.account_reached > d) & (
        (d - last <= active) | (d - first <= active))
    x = np.hstack([rule_counts, lg.account_fit, people_fit, windows, known[:, None],
                   recent[:, None], w.tail(d, n, last)])
    rows = np.flatnonzero(eligible)
    y = (p.account_reached[rows] <= d + horizon).astype(np.int8)
    return Snapshots(x=x[rows].astype(np.float32), y=y, rule_score=rule_score[rows],
                     date=np.full(rows.shape[0], d), person=rows.astype(np.int64))


def concat(parts: Sequence[Snapshots], width: int) -> Snapshots:
    if not parts:
        return Snapshots(np.zeros((0, width), dtype=np.float32), np.zeros(0, dtype=np.int8),
                         np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
    return Snapshots(np.vstack([s.x for s in parts]), np.concatenate([s.y for s in parts]),
                     np.concatenate([s.rule_score for s in parts]),
                     np.concatenate([s.date for s in parts]),
                     np.concatenate([s.person for s in parts]))


@dataclass(frozen=True)
class Split:
    train: Snapshots
    test: Snapshots
    train_dates: list[datetime]
    test_dates: list[datetime]


def grid(train_until: datetime, test_until: datetime, horizon_days: int, step_days: int,
         earliest: datetime) -> tuple[list[datetime], list[datetime]]:
    """(train dates, test dates), oldest first, on one grid ``step_days`` apart."""
    horizon, step = timedelta(days=horizon_days), timedelta(days=step_days)
    d = test_until - horizon
    train: list[datetime] = []
    test: list[datetime] = []
    while d >= earliest:
        if d >= train_until:
            test.append(d)
        elif d + horizon <= train_until:
            train.append(d)
        d -= step
    return train[::-1], test[::-1]


def build(p: Prepared, train_dates: Sequence[datetime], test_dates: Sequence[datetime],
          horizon_days: int, active_days: int = 180, level: Level = "person") -> Split:
    horizon, active = horizon_days * DAY, active_days * DAY
    width = len(p.names(level))
    one = _one_date if level == "person" else _one_account_date

    def take(dates: Sequence[datetime]) -> Snapshots:
        return concat([one(p, d.timestamp(), horizon, active) for d in dates], width)

    return Split(take(train_dates), take(test_dates), list(train_dates), list(test_dates))


def earliest(p: Prepared) -> float:
    finite = p.ledger.created[np.isfinite(p.ledger.created)]
    return float(finite.min()) if finite.size else math.inf
