"""Secrets never leave the process: every message is redacted on its way out.

Servers echo what they are sent (a HubSpot error body can quote the bearer
token, an OAuth error can repeat the client secret), and that text flows into
exceptions, logs, the JSON summary and the state database. Redaction happens
at those exits, not at each call site, so no new code path can forget it:

- ``ConnectorError`` redacts its message and hint when it is built;
- the CLI's log formatter redacts every formatted record (tracebacks too);
- the CLI's JSON writer redacts what it prints;
- the state store redacts run summaries, dead-letter messages and payloads,
  and findings before they are written.

Two nets: the exact value of every configured secret and of every token the
connector obtains at run time (registered here as it appears), and patterns
for anything shaped like a credential (``Bearer ...``, Salesforce session ids,
HubSpot private-app tokens, ``access_token=...`` / ``"client_secret": "..."``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

MASK = "[redacted]"
# Shorter values would mask ordinary words; no real secret is this short.
MIN_SECRET = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

_SHAPES = re.compile(
    r"(?i:\bbearer\s+)[A-Za-z0-9._~+/!=-]{8,}"  # Authorization: Bearer <token>
    r"|\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"  # Salesforce session id
    r"|\bpat-[a-z0-9]{2,5}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_KEYED = re.compile(
    r"(?i)(\b(?:access_token|refresh_token|client_secret|password|security_token|"
    r"api_key|apikey|token|secret)\b[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,;}]{4,})")


def register(*values: str | SecretStr | None) -> None:
    """Remember secret values so every later message masks them."""
    global _pattern
    added = False
    with _lock:
        for value in values:
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value and len(value) >= MIN_SECRET and value not in _secrets:
                _secrets.add(value)
                added = True
        if added:
            # longest first, so a secret containing another is masked whole
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_settings(groups: Iterable[Any]) -> None:
    """Every ``SecretStr`` field of the given settings objects."""
    for group in groups:
        for name in type(group).model_fields:
            value = getattr(group, name, None)
            if isinstance(value, SecretStr):
                register(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and credential-shaped string masked."""
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _SHAPES.sub(lambda m: _keep_prefix(m.group(0)), text)
    return _KEYED.sub(lambda m: m.group(1) + MASK, text)


def _keep_prefix(found: str) -> str:
    if found[:6].lower() == "bearer":
        return found[:7] + MASK
    return MASK


def redact_any(value: Any) -> Any:
    """A JSON-like structure with every string redacted (keys kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_any(v) for v in value]
    return value


def forget_all() -> None:
    """For tests: drop every registered secret."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


__all__ = ["MASK", "forget_all", "redact", "redact_any", "register", "register_settings"]
