"""Counting every API call and spending only the run's budget.

Every HTTP response from the org passes through ``CallLog.record`` (a requests
response hook), which counts it by kind, times it, and reads
``Sforce-Limit-Info: api-usage=USED/MAX``. ``ApiBudget`` turns the run's
allowance (a share of what was left of the daily allocation when the run
started, and/or an absolute cap) into a check made before every call: if the
work about to start cannot finish within the allowance, the run stops cleanly
with ``BudgetExhausted`` (exit code 4) instead of exhausting the org.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connector.errors import BudgetExhausted

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_VERSIONED = re.compile(r"^/services/data/v\d+\.\d+/?")

CALL_KINDS = ("auth", "read", "write", "bulk_ingest", "bulk_query")


def classify_call(method: str, url: str) -> tuple[str, str]:
    """(kind, endpoint) of a request, e.g. ("write", "composite/sobjects")."""
    path = urlsplit(url).path
    if path.startswith("/services/oauth2/"):
        return "auth", "oauth2/token"
    rest = _VERSIONED.sub("", path).strip("/")
    parts = rest.split("/") if rest else [""]
    head = parts[0]
    if head == "jobs" and len(parts) > 1:
        kind = "bulk_query" if parts[1] == "query" else "bulk_ingest"
        return kind, f"jobs/{parts[1]}"
    if head == "composite":
        endpoint = "/".join(parts[:2])
        return ("read" if method == "GET" else "write"), endpoint
    if head == "sobjects":
        if len(parts) >= 3 and parts[-1] == "describe":
            return "read", "sobjects/describe"
        if len(parts) == 1:
            return "read", "sobjects"
        return ("read" if method == "GET" else "write"), "sobjects/record"
    if head in ("query", "queryAll"):
        return "read", head
    return "read", head or "versions"


@dataclass
class CallLog:
    """Counts and times every call; the run summary reads it."""

    counts: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    statuses: Counter[int] = field(default_factory=Counter)
    org_used: int | None = None
    org_max: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """requests response hook: count, time and read the limit header."""
        request = response.request
        kind, endpoint = classify_call(request.method or "GET", request.url or "")
        with self._lock:
            self.counts[kind] += 1
            self.by_endpoint[f"{request.method} {endpoint}"] += 1
            self.seconds[kind] += response.elapsed.total_seconds()
            self.statuses[response.status_code] += 1
            match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
            if match:
                self.org_used, self.org_max = int(match.group(1)), int(match.group(2))
        return response

    @property
    def api_calls(self) -> int:
        """Calls that count against the org's daily allocation (all but token requests)."""
        return sum(n for kind, n in self.counts.items() if kind != "auth")

    @property
    def write_calls(self) -> int:
        return self.counts["write"] + self.counts["bulk_ingest"]

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.api_calls,
            "by_kind": {k: self.counts[k] for k in CALL_KINDS if self.counts[k]},
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "org_usage": (
                {"used": self.org_used, "max": self.org_max}
                if self.org_max is not None else None
            ),
        }


class ApiBudget:
    """The share of the org's allocation this run may spend.

    ``allowance`` is fixed at the start from the org's remaining calls (read
    from the first response's limit header) times ``share``, capped by ``cap``.
    ``reserve(n)`` is asked before work that needs ``n`` calls.
    """

    def __init__(self, log: CallLog, *, share: float, cap: int | None) -> None:
        self.log = log
        self.share = share
        self.cap = cap
        self._start_calls: int | None = None
        self._allowance: int | None = None

    def start(self) -> None:
        """Fix the allowance from the usage known now (call after the first request)."""
        # Every API call of the run counts, the login's limits read included: a cap
        # of 10 means 10 calls in all, not 10 after the first.
        self._start_calls = 0
        allowance = self.cap if self.cap is not None else None
        if self.log.org_max is not None and self.log.org_used is not None:
            remaining = max(0, self.log.org_max - self.log.org_used)
            share = int(remaining * self.share)
            allowance = share if allowance is None else min(allowance, share)
        self._allowance = allowance

    @property
    def allowance(self) -> int | None:
        return self._allowance

    @property
    def spent(self) -> int:
        return self.log.api_calls - (self._start_calls or 0)

    @property
    def remaining(self) -> int | None:
        if self._allowance is None:
            return None
        return max(0, self._allowance - self.spent)

    def org_remaining(self) -> int | None:
        if self.log.org_max is None or self.log.org_used is None:
            return None
        return max(0, self.log.org_max - self.log.org_used)

    def can_afford(self, calls: int) -> bool:
        remaining = self.remaining
        if remaining is not None and calls > remaining:
            return False
        org = self.org_remaining()
        return not (org is not None and calls > org)

    def reserve(self, calls: int, what: str) -> None:
        """Raise BudgetExhausted unless ``calls`` more calls fit the budget."""
        if self.can_afford(calls):
            return
        raise BudgetExhausted(
            f"stopped before {what}: it needs {calls} API call(s) and the run's budget has "
            f"{self.remaining if self.remaining is not None else 'unknown'} left "
            f"(org: {self.org_remaining()} of {self.log.org_max} remaining today)",
            hint="nothing is half-written; re-run later or raise SF_BUDGET_SHARE / "
                 "SF_BUDGET_CALLS",
        )
