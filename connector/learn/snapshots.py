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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from connector.engine.scoring import Profile, fit_score, score_touches
from connector.engine.scoring_config import ScoringMapping
from connector.learn.history import History, Target

DAY = 86_400.0


@dataclass(frozen=True)
class Prepared:
    """The history as arrays, computed once for every snapshot date."""

    map_ids: list[str]
    created: npt.NDArray[np.float64]  # epoch seconds
    reached: npt.NDArray[np.float64]  # epoch seconds, inf when never
    fit: npt.NDArray[np.float32]  # people x fit rules
    fit_points: npt.NDArray[np.float64]
    t_person: npt.NDArray[np.int64]
    t_time: npt.NDArray[np.float64]
    t_rule: npt.NDArray[np.int64]  # -1: no rule, or capped
    t_points: npt.NDArray[np.float64]
    t_type: npt.NDArray[np.int64]
    t_channel: npt.NDArray[np.int64]
    rule_names: list[str]
    fit_names: list[str]
    types: list[str]
    channels: list[str]
    half_life_days: float | None

    @property
    def feature_names(self) -> list[str]:
        return ([f"rule:{n}" for n in self.rule_names] + [f"fit:{n}" for n in self.fit_names]
                + [f"type:{t}:30d" for t in self.types] + [f"type:{t}:90d" for t in self.types]
                + [f"channel:{c}:90d" for c in self.channels]
                + ["recency:days_since_touch", "volume:touches_365d"])

    @property
    def rule_columns(self) -> int:
        """How many leading columns map to scoring.yaml rules (behavior, then fit)."""
        return len(self.rule_names) + len(self.fit_names)


@dataclass(frozen=True)
class Snapshots:
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int8]
    rule_score: npt.NDArray[np.float64]
    date: npt.NDArray[np.float64]  # epoch seconds of each snapshot
    person: npt.NDArray[np.int64]  # index into Prepared.map_ids

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def positives(self) -> int:
        return int(self.y.sum())


def prepare(history: History, scoring: ScoringMapping, free_mail: frozenset[str],
            target: Target) -> Prepared:
    """Match every touch to its rule once (caps are causal, so one pass at the end
    gives each touch's scored/capped status for every later date)."""
    rules = scoring.behavior.rules
    rule_index = {r.name: i for i, r in enumerate(rules)}
    fit_rules = scoring.fit.rules
    fit_index = {r.name: i for i, r in enumerate(fit_rules)}
    map_ids = sorted(history.people)
    n = len(map_ids)
    created = np.empty(n)
    reached = np.full(n, np.inf)
    fit = np.zeros((n, len(fit_rules)), dtype=np.float32)
    fit_points = np.zeros(n)
    types: dict[str, int] = {}
    channels: dict[str, int] = {}
    tp: list[int] = []
    tt: list[float] = []
    tr: list[int] = []
    tpts: list[float] = []
    tty: list[int] = []
    tch: list[int] = []
    end = datetime.max.replace(tzinfo=history.latest.tzinfo if history.latest else None)
    for i, map_id in enumerate(map_ids):
        person = history.people[map_id]
        touches = history.touches.get(map_id, [])
        first = touches[0].occurred_at if touches else None
        start = person.created_at or first
        created[i] = start.timestamp() if start is not None else -np.inf
        if first is not None and first.timestamp() < created[i]:
            created[i] = first.timestamp()  # a touch proves the person existed
        at = history.target_at(map_id, target)
        if at is not None:
            reached[i] = at.timestamp()
        score = fit_score(Profile.of(person), fit_rules, free_mail)
        fit_points[i] = score.total
        for line in score.lines:
            fit[i, fit_index[line.rule]] = 1.0
        scored = {s.touch_id: s for s in score_touches(touches, rules, end)}
        for t in touches:
            s = scored.get(t.touch_id)
            tp.append(i)
            tt.append(t.occurred_at.timestamp())
            tr.append(rule_index[s.rule] if s is not None and not s.capped else -1)
            tpts.append(float(s.base_points) if s is not None else 0.0)
            tty.append(types.setdefault(t.touch_type, len(types)))
            tch.append(channels.setdefault(t.channel, len(channels)))
    return Prepared(
        map_ids=map_ids, created=created, reached=reached, fit=fit, fit_points=fit_points,
        t_person=np.asarray(tp, dtype=np.int64), t_time=np.asarray(tt, dtype=np.float64),
        t_rule=np.asarray(tr, dtype=np.int64), t_points=np.asarray(tpts, dtype=np.float64),
        t_type=np.asarray(tty, dtype=np.int64), t_channel=np.asarray(tch, dtype=np.int64),
        rule_names=[r.name for r in rules], fit_names=[r.name for r in fit_rules],
        types=list(types), channels=list(channels),
        half_life_days=scoring.behavior.half_life_days)


def _count(idx: npt.NDArray[np.int64], cat: npt.NDArray[np.int64], n: int, k: int,
           weights: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
    if k == 0:
        return np.zeros((n, 0))
    flat = np.bincount(idx * k + cat, weights=weights, minlength=n * k)
    return np.asarray(flat, dtype=np.float64).reshape(n, k)


def _one_date(p: Prepared, d: float, horizon: float, active: float) -> Snapshots:
    n = len(p.map_ids)
    upto = p.t_time <= d
    pi, ti = p.t_person[upto], p.t_time[upto]
    age = d - ti
    last = np.full(n, -np.inf)
    np.maximum.at(last, pi, ti)
    eligible = (p.created <= d) & (p.reached > d) & (
        (d - last <= active) | (d - p.created <= active))
    hl = p.half_life_days
    decay = np.power(0.5, age / (hl * DAY)) if hl else np.ones_like(age)
    rules = p.t_rule[upto]
    scored = rules >= 0
    rule_counts = _count(pi[scored], rules[scored], n, len(p.rule_names), decay[scored])
    behavior_exact = np.bincount(pi, weights=p.t_points[upto] * decay, minlength=n)
    # score_person rounds the decayed sum half up; capped touches carry 0 points
    rule_score = np.floor(behavior_exact + 0.5) + p.fit_points
    w30, w90, w365 = age <= 30 * DAY, age <= 90 * DAY, age <= 365 * DAY
    types = p.t_type[upto]
    t30 = _count(pi[w30], types[w30], n, len(p.types))
    t90 = _count(pi[w90], types[w90], n, len(p.types))
    c90 = _count(pi[w90], p.t_channel[upto][w90], n, len(p.channels))
    since = np.minimum(np.where(np.isfinite(last), (d - last) / DAY, 365.0), 365.0)
    volume = np.bincount(pi[w365], minlength=n).astype(np.float64)
    x = np.hstack([rule_counts, p.fit, t30, t90, c90, since[:, None], volume[:, None]])
    rows = np.flatnonzero(eligible)
    y = (p.reached[rows] <= d + horizon).astype(np.int8)
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
          horizon_days: int, active_days: int = 180) -> Split:
    horizon, active = horizon_days * DAY, active_days * DAY
    width = len(p.feature_names)

    def take(dates: Sequence[datetime]) -> Snapshots:
        return concat([_one_date(p, d.timestamp(), horizon, active) for d in dates], width)

    return Split(take(train_dates), take(test_dates), list(train_dates), list(test_dates))


def earliest(p: Prepared) -> float:
    finite = p.created[np.isfinite(p.created)]
    return float(finite.min()) if finite.size else math.inf
