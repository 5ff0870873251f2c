"""HubSpot JSON -> canonical records. Pure functions, no I/O.

Contacts become people (with HubSpot's own score, lifecycle stage and stage
dates); campaigns and marketing events become programs; marketing event
participations, form submissions, marketing email events and each contact's
first and latest sessions (from the analytics properties) become touches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from connector.mappings import HubSpotMapping, Mappings
from connector.models import Origin, Person, Program, Rejection
from connector.normalize import normalize_email, parse_date
from connector.sources.canonical import utms_from_url, validation_message
from connector.sources.timestamps import parse_api_timestamp

STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
          "opportunity", "customer", "evangelist", "other")
CONTACT_PROPERTIES = (
    "email", "firstname", "lastname", "company", "jobtitle", "industry",
    "numberofemployees", "annualrevenue", "country", "createdate", "lastmodifieddate",
    "hs_analytics_source", "hs_analytics_source_data_1", "hs_analytics_source_data_2",
    "hs_latest_source", "hs_latest_source_data_1", "hs_latest_source_data_2",
    "hubspotscore", "lifecyclestage", "salesforceleadid", "salesforcecontactid",
    "hs_analytics_first_timestamp", "hs_analytics_first_url", "hs_analytics_first_referrer",
    "hs_analytics_last_timestamp", "hs_analytics_last_url", "hs_analytics_last_referrer",
    *(f"hs_lifecyclestage_{stage}_date" for stage in STAGES),
)
CAMPAIGN_PROPERTIES = ("hs_name", "hs_start_date", "hs_end_date", "hs_utm",
                       "hs_campaign_status", "hs_budget_items_sum_amount",
                       "hs_spend_items_sum_amount")
ORIGIN = Origin(kind="hubspot")
_USED = frozenset(CONTACT_PROPERTIES)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, field: str) -> Decimal | None:
    text = _str(value)
    if text is None:
        return None
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{field}: {text!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{field}: {text!r} is not a finite number")
    return result


def source_channel(mappings: Mappings, source: str | None) -> str | None:
    if not source:
        return None
    mapped = mappings.sources.hubspot.source_channels.get(source.upper())
    return mappings.channels.canonical(mapped or source)


def to_person(contact: Mapping[str, Any], mappings: Mappings) -> Person | Rejection:
    contact_id = _str(contact.get("id"))
    props: Mapping[str, Any] = contact.get("properties") or {}
    try:
        email, valid, problem = normalize_email(_str(props.get("email")))
        stage_dates = {}
        for stage in STAGES:
            when = parse_api_timestamp(_str(props.get(f"hs_lifecyclestage_{stage}_date")))
            if when is not None:
                stage_dates[stage] = when
        employees = _number(props.get("numberofemployees"), "numberofemployees")
        score = _number(props.get("hubspotscore"), "hubspotscore")
        source = _str(props.get("hs_analytics_source"))
        details = [d for d in (_str(props.get("hs_analytics_source_data_1")),
                               _str(props.get("hs_analytics_source_data_2"))) if d]
        extra = {k: v for k, v in props.items() if k not in _USED and v not in (None, "")}
        for key in ("hs_latest_source", "hs_latest_source_data_1"):
            if props.get(key):
                extra[key] = props[key]
        return Person(
            map_id=contact_id or "", email=email, email_valid=valid, email_problem=problem,
            first_name=_str(props.get("firstname")), last_name=_str(props.get("lastname")),
            company=_str(props.get("company")), title=_str(props.get("jobtitle")),
            industry=_str(props.get("industry")),
            employees=int(employees) if employees is not None else None,
            annual_revenue=_number(props.get("annualrevenue"), "annualrevenue"),
            country=_str(props.get("country")),
            created_at=parse_api_timestamp(_str(props.get("createdate"))
                                           or _str(contact.get("createdAt"))),
            updated_at=parse_api_timestamp(_str(props.get("lastmodifieddate"))
                                           or _str(contact.get("updatedAt"))),
            source=source, source_channel=source_channel(mappings, source),
            source_detail=" / ".join(details) or None,
            sfdc_lead_id=_str(props.get("salesforceleadid")),
            sfdc_contact_id=_str(props.get("salesforcecontactid")),
            map_score=float(score) if score is not None else None,
            map_lifecycle_stage=_str(props.get("lifecyclestage")),
            map_stage_dates=stage_dates, extra=extra, origin=ORIGIN)
    except ValidationError as exc:
        field, message = validation_message(exc)
        return Rejection(kind="person", record_id=contact_id, field=field, message=message,
                         raw=dict(contact))
    except ValueError as exc:
        return Rejection(kind="person", record_id=contact_id, message=str(exc),
                         raw=dict(contact))


def visit_touches(contact: Mapping[str, Any], mapping: HubSpotMapping) -> list[dict[str, Any]]:
    """The contact's first and latest sessions as touch fields (before channel resolution).

    Ids are stable per session (contact id and the session's timestamp), so a
    re-read of an unchanged contact dedupes in the ledger."""
    contact_id = _str(contact.get("id"))
    props: Mapping[str, Any] = contact.get("properties") or {}
    touches: list[dict[str, Any]] = []
    for which, source_key in (("first", "hs_analytics_source"), ("last", "hs_latest_source")):
        when_raw = _str(props.get(f"hs_analytics_{which}_timestamp"))
        if not when_raw or not contact_id:
            continue
        url = _str(props.get(f"hs_analytics_{which}_url"))
        source = (_str(props.get(source_key)) or "").upper()
        touches.append({
            "stream": "hubspot:contacts",
            "touch_id": f"visit:{contact_id}:{when_raw}", "map_id": contact_id,
            "touch_type": mapping.source_touch_types.get(source, mapping.visit_touch_type),
            "occurred_at": when_raw, "url": url,
            "referrer": _str(props.get(f"hs_analytics_{which}_referrer")),
            "utms": utms_from_url(url),
            "extra": {"session": which, "hs_source": source or None},
        })
    return touches


def campaign_program(campaign: Mapping[str, Any], mappings: Mappings) -> Program | Rejection:
    campaign_id = _str(campaign.get("id"))
    props: Mapping[str, Any] = campaign.get("properties") or {}
    channel_prop = mappings.sources.hubspot.campaign_channel_property
    channel_raw = _str(props.get(channel_prop)) if channel_prop else None
    try:
        spend = _number(props.get("hs_spend_items_sum_amount"), "hs_spend_items_sum_amount")
        return Program(
            program_id=campaign_id or "", name=_str(props.get("hs_name")),
            channel=mappings.channels.canonical(channel_raw), channel_raw=channel_raw,
            type="Campaign", start_date=parse_date(_str(props.get("hs_start_date"))),
            end_date=parse_date(_str(props.get("hs_end_date"))), cost=spend,
            extra={k: v for k, v in (("utm_campaign", _str(props.get("hs_utm"))),
                                      ("status", _str(props.get("hs_campaign_status"))),
                                      ("updated_at", _str(campaign.get("updatedAt"))))
                   if v},
            origin=ORIGIN)
    except ValueError as exc:
        field, message = (validation_message(exc) if isinstance(exc, ValidationError)
                          else (None, str(exc)))
        return Rejection(kind="program", record_id=campaign_id, field=field, message=message,
                         raw=dict(campaign))


def event_program(event: Mapping[str, Any], mappings: Mappings) -> Program | Rejection:
    event_id = _str(event.get("objectId")) or _str(event.get("id"))
    event_type = _str(event.get("eventType"))
    mapped = mappings.sources.hubspot.event_type_channels.get((event_type or "").lower())
    try:
        return Program(
            program_id=event_id or "", name=_str(event.get("eventName")),
            channel=mappings.channels.canonical(mapped or event_type), channel_raw=event_type,
            type="Marketing Event", start_date=parse_date(_str(event.get("startDateTime"))),
            end_date=parse_date(_str(event.get("endDateTime"))),
            extra={k: event[k] for k in ("eventOrganizer", "eventUrl", "eventCancelled",
                                         "eventCompleted", "externalEventId", "updatedAt")
                   if event.get(k) not in (None, "")},
            origin=ORIGIN)
    except ValueError as exc:
        field, message = (validation_message(exc) if isinstance(exc, ValidationError)
                          else (None, str(exc)))
        return Rejection(kind="program", record_id=event_id, field=field, message=message,
                         raw=dict(event))


def participation_touch(participation: Mapping[str, Any], event: Program,
                        mapping: HubSpotMapping) -> dict[str, Any] | None:
    """Touch fields for a participation whose state is mapped, else None."""
    props: Mapping[str, Any] = participation.get("properties") or {}
    state = (_str(props.get("attendanceState")) or "").lower()
    kind = (event.channel_raw or "").lower()
    touch_type = mapping.event_touch_types.get(f"{kind}/{state}") \
        or mapping.event_touch_types.get(state)
    if touch_type is None:
        return None
    contact = (participation.get("associations") or {}).get("contact") or {}
    return {
        "stream": "hubspot:marketing_events",
        "touch_id": f"mev:{_str(participation.get('id'))}",
        "map_id": _str(contact.get("contactId")), "email": _str(contact.get("email")),
        "touch_type": touch_type, "program_id": event.program_id,
        "occurred_at": props.get("occurredAt") or participation.get("createdAt"),
        "extra": {k: props[k] for k in ("attendanceState", "attendanceDurationSeconds",
                                        "attendancePercentage") if props.get(k) is not None},
    }


class FormTouchTypes:
    """A form's touch type from its name, by the rules of sources.yaml."""

    def __init__(self, mapping: HubSpotMapping) -> None:
        self._rules = [(re.compile(r.pattern), r.touch_type) for r in mapping.form_rules]
        self._default = mapping.form_touch_type

    def for_form(self, name: str | None) -> str:
        for pattern, touch_type in self._rules:
            if name and pattern.search(name):
                return touch_type
        return self._default


def submission_touch(submission: Mapping[str, Any], form: Mapping[str, Any],
                     touch_type: str) -> dict[str, Any]:
    values = {str(v.get("name")): v.get("value") for v in submission.get("values") or []
              if isinstance(v, dict)}
    url = _str(submission.get("pageUrl"))
    return {
        "stream": f"hubspot:forms:{form.get('id')}",
        "touch_id": f"form:{_str(submission.get('conversionId'))}",
        "email": _str(values.get("email")), "map_id": None, "touch_type": touch_type,
        "occurred_at": submission.get("submittedAt"), "url": url, "utms": utms_from_url(url),
        "extra": {"form_id": form.get("id"), "form_name": form.get("name")},
    }


def email_event_touch(event: Mapping[str, Any], touch_type: str) -> dict[str, Any]:
    url = _str(event.get("url"))
    return {
        "stream": "hubspot:email_events",
        "touch_id": f"email:{_str(event.get('id'))}", "email": _str(event.get("recipient")),
        "map_id": None, "touch_type": touch_type, "occurred_at": event.get("created"),
        "url": url, "utms": utms_from_url(url),
        "extra": {k: event[k] for k in ("emailCampaignId", "type") if event.get(k) is not None},
    }
