"""``mappings/attribution.yaml``: which attribution models run and how.

Attribution settings are data, like every other mapping: the active models,
the lookback window, the time-decay half-life, the custom model's weights, the
touch types that count as conversions (the LC position), contact-role or
account mode, and the optional standard ``CampaignInfluence`` output. The file
is validated at load time; an error names the file, the line and the key.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ModelName = Literal[
    "first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "full_path",
    "time_decay", "custom",
]
# The canonical order: records and explanations list models in this order,
# whatever order the configuration names them in, so output never depends on it.
MODEL_NAMES: tuple[ModelName, ...] = (
    "first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "full_path",
    "time_decay", "custom",
)
DEFAULT_MODELS: tuple[ModelName, ...] = (
    "first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "full_path", "time_decay",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomWeights(_Strict):
    """Percent weights of the ``custom`` model per position; they must sum to 100."""

    FT: Decimal = Field(default=Decimal(25), ge=0)
    LC: Decimal = Field(default=Decimal(25), ge=0)
    OC: Decimal = Field(default=Decimal(25), ge=0)
    CL: Decimal = Field(default=Decimal(15), ge=0)
    middle: Decimal = Field(default=Decimal(10), ge=0)

    @model_validator(mode="after")
    def _sums_to_100(self) -> CustomWeights:
        total = self.FT + self.LC + self.OC + self.CL + self.middle
        if total != 100:
            raise ValueError(f"custom weights FT+LC+OC+CL+middle must sum to 100, not {total}")
        return self


class CampaignInfluenceSettings(_Strict):
    """Optional output to the standard ``CampaignInfluence`` object (one model only).

    Salesforce wipes rows written to its Primary Campaign Source model whenever
    it recalculates it, so the connector writes to its own custom influence
    model, named here by DeveloperName and declared by ``connector schema export``.
    """

    enabled: bool = False
    model: ModelName = "w_shaped"
    influence_model: str = Field(default="MAP_Connector_Attribution", min_length=1,
                                 max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    label: str = Field(default="MAP Connector Attribution", min_length=1, max_length=80)


class AttributionMapping(_Strict):
    models: list[ModelName] = Field(default_factory=lambda: list(DEFAULT_MODELS), min_length=1)
    lookback_days: int = Field(default=365, ge=0, le=36500)
    time_decay_half_life_days: Decimal = Field(default=Decimal(7), gt=0)
    custom_weights: CustomWeights = Field(default_factory=CustomWeights)
    # None: the touch types marked `conversion: true` in touches.yaml
    conversion_touch_types: list[str] | None = None
    mode: Literal["contact_role", "account"] = "contact_role"
    campaign_influence: CampaignInfluenceSettings = Field(
        default_factory=CampaignInfluenceSettings)

    @field_validator("models")
    @classmethod
    def _unique_models(cls, v: list[ModelName]) -> list[ModelName]:
        twice = sorted(m for m, n in Counter(v).items() if n > 1)
        if twice:
            raise ValueError(f"models names {twice} more than once")
        return v

    @model_validator(mode="after")
    def _influence_model_active(self) -> AttributionMapping:
        ci = self.campaign_influence
        if ci.enabled and ci.model not in self.models:
            raise ValueError(
                f"campaign_influence.model {ci.model!r} is not one of the active models "
                f"{self.models}; add it to `models` or pick an active one")
        return self

    @property
    def active_models(self) -> tuple[ModelName, ...]:
        """The configured models in the canonical order."""
        return tuple(m for m in MODEL_NAMES if m in self.models)

    def conversion_types(self, touch_types_conversion: dict[str, bool]) -> frozenset[str]:
        """The conversion touch types: this file's list, else touches.yaml's flags."""
        if self.conversion_touch_types is not None:
            return frozenset(self.conversion_touch_types)
        return frozenset(t for t, conv in touch_types_conversion.items() if conv)
