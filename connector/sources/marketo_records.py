"""Marketo JSON -> canonical records. Pure functions, no I/O.

Activity types become touch types through ``sources.yaml`` (``marketo`` table):
a rule on the activity's primary attribute or one of its attributes, else the
type's default. "Change Status in Progression" becomes a touch when the new
program status is mapped. Email activities are tied to their program by the
email's name, which Marketo writes as ``Program Name.Email Name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from connector.mappings import Mappings, MarketoMapping
from connector.models import Origin, Person, Program, Rejection, Touch
from connector.normalize import normalize_email, parse_date, resolve_channel
from connector.sources.canonical import (
    TouchFactory,
    utms_from_query,
    utms_from_url,
    validation_message,
)
from connector.sources.timestamps import parse_api_timestamp

LEAD_FIELDS = (
    "id", "email", "firstName", "lastName", "company", "title", "industry",
    "numberOfEmployees", "annualRevenue", "country", "createdAt", "updatedAt",
    "originalSourceType", "originalSourceInfo", "acquisitionProgramId", "sfdcLeadId",
    "sfdcContactId", "leadScore",
)
EMAIL_ACTIVITY_TYPES = frozenset({6, 7, 8, 9, 10, 11})
ORIGIN = Origin(kind="marketo")


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{field}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


def program_channel(mapping: MarketoMapping, mappings: Mappings,
                    channel_raw: str | None) -> str | None:
    """A Marketo program channel in the taxonomy's words, or None."""
    if not channel_raw:
        return None
    mapped = mapping.program_channels.get(channel_raw.strip().lower())
    return mappings.channels.canonical(mapped or channel_raw)


def to_program(data: Mapping[str, Any], mappings: Mappings,
               channels: Mapping[str, Mapping[str, Any]]) -> Program | Rejection:
    """A program of the asset API (by-id shape, costs included when present)."""
    mapping = mappings.sources.marketo
    program_id = _str(data.get("id"))
    channel_raw = _str(data.get("channel"))
    try:
        costs = data.get("costs") or []
        total = sum((_decimal(c.get("cost"), "costs.cost") or Decimal(0) for c in costs),
                    Decimal(0)) if costs else None
        folder = data.get("folder") or {}
        parent = _str(folder.get("value")) if folder.get("type") == "Program" else None
        extra: dict[str, Any] = {
            k: data[k] for k in ("url", "status", "workspace", "description", "updatedAt")
            if data.get(k) not in (None, "")}
        if data.get("tags"):
            extra["tags"] = data["tags"]
        channel_info = channels.get((channel_raw or "").lower())
        if channel_info:
            statuses = channel_info.get("progressionStatuses") or []
            extra["progression_statuses"] = [s.get("name") for s in statuses]
            extra["success_statuses"] = [s.get("name") for s in statuses if s.get("success")]
        return Program(
            program_id=program_id or "", name=_str(data.get("name")),
            channel=program_channel(mapping, mappings, channel_raw), channel_raw=channel_raw,
            type=_str(data.get("type")),
            start_date=parse_date(_str(data.get("startDate"))),
            end_date=parse_date(_str(data.get("endDate"))),
            cost=total, parent_id=parent, extra=extra, origin=ORIGIN)
    except (ValueError, TypeError, AttributeError) as exc:
        if isinstance(exc, ValidationError):
            field, message = validation_message(exc)
        else:
            field, message = None, str(exc)
        return Rejection(kind="program", record_id=program_id, field=field, message=message,
                         raw=dict(data))


def _source_channel(lead: Mapping[str, Any], mappings: Mappings,
                    programs: Mapping[str, Program]) -> str | None:
    """Acquisition program's channel, then UTMs or referrer in originalSourceInfo,
    then the originalSourceType table of sources.yaml."""
    acquisition = programs.get(_str(lead.get("acquisitionProgramId")) or "")
    if acquisition and acquisition.channel:
        return acquisition.channel
    info = _str(lead.get("originalSourceInfo"))
    if info:
        utms = utms_from_url(info)
        referrer = info if "://" in info and not utms else None
        channel, rule = resolve_channel(
            mappings.channels, mappings.touches, program_channel=None,
            utm_medium=utms.get("utm_medium"), utm_source=utms.get("utm_source"),
            referrer=referrer, touch_type="")
        if rule.startswith(("utm_rules", "referrer_rules", "referral_channel")):
            return channel
    source_type = _str(lead.get("originalSourceType"))
    if source_type:
        mapped = mappings.sources.marketo.original_source_channels.get(source_type.lower())
        return mappings.channels.canonical(mapped or source_type)
    return None


def to_person(lead: Mapping[str, Any], mappings: Mappings,
              programs: Mapping[str, Program]) -> Person | Rejection:
    lead_id = _str(lead.get("id"))
    try:
        email, valid, problem = normalize_email(_str(lead.get("email")))
        score = lead.get("leadScore")
        employees = lead.get("numberOfEmployees")
        return Person(
            map_id=lead_id or "", email=email, email_valid=valid, email_problem=problem,
            first_name=_str(lead.get("firstName")), last_name=_str(lead.get("lastName")),
            company=_str(lead.get("company")), title=_str(lead.get("title")),
            industry=_str(lead.get("industry")),
            employees=int(employees) if employees not in (None, "") else None,
            annual_revenue=_decimal(lead.get("annualRevenue"), "annualRevenue"),
            country=_str(lead.get("country")),
            created_at=parse_api_timestamp(lead.get("createdAt")),
            updated_at=parse_api_timestamp(lead.get("updatedAt")),
            source=_str(lead.get("originalSourceType")),
            source_channel=_source_channel(lead, mappings, programs),
            source_detail=_str(lead.get("originalSourceInfo")),
            acquisition_program_id=_str(lead.get("acquisitionProgramId")),
            sfdc_lead_id=_str(lead.get("sfdcLeadId")),
            sfdc_contact_id=_str(lead.get("sfdcContactId")),
            map_score=float(score) if score not in (None, "") else None,
            extra={k: v for k, v in lead.items() if k not in LEAD_FIELDS and v is not None},
            origin=ORIGIN)
    except ValidationError as exc:
        field, message = validation_message(exc)
        return Rejection(kind="person", record_id=lead_id, field=field, message=message,
                         raw=dict(lead))
    except (ValueError, TypeError) as exc:
        return Rejection(kind="person", record_id=lead_id, message=str(exc), raw=dict(lead))


class ProgramNames:
    """Finds the program of an email asset from its ``Program.Email`` name."""

    def __init__(self, programs: Iterable[Program]) -> None:
        self._by_name: dict[str, str] = {}
        for program in programs:
            if program.name:
                self._by_name.setdefault(program.name, program.program_id)

    def program_of_email(self, email_name: str | None) -> str | None:
        if not email_name:
            return None
        for match in reversed([m.start() for m in re.finditer(r"\.", email_name)]):
            found = self._by_name.get(email_name[:match])
            if found:
                return found
        return None


class ActivityMapper:
    """One Marketo activity -> a touch, a rejection, or ``None`` (not a touch)."""

    def __init__(self, mappings: Mappings, factory: TouchFactory,
                 names: ProgramNames) -> None:
        self._mapping = mappings.sources.marketo
        self._factory = factory
        self._names = names
        self._rules = [(r, re.compile(r.pattern)) for r in self._mapping.activity_rules]
        self.unmapped_statuses: dict[str, int] = {}

    def activity_type_ids(self) -> list[int]:
        """Every activity type a read must fetch."""
        ids = set(self._mapping.activity_types) | {r.activity_type_id for r, _ in self._rules}
        ids |= {self._mapping.status_change_activity_type_id,
                self._mapping.new_lead_activity_type_id,
                self._mapping.data_value_change_activity_type_id}
        return sorted(ids)

    def _touch_type(self, type_id: int, primary: str | None, attrs: Mapping[str, Any],
                    program_id: str | None) -> str | None:
        if type_id == self._mapping.status_change_activity_type_id:
            status = (_str(attrs.get("New Status")) or "").lower()
            program = self._factory.program(program_id)
            channel = (program.channel_raw or "").lower() if program else ""
            table = self._mapping.program_status_touch_types
            found = table.get(f"{channel}/{status}") or table.get(status)
            if found is None:
                self.unmapped_statuses[status] = self.unmapped_statuses.get(status, 0) + 1
            return found
        for rule, pattern in self._rules:
            if rule.activity_type_id != type_id:
                continue
            subject = primary if rule.attribute is None else _str(attrs.get(rule.attribute))
            if subject and pattern.search(subject):
                return rule.touch_type
        return self._mapping.activity_types.get(type_id)

    def to_touch(self, activity: Mapping[str, Any]) -> Touch | Rejection | None:
        type_id = int(activity.get("activityTypeId", 0))
        attrs: dict[str, Any] = {
            str(a.get("name")): a.get("value") for a in activity.get("attributes") or []
            if isinstance(a, dict)}
        primary = _str(activity.get("primaryAttributeValue"))
        touch_id = _str(activity.get("marketoGUID")) or _str(activity.get("id")) or ""
        program_id: str | None = None
        if type_id == self._mapping.status_change_activity_type_id:
            program_id = _str(activity.get("primaryAttributeValueId"))
        elif attrs.get("Program ID") is not None:
            program_id = _str(attrs.get("Program ID"))
        elif type_id in EMAIL_ACTIVITY_TYPES:
            program_id = self._names.program_of_email(primary)
        touch_type = self._touch_type(type_id, primary, attrs, program_id)
        if touch_type is None:
            return None
        url = _str(attrs.get("Link")) or _str(attrs.get("Webpage URL"))
        if type_id in (1, 3) and primary:
            url = primary
        query = _str(attrs.get("Query Parameters"))
        utms = utms_from_query(query) if query else utms_from_url(url)
        raw = dict(activity)
        try:
            occurred_at = parse_api_timestamp(activity.get("activityDate"))
        except ValueError as exc:
            return Rejection(kind="touch", record_id=touch_id or None, field="activityDate",
                             value=str(activity.get("activityDate")), message=str(exc), raw=raw)
        if occurred_at is None:
            return Rejection(kind="touch", record_id=touch_id or None, field="activityDate",
                             message="the activity has no activityDate", raw=raw)
        extra: dict[str, Any] = {"activity_type_id": type_id}
        if primary:
            extra["primary_attribute_value"] = primary
        if type_id == self._mapping.status_change_activity_type_id:
            extra["program_status"] = _str(attrs.get("New Status"))
            extra["reached_success"] = bool(attrs.get("Success"))
        if activity.get("campaignId") is not None:
            extra["campaign_id"] = activity["campaignId"]
        return self._factory.build(
            touch_id=touch_id, map_id=_str(activity.get("leadId")) or "",
            touch_type=touch_type, occurred_at=occurred_at, program_id=program_id, url=url,
            referrer=_str(attrs.get("Referrer URL")), utms=utms, extra=extra, origin=ORIGIN,
            raw=raw)
