"""Desired credit rows against what Salesforce holds: what to create, update, delete.

``Attribution__c`` rows are keyed by ``Key__c`` (``OPPORTUNITYID:TOUCHID:MODEL``):
a desired key not in Salesforce is a create, a held key whose values differ is an
update of the changed fields only, and a held key no longer desired (the touch
left the window, the contact role was removed, the model was switched off) is
a delete. A re-run with nothing changed writes nothing.

Standard ``CampaignInfluence`` rows have no external id, and ``CampaignId``,
``OpportunityId``, ``ContactId`` and ``ModelId`` cannot be updated: rows are
matched on those four, so a change to any of them is a delete and an insert,
and ``Influence`` is the only field ever updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from connector.engine.attribution import CreditRecord
from connector.engine.attribution_scope import InfluenceRow
from connector.engine.policies import canonical
from connector.mappings import FieldDecl, ObjectDecl

ATTRIBUTION_OBJECT = "Attribution__c"
# The field keys of Attribution__c in fields.yaml, and how a record fills them.
_RECORD_FIELDS: tuple[tuple[str, str], ...] = (
    ("key", "key"), ("opportunity", "opportunity_id"), ("campaign", "campaign_id"),
    ("contact", "contact_id"), ("model", "model"), ("credit", "credit"),
    ("revenue", "revenue"), ("touch_id", "touch_id"), ("touch_date", "touch_date"),
    ("touch_type", "touch_type"), ("channel", "channel"), ("position", "position"),
)


@dataclass(frozen=True, slots=True)
class RowUpdate:
    record_id: str
    key: str
    fields: dict[str, Any]
    before: dict[str, Any]


@dataclass
class RowDiff:
    """Creates (full field maps, by API name), updates (changed fields only) and
    deletes (Salesforce ids), each in a deterministic order."""

    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[RowUpdate] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def writes(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)


Converter = Callable[[Any], Any]


def _converter(f: FieldDecl) -> Converter:
    """``canonical`` for one field, with fast paths for the values records carry
    (plain text, and numbers already at the field's scale): a run converts
    millions of values."""
    if f.type in ("string", "textarea", "picklist", "reference", "id"):
        limit = f.length

        def text(value: Any) -> Any:
            if value is None or value == "":
                return None
            value = str(value)
            return value[:limit] if limit and len(value) > limit else value
        return text
    if f.type in ("percent", "currency", "double") and f.scale != 0:
        step = Decimal(1).scaleb(-(f.scale if f.scale is not None else 2))

        def number(value: Any) -> Any:
            if isinstance(value, Decimal):
                return float(value.quantize(step, ROUND_HALF_UP))
            return canonical(f, value)
        return number
    return partial(canonical, f)


def converters(decl: ObjectDecl) -> list[tuple[str, str, Converter]]:
    """(API name, record attribute, converter) for each mapped Attribution__c field."""
    out = []
    for key, attr in _RECORD_FIELDS:
        f = decl.fields.get(key)
        if f is not None:
            out.append((f.api_name, attr, _converter(f)))
    return out


def attribution_values(record: CreditRecord, decl: ObjectDecl,
                       prepared: list[tuple[str, str, Converter]] | None = None
                       ) -> dict[str, Any]:
    """A record as Salesforce field values (API names from fields.yaml), in the
    canonical form the write policies compare (JSON-ready)."""
    return {name: convert(getattr(record, attr))
            for name, attr, convert in (prepared or converters(decl))}


def diff_attribution(desired: Iterable[CreditRecord], existing: Iterable[Mapping[str, Any]],
                     decl: ObjectDecl) -> RowDiff:
    """``existing``: the Attribution__c rows Salesforce holds for the opportunities
    in scope, by API name with ``Id``. Two held rows with one key (impossible with
    a unique external id, but cheap to survive) keep the lowest Id."""
    key_name = decl.field("key").api_name
    by_name = {f.api_name: f for f in decl.fields.values()}
    held: dict[str, Mapping[str, Any]] = {}
    diff = RowDiff()
    for row in sorted(existing, key=lambda r: str(r["Id"])):
        k = str(row.get(key_name) or "")
        if k in held or not k:
            diff.deletes.append(str(row["Id"]))
        else:
            held[k] = row
    wanted: set[str] = set()
    prepared = converters(decl)
    for record in sorted(desired, key=lambda r: r.key):
        values = attribution_values(record, decl, prepared)
        wanted.add(record.key)
        current = held.get(record.key)
        if current is None:
            diff.creates.append(values)
            continue
        changed: dict[str, Any] = {}
        before: dict[str, Any] = {}
        for name, want in values.items():
            have = canonical(by_name[name], current.get(name))
            if name != key_name and have != want:
                changed[name] = want
                before[name] = have
        if changed:
            diff.updates.append(RowUpdate(str(current["Id"]), record.key, changed, before))
        else:
            diff.unchanged += 1
    diff.deletes.extend(str(row["Id"]) for k, row in sorted(held.items()) if k not in wanted)
    return diff


# ----------------------------------------------------------- CampaignInfluence


@dataclass(frozen=True, slots=True)
class InfluenceUpdate:
    record_id: str
    influence: float
    before: float | None


@dataclass
class InfluenceDiff:
    """Inserts carry every createable field; updates only ``Influence``."""

    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[InfluenceUpdate] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def writes(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)


def _pct2(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return round(float(value), 2)


def diff_influence(desired: Iterable[InfluenceRow], existing: Iterable[Mapping[str, Any]],
                   model_id: str) -> InfluenceDiff:
    """``existing``: CampaignInfluence rows (``Id``, ``OpportunityId``,
    ``CampaignId``, ``ContactId``, ``ModelId``, ``Influence``) for the
    opportunities in scope; rows of other influence models are left alone."""
    diff = InfluenceDiff()
    held: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for row in sorted(existing, key=lambda r: str(r["Id"])):
        if str(row.get("ModelId") or "")[:15] != model_id[:15]:
            continue
        k = (str(row.get("OpportunityId") or "")[:15], str(row.get("CampaignId") or "")[:15],
             str(row.get("ContactId") or "")[:15])
        if k in held:
            diff.deletes.append(str(row["Id"]))  # a duplicate of a create-only key
        else:
            held[k] = row
    wanted: set[tuple[str, str, str]] = set()
    for want in sorted(desired, key=lambda r: r.key):
        k = (want.opportunity_id[:15], want.campaign_id[:15], (want.contact_id or "")[:15])
        wanted.add(k)
        influence = float(want.influence)
        current = held.get(k)
        if current is None:
            diff.creates.append({"CampaignId": want.campaign_id,
                                 "OpportunityId": want.opportunity_id,
                                 "ContactId": want.contact_id, "ModelId": model_id,
                                 "Influence": influence})
        elif _pct2(current.get("Influence")) != influence:
            diff.updates.append(InfluenceUpdate(str(current["Id"]), influence,
                                                _pct2(current.get("Influence"))))
        else:
            diff.unchanged += 1
    diff.deletes.extend(str(row["Id"]) for k, row in sorted(held.items()) if k not in wanted)
    return diff
