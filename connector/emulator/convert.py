"""Lead conversion, as a user does it in the Salesforce UI (there is no REST resource for it).

Creates or reuses the Account (named after the lead's Company) and the Contact
(standard fields mapped as Salesforce maps them, plus every custom field with the
same API name on Lead and Contact, as an admin's lead field mapping does),
optionally an Opportunity with the contact as primary contact role, marks the
lead converted, and hands the lead's campaign memberships to the contact.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from connector import sfid as ids
from connector.emulator.dml import Writer
from connector.emulator.org import Org
from connector.emulator.records import CallError, Incoming, SaveResult
from connector.emulator.semantics import CONVERTED_LEAD

DEFAULT_CONVERTED_STATUS = "Closed - Converted"
# Lead field -> field on the new record, as Salesforce's standard lead mapping does.
ACCOUNT_MAP = {"Company": "Name", "Website": "Website", "Industry": "Industry",
               "NumberOfEmployees": "NumberOfEmployees", "AnnualRevenue": "AnnualRevenue",
               "Country": "BillingCountry", "OwnerId": "OwnerId"}
CONTACT_MAP = {"FirstName": "FirstName", "LastName": "LastName", "Email": "Email",
               "Title": "Title", "Phone": "Phone", "LeadSource": "LeadSource",
               "Country": "MailingCountry", "OwnerId": "OwnerId"}


def _quarter_end(day: date) -> str:
    month = ((day.month - 1) // 3 + 1) * 3
    return date(day.year, month, calendar.monthrange(day.year, month)[1]).isoformat()


def _checked(result: SaveResult, what: str) -> str:
    if not result.success or result.id is None:
        error = result.errors[0]
        raise CallError(400, error.code, f"{what}: {error.message}", error.fields)
    return result.id


def _row(org: Org, table: str, record_id: Any, label: str) -> dict[str, Any]:
    try:
        rid = ids.to18(str(record_id))
    except ValueError:
        raise CallError(400, "MALFORMED_ID", f"{label}: malformed id {record_id}") from None
    record = org.store.select_row(table, rid)
    if record is None:
        raise CallError(400, "INVALID_CROSS_REFERENCE_KEY",
                        f"{label}: invalid cross reference id {record_id}")
    if record["IsDeleted"]:
        raise CallError(400, "ENTITY_IS_DELETED", f"{label}: entity is deleted")
    return record


def convert_lead(org: Org, payload: dict[str, Any]) -> dict[str, str | None]:
    """Convert one lead; the whole conversion commits or nothing does."""
    if not payload.get("lead_id"):
        raise CallError(400, "REQUIRED_FIELD_MISSING", "lead_id is required")
    with org.store.transaction():
        writer = org.writer()
        lead = _row(org, "Lead", payload["lead_id"], "lead_id")
        if lead["IsConverted"]:
            raise CallError(400, *CONVERTED_LEAD)
        contact_row = _row(org, "Contact", payload["contact_id"], "contact_id") \
            if payload.get("contact_id") else None
        account_id = _account(org, writer, lead, payload, contact_row)
        contact_id = _contact(org, writer, lead, account_id, contact_row)
        opportunity_id = None
        if payload.get("create_opportunity"):
            opportunity_id = _opportunity(org, writer, lead, account_id, contact_id, payload)
        status = payload.get("converted_status") or DEFAULT_CONVERTED_STATUS
        privileged = org.writer(privileged=True)
        _checked(privileged.update(org.schema.objects["Lead"], Incoming(
            record_id=lead["Id"],
            values={"IsConverted": 1, "ConvertedDate": writer.today(),
                    "ConvertedAccountId": account_id, "ConvertedContactId": contact_id,
                    "ConvertedOpportunityId": opportunity_id, "Status": status})), "lead")
        _move_memberships(org, writer, lead["Id"], contact_id)
    return {"lead_id": lead["Id"], "account_id": account_id, "contact_id": contact_id,
            "opportunity_id": opportunity_id}


def _account(org: Org, writer: Writer, lead: dict[str, Any], payload: dict[str, Any],
             contact_row: dict[str, Any] | None) -> str:
    if payload.get("account_id"):
        return str(_row(org, "Account", payload["account_id"], "account_id")["Id"])
    if contact_row is not None and contact_row.get("AccountId"):
        return str(contact_row["AccountId"])
    values = {target: lead[source] for source, target in ACCOUNT_MAP.items()
              if lead.get(source) is not None}
    return _checked(writer.create(org.schema.objects["Account"], Incoming(values=values)),
                    "account")


def _common_custom_fields(org: Org) -> list[str]:
    lead, contact = org.schema.objects["Lead"], org.schema.objects["Contact"]
    return [name for name, f in lead.fields.items()
            if f.custom and name in contact.fields and contact.fields[name].type == f.type
            and contact.fields[name].createable]


def _contact(org: Org, writer: Writer, lead: dict[str, Any], account_id: str,
             contact_row: dict[str, Any] | None) -> str:
    mapped = {target: lead[source] for source, target in CONTACT_MAP.items()
              if lead.get(source) is not None}
    for name in _common_custom_fields(org):
        if lead.get(name) is not None:
            mapped[name] = lead[name]
    contact = org.schema.objects["Contact"]
    if contact_row is None:
        mapped["AccountId"] = account_id
        return _checked(writer.create(contact, Incoming(values=mapped)), "contact")
    # An existing contact keeps what it has; only its blank fields are filled.
    fill = {k: v for k, v in mapped.items()
            if contact_row.get(k) in (None, "") and contact.fields[k].updateable}
    if not contact_row.get("AccountId"):
        fill["AccountId"] = account_id
    if fill:
        _checked(writer.update(contact, Incoming(values=fill, record_id=contact_row["Id"])),
                 "contact")
    return str(contact_row["Id"])


def _opportunity(org: Org, writer: Writer, lead: dict[str, Any], account_id: str,
                 contact_id: str, payload: dict[str, Any]) -> str:
    latest = org.store.conn.execute(
        "SELECT CampaignId FROM CampaignMember WHERE LeadId = ? AND IsDeleted = 0 "
        "ORDER BY CreatedDate DESC, rowid DESC LIMIT 1", (lead["Id"],)).fetchone()
    name = payload.get("opportunity_name") or f"{lead['Company']}-"
    values: dict[str, Any] = {
        "Name": str(name)[:120], "AccountId": account_id, "StageName": "Prospecting",
        "CloseDate": _quarter_end(date.fromisoformat(writer.today())),
        "LeadSource": lead.get("LeadSource"), "OwnerId": lead.get("OwnerId"),
        "CampaignId": latest[0] if latest else None}
    opportunity_id = _checked(writer.create(
        org.schema.objects["Opportunity"],
        Incoming(values={k: v for k, v in values.items() if v is not None})), "opportunity")
    _checked(writer.create(org.schema.objects["OpportunityContactRole"], Incoming(values={
        "OpportunityId": opportunity_id, "ContactId": contact_id, "IsPrimary": 1})),
        "contact role")
    return opportunity_id


def _move_memberships(org: Org, writer: Writer, lead_id: str, contact_id: str) -> None:
    """The contact joins the lead's campaigns; the member keeps its status and history."""
    contact_name = org.store.conn.execute(
        "SELECT Name FROM Contact WHERE Id = ?", (contact_id,)).fetchone()[0]
    members = org.store.conn.execute(
        "SELECT Id, CampaignId FROM CampaignMember WHERE LeadId = ? AND IsDeleted = 0",
        (lead_id,)).fetchall()
    for member_id, campaign_id in members:
        already = org.store.conn.execute(
            "SELECT 1 FROM CampaignMember WHERE CampaignId = ? AND ContactId = ? "
            "AND IsDeleted = 0", (campaign_id, contact_id)).fetchone()
        if already is not None:
            continue
        org.store.conn.execute(
            "UPDATE CampaignMember SET ContactId = ?, Name = ?, LastModifiedDate = ?, "
            "SystemModstamp = ?, LastModifiedById = ? WHERE Id = ?",
            (contact_id, contact_name, writer.now_text(), writer.now_text(), writer.user_id,
             member_id))
