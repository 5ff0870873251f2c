"""Loading and validating ``mappings/*.yaml``.

Mappings are data: field names and write policies, the channel taxonomy, touch
types, campaign member statuses and sync settings. Each file is validated by a
pydantic model at load time; an error names the file, the line and the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connector.engine.attribution_config import AttributionMapping
from connector.engine.scoring_config import ScoringMapping
from connector.errors import MappingError

FieldType = Literal[
    "string", "textarea", "email", "phone", "url", "picklist", "boolean", "int",
    "double", "currency", "percent", "date", "datetime", "reference", "id",
]
WritePolicy = Literal["always", "if_blank", "write_once", "monotonic", "never"]
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- fields.yaml


class FieldDecl(_Strict):
    api_name: str
    label: str | None = None
    # what the field means, for admins: the field's description and help text
    description: str | None = Field(default=None, max_length=510)
    type: FieldType
    length: int | None = Field(default=None, gt=0)
    precision: int | None = Field(default=None, gt=0, le=18)
    scale: int | None = Field(default=None, ge=0)
    external_id: bool = False
    unique: bool = False
    policy: WritePolicy
    reference_to: str | None = None
    relationship_name: str | None = None

    @property
    def custom(self) -> bool:
        return self.api_name.endswith("__c")

    @model_validator(mode="after")
    def _consistent(self) -> FieldDecl:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.api_name):
            raise ValueError(f"api_name {self.api_name!r} is not a valid Salesforce API name")
        if self.type == "reference" and not self.reference_to:
            raise ValueError("a reference field needs reference_to")
        if self.custom and self.type in ("string",) and self.length is None:
            raise ValueError("a custom text field needs a length")
        if self.type == "string" and self.length and self.length > 255:
            raise ValueError("string fields are at most 255 long (use textarea)")
        if self.external_id and self.type not in ("string", "email", "int", "double"):
            raise ValueError("only text, email and number fields can be external ids")
        return self


class CustomObjectDecl(_Strict):
    label: str
    plural_label: str
    name_field: dict[str, str] = Field(default_factory=lambda: {"label": "Name", "type": "text"})


class ObjectDecl(_Strict):
    fields: dict[str, FieldDecl]
    custom_object: CustomObjectDecl | None = None

    def field(self, key: str) -> FieldDecl:
        try:
            return self.fields[key]
        except KeyError:
            raise MappingError(f"fields.yaml declares no field {key!r} on this object") from None

    def by_api_name(self, api_name: str) -> FieldDecl | None:
        lowered = api_name.lower()
        for decl in self.fields.values():
            if decl.api_name.lower() == lowered:
                return decl
        return None


class FieldsMapping(_Strict):
    person_fields: dict[str, FieldDecl] = Field(default_factory=dict)
    objects: dict[str, ObjectDecl]

    @model_validator(mode="after")
    def _unique_api_names(self) -> FieldsMapping:
        for obj, decl in self.objects.items():
            seen: dict[str, str] = {}
            for key, f in decl.fields.items():
                low = f.api_name.lower()
                if low in seen:
                    raise ValueError(f"{obj}: {key} and {seen[low]} both map to {f.api_name}")
                seen[low] = key
        return self

    def obj(self, name: str) -> ObjectDecl:
        try:
            return self.objects[name]
        except KeyError:
            raise MappingError(f"fields.yaml declares no object {name!r}") from None


# -------------------------------------------------------------- channels.yaml


@functools.lru_cache(maxsize=4096)
def channel_key(name: str) -> str:
    """Case, spacing, '-' and '_' aside: 'paid_search' == 'Paid Search'."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


class Channel(_Strict):
    name: str
    campaign_type: str = "Other"
    aliases: list[str] = Field(default_factory=list)


class UtmRule(_Strict):
    medium: list[str] | None = None
    source: list[str] | None = None
    channel: str

    @model_validator(mode="after")
    def _something(self) -> UtmRule:
        if not self.medium and not self.source:
            raise ValueError("a utm rule needs medium or source")
        return self


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return pattern


class ReferrerRule(_Strict):
    hosts: list[str]
    channel: str

    @field_validator("hosts")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        return [_check_regex(p) for p in v]


class ChannelsMapping(_Strict):
    channels: list[Channel]
    utm_rules: list[UtmRule] = Field(default_factory=list)
    referrer_rules: list[ReferrerRule] = Field(default_factory=list)
    own_domains: list[str] = Field(default_factory=list)
    referral_channel: str = "Referral"
    touch_type_channels: dict[str, str] = Field(default_factory=dict)
    default_channel: str = "Website"

    @model_validator(mode="after")
    def _known_channels(self) -> ChannelsMapping:
        names = {c.name for c in self.channels}
        used = (
            [r.channel for r in self.utm_rules]
            + [r.channel for r in self.referrer_rules]
            + list(self.touch_type_channels.values())
            + [self.referral_channel, self.default_channel]
        )
        unknown = sorted({u for u in used if u not in names})
        if unknown:
            raise ValueError(f"rules name channels that are not in `channels`: {unknown}")
        return self

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Normalized name or alias -> canonical channel name."""
        table: dict[str, str] = {}
        for c in self.channels:
            table[channel_key(c.name)] = c.name
            for alias in c.aliases:
                table.setdefault(channel_key(alias), c.name)
        return table

    def canonical(self, name: str | None) -> str | None:
        """The taxonomy's spelling of a channel name or alias, or None."""
        if not name:
            return None
        return self.lookup.get(channel_key(name))

    def campaign_type(self, channel: str) -> str:
        for c in self.channels:
            if c.name == channel:
                return c.campaign_type
        return "Other"

    @cached_property
    def compiled_referrer_rules(self) -> list[tuple[list[re.Pattern[str]], str]]:
        return [([re.compile(h, re.I) for h in r.hosts], r.channel) for r in self.referrer_rules]


# --------------------------------------------------------------- touches.yaml


class TouchTypeDecl(_Strict):
    response: bool
    conversion: bool = False
    member_status: str
    fast_track: bool = False


class MemberStatus(_Strict):
    label: str = Field(max_length=765)
    responded: bool = False
    default: bool = False


class TouchesMapping(_Strict):
    touch_types: dict[str, TouchTypeDecl]
    member_statuses: list[MemberStatus]

    @model_validator(mode="after")
    def _ladder(self) -> TouchesMapping:
        labels = [s.label for s in self.member_statuses]
        if len(set(labels)) != len(labels):
            raise ValueError("member_statuses has a label twice")
        if sum(s.default for s in self.member_statuses) != 1:
            raise ValueError("exactly one member status must be the default")
        if not any(s.responded for s in self.member_statuses):
            raise ValueError("at least one member status must be responded")
        first_responded = next(i for i, s in enumerate(self.member_statuses) if s.responded)
        if not all(s.responded for s in self.member_statuses[first_responded:]):
            raise ValueError(
                "responded member statuses must all come after the non-responded ones, "
                "so that a member never loses HasResponded when its status moves forward"
            )
        missing = sorted(
            {t.member_status for t in self.touch_types.values()} - set(labels)
        )
        if missing:
            raise ValueError(f"touch types use member statuses not in member_statuses: {missing}")
        for name in self.touch_types:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"touch type {name!r} must be snake_case")
        return self

    @cached_property
    def status_rank(self) -> dict[str, int]:
        return {s.label: i for i, s in enumerate(self.member_statuses)}

    @property
    def default_status(self) -> str:
        return next(s.label for s in self.member_statuses if s.default)

    def responded(self, status: str) -> bool:
        return any(s.responded for s in self.member_statuses if s.label == status)


# ------------------------------------------------------------------ sync.yaml


class SyncMapping(_Strict):
    create_leads: Literal["always", "mql", "never"] = "always"
    new_lead_defaults: dict[str, str] = Field(default_factory=dict)
    free_mail_domains: frozenset[str] = frozenset()
    recycle_statuses: list[str] = Field(default_factory=list)

    @field_validator("free_mail_domains", mode="before")
    @classmethod
    def _lower(cls, v: Iterable[str]) -> frozenset[str]:
        return frozenset(d.strip().lower() for d in v)


# --------------------------------------------------------------- sources.yaml


class ActivityRule(_Strict):
    """Refines a Marketo activity's touch type by a pattern (e.g. a form named 'Demo')."""

    activity_type_id: int
    # None: match against the activity's primaryAttributeValue (form name, page, email name);
    # otherwise the name of one of its attributes ("Query Parameters", "Description", ...).
    attribute: str | None = None
    pattern: str
    touch_type: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return _check_regex(v)


class NamePatternRule(_Strict):
    """A regular expression on a name (a HubSpot form's name) -> touch type."""

    pattern: str
    touch_type: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        return _check_regex(v)


class MarketoMapping(_Strict):
    # activityTypeId -> touch type; activities of other types are not read
    activity_types: dict[int, str] = Field(default_factory=dict)
    # first matching rule wins over `activity_types`; a type with rules but no
    # default in `activity_types` yields a touch only when a rule matches
    activity_rules: list[ActivityRule] = Field(default_factory=list)
    # program progression status (lower-cased) -> touch type, for
    # "Change Status in Progression" activities and program membership;
    # a key "channel/status" (e.g. "tradeshow/attended") wins over "status"
    program_status_touch_types: dict[str, str] = Field(default_factory=dict)
    # Marketo program channel (lower-cased) -> channel of the taxonomy, for
    # channels whose names the taxonomy's aliases do not already cover
    program_channels: dict[str, str] = Field(default_factory=dict)
    # originalSourceType (lower-cased) -> channel, used when neither the
    # acquisition program nor originalSourceInfo names a channel
    original_source_channels: dict[str, str] = Field(default_factory=dict)
    status_change_activity_type_id: int = 104
    new_lead_activity_type_id: int = 12
    data_value_change_activity_type_id: int = 13

    @field_validator("program_status_touch_types", "program_channels",
                     "original_source_channels")
    @classmethod
    def _lower_keys(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): val for k, val in v.items()}


class HubSpotMapping(_Strict):
    # hs_analytics_source value -> channel of the taxonomy
    source_channels: dict[str, str] = Field(default_factory=dict)
    # marketing event participation state -> touch type; a key
    # "eventtype/state" (e.g. "conference/attended") wins over "state"
    event_touch_types: dict[str, str] = Field(default_factory=dict)
    # marketing event eventType (lower-cased) -> channel of the event's program
    event_type_channels: dict[str, str] = Field(default_factory=dict)
    # hs_analytics_source of a contact's first/last session -> touch type of
    # that visit; other sources give `visit_touch_type`
    source_touch_types: dict[str, str] = Field(default_factory=dict)
    visit_touch_type: str = "web_visit"
    # form name patterns -> touch type; other forms give `form_touch_type`
    form_rules: list[NamePatternRule] = Field(default_factory=list)
    form_touch_type: str = "form_fill"
    # marketing email event type (CLICK, OPEN, ...) -> touch type; others are not read
    email_event_touch_types: dict[str, str] = Field(default_factory=dict)
    # a campaign property holding the campaign's channel (HubSpot has none built in)
    campaign_channel_property: str | None = None

    @field_validator("event_touch_types", "event_type_channels")
    @classmethod
    def _lower_keys(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): val for k, val in v.items()}

    @field_validator("source_touch_types", "source_channels", "email_event_touch_types")
    @classmethod
    def _upper_keys(cls, v: dict[str, str]) -> dict[str, str]:
        return {k.strip().upper(): val for k, val in v.items()}


class SourcesMapping(_Strict):
    marketo: MarketoMapping = Field(default_factory=MarketoMapping)
    hubspot: HubSpotMapping = Field(default_factory=HubSpotMapping)


# ------------------------------------------------------------------- loading


class Mappings(BaseModel):
    """Every mapping file, validated together (cross-file references checked)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    fields: FieldsMapping
    channels: ChannelsMapping
    touches: TouchesMapping
    sync: SyncMapping
    sources: SourcesMapping = Field(default_factory=SourcesMapping)
    attribution: AttributionMapping = Field(default_factory=AttributionMapping)
    scoring: ScoringMapping | None = None
    directory: Path | None = None

    @model_validator(mode="after")
    def _cross_refs(self) -> Mappings:
        unknown = sorted(set(self.channels.touch_type_channels) - set(self.touches.touch_types))
        if unknown:
            raise ValueError(
                f"channels.yaml touch_type_channels names unknown touch types: {unknown}")
        mk, hs = self.sources.marketo, self.sources.hubspot
        touch_refs: dict[str, list[str]] = {
            "marketo.activity_types": [str(t) for t in mk.activity_types.values()],
            "marketo.activity_rules": [r.touch_type for r in mk.activity_rules],
            "marketo.program_status_touch_types": list(mk.program_status_touch_types.values()),
            "hubspot.event_touch_types": list(hs.event_touch_types.values()),
            "hubspot.source_touch_types": list(hs.source_touch_types.values()),
            "hubspot.visit_touch_type": [hs.visit_touch_type],
            "hubspot.form_rules": [r.touch_type for r in hs.form_rules],
            "hubspot.form_touch_type": [hs.form_touch_type],
            "hubspot.email_event_touch_types": list(hs.email_event_touch_types.values()),
        }
        for name, used in touch_refs.items():
            bad = sorted(set(used) - set(self.touches.touch_types))
            if bad:
                raise ValueError(f"sources.yaml {name} names unknown touch types: {bad}")
        channel_refs: dict[str, list[str]] = {
            "hubspot.source_channels": list(hs.source_channels.values()),
            "hubspot.event_type_channels": list(hs.event_type_channels.values()),
            "marketo.program_channels": list(mk.program_channels.values()),
            "marketo.original_source_channels": list(mk.original_source_channels.values()),
        }
        for name, used in channel_refs.items():
            bad = sorted(c for c in set(used) if self.channels.canonical(c) is None)
            if bad:
                raise ValueError(f"sources.yaml {name} names channels that are not in the "
                                 f"taxonomy: {bad}")
        bad = sorted(set(self.attribution.conversion_touch_types or ())
                     - set(self.touches.touch_types))
        if bad:
            raise ValueError(f"attribution.yaml conversion_touch_types names unknown touch "
                             f"types: {bad}")
        if self.scoring is not None:
            for name, types in self.scoring.touch_type_refs().items():
                bad = sorted(types - set(self.touches.touch_types))
                if bad:
                    raise ValueError(f"scoring.yaml {name} names unknown touch types: {bad}")
            bad = sorted(c for c in self.scoring.channel_refs()
                         if c not in {ch.name for ch in self.channels.channels})
            if bad:
                raise ValueError(f"scoring.yaml names channels that are not in the taxonomy "
                                 f"(use the channel names of channels.yaml): {bad}")
        return self


_FILES: dict[str, tuple[str, type[BaseModel], bool]] = {
    "fields": ("fields.yaml", FieldsMapping, True),
    "channels": ("channels.yaml", ChannelsMapping, True),
    "touches": ("touches.yaml", TouchesMapping, True),
    "sync": ("sync.yaml", SyncMapping, True),
    "sources": ("sources.yaml", SourcesMapping, False),
    "attribution": ("attribution.yaml", AttributionMapping, False),
    "scoring": ("scoring.yaml", ScoringMapping, False),
}


def bundled_dir() -> Path:
    """The default mappings shipped with the package."""
    return Path(str(resources.files("connector.bundled_mappings")))


def _merged_value(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    """The value of ``key`` as a ``<<`` merge (one anchor or a list) supplies it."""
    for key_node, value_node in node.value:
        if key_node.value != "<<":
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) \
            else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                continue
            for inner_key, inner_value in source.value:
                if isinstance(inner_key, yaml.ScalarNode) and inner_key.value == key:
                    found_node: yaml.Node = inner_value
                    return found_node
            found = _merged_value(source, key)
            if found is not None:
                return found
    return None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk a composed YAML node along a pydantic error location to find its line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    nxt = value_node
                    break
            if nxt is None:  # a key arriving through a `<<` merge: find it in the anchor
                nxt = _merged_value(node, str(part))
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _load_file(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path}: the top level must be a mapping of keys")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # only now is the node tree worth building: it gives each error its line
        root = yaml.compose(text, Loader=loader)
        # One entry reused through a YAML anchor fails once per place it is used;
        # report it once, at the entry's own line, naming where else it is used.
        grouped: dict[tuple[int | None, str], list[str]] = {}
        for err in exc.errors():
            loc = err["loc"]
            key = ".".join(str(p) for p in loc) or "(top level)"
            grouped.setdefault((_line_of(root, loc), err["msg"]), []).append(key)
        problems = []
        for (line, msg), keys in grouped.items():
            where = f"{path}:{line}" if line else str(path)
            also = f" (also used as {', '.join(keys[1:])})" if len(keys) > 1 else ""
            problems.append(f"{where}: {keys[0]}{also}: {msg}")
        raise MappingError(
            "invalid mapping:\n  " + "\n  ".join(problems),
            hint="fix the file and run again; `connector doctor` checks mappings too",
        ) from exc


def load_mappings(directory: Path | None = None) -> Mappings:
    """Load every mapping file from ``directory`` (default: the bundled mappings).

    A file missing from a custom directory falls back to the bundled one, so an
    admin can override just ``sync.yaml``.
    """
    bundled = bundled_dir()
    parts: dict[str, Any] = {}
    for attr, (filename, model, required) in _FILES.items():
        path = (directory / filename) if directory else bundled / filename
        if directory and not path.exists():
            path = bundled / filename
        if not path.exists():
            if required:
                raise MappingError(f"{path}: required mapping file is missing")
            continue
        parts[attr] = _load_file(path, model)
    try:
        return Mappings(**parts, directory=directory or bundled)
    except ValidationError as exc:
        msgs = "; ".join(e["msg"] for e in exc.errors())
        raise MappingError(f"mappings in {directory or bundled} disagree: {msgs}") from exc
