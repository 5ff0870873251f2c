"""The model of ``mappings/scoring.yaml``: score rules, exclusions, stages, account scores.

Rules are data so a marketing-ops person can read and change them; this
module validates them at load time (regexes compile, bands are ordered, stage
names exist) so a typo fails the run's start with file, line and key rather
than silently scoring everyone zero. Compiled patterns are cached on the
frozen models, so the engines pay for ``re.compile`` once per run.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PersonField = Literal["title", "industry", "country", "employees", "annual_revenue",
                      "email_domain", "company", "email"]
AccountField = Literal["industry", "employees", "annual_revenue", "country", "tier", "domain"]
NUMERIC_FIELDS = frozenset({"employees", "annual_revenue"})

STAGES: tuple[str, ...] = ("Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Customer")
BUYING_STAGES: tuple[str, ...] = ("Target", "Aware", "Consideration", "Decision", "Purchase")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return pattern


class _Condition(_Strict):
    """One test on one field: a regex, a list of values, or a numeric band.

    Text comparisons ignore case. A field the record does not have never
    matches (missing data is no reason to score or exclude anyone). Bands
    include ``min`` and exclude ``below`` so adjacent bands never overlap.
    """

    pattern: str | None = None
    values: frozenset[str] | None = Field(default=None, alias="in")
    not_in: frozenset[str] | None = None
    min: float | None = None
    below: float | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, v: str | None) -> str | None:
        return _regex(v) if v is not None else None

    @field_validator("values", "not_in", mode="before")
    @classmethod
    def _fold(cls, v: object) -> object:
        if isinstance(v, list | tuple | set | frozenset):
            return frozenset(str(x).strip().casefold() for x in v)
        return v

    def _check_one_test(self, field: str) -> None:
        tests = [self.pattern is not None, self.values is not None, self.not_in is not None,
                 self.min is not None or self.below is not None]
        if sum(tests) != 1:
            raise ValueError("give exactly one test: `pattern`, `in`, `not_in`, or "
                             "`min`/`below`")
        if (self.min is not None or self.below is not None) and field not in NUMERIC_FIELDS:
            raise ValueError(f"`min`/`below` need a numeric field ({sorted(NUMERIC_FIELDS)}), "
                             f"not {field!r}")
        if self.min is not None and self.below is not None and self.min >= self.below:
            raise ValueError(f"the band is empty: min {self.min} is not below {self.below}")

    @cached_property
    def compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.I) if self.pattern is not None else None

    def test(self, value: object) -> bool:
        if value is None or value == "":
            return False
        if self.min is not None or self.below is not None:
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            return (self.min is None or number >= self.min) and (
                self.below is None or number < self.below)
        text = str(value).strip()
        if self.compiled is not None:
            return self.compiled.search(text) is not None
        folded = text.casefold()
        if self.values is not None:
            return folded in self.values
        return self.not_in is not None and folded not in self.not_in


class PersonCondition(_Condition):
    field: PersonField | None = None
    # true: matches an email at a domain in sync.yaml `free_mail_domains`
    free_mail: bool = False

    @model_validator(mode="after")
    def _one(self) -> PersonCondition:
        if self.free_mail:
            if self.field is not None or any(
                    x is not None for x in (self.pattern, self.values, self.not_in,
                                            self.min, self.below)):
                raise ValueError("`free_mail: true` stands alone (no field or test)")
            return self
        if self.field is None:
            raise ValueError("a rule needs a `field` (or `free_mail: true`)")
        self._check_one_test(self.field)
        return self


class AccountCondition(_Condition):
    field: AccountField

    @model_validator(mode="after")
    def _one(self) -> AccountCondition:
        self._check_one_test(self.field)
        return self


class TouchMatch(_Strict):
    """Which touches a rule applies to; every part given must match, none given matches all."""

    touch_types: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        return _regex(v) if v is not None else None

    @cached_property
    def url_re(self) -> re.Pattern[str] | None:
        return re.compile(self.url, re.I) if self.url is not None else None

    def matches(self, touch_type: str, channel: str | None, url: str | None) -> bool:
        if self.touch_types is not None and touch_type not in self.touch_types:
            return False
        if self.channels is not None and channel not in self.channels:
            return False
        if self.url_re is not None:
            return url is not None and self.url_re.search(url) is not None
        return True


class Cap(_Strict):
    """At most ``count`` touches of the rule score within any ``days``-day window."""

    count: int = Field(gt=0)
    days: float = Field(gt=0)


class BehaviorRule(TouchMatch):
    name: str = Field(min_length=1)
    points: int
    cap: Cap | None = None


class BehaviorConfig(_Strict):
    # Points lose half their value every `half_life_days`; null: no decay.
    half_life_days: float | None = Field(default=30, gt=0)
    rules: list[BehaviorRule]

    @model_validator(mode="after")
    def _unique(self) -> BehaviorConfig:
        _unique_names([r.name for r in self.rules], "behavior rule")
        return self


class FitRule(PersonCondition):
    name: str = Field(min_length=1)
    points: int
    # Within a group only the first matching rule scores (seniority, size bands).
    group: str | None = None


class FitConfig(_Strict):
    rules: list[FitRule]

    @model_validator(mode="after")
    def _unique(self) -> FitConfig:
        _unique_names([r.name for r in self.rules], "fit rule")
        return self


class Exclusion(PersonCondition):
    # What Excluded_Reason__c says; keep it short and readable by sales.
    reason: str = Field(min_length=1, max_length=255)


class MqlConfig(_Strict):
    threshold: int
    fit_minimum: int


SlaStage = Literal["MQL", "SAL"]


def _default_sla() -> dict[SlaStage, float]:
    return {"MQL": 30.0, "SAL": 30.0}


class StagesConfig(_Strict):
    accepted_statuses: frozenset[str] = frozenset()
    qualified_statuses: frozenset[str] = frozenset()
    # Responses that jump a person straight to SAL (plus touches.yaml `fast_track`).
    fast_track_touch_types: frozenset[str] = frozenset()
    # Days a person may stay at a stage before being recycled (MQL and SAL only).
    sla_days: dict[SlaStage, float] = Field(default_factory=_default_sla)
    # Lead Status values that close a funnel cycle (with sync.yaml `recycle_statuses`).
    recycle_statuses: frozenset[str] = frozenset()
    # Opt-in: also write this Lead Status when the connector recycles a person.
    write_lead_status_on_recycle: bool = False
    recycled_lead_status: str = "Recycled"

    @field_validator("sla_days")
    @classmethod
    def _positive(cls, v: dict[SlaStage, float]) -> dict[SlaStage, float]:
        bad = {k: d for k, d in v.items() if d <= 0}
        if bad:
            raise ValueError(f"SLA days must be positive: {bad}")
        return v

    @model_validator(mode="after")
    def _disjoint(self) -> StagesConfig:
        both = (self.accepted_statuses & self.qualified_statuses) | (
            (self.accepted_statuses | self.qualified_statuses) & self.recycle_statuses)
        if both:
            raise ValueError(f"a status cannot be in two stage lists: {sorted(both)}")
        return self


class AccountFitRule(AccountCondition):
    name: str = Field(min_length=1)
    points: int
    group: str | None = None


class AccountsConfig(_Strict):
    fit_rules: list[AccountFitRule] = Field(default_factory=list)
    engagement_window_days: float = Field(default=90, gt=0)
    # null: the behavior half-life
    engagement_half_life_days: float | None = Field(default=None, gt=0)
    # Minimum engagement score for each buying stage after Target; Purchase also
    # comes with an open opportunity whatever the engagement.
    buying_stage_thresholds: dict[Literal["Aware", "Consideration", "Decision", "Purchase"],
                                  int]
    qualified_fit_minimum: int
    qualified_stage: Literal["Aware", "Consideration", "Decision", "Purchase"] = "Consideration"
    # Touches that make an account engaged (Engaged_Date__c): any rule matching.
    meaningful_engagement: list[TouchMatch] = Field(default_factory=list)
    # A Salesforce Account field (API name) that marks target accounts, besides
    # the MAP's target_accounts list.
    target_field: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> AccountsConfig:
        _unique_names([r.name for r in self.fit_rules], "account fit rule")
        values = [self.buying_stage_thresholds[s] for s in BUYING_STAGES[1:]
                  if s in self.buying_stage_thresholds]
        if values != sorted(values):
            raise ValueError("buying_stage_thresholds must grow from Aware to Purchase")
        missing = [s for s in BUYING_STAGES[1:4] if s not in self.buying_stage_thresholds]
        if missing:
            raise ValueError(f"buying_stage_thresholds needs {missing}")
        return self


class ScoringMapping(_Strict):
    behavior: BehaviorConfig
    fit: FitConfig
    exclusions: list[Exclusion] = Field(default_factory=list)
    mql: MqlConfig
    stages: StagesConfig = Field(default_factory=StagesConfig)
    accounts: AccountsConfig

    def touch_type_refs(self) -> dict[str, set[str]]:
        """Touch types named anywhere, by where: for the cross-file check."""
        refs: dict[str, set[str]] = {}
        for r in self.behavior.rules:
            refs.setdefault(f"behavior.rules[{r.name}]", set()).update(r.touch_types or ())
        refs["stages.fast_track_touch_types"] = set(self.stages.fast_track_touch_types)
        for i, m in enumerate(self.accounts.meaningful_engagement):
            refs[f"accounts.meaningful_engagement[{i}]"] = set(m.touch_types or ())
        return refs

    def channel_refs(self) -> set[str]:
        return {c for r in self.behavior.rules for c in (r.channels or ())} | {
            c for m in self.accounts.meaningful_engagement for c in (m.channels or ())}


def _unique_names(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"two {what}s are named {n!r}; names identify rules in explain")
        seen.add(n)
