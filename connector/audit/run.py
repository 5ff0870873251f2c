"""One audit: gather, apply every rule, record the findings' state and history."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from connector.config import Settings
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.run.status import RunStatus
from connector.salesforce.client import SalesforceClient
from connector.state import findings as findings_state
from connector.state.store import StateStore
from connector.values import FindingCategory

from . import rules
from .collect import Gathered, gather, store_copy
from .fix import FixOutcome, execute_fix


@dataclass
class AuditResult:
    audit_id: int
    as_of: datetime
    findings: list[rules.AuditFinding]
    opened_at: dict[str, str]
    api_calls: dict[str, Any]
    expected: dict[str, int]
    actual: dict[str, int]
    opened: int = 0
    closed: int = 0
    closed_findings: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fix: FixOutcome | None = None

    @property
    def summary(self) -> dict[str, int]:
        return rules.summarize(self.findings)

    def finding_dicts(self) -> list[dict[str, Any]]:
        return [{**f.as_dict(), "opened_at": self.opened_at.get(f.key)} for f in self.findings]

    def as_json(self) -> dict[str, Any]:
        """docs/interfaces.md's shape (summary, findings) plus details under extra keys."""
        by_code = Counter(f.extra.get("error_code") or "unknown" for f in self.findings
                          if f.category == FindingCategory.FAILED_WRITE)
        return {
            "summary": self.summary,
            "findings": self.finding_dicts(),
            "audit_id": self.audit_id,
            "as_of": self.as_of.isoformat(),
            "api_calls": self.api_calls.get("total", 0),
            "api_calls_by_kind": self.api_calls.get("by_kind", {}),
            "counts": {obj: {"expected": self.expected.get(obj, 0),
                             "actual": self.actual.get(obj, 0)}
                       for obj in sorted(set(self.expected) | set(self.actual))},
            "failed_writes_by_code": dict(sorted(by_code.items())),
            "opened": self.opened,
            "closed": self.closed,
            "closed_findings": self.closed_findings,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
            "fix": self.fix.as_dict() if self.fix else None,
        }

    def exceeded(self, thresholds: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """Categories over their ``--fail-on`` threshold: category -> (count, limit)."""
        summary = self.summary
        summary["any"] = len(self.findings)  # ``any=N``: the total over every category
        return {c: (summary.get(c, 0), n) for c, n in thresholds.items()
                if summary.get(c, 0) > n}


def parse_fail_on(text: str | None) -> dict[str, int]:
    """``CATEGORY=N,...`` -> {category: N}; a typo is a usage error, not a silent pass."""
    out: dict[str, int] = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or name not in (*rules.CATEGORIES, "any") or not number.strip().isdigit():
            raise ConfigError(f"--fail-on: {part!r} is not CATEGORY=N",
                              hint="categories: " + ", ".join(rules.CATEGORIES)
                                   + " (or any=N for the total)")
        out[name] = int(number)
    return out


def apply_rules(g: Gathered, mappings: Mappings, as_of: datetime) -> list[rules.AuditFinding]:
    writes = [w for step in g.plan.steps for w in step.writes]
    status_field = mappings.fields.obj("CampaignMember").field("status").api_name
    found = [
        *rules.missing_in_salesforce(writes, g.previously_linked),
        *rules.missing_in_map(g.people, g.known_map_ids),
        *rules.campaigns_missing_in_map(g.campaigns, g.known_program_ids),
        *rules.field_drift(writes),
        *rules.duplicates(g.people),
        *rules.campaign_member_gap(writes, status_field),
        *rules.unmapped_programs(g.programs, g.unknown_programs),
        *rules.from_planner(f.as_dict() for f in g.plan.findings),
        *rules.failed_writes(g.failures),
        *rules.rejected_inputs(g.rejections),
        *rules.count_mismatches(g.expected, g.actual),
    ]
    if g.attribution_checked:
        found += rules.attribution_gaps(g.opportunities, g.opportunity_touches, g.credits,
                                        as_of)
    return rules.sort_findings(rules.without_pending(found, g.failures))


def run_audit(settings: Settings, mappings: Mappings, store: StateStore, *, as_of: datetime,
              http: requests.Session | None = None,
              sleep: Callable[[float], None] = time.sleep,
              on_phase: Callable[[str], None] = lambda name: None,
              fix: bool = False, dry_run: bool = False) -> AuditResult:
    """Audit, record the findings' state, and with ``fix`` execute the fixable
    findings as a plan (``dry_run``: only count what the fix would write)."""
    started = datetime.now(UTC)
    clock = time.monotonic()
    client = SalesforceClient(settings.salesforce, http=http, sleep=sleep)
    client.connect()
    with store_copy(store) as copy:
        gathered = gather(client, store, copy, mappings, as_of=as_of,
                          tz=settings.salesforce.tz, on_phase=on_phase)
        on_phase("applying the rules, recording the findings")
        found = apply_rules(gathered, mappings, as_of)
        checked = set(rules.CATEGORIES)
        if not gathered.attribution_checked:
            checked.discard(FindingCategory.ATTRIBUTION_GAP)
        calls = client.log.summary()
        result = AuditResult(0, as_of, found, {}, calls, gathered.expected, gathered.actual,
                             notes=gathered.notes)
        recorded = findings_state.record_audit(
            store, as_of=as_of, started_at=started, status=RunStatus.OK, summary=result.summary,
            api_calls=int(calls.get("total", 0)),
            findings=[(f.key, f.category, f.as_dict()) for f in found], checked=checked)
        if fix:
            on_phase("fixing" + (" (dry run)" if dry_run else ""))
            result.fix = execute_fix(client, store, mappings, gathered.plan, gathered.planner,
                                     as_of=as_of, dry_run=dry_run)
            result.api_calls = client.log.summary()
    result.audit_id = recorded.audit_id
    result.opened, result.closed = recorded.opened, recorded.closed
    result.opened_at = recorded.opened_at
    result.closed_findings = findings_state.closed_findings(store, recorded.audit_id)
    result.seconds = time.monotonic() - clock
    return result
