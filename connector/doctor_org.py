"""``connector doctor``'s checks against the org: access, member statuses, cost.

Each check describes what the sync will need before it needs it, so an admin
fixes the org once instead of learning about it from a failed run: object
access (create/edit as the sync writes), every mapped field of the features
switched on, the Campaign Member Status setup, and whether the next run fits
the API allocation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError
from connector.run.status import SUCCEEDED

PERMISSION_SET = "MAP_Connector_Integration"
# The objects the sync writes and how: (create, edit). The rest is read.
WRITES: dict[str, tuple[bool, bool]] = {
    "Lead": (True, True), "Contact": (False, True), "Campaign": (True, True),
    "CampaignMember": (True, True), "CampaignMemberStatus": (True, True),
}
COLLECTION_SIZE = 200
QUERY_PAGE = 2000


@dataclass
class OrgCheck:
    name: str
    ok: bool
    detail: str
    hint: str | None = None


def caching_describe(client: Any) -> dict[str, dict[str, Any]]:
    """Make ``client.describe`` answer each object once (the field checks and the
    object checks share it); returns the cache."""
    cache: dict[str, dict[str, Any]] = {}
    original = client.describe

    def describe(sobject: str) -> dict[str, Any]:
        if sobject not in cache:
            cache[sobject] = original(sobject)
        return cache[sobject]

    setattr(client, "describe", describe)  # noqa: B010 - instance attribute, not a method
    return cache


def object_access(client: Any, objects: list[str]) -> OrgCheck:
    """The integration user can read every object and create/edit those the sync writes."""
    problems: list[str] = []
    for sobject in objects:
        try:
            raw = client.describe(sobject)
        except ConnectorError:
            problems.append(f"{sobject}: not visible to the integration user")
            continue
        create, edit = WRITES.get(sobject, (False, False))
        needs = [("read", "queryable", True), ("create", "createable", create),
                 ("edit", "updateable", edit)]
        missing = [label for label, flag, wanted in needs if wanted and not raw.get(flag)]
        if missing:
            problems.append(f"{sobject}: no {'/'.join(missing)} access")
    if problems:
        return OrgCheck(
            "object access", False, "; ".join(problems),
            f"assign the permission set {PERMISSION_SET} (`connector schema export`) to the "
            "integration user; creating Campaigns also needs the Marketing User checkbox on "
            "the user record")
    return OrgCheck("object access", True,
                    f"read on {len(objects)} objects; create/edit where the sync writes")


def member_status_setup(client: Any, ladder: list[str], program_field: str) -> OrgCheck:
    """Campaign Member Status: the user can add the ladder to connector campaigns."""
    try:
        raw = client.describe("CampaignMemberStatus")
    except ConnectorError as exc:
        return OrgCheck("campaign member statuses", False,
                        f"CampaignMemberStatus is not accessible: {exc.message}",
                        "grant the integration user Edit on Campaigns (Marketing User)")
    if not (raw.get("createable") and raw.get("updateable")):
        return OrgCheck("campaign member statuses", False,
                        "the integration user cannot create or edit Campaign Member Statuses",
                        "give the user the Marketing User checkbox and Edit on Campaigns")
    names = {f.get("name", "").lower() for f in raw.get("fields", [])}
    absent = [f for f in ("Label", "HasResponded", "IsDefault", "SortOrder")
              if f.lower() not in names]
    if absent:
        return OrgCheck("campaign member statuses", False,
                        f"CampaignMemberStatus lacks {', '.join(absent)}",
                        "check the integration user's field access on Campaign Member Status")
    statuses: dict[str, set[str]] = {}
    for row in client.query(f"SELECT CampaignId, Label FROM CampaignMemberStatus WHERE "
                            f"Campaign.{program_field} != null"):
        statuses.setdefault(row["CampaignId"], set()).add(row["Label"])
    lacking = sum(1 for labels in statuses.values() if not set(ladder) <= labels)
    detail = (f"the ladder ({', '.join(ladder)}) can be set up; {len(statuses)} connector "
              f"campaign(s)")
    if lacking:
        detail += f", {lacking} still missing statuses (the next sync adds them)"
    return OrgCheck("campaign member statuses", True, detail)


def _people_rows(files_dir: Path | None) -> int | None:
    if files_dir is None:
        return None
    for name in ("people.csv", "people.jsonl"):
        path = files_dir / name
        if path.exists():
            with path.open("rb") as fh:
                lines = sum(1 for _ in fh)
            return max(0, lines - 1) if name.endswith(".csv") else lines
    return None


def estimate_next_run(last_runs: Sequence[Mapping[str, Any]], open_dead_letters: int,
                      people_rows: int | None, org_records: int | None) -> tuple[int, str]:
    """API calls the next sync is likely to spend, and how the figure was reached.

    After a completed run: what that run spent (incremental runs are alike)
    plus a collection call per 200 records waiting for replay. Before the first
    run: reading the org (a query page per 2,000 records) and writing every
    person once (a collection call per 200), campaigns and members on top.
    """
    retries = math.ceil(open_dead_letters / COLLECTION_SIZE)
    for run in last_runs:
        summary = run.get("summary") or {}
        if run.get("status") in SUCCEEDED and "api_calls" in summary:
            calls = int(summary["api_calls"]) + retries
            return calls, f"like run {run.get('run_id')} ({summary['api_calls']} calls)" + \
                (f" plus {retries} for records waiting for replay" if retries else "")
    people = people_rows or 0
    reads = math.ceil((org_records or 0) / QUERY_PAGE) + 12  # describes, limits, small reads
    writes = 3 * math.ceil(people / COLLECTION_SIZE)  # people, members, campaign statuses
    basis = f"first run: {people} people to write" if people_rows is not None else \
        "first run (MAP size unknown)"
    return reads + writes + retries, basis


def next_run_cost(client: Any, settings: Any, store_runs: Sequence[Mapping[str, Any]],
                  open_dead_letters: int, allowance: int | None) -> OrgCheck:
    org_records: int | None = None
    try:
        counts = client.rest("record counts", "limits/recordCount",
                             params={"sObjects": "Lead,Contact,Account,Campaign,CampaignMember"})
        org_records = sum(int(o.get("count", 0)) for o in counts.get("sObjects", []))
    except ConnectorError:
        org_records = None
    people = _people_rows(settings.map.files_dir) if settings.map.kind == "files" else None
    calls, basis = estimate_next_run(store_runs, open_dead_letters, people, org_records)
    detail = f"about {calls} API call(s) ({basis}); this run may spend {allowance}"
    if allowance is not None and calls > allowance:
        return OrgCheck("next run", True, detail + ": it will stop at the budget (exit 4) and "
                        "the following runs continue where it stopped (raise SF_BUDGET_SHARE "
                        "or SF_BUDGET_CALLS to finish in one run)")
    return OrgCheck("next run", True, detail)
