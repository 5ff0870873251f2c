"""What is retriable at the Salesforce edge: the classification half of retrying.

simple-salesforce raises its own exceptions (carrying status and the parsed
body) and never retries. ``translate`` turns them, and transport errors, into
the connector's error tree, whose classes say whether a failure is retriable
(and carry the server's ``Retry-After``); the waiting, attempt limits and
logging are the shared policy in ``connector.retry`` (re-exported here).
Record-level codes (inside a Collections or Bulk result) are classified by
``RETRIABLE_RECORD_CODES``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError as SfLibError

from connector.errors import (
    ApiLimitExceeded,
    ConnectionFailure,
    ConnectorError,
    QueryError,
    RetriableApiError,
    SalesforceApiError,
    SessionExpired,
)
from connector.retry import Backoff as Backoff  # re-exported: the shared policy
from connector.retry import is_retriable as is_retriable
from connector.retry import parse_retry_after
from connector.retry import retrying as retrying
from connector.salesforce.net_errors import connection_reason

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
    return parse_retry_after(headers.get("Retry-After")) if headers else None


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


__all__ = ["QUERY_CODES", "RETRIABLE_CODES", "RETRIABLE_RECORD_CODES", "Backoff",
           "is_retriable", "retrying", "translate"]
