"""``connector doctor``: every precondition of a sync, checked and explained.

Each check says what it found and, when something is wrong, what to do; the
command's exit code is the worst check's (2 configuration, 3 connection/auth).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

from connector.errors import ConnectorError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None
    exit_code: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "hint": self.hint}


def _failed(name: str, exc: ConnectorError) -> Check:
    return Check(name, False, exc.message, exc.hint, exc.exit_code)


def run_doctor() -> list[Check]:
    from connector.config import load_settings
    from connector.mappings import load_mappings

    checks: list[Check] = []
    try:
        settings = load_settings()
    except ConnectorError as exc:
        return [_failed("configuration", exc)]
    checks.append(Check("configuration", True, f"MAP kind {settings.map.kind}, Salesforce "
                        f"{settings.salesforce.instance_url or settings.salesforce.login_url}"))
    try:
        mappings = load_mappings(settings.connector.mappings)
        checks.append(Check("mappings", True, f"loaded from {mappings.directory}"))
    except ConnectorError as exc:
        checks.append(_failed("mappings", exc))
        return checks
    checks.append(_state_check(settings.connector.state))
    checks.append(_map_check(settings))
    checks.extend(_salesforce_checks(settings, mappings))
    for check in checks:
        if not check.ok and not check.exit_code:
            check.exit_code = 2  # exit 0 only when ready
    return checks


def _state_check(path: Any) -> Check:
    from connector.state.store import open_store

    try:
        store = open_store(path)
    except ConnectorError as exc:
        return _failed("state database", exc)
    version = store.schema_version
    store.close()
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        return Check("state database", False, f"{path} is readable by others "
                     f"(mode {oct(mode)})", f"chmod 600 {path}", 2)
    return Check("state database", True, f"{path} (schema {version}, mode {oct(mode)})")


def _map_check(settings: Any) -> Check:
    kind = settings.map.kind
    if kind == "files":
        directory = settings.map.files_dir
        if directory is None:
            return Check("MAP export", False, "MAP_FILES_DIR is not set",
                         "set MAP_FILES_DIR to the export directory", 2)
        missing = [name for name in ("people", "programs", "touches")
                   if not any((directory / f"{name}.{ext}").exists()
                              for ext in ("csv", "jsonl"))]
        if missing:
            return Check("MAP export", False, f"{directory} has no {', '.join(missing)} "
                         f"file (.csv or .jsonl)", "check MAP_FILES_DIR", 2)
        return Check("MAP export", True, f"files in {directory}")
    cfg = settings.marketo if kind == "marketo" else settings.hubspot
    needed = ("base_url", "identity_url", "client_id", "client_secret") if kind == "marketo" \
        else ("token",)
    absent = [n for n in needed if not getattr(cfg, n)]
    if absent:
        prefix = kind.upper()
        return Check(f"MAP ({kind})", False, "missing " + ", ".join(
            f"{prefix}_{n.upper()}" for n in absent), "set them in the environment or .env", 2)
    return Check(f"MAP ({kind})", True, "credentials configured")


def _salesforce_checks(settings: Any, mappings: Any) -> list[Check]:
    from connector.doctor_org import (
        caching_describe,
        member_status_setup,
        object_access,
    )
    from connector.run.sync import SYNC_OBJECTS
    from connector.salesforce import DescribeCache, SalesforceClient, validate_mappings

    out: list[Check] = []
    try:
        client = SalesforceClient(settings.salesforce).connect()
    except ConnectorError as exc:
        return [_failed("Salesforce login", exc)]
    out.append(Check("Salesforce login", True,
                     f"{client.auth.flow.replace('_', ' ')} flow, {client.instance_url}, "
                     f"API v{settings.salesforce.api_version}"))
    budget = client.budget
    org_left = budget.org_remaining()
    out.append(Check("API allocation", org_left is None or org_left > 0,
                     f"org used {client.log.org_used} of {client.log.org_max} today "
                     f"({org_left} left); this run may spend {budget.allowance}",
                     "wait for the 24-hour window to roll, or ask Salesforce for a higher "
                     "allocation", 4))
    caching_describe(client)
    try:
        # only the objects of the features switched on (the sync's); Attribution__c
        # and the scoring fields are checked once those features run
        objects = list(SYNC_OBJECTS)
        access = object_access(client, [*objects, "CampaignMemberStatus"])
        out.append(Check(access.name, access.ok, access.detail, access.hint,
                         0 if access.ok else 2))
        problems = validate_mappings(DescribeCache(client), mappings, objects)
        if problems:
            out.append(Check("mapped fields", False, f"{len(problems)} problem(s):\n      "
                             + "\n      ".join(problems),
                             "run `connector schema export --out DIR`, deploy it with `sf "
                             "project deploy start -d DIR/force-app`, and assign the permission "
                             "set MAP_Connector_Integration to the integration user", 2))
        else:
            count = sum(len(mappings.fields.objects[o].fields) for o in objects
                        if o in mappings.fields.objects)
            out.append(Check("mapped fields", True, f"all {count} fields of {', '.join(objects)}"
                             f" present, typed and writable"))
        ladder = [s.label for s in mappings.touches.member_statuses]
        program_field = mappings.fields.obj("Campaign").field("program_id").api_name
        statuses = member_status_setup(client, ladder, program_field)
        out.append(Check(statuses.name, statuses.ok, statuses.detail, statuses.hint,
                         0 if statuses.ok else 2))
        cost = _next_run(client, settings, budget.allowance)
        out.append(Check(cost.name, cost.ok, cost.detail, cost.hint))
    except ConnectorError as exc:
        out.append(_failed("org checks", exc))
    return out


def _next_run(client: Any, settings: Any, allowance: int | None) -> Any:
    from connector.doctor_org import next_run_cost
    from connector.state.store import open_store

    store = open_store(settings.connector.state)
    try:
        runs = [r for r in store.runs(20) if r.get("kind") != "replay"]
        dead = len(store.dead_letters())
    finally:
        store.close()
    return next_run_cost(client, settings, runs, dead, allowance)
