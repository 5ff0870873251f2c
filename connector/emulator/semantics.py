"""What particular objects do on save, as Salesforce does it.

Campaigns get their two default member statuses; a campaign member's status must
be one of its campaign's statuses and drives ``HasResponded`` and the read-only
``FirstRespondedDate``; converted leads are read-only; an opportunity's stage
decides ``IsClosed`` and ``IsWon``; person names are ``FirstName LastName``.
These hooks run inside the ``Writer`` (``dml.py``), which mixes this class in.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from connector.emulator.influence import (
    opportunity_amount,
    refresh_revenue_shares,
    revenue_share,
)
from connector.emulator.records import RecordError
from connector.emulator.schema import ObjectSchema, Schema, format_datetime, parse_datetime
from connector.emulator.store import Store

CONVERTED_LEAD = ("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
DEFAULT_MEMBER_STATUSES = (("Sent", 0, 1, 1), ("Responded", 1, 0, 2))
# Fields the org computes; a privileged loader may only repeat the computed value.
DERIVED = {("CampaignMember", "HasResponded"), ("CampaignMember", "Name"),
           ("Opportunity", "IsClosed"), ("Opportunity", "IsWon"),
           ("CampaignInfluence", "RevenueShare")}
_OPERATION = {"insert": "inserted", "update": "updated", "delete": "deleted"}


def full_name(first: Any, last: Any) -> str | None:
    name = " ".join(str(p) for p in (first, last) if p)
    return name or None


def is_derived(obj: ObjectSchema, name: str) -> bool:
    f = obj.fields.get(name)
    return (obj.name, name) in DERIVED or bool(f and f.formula)


class ObjectRules:
    """Per-object behaviour; the attributes are provided by ``Writer``."""

    store: Store
    schema: Schema
    privileged: bool
    now: datetime
    tz: tzinfo
    user_id: str

    # ------------------------------------------------------------ utilities

    def now_text(self) -> str:
        return format_datetime(self.now)

    def today(self, at: str | None = None) -> str:
        """A date-only field's value for a write at ``at`` (default now), in the org's zone."""
        moment = parse_datetime(at) if at else self.now
        return moment.astimezone(self.tz).date().isoformat()

    def _row(self, table: str, record_id: str, columns: str = "*") -> dict[str, Any] | None:
        if columns == "*":
            return self.store.select_row(table, record_id)
        cur = self.store.conn.execute(f'SELECT {columns} FROM "{table}" WHERE Id = ?',
                                      (record_id,))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _member_statuses(self, campaign_id: str) -> list[tuple[str, str, int, int]]:
        """(Id, Label, HasResponded, IsDefault) of a campaign's live member statuses."""
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in self.store.conn.execute(
            "SELECT Id, Label, HasResponded, IsDefault FROM CampaignMemberStatus "
            "WHERE CampaignId = ? AND IsDeleted = 0 ORDER BY SortOrder", (campaign_id,))]

    def _autonumber(self, obj: ObjectSchema) -> str:
        key = f"autonumber:{obj.name}"
        current = int(self.store.get_meta(key) or "0") + 1
        self.store.conn.execute(
            "INSERT INTO _meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(current)))
        fmt = obj.name_format or "{0}"
        match = re.search(r"\{(0+)\}", fmt)
        if not match:
            return f"{fmt}{current}"
        return fmt[:match.start()] + str(current).zfill(len(match.group(1))) + fmt[match.end():]

    def object_guard(self, obj: ObjectSchema, operation: str) -> None:
        """Metadata-backed objects (CampaignInfluenceModel) are query-only through the API."""
        if obj.read_only and not self.privileged:
            raise RecordError("INVALID_TYPE_FOR_OPERATION",
                              f"entity type cannot be {_OPERATION[operation]}: {obj.name}", [])

    # --------------------------------------------------------------- insert

    def before_insert(self, obj: ObjectSchema, values: dict[str, Any]) -> None:
        name_field = obj.fields.get("Name")
        if name_field is not None and name_field.formula == "full_name":
            values["Name"] = full_name(values.get("FirstName"), values.get("LastName"))
        elif name_field is not None and name_field.formula == "autonumber":
            values["Name"] = self._autonumber(obj)
        if obj.name == "Opportunity":
            self._derive_stage(values)
        elif obj.name == "CampaignMember":
            self._member_before_insert(values)
        elif obj.name == "CampaignMemberStatus":
            self._status_before_insert(values)
        elif obj.name == "CampaignInfluence":
            amount = opportunity_amount(self.store, values.get("OpportunityId"))
            values["RevenueShare"] = revenue_share(values.get("Influence"), amount)

    def after_insert(self, obj: ObjectSchema, record_id: str, values: dict[str, Any]) -> None:
        if obj.name == "Campaign":
            self._create_default_statuses(record_id, values)
        elif obj.name == "CampaignMemberStatus" and values.get("IsDefault"):
            self.store.conn.execute(
                "UPDATE CampaignMemberStatus SET IsDefault = 0 WHERE CampaignId = ? AND Id != ?",
                (values["CampaignId"], record_id))

    def _create_default_statuses(self, campaign_id: str, values: dict[str, Any]) -> None:
        """Salesforce gives every new campaign the statuses Sent (default) and Responded."""
        stamp = values["CreatedDate"]
        for label, responded, default, order in DEFAULT_MEMBER_STATUSES:
            self.store.conn.execute(
                "INSERT INTO CampaignMemberStatus (Id, IsDeleted, CreatedDate, CreatedById, "
                "LastModifiedDate, LastModifiedById, SystemModstamp, CampaignId, Label, "
                "HasResponded, IsDefault, SortOrder) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.store.new_id(self.schema.objects["CampaignMemberStatus"].key_prefix),
                 stamp, values["CreatedById"], stamp, values["CreatedById"], stamp, campaign_id,
                 label, responded, default, order))

    def _derive_stage(self, values: dict[str, Any]) -> None:
        stage = values.get("StageName")
        values["IsClosed"] = int(stage in self.schema.closed_stages)
        values["IsWon"] = int(stage in self.schema.won_stages)

    def _campaign_for(self, campaign_id: Any) -> dict[str, Any]:
        campaign = self._row("Campaign", str(campaign_id), "Id, IsDeleted")
        if campaign is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                              ["CampaignId"])
        if campaign["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", ["CampaignId"])
        return campaign

    def _resolve_status(self, campaign_id: str, status: Any) -> tuple[str, bool]:
        """A member status (default when None) -> (label as configured, responded)."""
        statuses = self._member_statuses(campaign_id)
        if status is None:
            for _sid, label, responded, default in statuses:
                if default:
                    return label, bool(responded)
            raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              "Status: bad value for restricted picklist field: null", ["Status"])
        lowered = str(status).lower()
        for _sid, label, responded, _default in statuses:
            if label.lower() == lowered:
                return label, bool(responded)
        raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"Status: bad value for restricted picklist field: {status}",
                          ["Status"])

    def _member_before_insert(self, values: dict[str, Any]) -> None:
        campaign_id = values.get("CampaignId")
        if not campaign_id:
            return  # reported as REQUIRED_FIELD_MISSING
        self._campaign_for(campaign_id)
        lead_id, contact_id = values.get("LeadId"), values.get("ContactId")
        if lead_id and contact_id and not self.privileged:
            # Salesforce keeps the contact and silently drops the lead.
            values["LeadId"] = lead_id = None
        if not lead_id and not contact_id:
            raise RecordError("REQUIRED_FIELD_MISSING",
                              "Required fields are missing: [ContactId, LeadId]",
                              ["ContactId", "LeadId"])
        person: dict[str, Any] | None
        if contact_id:
            person = self._row("Contact", str(contact_id), "Name") \
                if str(contact_id).startswith(self.schema.objects["Contact"].key_prefix) else None
            dup_sql = ("SELECT Id FROM CampaignMember WHERE CampaignId = ? AND ContactId = ? "
                       "AND IsDeleted = 0")
            dup_key = contact_id
        else:
            person = self._row("Lead", str(lead_id), "Name, IsConverted") \
                if str(lead_id).startswith(self.schema.objects["Lead"].key_prefix) else None
            if person is not None and person["IsConverted"] and not self.privileged:
                raise RecordError(*CONVERTED_LEAD, ["LeadId"])
            dup_sql = ("SELECT Id FROM CampaignMember WHERE CampaignId = ? AND LeadId = ? "
                       "AND IsDeleted = 0")
            dup_key = lead_id
        if self.store.conn.execute(dup_sql, (campaign_id, dup_key)).fetchone() is not None:
            raise RecordError("DUPLICATE_VALUE", "Already a campaign member.", [])
        label, responded = self._resolve_status(str(campaign_id), values.get("Status"))
        values["Status"] = label
        values["HasResponded"] = int(responded)
        if person is not None:
            values["Name"] = person["Name"]
        if responded and not values.get("FirstRespondedDate"):
            values["FirstRespondedDate"] = self.today(values.get("CreatedDate")
                                                      if self.privileged else None)
        elif not responded and not self.privileged:
            values["FirstRespondedDate"] = None

    def _status_before_insert(self, values: dict[str, Any]) -> None:
        campaign_id = values.get("CampaignId")
        if not campaign_id:
            return
        self._campaign_for(campaign_id)
        label = values.get("Label")
        statuses = self._member_statuses(str(campaign_id))
        if label is not None:
            for sid, existing, _responded, _default in statuses:
                if existing.lower() == str(label).lower():
                    raise RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: Label duplicates value on record with id: {sid}",
                        ["Label"])
        if not any(default for *_rest, default in statuses):
            values["IsDefault"] = 1
        if values.get("SortOrder") is None:
            row = self.store.conn.execute(
                "SELECT COALESCE(MAX(SortOrder), 0) FROM CampaignMemberStatus "
                "WHERE CampaignId = ? AND IsDeleted = 0", (campaign_id,)).fetchone()
            values["SortOrder"] = int(row[0]) + 1

    # --------------------------------------------------------------- update

    def before_update(self, obj: ObjectSchema, row: dict[str, Any],
                      values: dict[str, Any]) -> None:
        name_field = obj.fields.get("Name")
        if name_field is not None and name_field.formula == "full_name" \
                and ("FirstName" in values or "LastName" in values):
            values["Name"] = full_name(values.get("FirstName", row.get("FirstName")),
                                       values.get("LastName", row.get("LastName")))
        if obj.name == "Opportunity" and "StageName" in values:
            self._derive_stage(values)
        elif obj.name == "CampaignMember" and "Status" in values:
            label, responded = self._resolve_status(str(row["CampaignId"]), values["Status"])
            values["Status"] = label
            values["HasResponded"] = int(responded)
            if responded and not row.get("FirstRespondedDate") \
                    and not values.get("FirstRespondedDate"):
                values["FirstRespondedDate"] = self.today()
        elif obj.name == "CampaignMemberStatus":
            self._status_before_update(row, values)
        elif obj.name == "CampaignInfluence" and "Influence" in values:
            values["RevenueShare"] = revenue_share(
                values["Influence"], opportunity_amount(self.store, row["OpportunityId"]))

    def converted_lead_guard(self, obj: ObjectSchema, row: dict[str, Any]) -> None:
        if obj.name == "Lead" and row.get("IsConverted") and not self.privileged:
            raise RecordError(*CONVERTED_LEAD, [])

    def _status_before_update(self, row: dict[str, Any], values: dict[str, Any]) -> None:
        if "Label" in values and values["Label"] is not None:
            for sid, existing, _responded, _default in self._member_statuses(row["CampaignId"]):
                if sid != row["Id"] and existing.lower() == str(values["Label"]).lower():
                    raise RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: Label duplicates value on record with id: {sid}",
                        ["Label"])
        if "IsDefault" in values and not values["IsDefault"] and row["IsDefault"]:
            raise RecordError("FIELD_INTEGRITY_EXCEPTION",
                              "A campaign must have exactly one default member status; make "
                              "another status the default instead", ["IsDefault"])

    def after_update(self, obj: ObjectSchema, row: dict[str, Any],
                     values: dict[str, Any]) -> None:
        if obj.name == "Opportunity" and "Amount" in values \
                and values["Amount"] != row.get("Amount"):
            refresh_revenue_shares(self.store, row["Id"], values["Amount"])
        if obj.name != "CampaignMemberStatus":
            return
        campaign_id = row["CampaignId"]
        if values.get("IsDefault") and not row["IsDefault"]:
            self.store.conn.execute(
                "UPDATE CampaignMemberStatus SET IsDefault = 0 WHERE CampaignId = ? AND Id != ?",
                (campaign_id, row["Id"]))
        label = values.get("Label", row["Label"])
        if label != row["Label"]:
            self.store.conn.execute(
                "UPDATE CampaignMember SET Status = ? WHERE CampaignId = ? AND Status = ?",
                (label, campaign_id, row["Label"]))
        if "HasResponded" in values and bool(values["HasResponded"]) != bool(row["HasResponded"]):
            responded = int(bool(values["HasResponded"]))
            self.store.conn.execute(
                "UPDATE CampaignMember SET HasResponded = ?, FirstRespondedDate = "
                "CASE WHEN ? = 1 AND FirstRespondedDate IS NULL THEN ? ELSE FirstRespondedDate "
                "END WHERE CampaignId = ? AND Status = ? AND IsDeleted = 0",
                (responded, responded, self.today(), campaign_id, label))

    # --------------------------------------------------------------- delete

    def before_delete(self, obj: ObjectSchema, row: dict[str, Any]) -> None:
        if obj.name != "CampaignMemberStatus":
            return
        if row["IsDefault"]:
            raise RecordError("DELETE_FAILED",
                              "You can't delete the default member status of a campaign", [])
        in_use = self.store.conn.execute(
            "SELECT 1 FROM CampaignMember WHERE CampaignId = ? AND Status = ? AND IsDeleted = 0 "
            "LIMIT 1", (row["CampaignId"], row["Label"])).fetchone()
        if in_use is not None:
            raise RecordError("DELETE_FAILED",
                              "This member status is in use by campaign members", [])
