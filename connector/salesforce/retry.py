"""The retry policy: one place that decides retry / refresh-and-retry / fail.

simple-salesforce raises its own exceptions (carrying status and the parsed
body) and never retries. ``translate`` turns them, and transport errors, into
the connector's error tree; ``retrying`` runs a call under tenacity with
exponential backoff and jitter, honouring ``Retry-After``, with bounded attempts.
Record-level codes (inside a collections or Bulk result) are classified by
``RETRIABLE_RECORD_CODES``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from simple_salesforce.exceptions import SalesforceError as SfLibError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from connector.errors import (
    ApiLimitExceeded,
    ConnectionFailure,
    ConnectorError,
    QueryError,
    RetriableApiError,
    SalesforceApiError,
    SessionExpired,
)
from connector.salesforce.net_errors import connection_reason

T = TypeVar("T")

# Whole-call error codes worth another try after a pause.
RETRIABLE_CODES = frozenset({
    "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG",
    "QUERY_TIMEOUT", "TXN_SECURITY_METERING_ERROR",
})
QUERY_CODES = frozenset({
    "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR",
})
# Per-record codes resent by the writer: contention, and records rolled back only
# because another record of an all-or-none call failed.
RETRIABLE_RECORD_CODES = frozenset({
    "UNABLE_TO_LOCK_ROW", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "SERVER_UNAVAILABLE",
    "REQUEST_RUNNING_TOO_LONG",
})
_CONCURRENT = re.compile(r"concurrent", re.I)


def _first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) from a Salesforce error body in any of its shapes."""
    if isinstance(content, (bytes, str)):
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        try:
            content = json.loads(text)
        except ValueError:
            snippet = re.sub(r"<[^>]+>", " ", text)
            return "", " ".join(snippet.split())[:200]
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        return str(item.get("errorCode", "")), str(item.get("message", ""))
    if isinstance(content, dict):
        if "errorCode" in content:
            return str(content["errorCode"]), str(content.get("message", ""))
        if "error" in content:
            return str(content["error"]), str(content.get("error_description", ""))
    return "", str(content)[:200]


def _retry_after(headers: Any) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def translate(exc: BaseException, *, headers: Any = None) -> ConnectorError:
    """Map a library or transport exception to the connector's error tree."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectionFailure(
            f"TLS error talking to Salesforce: {connection_reason(exc)}",
            hint="set SF_CA_BUNDLE to the CA that signed the server's certificate",
        )
    if isinstance(exc, (requests.ConnectionError, requests.Timeout,
                        requests.exceptions.ChunkedEncodingError)):
        return ConnectionFailure(f"network error talking to Salesforce: "
                                 f"{connection_reason(exc)}")
    if isinstance(exc, (requests.exceptions.JSONDecodeError, json.JSONDecodeError)):
        # A 2xx with a body that is not JSON: a proxy page or a truncated response.
        return RetriableApiError("Salesforce returned a malformed (non-JSON) response",
                                 status=200, error_code="MALFORMED_RESPONSE")
    if isinstance(exc, SfLibError):
        status = int(getattr(exc, "status", 0) or 0)
        code, message = _first_error(getattr(exc, "content", ""))
        url = str(getattr(exc, "url", ""))
        retry_after = _retry_after(headers)
        text = f"{code or 'HTTP ' + str(status)}: {message}".strip()
        if status == 401 or code == "INVALID_SESSION_ID":
            return SessionExpired(text, status=status, error_code=code or "INVALID_SESSION_ID",
                                  url=url)
        if code == "REQUEST_LIMIT_EXCEEDED":
            if _CONCURRENT.search(message):
                return RetriableApiError(text, status=status, error_code=code, url=url,
                                         retry_after=retry_after)
            return ApiLimitExceeded(
                f"the org's daily API allocation is spent ({message})",
                hint="wait for the 24-hour window to roll over or raise the org's limit; "
                     "the run stopped cleanly and can be re-run",
            )
        if status >= 500 or code in RETRIABLE_CODES:
            return RetriableApiError(text, status=status, error_code=code or f"HTTP_{status}",
                                     url=url, retry_after=retry_after)
        if code in QUERY_CODES:
            return QueryError(text, status=status, error_code=code, url=url)
        return SalesforceApiError(text, status=status, error_code=code or f"HTTP_{status}",
                                  url=url)
    return ConnectorError(f"unexpected error talking to Salesforce: {exc!r}")


def is_retriable(exc: BaseException) -> bool:
    return isinstance(exc, ConnectorError) and exc.retriable


class Backoff:
    """Exponential backoff with full jitter, honouring a server's Retry-After."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0,
                 rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.maximum * 4)
        ceiling = min(self.maximum, self.initial * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)


def retrying(
    fn: Callable[[], T],
    *,
    attempts: int,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[ConnectorError, int, float], None] | None = None,
) -> T:
    """Run ``fn`` (which raises connector errors) until it succeeds or may not retry."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return backoff.delay(state.attempt_number, retry_after)

    def before_sleep(state: RetryCallState) -> None:
        # Called only when a retry will really happen (tenacity computes the wait
        # before it checks the stop condition, so reporting from ``wait`` announced
        # a retry after the last attempt too).
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        if on_retry and isinstance(exc, ConnectorError):
            on_retry(exc, state.attempt_number, delay)

    runner = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(is_retriable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return runner(fn)
