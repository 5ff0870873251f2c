"""Fault injection: the failures a real org produces, on demand and reproducibly.

A rule matches calls by path substring (``*`` for every API call under
``/services/data``; the token endpoint only when named), optionally by
HTTP method and object. ``request`` scope fails the whole call before it does
anything, with Salesforce's real status and body; ``record`` scope fails chosen
records of a collections call or Bulk ingest job with that error code while the
others succeed. Each rule draws from its own ``random.Random(seed)``, so a given
rule set fails the same calls and records on every run; ``count`` caps how many
times a rule fires.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connector.emulator.records import RecordError

FaultError = Literal["UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "INVALID_SESSION_ID",
                     "REQUEST_LIMIT_EXCEEDED", "SLOW"]

MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records: {id}",
    "SERVER_UNAVAILABLE": "Server unavailable, please try again later",
    "INVALID_SESSION_ID": "Session expired or invalid",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
}
API_PREFIX = "/services/data"
CONCURRENT_LIMIT_MESSAGE = "ConcurrentPerOrgLongTxn Limit exceeded."
STATUS = {"UNABLE_TO_LOCK_ROW": 400, "SERVER_UNAVAILABLE": 503, "INVALID_SESSION_ID": 401,
          "REQUEST_LIMIT_EXCEEDED": 403}
# What Salesforce serves when a pod is down or in maintenance: HTML, not JSON.
UNAVAILABLE_HTML = (
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body>\n"
    "<h1>Service Unavailable</h1>\n"
    "<p>The server is temporarily unable to service your request due to maintenance "
    "downtime or capacity problems. Please try again later.</p>\n</body></html>\n")


class FaultRuleSpec(BaseModel):
    """One rule as a client writes it (``PUT /__emulator__/faults``)."""

    model_config = ConfigDict(extra="forbid")

    match: str = Field(min_length=1)
    error: FaultError
    scope: Literal["request", "record"] = "request"
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=0)
    seed: int = 0
    method: str | None = None
    object: str | None = None
    delay_ms: int = Field(default=1000, ge=0, le=600_000)
    retry_after: int | None = Field(default=None, ge=0)
    limit: Literal["total", "concurrent"] = "total"

    @model_validator(mode="after")
    def _consistent(self) -> FaultRuleSpec:
        if self.error == "SLOW" and self.scope != "request":
            raise ValueError("SLOW delays whole requests; it needs scope 'request'")
        return self


@dataclass
class FaultRule:
    spec: FaultRuleSpec
    rng: random.Random
    fired: int = 0
    seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def matches(self, path: str, method: str, obj: str | None) -> bool:
        s = self.spec
        if s.method and s.method.upper() != method.upper():
            return False
        if s.object and (obj is None or s.object.lower() != obj.lower()):
            return False
        if s.match == "*":  # every API call; the token endpoint only when named
            return path.startswith(API_PREFIX)
        return s.match in path

    def fires(self) -> bool:
        """One draw of this rule's dice; deterministic for a given seed and call order."""
        with self.lock:
            self.seen += 1
            if self.spec.count is not None and self.fired >= self.spec.count:
                return False
            hit = self.rng.random() < self.spec.rate
            if hit:
                self.fired += 1
            return hit

    def describe(self) -> dict[str, Any]:
        return {**self.spec.model_dump(exclude_none=True), "fired": self.fired,
                "evaluated": self.seen}

    def record_error(self, record_id: str | None = None) -> RecordError:
        code = self.spec.error
        if code == "UNABLE_TO_LOCK_ROW":
            message = MESSAGES[code].format(id=record_id) if record_id else \
                "unable to obtain exclusive access to this record"
        elif code == "REQUEST_LIMIT_EXCEEDED" and self.spec.limit == "concurrent":
            message = CONCURRENT_LIMIT_MESSAGE
        else:
            message = MESSAGES.get(code, code)
        return RecordError(code, message, [])


class Faults:
    """The active rule set (in memory: faults are a test's setting, not org data)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def set(self, rules: Any) -> list[dict[str, Any]]:
        """Replace the rules; raise ``ValueError`` naming the bad rule and key."""
        if not isinstance(rules, list):
            raise ValueError("'rules' must be a list of rule objects")
        parsed = []
        for index, raw in enumerate(rules):
            try:
                spec = FaultRuleSpec.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}"
                    for e in exc.errors())
                raise ValueError(f"rules[{index}]: {problems}") from None
            parsed.append(FaultRule(spec, random.Random(spec.seed)))
        with self._lock:
            self._rules = parsed
        return self.describe()

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def _active(self, scope: str) -> list[FaultRule]:
        with self._lock:
            return [r for r in self._rules if r.spec.scope == scope]

    def request_faults(self, path: str, method: str) -> tuple[float, FaultRule | None]:
        """(seconds to delay, the rule failing this call or None)."""
        delay = 0.0
        for rule in self._active("request"):
            if not rule.matches(path, method, None) or not rule.fires():
                continue
            if rule.spec.error == "SLOW":
                delay += rule.spec.delay_ms / 1000
                continue
            return delay, rule
        return delay, None

    def record_picker(self, path: str, method: str) -> RecordPicker | None:
        rules = [r for r in self._active("record") if r.matches(path, method, None)
                 or (r.spec.object and r.matches(path, method, r.spec.object))]
        return RecordPicker(rules, path, method) if rules else None


class RecordPicker:
    """Decides, record by record, whether a record-scope rule fails it."""

    def __init__(self, rules: list[FaultRule], path: str, method: str) -> None:
        self.rules = rules
        self.path = path
        self.method = method

    def __call__(self, object_name: str, record_id: str | None = None) -> RecordError | None:
        for rule in self.rules:
            if rule.matches(self.path, self.method, object_name) and rule.fires():
                return rule.record_error(record_id)
        return None
