"""``connector report funnel --snapshot``: the report's numbers as Funnel_Snapshot__c
records, so leaders can build Salesforce reports and dashboards on them.

One record per period, funnel, stage and channel, upserted on ``Key__c``
(``FROM..TO:PERIOD:FUNNEL:STAGE:VIEW:CHANNEL``), so re-running a report over the
same range updates its records instead of adding more. Revenue sits on the
Opportunity row (pipeline) and the Won row (won) of the demand funnel only, so
a Salesforce report summing a column never counts an amount twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.config import Settings
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.salesforce.writer import WriteOp
from connector.values import WriteAction

SOBJECT = "Funnel_Snapshot__c"


def snapshot_ops(report: Mapping[str, Any], mappings: Mappings) -> list[WriteOp]:
    """The records to upsert, by API name of the mappings."""
    decl = mappings.fields.objects.get(SOBJECT)
    if decl is None:
        raise ConfigError(f"the mappings declare no {SOBJECT}",
                          hint="add it to fields.yaml (the bundled mappings have it) and "
                               "deploy `connector schema export`")
    names = {key: f.api_name for key, f in decl.fields.items()}
    span = f"{report['from']}..{report['to']}"
    ops: list[WriteOp] = []

    def add(period: str, funnel: str, stage: str, view: str, channel: str,
            values: Mapping[str, Any]) -> None:
        key = f"{span}:{period}:{funnel}:{stage}:{view}:{channel}"[:255]
        row = {"key": key, "period": period, "period_start": report["from"],
               "period_end": report["to"], "funnel": funnel, "stage": stage, "view": view,
               "channel": channel, "as_of": report["as_of"], **values}
        ops.append(WriteOp(key, {names[k]: v for k, v in row.items() if k in names}))

    def money(funnel: str, stage: str, pipeline: float, won: float) -> dict[str, Any]:
        return {"pipeline": pipeline if (funnel, stage) == ("demand", "Opportunity") else None,
                "won": won if (funnel, stage) == ("demand", "Won") else None}

    revenue = report["revenue"]
    for funnel in ("demand", "abm"):
        for r in report[funnel]["stages"]:
            conversion = r["conversion"]
            add(span, funnel, r["stage"], "all", "All", {
                "entered": r["entered"], "inferred": r["inferred"],
                "reached_next": r["reached_next"], "in_flight": r["in_flight"],
                "conversion": None if conversion is None else round(conversion * 100, 2),
                "median_days": r["median_days"], "p90_days": r["p90_days"],
                **money(funnel, r["stage"], revenue["pipeline"], revenue["won"])})
    for p in report["periods"]:
        for funnel in ("demand", "abm"):
            for stage, n in p[funnel].items():
                add(p["period"], funnel, stage, "all", "All", {"entered": n})
    for c in report["by_channel"]:
        for funnel in ("demand", "abm"):
            for stage, n in c[funnel].items():
                add(span, funnel, stage, c["view"], c["channel"],
                    {"entered": n, **money(funnel, stage, c["pipeline"], c["won"])})
    return ops


def write_snapshot(settings: Settings, mappings: Mappings, report: Mapping[str, Any],
                   *, http: Any = None) -> dict[str, Any]:
    """Upsert the snapshot; counts of created, updated and failed records, and
    the first failures (Salesforce's code and message)."""
    from connector.salesforce.client import SalesforceClient
    from connector.salesforce.writer import Writer

    ops = snapshot_ops(report, mappings)
    client = SalesforceClient(settings.salesforce, http=http)
    client.connect()
    key = mappings.fields.objects[SOBJECT].fields["key"].api_name
    outcome = Writer(client).write(SOBJECT, WriteAction.UPSERT, ops, external_id_field=key)
    if outcome.stopped is not None:
        raise outcome.stopped
    ok = [r for r in outcome.results if r.success]
    return {"object": SOBJECT, "records": len(ops),
            "created": sum(r.created for r in ok), "updated": sum(not r.created for r in ok),
            "failed": len(outcome.failed), "api_calls": outcome.calls,
            "errors": [f"{r.ref}: {r.error_code} {r.message}" for r in outcome.failed[:5]]}
