"""A sample audit result (no org needed) for rendering tests and the screenshot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connector.audit import rules
from connector.audit.run import AuditResult
from connector.plan.model import PlannedWrite

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)


def sample_result() -> tuple[AuditResult, list[dict[str, object]]]:
    """An audit with a finding of most categories, and a history of three audits."""
    writes = [
        PlannedWrite("Lead:00Q1", "Lead", "00Q1", {"First_Touch_Channel__c": "Webinar"},
                     before={"First_Touch_Channel__c": "Carrier Pigeon"}, map_ids=("P1",),
                     drift=("First_Touch_Channel__c",)),
        PlannedWrite("Lead:P6", "Lead", None, {"Email": "fay@phi.com"}, map_ids=("P6",)),
        PlannedWrite("CampaignMember:W1:00Q2", "CampaignMember", None,
                     {"Status": "Attended", "CampaignId": "701A", "LeadId": "00Q2"},
                     map_ids=("P2",)),
    ]
    people = [rules.PersonRecord("Lead", "00Q3", "cy@gamma.com", "P3", "2026-01-01"),
              rules.PersonRecord("Lead", "00Q8", "cy@gamma.com", None, "2026-02-01"),
              rules.PersonRecord("Lead", "00Q9", None, "=GHOST-1", "2026-02-01")]
    found = [
        *rules.field_drift(writes), *rules.missing_in_salesforce(writes, {"P6": "00Q6"}),
        *rules.campaign_member_gap(writes, "Status"), *rules.duplicates(people),
        *rules.missing_in_map(people, ["P1", "P2", "P3"]),
        *rules.failed_writes([rules.WriteFailure("Lead", "Lead:00Q5", "P5", "00Q5",
                                                 "UNABLE_TO_LOCK_ROW", "locked")]),
        *rules.rejected_inputs([rules.RejectedRow("touch", "touches.csv", 3, "occurred_at",
                                                  "last tuesday", "not a timestamp", "bad1")]),
        *rules.count_mismatches({"CampaignMember": 6}, {"CampaignMember": 5}),
        *rules.attribution_gaps(
            [rules.Opportunity("006A", AS_OF, None, False)], {"006A": [AS_OF]},
            [rules.Credit("006A", "linear", Decimal(60))], AS_OF),
    ]
    result = AuditResult(3, AS_OF, rules.sort_findings(found), {}, {"total": 21,
                         "by_kind": {"read": 20, "auth": 1}},
                         {"Lead": 7, "Contact": 1, "Campaign": 2, "CampaignMember": 6},
                         {"Lead": 7, "Contact": 1, "Campaign": 2, "CampaignMember": 5},
                         opened=2, closed=1, seconds=1.4,
                         closed_findings=[{"category": "missing_in_map", "object": "Lead",
                                           "record_id": "00Q7", "map_id": "GHOST-0",
                                           "field": "MAP_Id__c", "detail": "fixed",
                                           "opened_at": "2026-10-30T12:00:00+00:00",
                                           "closed_at": "2026-11-01T12:00:00+00:00"}])
    history: list[dict[str, object]] = [
        {"audit_id": n, "as_of": f"2026-10-{29 + n}T12:00:00+00:00", "summary": {
            **rules.summarize([]), "field_drift": 3 - n, "duplicate": 1, "missing_in_map": n},
         "opened": n, "closed": 1, "api_calls": 21, "finished_at": "", "started_at": "",
         "status": "ok"} for n in (1, 2)]
    history.insert(0, {"audit_id": 3, "as_of": AS_OF.isoformat(), "summary": result.summary,
                       "opened": 2, "closed": 1, "api_calls": 21, "finished_at": "",
                       "started_at": "", "status": "ok"})
    return result, history
