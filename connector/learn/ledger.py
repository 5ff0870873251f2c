"""The history as compact arrays, built while the ledger streams past.

Holding every touch as a pydantic model costs about 3 KB a touch (3.8 GB at
100k people and 1M touches). Training needs far less: for each touch its
person, time, type, channel and the rule that scored it (after caps). The
``LedgerBuilder`` takes people and touches one at a time, keeps a few numbers
per touch in ``array`` buffers and interns each distinct (type, channel, url)
once, then ``finish`` sorts the touches, matches each distinct combination to
its first rule once, applies the rules' caps (causal: a touch's cap depends
only on earlier touches, so one pass gives every snapshot date's status) and
returns a ``Ledger`` of numpy arrays. A touch id seen twice counts once (the
last row wins), as in the state database's ledger. A person's fit is computed when the
person arrives, so no profile is kept either.

Accounts ride along: a person's account (``link``), each account's
firmographics (``account``, scored with the account fit rules), target-list
tiers (``tier``, by account id or domain) and the opportunities on the account
(``account_reached``).
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from connector.engine.accounts import AccountProfile, account_fit
from connector.engine.scoring import Profile, fit_score
from connector.engine.scoring_config import ScoringMapping
from connector.learn.history import History, Reached, Target
from connector.models import Person, Touch
from connector.values import TouchLike

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
CHUNK = 65_536


@dataclass(frozen=True)
class Ledger:
    """Everything training reads, as arrays; persons sorted by MAP id, touches by
    person, then time, then touch id (the scoring engine's order)."""

    map_ids: list[str]
    created: Floats  # epoch seconds; -inf when unknown
    fit: npt.NDArray[np.float32]  # people x fit rules (1: the rule holds)
    fit_points: Floats
    t_person: Ints
    t_time: Floats
    t_rule: Ints  # -1: no rule, or capped
    t_points: Floats  # the rule's points, 0 when capped or unmatched
    t_type: Ints
    t_channel: Ints
    rule_names: list[str]
    fit_names: list[str]
    types: list[str]
    channels: list[str]
    half_life_days: float | None
    reached: dict[str, list[Reached]]
    person_account: Ints  # index into account_ids, -1: no account
    account_ids: list[str]
    account_fit: npt.NDArray[np.float32]  # accounts x account fit rules
    account_fit_points: Floats
    account_fit_names: list[str]
    account_reached: dict[str, list[Reached]]
    engagement_half_life_days: float | None
    engagement_window_days: float
    latest: datetime | None
    source: str = ""

    def reached_at(self, target: Target) -> Floats:
        """Per person, when the target was first reached (epoch seconds, inf: never)."""
        return _first(self.map_ids, self.reached, target)

    def account_reached_at(self, target: Target) -> Floats:
        return _first(self.account_ids, self.account_reached, target)


def _first(keys: list[str], reached: dict[str, list[Reached]], target: Target) -> Floats:
    out = np.full(len(keys), np.inf)
    for i, key in enumerate(keys):
        moments = [r.opportunity_at if target == "opportunity" else r.won_at
                   for r in reached.get(key, ())]
        known = [m.timestamp() for m in moments if m is not None]
        if known:
            out[i] = min(known)
    return out


def _number(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def account_profile(fields: dict[str, object], domain: str | None) -> AccountProfile:
    """An Account's firmographics, as ``connector sync`` reads them for account scores."""
    employees = _number(fields.get("NumberOfEmployees"))
    return AccountProfile(domain=domain, industry=str(fields.get("Industry") or "") or None,
                          employees=int(employees) if employees is not None else None,
                          annual_revenue=_number(fields.get("AnnualRevenue")),
                          country=str(fields.get("BillingCountry") or "") or None)


@dataclass
class _Person:
    created: float
    fit: tuple[int, ...]
    fit_points: float


@dataclass
class LedgerBuilder:
    scoring: ScoringMapping
    free_mail: frozenset[str]
    source: str = ""
    _people: dict[str, _Person] = field(default_factory=dict)
    _slot: dict[str, int] = field(default_factory=dict)
    _t_slot: array[int] = field(default_factory=lambda: array("q"))
    _t_time: array[float] = field(default_factory=lambda: array("d"))
    _t_combo: array[int] = field(default_factory=lambda: array("q"))
    _t_id: list[str] = field(default_factory=list)
    _t_alive: array[int] = field(default_factory=lambda: array("b"))
    _seen: dict[str, int] = field(default_factory=dict)  # touch id -> its last row
    _combos: dict[tuple[str, str, str | None], int] = field(default_factory=dict)
    _reached: dict[str, list[Reached]] = field(default_factory=dict)
    _account_of: dict[str, str] = field(default_factory=dict)
    _accounts: dict[str, AccountProfile] = field(default_factory=dict)
    _tiers: dict[str, str] = field(default_factory=dict)
    _account_reached: dict[str, list[Reached]] = field(default_factory=dict)
    _latest: float = -np.inf

    def person(self, p: Person) -> None:
        index = {r.name: i for i, r in enumerate(self.scoring.fit.rules)}
        score = fit_score(Profile.of(p), self.scoring.fit.rules, self.free_mail)
        created = p.created_at.timestamp() if p.created_at is not None else np.inf
        self._people[p.map_id] = _Person(created, tuple(index[line.rule] for line in score.lines),
                                         float(score.total))

    def touch(self, t: TouchLike) -> None:
        self._t_slot.append(self._slot.setdefault(t.map_id, len(self._slot)))
        self._t_time.append(t.occurred_at.timestamp())
        self._t_combo.append(self._combos.setdefault((t.touch_type, t.channel, t.url),
                                                     len(self._combos)))
        self._t_id.append(t.touch_id)
        # one touch per touch id, the last streamed winning, as the state ledger keeps
        # it (an export may repeat a row)
        previous = self._seen.get(t.touch_id)
        if previous is not None:
            self._t_alive[previous] = 0
        self._seen[t.touch_id] = len(self._t_alive)
        self._t_alive.append(1)

    def reached(self, map_id: str, r: Reached) -> None:
        self._reached.setdefault(map_id, []).append(r)

    def link(self, map_id: str, account_id: str) -> None:
        self._account_of[map_id] = account_id

    def account(self, account_id: str, profile: AccountProfile) -> None:
        self._accounts[account_id] = profile

    def tier(self, key: str, tier: str) -> None:
        """A target-list tier for an account id or a (registered) domain."""
        self._tiers.setdefault(key.lower(), tier)

    def account_reached(self, account_id: str, r: Reached) -> None:
        self._account_reached.setdefault(account_id, []).append(r)

    def add(self, items: Iterable[Person | Touch]) -> LedgerBuilder:
        for item in items:
            if isinstance(item, Person):
                self.person(item)
            elif isinstance(item, Touch):
                self.touch(item)
        return self

    # ------------------------------------------------------------ finish

    def _rules_of_combos(self) -> tuple[Ints, list[str], list[str], Ints, Ints]:
        rules = self.scoring.behavior.rules
        types: dict[str, int] = {}
        channels: dict[str, int] = {}
        n = len(self._combos)
        rule = np.full(n, -1, dtype=np.int64)
        ctype = np.zeros(n, dtype=np.int64)
        cchannel = np.zeros(n, dtype=np.int64)
        for (touch_type, channel, url), i in self._combos.items():
            rule[i] = next((k for k, r in enumerate(rules)
                            if r.matches(touch_type, channel, url)), -1)
            ctype[i] = types.setdefault(touch_type, len(types))
            cchannel[i] = channels.setdefault(channel, len(channels))
        return rule, list(types), list(channels), ctype, cchannel

    def _apply_caps(self, person: Ints, time: Floats, rule: Ints) -> None:
        """What ``score_touches`` does per person, on the sorted arrays: a touch of a
        capped rule scores when fewer than ``count`` earlier touches of the rule scored
        in the ``days`` before it; otherwise its rule becomes -1 (capped)."""
        caps = {k: (r.cap.count, r.cap.days * 86_400.0)
                for k, r in enumerate(self.scoring.behavior.rules) if r.cap is not None}
        if not caps:
            return
        capped_rules = np.fromiter(caps, dtype=np.int64)
        rows = np.flatnonzero(np.isin(rule, capped_rules))
        # one (rule, person) after another, in time order within each: one window at a
        # time, and Python lists of one chunk at a time, keep memory flat
        rows = rows[np.lexsort((rows, person[rows], rule[rows]))]
        window: deque[float] = deque()
        current = (-1, -1)
        for lo in range(0, rows.size, CHUNK):
            part = rows[lo:lo + CHUNK]
            for i, who, at, k in zip(part.tolist(), person[part].tolist(),
                                     time[part].tolist(), rule[part].tolist(), strict=True):
                if (who, k) != current:
                    current = (who, k)
                    window.clear()
                count, span = caps[k]
                while window and window[0] <= at - span:
                    window.popleft()
                if len(window) >= count:
                    rule[i] = -1
                else:
                    window.append(at)

    def _order(self, keep: Ints, person: Ints, time: Floats) -> Ints:
        """By person, time, then touch id (``Touch.order_key``): numbers sort in numpy;
        only the rare runs of one person's touches at the same instant are ordered by
        their ids in Python (no array of a million strings)."""
        order = np.lexsort((time, person))
        p, t = person[order], time[order]
        tied = np.flatnonzero((p[1:] == p[:-1]) & (t[1:] == t[:-1]))
        if tied.size:
            starts = tied[np.r_[True, tied[1:] != tied[:-1] + 1]]
            for start in starts.tolist():
                end = start + 1
                while end < p.size - 1 and p[end + 1] == p[start] and t[end + 1] == t[start]:
                    end += 1
                run = order[start:end + 1]
                order[start:end + 1] = sorted(run.tolist(),
                                              key=lambda i: self._t_id[int(keep[i])])
        return np.asarray(order, dtype=np.int64)

    def finish(self) -> Ledger:
        map_ids = sorted(self._people)
        rank = {m: i for i, m in enumerate(map_ids)}
        n = len(map_ids)
        by_slot = np.full(len(self._slot), -1, dtype=np.int64)
        for map_id, slot in self._slot.items():
            by_slot[slot] = rank.get(map_id, -1)
        slots = np.frombuffer(self._t_slot, dtype=np.int64) if len(self._t_slot) else \
            np.zeros(0, dtype=np.int64)
        person = by_slot[slots] if slots.size else slots
        alive = np.frombuffer(self._t_alive, dtype=np.int8) if len(self._t_alive) else \
            np.zeros(0, dtype=np.int8)
        keep = np.flatnonzero((person >= 0) & (alive > 0))
        time = np.frombuffer(self._t_time, dtype=np.float64)[keep] if keep.size else \
            np.zeros(0)
        combo = np.frombuffer(self._t_combo, dtype=np.int64)[keep] if keep.size else \
            np.zeros(0, dtype=np.int64)
        person = person[keep]
        order = self._order(keep, person, time)
        person, time, combo = person[order], time[order], combo[order]
        combo_rule, types, channels, ctype, cchannel = self._rules_of_combos()
        rule = combo_rule[combo] if combo.size else np.zeros(0, dtype=np.int64)
        self._apply_caps(person, time, rule)
        rule_points = np.array([float(r.points) for r in self.scoring.behavior.rules] or [0.0])
        points = np.where(rule >= 0, rule_points[np.maximum(rule, 0)], 0.0)

        fit_rules = self.scoring.fit.rules
        fit = np.zeros((n, len(fit_rules)), dtype=np.float32)
        fit_points = np.zeros(n)
        created = np.full(n, np.inf)
        for i, map_id in enumerate(map_ids):
            facts = self._people[map_id]
            fit[i, list(facts.fit)] = 1.0
            fit_points[i] = facts.fit_points
            created[i] = facts.created
        if person.size:  # a touch proves the person existed
            first = np.full(n, np.inf)
            np.minimum.at(first, person, time)
            created = np.minimum(created, first)
        created[np.isinf(created)] = -np.inf

        accounts = self.scoring.accounts
        account_ids = sorted(self._accounts)
        account_index = {a: i for i, a in enumerate(account_ids)}
        person_account = np.array([account_index.get(self._account_of.get(m, ""), -1)
                                   for m in map_ids], dtype=np.int64)
        afit = np.zeros((len(account_ids), len(accounts.fit_rules)), dtype=np.float32)
        afit_points = np.zeros(len(account_ids))
        afit_index = {r.name: i for i, r in enumerate(accounts.fit_rules)}
        for i, account_id in enumerate(account_ids):
            profile = self._with_tier(account_id, self._accounts[account_id])
            score = account_fit(profile, accounts)
            afit_points[i] = score.total
            for line in score.lines:
                afit[i, afit_index[line.rule]] = 1.0

        t_type, types = _first_seen(ctype[combo] if combo.size else combo, types)
        t_channel, channels = _first_seen(cchannel[combo] if combo.size else combo, channels)
        stamps = [float(np.frombuffer(self._t_time, dtype=np.float64).max())] \
            if len(self._t_time) else []
        stamps += [r.opportunity_at.timestamp() for rs in self._reached.values() for r in rs]
        latest = datetime.fromtimestamp(max(stamps), tz=UTC) if stamps else None
        return Ledger(
            map_ids=map_ids, created=created, fit=fit, fit_points=fit_points,
            t_person=person, t_time=time, t_rule=rule, t_points=points,
            t_type=t_type, t_channel=t_channel,
            rule_names=[r.name for r in self.scoring.behavior.rules],
            fit_names=[r.name for r in fit_rules], types=types, channels=channels,
            half_life_days=self.scoring.behavior.half_life_days, reached=self._reached,
            person_account=person_account, account_ids=account_ids, account_fit=afit,
            account_fit_points=afit_points,
            account_fit_names=[r.name for r in accounts.fit_rules],
            account_reached={a: rs for a, rs in self._account_reached.items()
                             if a in account_index},
            engagement_half_life_days=(accounts.engagement_half_life_days
                                       or self.scoring.behavior.half_life_days),
            engagement_window_days=accounts.engagement_window_days,
            latest=latest, source=self.source)

    def _with_tier(self, account_id: str, profile: AccountProfile) -> AccountProfile:
        for key in (account_id, account_id[:15], profile.domain):
            if key and key.lower() in self._tiers:
                return AccountProfile(domain=profile.domain, industry=profile.industry,
                                      employees=profile.employees,
                                      annual_revenue=profile.annual_revenue,
                                      country=profile.country, tier=self._tiers[key.lower()])
        return profile


def _first_seen(codes: Ints, names: list[str]) -> tuple[Ints, list[str]]:
    """Renumber categories in the order they first appear among the sorted touches, so
    feature columns come in the same order however the ledger was streamed."""
    seen, first = np.unique(codes, return_index=True)
    order = seen[np.argsort(first, kind="stable")]
    remap = np.zeros(len(names), dtype=np.int64)
    remap[order] = np.arange(order.size)
    return remap[codes] if codes.size else codes, [names[i] for i in order.tolist()]


def ledger_of(history: History, scoring: ScoringMapping, free_mail: frozenset[str]) -> Ledger:
    """An in-memory ``History`` (tests, small worlds) as a ledger."""
    b = LedgerBuilder(scoring, free_mail, history.source)
    for person in history.people.values():
        b.person(person)
    for touches in history.touches.values():
        for t in touches:
            b.touch(t)
    for map_id, rs in history.reached.items():
        for r in rs:
            b.reached(map_id, r)
    for map_id, account_id in history.account_of.items():
        b.link(map_id, account_id)
    for account_id, profile in history.accounts.items():
        b.account(account_id, profile)
    for account_id, rs in history.account_reached.items():
        for r in rs:
            b.account_reached(account_id, r)
    return b.finish()
