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
    out.append(Check("API allocation", True,
                     f"org used {client.log.org_used} of {client.log.org_max} today; this "
                     f"run may spend {budget.allowance}"))
    try:
        problems = validate_mappings(DescribeCache(client), mappings)
    except ConnectorError as exc:
        out.append(_failed("mapped fields", exc))
        return out
    if problems:
        out.append(Check("mapped fields", False, f"{len(problems)} problem(s):\n      "
                         + "\n      ".join(problems),
                         "run `connector schema export --out DIR`, deploy it, and assign "
                         "the permission set to the integration user", 2))
    else:
        count = sum(len(o.fields) for o in mappings.fields.objects.values())
        out.append(Check("mapped fields", True, f"all {count} present, typed and writable"))
    return out
