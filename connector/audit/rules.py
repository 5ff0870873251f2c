"""Reconciliation rules: one pure function per finding category.

The audit compares three things: the MAP (through the ledger), what the
connector intends Salesforce to hold (the plan the sync's own planner computes
for every person), and what Salesforce actually holds (read in bulk). Each rule
takes plain values and returns findings; every finding names the record and
says what to do about it (``action``), so an admin can act on it without
opening the state database. Nothing here reads a database or the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from connector.plan.model import PlannedWrite
from connector.values import FindingCategory

# every category, in the order reports list them (plain strings, as output)
CATEGORIES = tuple(c.value for c in FindingCategory)
ATTRIBUTION_LOOKBACK = timedelta(days=365)  # DOMAIN.md's default lookback window
CREDIT_TOLERANCE = Decimal("0.0001")


@dataclass(frozen=True)
class AuditFinding:
    """One finding, in docs/interfaces.md's shape plus ``action`` and extra details."""

    category: FindingCategory
    object: str | None
    record_id: str | None
    map_id: str | None
    field: str | None
    salesforce_value: str | None
    expected_value: str | None
    detail: str
    action: str
    extra: Mapping[str, Any] = dc_field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identity across audits: the same problem on the same record and field is
        one finding, open until it is gone (its values may change meanwhile)."""
        discriminator = self.extra.get("key") or ""
        return "|".join(str(x or "") for x in (self.category, self.object, self.record_id,
                                                 self.map_id, self.field, discriminator))

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "object": self.object,
                "record_id": self.record_id, "map_id": self.map_id, "field": self.field,
                "salesforce_value": self.salesforce_value,
                "expected_value": self.expected_value, "detail": self.detail,
                "action": self.action, **{k: v for k, v in self.extra.items() if k != "key"}}


def text(value: Any) -> str | None:
    """Values as the report shows them (None stays None, so blank is visible)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------- plain inputs


@dataclass(frozen=True)
class PersonRecord:
    """A Lead or Contact as Salesforce holds it (the fields the audit needs)."""

    sobject: str
    id: str
    email: str | None
    map_id: str | None
    created: str | None = None
    converted: bool = False


@dataclass(frozen=True)
class WriteFailure:
    sobject: str | None
    ref: str
    map_id: str | None
    record_id: str | None
    error_code: str | None
    message: str
    fields: tuple[str, ...] = ()
    attempts: int = 1
    since: str | None = None


@dataclass(frozen=True)
class RejectedRow:
    kind: str
    file: str | None
    row: int | None
    field: str | None
    value: str | None
    message: str
    record_id: str | None = None


@dataclass(frozen=True)
class Opportunity:
    id: str
    created: datetime
    close_date: datetime | None
    closed: bool


@dataclass(frozen=True)
class Credit:
    opportunity_id: str
    model: str
    credit: Decimal


# ------------------------------------------------------------ from the plan


def _lead_label(write: PlannedWrite) -> str:
    email = write.fields.get("Email")
    return f"{write.map_ids[0] if write.map_ids else write.ref}" + (f" ({email})" if email
                                                                    else "")


def missing_in_salesforce(writes: Iterable[PlannedWrite],
                          previously_linked: Mapping[str, str]) -> list[AuditFinding]:
    """Creates the plan would make: a MAP person or program Salesforce lacks.

    ``previously_linked`` maps a MAP id to the record it was linked to before, so
    a record deleted in Salesforce is told apart from one never created."""
    out = []
    for w in writes:
        if not w.is_create or w.sobject not in ("Lead", "Campaign", "CampaignMemberStatus"):
            continue
        if w.sobject == "Lead":
            gone = [previously_linked[m] for m in w.map_ids if m in previously_linked]
            detail = (f"MAP person {_lead_label(w)} has no Lead or Contact in Salesforce"
                      + (f"; its record {gone[0]} was deleted or merged away" if gone else ""))
            out.append(AuditFinding(
                FindingCategory.MISSING_IN_SALESFORCE, "Lead", gone[0] if gone else None,
                w.map_ids[0] if w.map_ids else None, None, None, w.fields.get("Email"),
                detail, "run `connector sync --full` (or `connector audit --fix`) to create "
                        "it; restore it from the recycle bin instead if it was deleted by "
                        "mistake", {"map_ids": list(w.map_ids)}))
        elif w.sobject == "Campaign":
            pid = w.ref.split(":", 1)[1]
            out.append(AuditFinding(
                FindingCategory.MISSING_IN_SALESFORCE, "Campaign", None, None, None, None, pid,
                f"MAP program {pid} ({w.fields.get('Name')}) has no Campaign in Salesforce",
                "run `connector sync --full` to create it", {"key": pid}))
        elif "CampaignId" in w.fields:  # a status of an existing campaign
            out.append(AuditFinding(
                FindingCategory.MISSING_IN_SALESFORCE, "CampaignMemberStatus",
                w.fields["CampaignId"], None,
                "Label", None, str(w.fields.get("Label")),
                f"campaign {w.fields['CampaignId']} lacks member status "
                f"{w.fields.get('Label')!r}", "run `connector sync --full` to add it",
                {"key": w.fields.get("Label")}))
    return out


def field_drift(writes: Iterable[PlannedWrite]) -> list[AuditFinding]:
    """Every field of an existing record that differs from what the connector
    intends; a hand edit of a field the connector owns is said to be one."""
    out = []
    for w in writes:
        if w.is_create or w.sobject in ("CampaignMember",):
            continue
        map_id = w.map_ids[0] if w.map_ids else None
        for name, want in w.fields.items():
            have = w.before.get(name)
            reason = w.reasons.get(name, "differs")
            if name in w.drift:
                detail = (f"{w.sobject} {w.record_id}.{name} was edited in Salesforce "
                          f"to {text(have)!r}; the connector owns it and wants {text(want)!r}")
            else:
                detail = (f"{w.sobject} {w.record_id}.{name} is {text(have)!r}; the connector "
                          f"wants {text(want)!r} ({reason})")
            out.append(AuditFinding(
                FindingCategory.FIELD_DRIFT, w.sobject, w.record_id, map_id, name, text(have),
                text(want),
                detail, "run `connector sync` (or `connector audit --fix`) to put the "
                        "connector's value back; edit the MAP instead if Salesforce is right",
                {"hand_edit": name in w.drift}))
    return out


def campaign_member_gap(writes: Iterable[PlannedWrite], status_field: str) -> list[AuditFinding]:
    """Responses without a member, and members behind the furthest response.

    Members of records or campaigns the plan itself must create first are left
    to the ``missing_in_salesforce`` finding of that record."""
    out = []
    for w in writes:
        if w.sobject != "CampaignMember" or w.depends:
            continue
        pid = w.ref.split(":")[1]
        map_id = w.map_ids[0] if w.map_ids else None
        if w.is_create:
            person = w.fields.get("LeadId") or w.fields.get("ContactId")
            out.append(AuditFinding(
                FindingCategory.CAMPAIGN_MEMBER_GAP, "CampaignMember", None, map_id, status_field,
                None,
                text(w.fields.get(status_field)),
                f"{person} responded to program {pid} (campaign {w.fields.get('CampaignId')}) "
                f"but is not a member of its campaign",
                "run `connector sync --full` to add the member (it was deleted, or never "
                "written)", {"key": f"{pid}:{person}", "campaign_id": w.fields.get("CampaignId"),
                             "person_id": person}))
            continue
        for name, want in w.fields.items():
            have = w.before.get(name)
            what = (f"member status {have!r} is behind the furthest response ({want!r})"
                    if name == status_field else f"{name} is blank; expected {want}")
            out.append(AuditFinding(
                FindingCategory.CAMPAIGN_MEMBER_GAP, "CampaignMember", w.record_id, map_id, name,
                text(have),
                text(want), f"Campaign Member {w.record_id} (program {pid}): {what}",
                "run `connector sync --full` to move it forward (a status is never moved "
                "back)"))
    return out


def unmapped_programs(programs: Iterable[tuple[str, str | None, str | None, str | None]],
                      unknown: Mapping[str, int]) -> list[AuditFinding]:
    """Programs (id, name, channel, channel as the MAP wrote it) whose channel is
    outside the taxonomy, and program ids named by touches but absent from the
    export (with how many touches name them)."""
    out = []
    for pid, name, channel, raw in programs:
        if channel is None:
            out.append(AuditFinding(
                FindingCategory.UNMAPPED_PROGRAM, "Campaign", None, None, "Channel__c", None, raw,
                f"program {pid} ({name or 'no name'}) has channel {raw!r}, which is not in "
                f"the channel taxonomy", "map the channel in channels.yaml (or fix it in the "
                "MAP); its campaign has no channel until then", {"key": pid}))
    for pid, count in sorted(unknown.items()):
        out.append(AuditFinding(
            FindingCategory.UNMAPPED_PROGRAM, "Campaign", None, None, None, None, pid,
            f"{count} touch(es) name program {pid}, which the MAP export does not list; they "
            f"count for sources and scores but have no campaign",
            "add the program to the MAP export (or fix the touches' program id)",
            {"key": pid, "touches": count}))
    return out


def from_planner(findings: Iterable[Mapping[str, Any]]) -> list[AuditFinding]:
    """The planner's own findings (write-once conflicts, duplicate accounts, people
    without a usable email), once each; person duplicates are found by
    ``duplicates`` over the whole org, and programs by ``unmapped_programs``."""
    actions = {
        FindingCategory.ORIGINAL_SOURCE_CONFLICT:
            "nothing is overwritten: correct the Salesforce value by hand if the MAP is right, "
            "or leave it",
        FindingCategory.DUPLICATE:
            "merge the duplicate accounts in Salesforce (the connector never merges)",
        FindingCategory.MISSING_IN_SALESFORCE: "fix the person's email in the MAP",
    }
    policy_action = "create the record by hand, or change `create_leads` in sync.yaml"
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in findings:
        category = FindingCategory(f["category"])
        duplicate = category == FindingCategory.DUPLICATE
        if category not in actions or (duplicate and f["object"] != "Account"):
            continue
        ident = (category, f["object"], f["record_id"], f["field"], f["expected_value"],
                 None if duplicate else f["map_id"])
        if ident in seen:
            continue
        seen.add(ident)
        out.append(AuditFinding(category, f["object"], f["record_id"],
                                None if duplicate else f["map_id"], f["field"],
                                f["salesforce_value"], f["expected_value"], f["detail"] or "",
                                policy_action if "create_leads" in (f["detail"] or "")
                                else actions[category],
                                {"key": f["expected_value"]} if f["record_id"] is None
                                and f["map_id"] is None else {}))
    return out


# ------------------------------------------------------- from Salesforce


def missing_in_map(records: Iterable[PersonRecord],
                   known_map_ids: Iterable[str]) -> list[AuditFinding]:
    """Leads and Contacts carrying a ``MAP_Id__c`` the MAP does not know (MAP people
    whose rows were rejected count as known: ``rejected_input`` names them)."""
    known = {m.lower() for m in known_map_ids}
    out = []
    for r in records:
        if r.converted or not r.map_id or r.map_id.lower() in known:
            continue
        out.append(AuditFinding(
            FindingCategory.MISSING_IN_MAP, r.sobject, r.id, r.map_id, "MAP_Id__c", r.map_id, None,
            f"{r.sobject} {r.id} ({r.email or 'no email'}) carries MAP id {r.map_id}, "
            f"which the MAP does not know",
            "check whether the person was deleted in the MAP (then clear the field or delete "
            "the record) or is missing from the export"))
    return out


def campaigns_missing_in_map(campaigns: Iterable[tuple[str, str, str | None]],
                             known_program_ids: Iterable[str]) -> list[AuditFinding]:
    """Campaigns (id, program id, name) carrying a program id the MAP does not list."""
    known = {p.lower() for p in known_program_ids}
    return [AuditFinding(
        FindingCategory.MISSING_IN_MAP, "Campaign", cid, None, "MAP_Program_Id__c", pid, None,
        f"Campaign {cid} ({name or 'no name'}) carries MAP program id {pid}, which the MAP "
        f"export does not list",
        "check whether the program was deleted in the MAP (then clear the field or "
        "deactivate the campaign) or is missing from the export")
        for cid, pid, name in campaigns if pid and pid.lower() not in known]


def duplicates(records: Sequence[PersonRecord]) -> list[AuditFinding]:
    """Several records for one person: one email on several Leads or Contacts, a
    Lead and a Contact for one email, or several records claiming one MAP id.
    Converted Leads are history, not duplicates. A group found by two rules is
    reported once. The connector never merges: it names the oldest record."""
    live = [r for r in records if not r.converted]
    groups: list[tuple[str, str, list[PersonRecord]]] = []
    by_key: dict[tuple[str, str], list[PersonRecord]] = {}
    for r in live:
        if r.map_id:
            by_key.setdefault(("map_id", r.map_id.lower()), []).append(r)
        if r.email:
            by_key.setdefault(("email", r.email.strip().lower()), []).append(r)
    for (kind, value), members in sorted(by_key.items()):
        if len(members) > 1:
            groups.append((kind, value, members))
    reported: set[frozenset[str]] = set()
    out = []
    for kind, value, members in groups:
        ids = frozenset(r.id for r in members)
        if ids in reported:
            continue
        reported.add(ids)
        members = sorted(members, key=lambda r: (r.created or "", r.id))
        objects = Counter(r.sobject for r in members)
        if kind == "map_id":
            why = f"{len(members)} records claim MAP id {members[0].map_id}"
            fld = "MAP_Id__c"
        elif len(objects) > 1:
            why = f"a Lead and a Contact for one person ({value})"
            fld = "Email"
        else:
            why = f"{len(members)} {members[0].sobject}s share the email {value}"
            fld = "Email"
        listing = ", ".join(f"{r.sobject} {r.id}" for r in members)
        out.append(AuditFinding(
            FindingCategory.DUPLICATE, "+".join(sorted(objects)), members[0].id,
            next((r.map_id for r in members if r.map_id), None), fld, value, None,
            f"{why}: {listing}", f"merge them in Salesforce into {members[0].sobject} "
            f"{members[0].id} (the oldest) or convert the Lead; the connector never merges",
            {"key": f"{kind}:{value}", "records": [r.id for r in members]}))
    return out


# ------------------------------------------------------ from the state store


def failed_writes(failures: Iterable[WriteFailure]) -> list[AuditFinding]:
    out = []
    for f in failures:
        out.append(AuditFinding(
            FindingCategory.FAILED_WRITE, f.sobject, f.record_id, f.map_id,
            ", ".join(f.fields) or None,
            f.error_code, None,
            f"{f.error_code or 'error'}: {f.message} ({f.ref}, {f.attempts} attempt(s))",
            _failure_action(f.error_code), {"key": f.ref, "error_code": f.error_code,
                                            "attempts": f.attempts, "since": f.since}))
    return out


def _failure_action(code: str | None) -> str:
    if code in ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"):
        return "transient: `connector replay` (or the next sync) retries it"
    if code in ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUIRED_FIELD_MISSING",
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "STRING_TOO_LONG"):
        return "fix the value in the MAP or relax the validation rule, then `connector replay`"
    if code in ("INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_FIELD_FOR_INSERT_UPDATE"):
        return "give the integration user access to the field (`connector doctor` names it), " \
               "then `connector replay`"
    return "read the error, fix its cause, then `connector replay`"


def rejected_inputs(rows: Iterable[RejectedRow]) -> list[AuditFinding]:
    out = []
    for r in rows:
        where = f"{r.file or '(source)'}, row {r.row if r.row is not None else '?'}" \
                f", field {r.field or '?'}"
        out.append(AuditFinding(
            FindingCategory.REJECTED_INPUT, r.kind, None, r.record_id, r.field, None, r.value,
            f"{where}: {r.message}",
            "fix the row in the MAP export, then run `connector replay`",
            {"key": f"{r.kind}:{r.file}:{r.row}:{r.record_id}:{r.field}", "file": r.file,
             "row": r.row}))
    return out


def count_mismatches(expected: Mapping[str, int],
                     actual: Mapping[str, int]) -> list[AuditFinding]:
    """Per object, the records the connector's plan has against those Salesforce
    holds: a silent loss shows even when no single record can be named."""
    out = []
    for sobject in sorted(set(expected) | set(actual)):
        want, have = expected.get(sobject, 0), actual.get(sobject, 0)
        if want == have:
            continue
        more = "more" if have > want else "fewer"
        out.append(AuditFinding(
            FindingCategory.COUNT_MISMATCH, sobject, None, None, None, str(have), str(want),
            f"Salesforce holds {have} connector {sobject} record(s); the MAP implies {want} "
            f"({abs(have - want)} {more})",
            "see this audit's missing_in_salesforce, missing_in_map and duplicate findings "
            "for the records behind the difference", {"expected": want, "actual": have}))
    return out


# --------------------------------------------------------------- attribution


def window(opp: Opportunity, as_of: datetime,
           lookback: timedelta = ATTRIBUTION_LOOKBACK) -> tuple[datetime, datetime]:
    """DOMAIN.md: created minus the lookback to the end of the close date (UTC)
    for a closed opportunity, to now for an open one; inclusive at both ends."""
    start = opp.created - lookback
    if opp.closed and opp.close_date is not None:
        end = datetime.combine(opp.close_date.date(), time.max, tzinfo=UTC)
    else:
        end = as_of
    return start, end


def attribution_gaps(opportunities: Iterable[Opportunity],
                     touches: Mapping[str, Sequence[datetime]],
                     credits: Iterable[Credit], as_of: datetime,
                     lookback: timedelta = ATTRIBUTION_LOOKBACK) -> list[AuditFinding]:
    """Opportunities with eligible responses but no credit, and models whose
    credits do not sum to 100%. ``touches`` holds, per opportunity, the times of
    the responses of the people on its contact roles."""
    sums: dict[str, dict[str, Decimal]] = {}
    for c in credits:
        per = sums.setdefault(c.opportunity_id, {})
        per[c.model] = per.get(c.model, Decimal(0)) + c.credit
    out = []
    for opp in opportunities:
        times = touches.get(opp.id, ())
        start, end = window(opp, as_of, lookback) if times else (as_of, as_of)
        eligible = [t for t in times if start <= t <= end]
        models = sums.get(opp.id)
        if eligible and not models:
            out.append(AuditFinding(
                FindingCategory.ATTRIBUTION_GAP, "Opportunity", opp.id, None, "Attribution__c", "0",
                str(len(eligible)),
                f"opportunity {opp.id} has {len(eligible)} eligible response(s) in its window "
                f"({start.date()} to {end.date()}) but no Attribution__c credit",
                "run `connector attribution run`", {"key": "no_credit"}))
            continue
        for model, total in sorted((models or {}).items()):
            if abs(total - 100) > CREDIT_TOLERANCE:
                out.append(AuditFinding(
                    FindingCategory.ATTRIBUTION_GAP, "Opportunity", opp.id, None, "Credit__c",
                    str(total), "100",
                    f"opportunity {opp.id}: the {model} credits sum to {total}%, not 100%",
                    "run `connector attribution run` to recompute it; delete stray "
                    "Attribution__c records written by hand", {"key": model}))
    return out


def without_pending(findings: Iterable[AuditFinding],
                    failures: Iterable[WriteFailure]) -> list[AuditFinding]:
    """A write kept for retry explains the differences it would have fixed: the
    record's drift, its absence or its members' gaps are reported once, as the
    ``failed_write`` finding with Salesforce's error, not again under other names."""
    records: set[str] = set()
    people: set[str] = set()
    for f in failures:
        if f.record_id:
            records.add(f.record_id)
        elif f.map_id:
            people.add(f.map_id)
    out = []
    for finding in findings:
        if finding.category in (FindingCategory.FIELD_DRIFT, FindingCategory.CAMPAIGN_MEMBER_GAP,
                                FindingCategory.MISSING_IN_SALESFORCE) \
                and ((finding.record_id and finding.record_id in records)
                     or ((finding.record_id is None
                          or finding.category == FindingCategory.MISSING_IN_SALESFORCE)
                         and finding.map_id in people)
                     or (finding.category == FindingCategory.CAMPAIGN_MEMBER_GAP
                         and finding.extra.get("person_id") in records)):
            continue
        out.append(finding)
    return out


def summarize(findings: Iterable[AuditFinding]) -> dict[str, int]:
    """Count per category, every category present (zero included)."""
    counts = Counter(str(f.category) for f in findings)
    return {c: counts.get(c, 0) for c in (*CATEGORIES, *sorted(set(counts) - set(CATEGORIES)))}


def sort_findings(findings: Iterable[AuditFinding]) -> list[AuditFinding]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(findings, key=lambda f: (order.get(f.category, 99), f.object or "",
                                           f.record_id or "", f.map_id or "", f.field or "",
                                           f.key))
