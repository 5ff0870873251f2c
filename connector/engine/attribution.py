"""Multi-touch attribution: an opportunity's credit and revenue split among its touches.

Pure and exact. The rules are the product's promise (README "Attribution"):
touches of the window ordered by time then touch id; positions FT, LC, OC, CL;
each model's shares computed as fractions (an empty share is divided among
the positional touches in proportion to their shares); credits rounded half up
to 4 decimals and revenue to cents, the remainder to the largest share. The
same opportunity, touches and settings give byte-identical records whatever
order the touches arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal
from fractions import Fraction

from connector.engine.attribution_config import MODEL_NAMES, AttributionMapping, ModelName
from connector.engine.attribution_rounding import allocate, cents

POSITIONS = ("FT", "LC", "OC", "CL")
HUNDRED = Fraction(100)
# time_decay's 2^(-d/h) is irrational; it is computed as exp(-(d/h) ln 2) in
# software decimal arithmetic to 30 significant digits (correctly rounded, so
# identical on every platform), then normalized exactly as fractions.
_DECAY_CONTEXT = Context(prec=30)
_LN2 = Context(prec=40).ln(Decimal(2))
_DAY_US = 86_400_000_000
# Exclusion reasons (stable strings: `explain` and JSON output show them).
NOT_A_RESPONSE = "not_a_response"
OUTSIDE_WINDOW = "outside_window"
NO_CONTACT_ROLE = "no_contact_role"
NOT_MATCHED_TO_ACCOUNT = "not_matched_to_account"


@dataclass(frozen=True, slots=True)
class OpportunityValue:
    """What attribution needs of a Salesforce Opportunity."""

    id: str
    account_id: str | None
    amount: Decimal | None
    created_at: datetime
    close_date: date
    is_closed: bool
    is_won: bool


@dataclass(frozen=True, slots=True)
class TouchValue:
    """One ledger touch of a person, as a candidate for an opportunity's journey."""

    touch_id: str
    person_id: str
    contact_id: str | None
    campaign_id: str | None
    program_id: str | None
    channel: str | None
    touch_type: str
    occurred_at: datetime
    is_response: bool
    is_conversion: bool


@dataclass(frozen=True, slots=True)
class Settings:
    """The attribution mapping compiled for the engine (weights as fractions)."""

    models: tuple[ModelName, ...]
    lookback_days: int = 365
    half_life_days: Fraction = Fraction(7)
    custom: tuple[tuple[str, Fraction], ...] = (
        ("FT", Fraction(25)), ("LC", Fraction(25)), ("OC", Fraction(25)),
        ("CL", Fraction(15)), ("middle", Fraction(10)))

    @classmethod
    def from_mapping(cls, mapping: AttributionMapping,
                     models: Iterable[ModelName] | None = None) -> Settings:
        """``models`` (e.g. from ``--model``) narrows the configured set."""
        chosen = set(models) if models is not None else set(mapping.models)
        w = mapping.custom_weights
        return cls(
            models=tuple(m for m in MODEL_NAMES if m in chosen),
            lookback_days=mapping.lookback_days,
            half_life_days=Fraction(mapping.time_decay_half_life_days),
            custom=(("FT", Fraction(w.FT)), ("LC", Fraction(w.LC)), ("OC", Fraction(w.OC)),
                    ("CL", Fraction(w.CL)), ("middle", Fraction(w.middle))),
        )


@dataclass(frozen=True, slots=True)
class Excluded:
    touch_id: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """One ``Attribution__c`` row: a touch's credit under one model."""

    key: str
    opportunity_id: str
    touch_id: str
    model: ModelName
    credit: Decimal
    revenue: Decimal | None
    position: str
    campaign_id: str | None
    contact_id: str | None
    channel: str | None
    touch_date: datetime
    touch_type: str


@dataclass(frozen=True, slots=True)
class TouchShare:
    """A touch's exact share under a model and the rule that gave it."""

    touch_id: str
    share: Fraction
    rule: str


@dataclass(frozen=True, slots=True)
class ModelResult:
    model: ModelName
    shares: tuple[TouchShare, ...]
    records: tuple[CreditRecord, ...]


@dataclass(frozen=True, slots=True)
class Attribution:
    """An opportunity's attribution under every active model, with its explanation."""

    opportunity: OpportunityValue
    window_start: datetime
    window_end: datetime
    journey: tuple[TouchValue, ...]
    positions: Mapping[str, str]          # FT/LC/OC/CL -> touch id
    touch_positions: Mapping[str, str]    # touch id -> "FT+LC" / "middle"
    excluded: tuple[Excluded, ...]
    models: tuple[ModelResult, ...] = field(default=())

    @property
    def attributed(self) -> bool:
        return bool(self.journey)

    @property
    def records(self) -> list[CreditRecord]:
        return [r for m in self.models for r in m.records]


# ------------------------------------------------------------------- window


def window(opp: OpportunityValue, settings: Settings,
           as_of: datetime) -> tuple[datetime, datetime, bool]:
    """(start, end, end_inclusive): CreatedDate minus the lookback to the end of the
    close date (UTC, exclusive bound) when closed, or to ``as_of`` (inclusive) when open."""
    start = opp.created_at - timedelta(days=settings.lookback_days)
    if opp.is_closed:
        end = datetime.combine(opp.close_date + timedelta(days=1), time(0), tzinfo=UTC)
        return start, end, False
    return start, as_of, True


def order_key(t: TouchValue) -> tuple[datetime, str]:
    return (t.occurred_at, t.touch_id)


def build_journey(opp: OpportunityValue, touches: Iterable[TouchValue], settings: Settings,
                  as_of: datetime) -> tuple[datetime, datetime, list[TouchValue],
                                            list[Excluded]]:
    """The window's responses in order (time, then touch id), and the exclusions."""
    start, end, inclusive = window(opp, settings, as_of)
    journey: list[TouchValue] = []
    excluded: list[Excluded] = []
    seen: set[str] = set()
    for t in sorted(touches, key=order_key):
        if t.touch_id in seen:
            continue  # the same ledger touch offered twice (e.g. by two contact roles)
        seen.add(t.touch_id)
        if not t.is_response:
            excluded.append(Excluded(t.touch_id, NOT_A_RESPONSE,
                                     f"{t.touch_type} is not a response type"))
        elif t.occurred_at < start:
            excluded.append(Excluded(t.touch_id, OUTSIDE_WINDOW,
                                     f"before the window opens at {_iso(start)} "
                                     f"({settings.lookback_days} days before CreatedDate)"))
        elif t.occurred_at > end or (not inclusive and t.occurred_at == end):
            excluded.append(Excluded(
                t.touch_id, OUTSIDE_WINDOW,
                f"after the close date {opp.close_date.isoformat()}" if opp.is_closed
                else f"after the run's as-of time {_iso(end)}"))
        else:
            journey.append(t)
    excluded.sort(key=lambda e: e.touch_id)
    return start, end, journey, excluded


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def find_positions(opp: OpportunityValue, journey: list[TouchValue]) -> dict[str, int]:
    """Position -> index in the journey (empty journey: no positions)."""
    if not journey:
        return {}
    lc = next((i for i, t in enumerate(journey) if t.is_conversion), 0)
    oc = 0
    for i, t in enumerate(journey):
        if t.occurred_at <= opp.created_at:
            oc = i
        else:
            break
    positions = {"FT": 0, "LC": lc, "OC": oc}
    if opp.is_closed:
        positions["CL"] = len(journey) - 1  # the window ends with the close date
    return positions


def position_names(positions: Mapping[str, int], n: int) -> list[str]:
    held: list[list[str]] = [[] for _ in range(n)]
    for name in POSITIONS:
        if name in positions:
            held[positions[name]].append(name)
    return ["+".join(h) if h else "middle" for h in held]


# ------------------------------------------------------------------- shares


def _pct(value: Fraction) -> str:
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def positional_shares(n: int, positions: Mapping[str, int],
                      weights: Iterable[tuple[str, Fraction]],
                      middle: list[int]) -> tuple[list[Fraction], list[str]]:
    """Shares (percent) per journey index for a positional model, and their rules.

    A touch holding several positions gets the sum of their weights; the share
    of an absent position (CL while open) or of the middle without touches is
    divided among the positional touches in proportion to their shares.
    """
    weight = dict(weights)
    middle_w = weight.pop("middle", Fraction(0))
    present = {p: w for p, w in weight.items() if p in positions}
    empty_names = [p for p in weight if p not in positions]
    empty = sum((weight[p] for p in empty_names), Fraction(0))
    if not middle and middle_w:
        empty += middle_w
        empty_names.append("middle")
    shares = [Fraction(0)] * n
    parts: list[list[str]] = [[] for _ in range(n)]
    positional_total = sum(present.values(), Fraction(0))
    if positional_total:
        factor = (positional_total + empty) / positional_total
        for p, w in present.items():
            i = positions[p]
            shares[i] += w * factor
            parts[i].append(f"{p} {_pct(w)}")
    elif empty:
        # only possible with custom weights that give every present position 0
        holders = sorted({positions[p] for p in present}) or [0]
        for i in holders:
            shares[i] += empty / len(holders)
            parts[i].append(f"{_pct(empty)} / {len(holders)} (no weighted position held)")
        empty = Fraction(0)
    if middle:
        each = middle_w / len(middle)
        for i in middle:
            shares[i] += each
            parts[i].append(f"middle {_pct(middle_w)} / {len(middle)}")
    note = ""
    if empty and positional_total:
        note = (f", scaled by {_pct(positional_total + empty)}/{_pct(positional_total)}: "
                f"no touch for {', '.join(empty_names)}")
    rules = []
    for i in range(n):
        rule = " + ".join(parts[i])
        is_positional = any(positions.get(p) == i for p in present)
        rules.append(rule + (note if is_positional and rule else ""))
    return shares, rules


def _decay_weight(days: Fraction, half_life: Fraction) -> Fraction:
    ratio = days / half_life
    exponent = _DECAY_CONTEXT.divide(Decimal(-ratio.numerator), Decimal(ratio.denominator))
    return Fraction(_DECAY_CONTEXT.exp(_DECAY_CONTEXT.multiply(exponent, _LN2)))


def model_shares(model: ModelName, opp: OpportunityValue, journey: list[TouchValue],
                 positions: Mapping[str, int],
                 settings: Settings) -> tuple[list[Fraction], list[str]]:
    """Each journey touch's exact share (percent) under ``model``, with its rule."""
    n = len(journey)
    ft, lc, oc = positions["FT"], positions["LC"], positions["OC"]
    taken = set(positions.values())
    if model == "first_touch":
        return _no_credit(positional_shares(n, positions, [("FT", HUNDRED)], []),
                          "not FT: no credit")
    if model == "last_touch":
        return _no_credit(positional_shares(n, positions, [("OC", HUNDRED)], []),
                          "not OC: no credit")
    if model == "linear":
        each = HUNDRED / n
        return [each] * n, [f"100% / {n} touch{'es' if n > 1 else ''}"] * n
    if model == "u_shaped":
        u = {"FT": ft, "LC": lc}
        weights = [("FT", Fraction(40)), ("LC", Fraction(40)), ("middle", Fraction(20))]
        return _no_credit(positional_shares(n, u, weights, list(range(ft + 1, lc))),
                          "after LC: no credit")
    if model == "w_shaped" or (model == "full_path" and not opp.is_closed):
        w = {"FT": ft, "LC": lc, "OC": oc}
        weights = [("FT", Fraction(30)), ("LC", Fraction(30)), ("OC", Fraction(30)),
                   ("middle", Fraction(10))]
        middle = [i for i in range(oc + 1) if i not in {ft, lc, oc}]
        return _no_credit(positional_shares(n, w, weights, middle), "after OC: no credit")
    if model == "full_path":
        quarter = Fraction(45, 2)
        weights = [("FT", quarter), ("LC", quarter), ("OC", quarter), ("CL", quarter),
                   ("middle", Fraction(10))]
        middle = [i for i in range(positions["CL"] + 1) if i not in taken]
        return positional_shares(n, positions, weights, middle)
    if model == "custom":
        end = positions["CL"] if opp.is_closed else oc
        middle = [i for i in range(end + 1) if i not in taken]
        return _no_credit(positional_shares(n, positions, settings.custom, middle),
                          f"after {'CL' if opp.is_closed else 'OC'}: no credit")
    if model == "time_decay":
        h = settings.half_life_days
        raw: list[Fraction] = []
        for t in journey[:oc + 1]:
            us = (opp.created_at - t.occurred_at) // timedelta(microseconds=1)
            raw.append(_decay_weight(Fraction(us, _DAY_US), h))
        total = sum(raw, Fraction(0))
        shares = [HUNDRED * w / total for w in raw] + [Fraction(0)] * (n - oc - 1)
        rules = []
        for i, t in enumerate(journey):
            if i > oc:
                rules.append("after OC: no credit")
                continue
            days = (opp.created_at - t.occurred_at) / timedelta(days=1)
            rules.append(f"2^(-{days:.4f}d/{float(h):g}d) = {float(raw[i]):.6f}, "
                         f"normalized over {oc + 1} touches")
        return shares, rules
    raise ValueError(f"unknown attribution model {model!r}")


def _no_credit(result: tuple[list[Fraction], list[str]],
               why: str) -> tuple[list[Fraction], list[str]]:
    """Name the reason on touches no part of the model reached."""
    shares, rules = result
    return shares, [r or why for r in rules]


# ------------------------------------------------------------------ records


def attribute(opp: OpportunityValue, touches: Iterable[TouchValue], settings: Settings,
              *, as_of: datetime) -> Attribution:
    """Every active model's credits for one opportunity, with the explanation."""
    start, end, journey, excluded = build_journey(opp, touches, settings, as_of)
    if not journey:
        return Attribution(opp, start, end, (), {}, {}, tuple(excluded))
    positions = find_positions(opp, journey)
    names = position_names(positions, len(journey))
    amount = cents(opp.amount) if opp.amount is not None else None
    results = []
    for model in settings.models:
        shares, rules = model_shares(model, opp, journey, positions, settings)
        results.append(_model_result(opp, model, journey, names, shares, rules, amount))
    return Attribution(
        opp, start, end, tuple(journey),
        {p: journey[i].touch_id for p, i in positions.items()},
        {t.touch_id: names[i] for i, t in enumerate(journey)},
        tuple(excluded), tuple(results))


def _model_result(opp: OpportunityValue, model: ModelName, journey: list[TouchValue],
                  names: list[str], shares: list[Fraction], rules: list[str],
                  amount: Decimal | None) -> ModelResult:
    kept = [i for i, s in enumerate(shares) if s > 0]
    kept_shares = [shares[i] for i in kept]
    credits = allocate(kept_shares, Decimal("100.0000"), Fraction(1), 4)
    revenues: list[Decimal | None]
    if amount is None:
        revenues = [None] * len(kept)
    else:
        revenues = list(allocate(kept_shares, amount, Fraction(amount) / 100, 2))
    records = []
    for j, i in enumerate(kept):
        t = journey[i]
        records.append(CreditRecord(
            key=f"{opp.id}:{t.touch_id}:{model}", opportunity_id=opp.id,
            touch_id=t.touch_id, model=model, credit=credits[j], revenue=revenues[j],
            position=names[i], campaign_id=t.campaign_id, contact_id=t.contact_id,
            channel=t.channel, touch_date=t.occurred_at.astimezone(UTC),
            touch_type=t.touch_type))
    explained = tuple(TouchShare(t.touch_id, shares[i], rules[i])
                      for i, t in enumerate(journey))
    return ModelResult(model, explained, tuple(records))
