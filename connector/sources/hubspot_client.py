"""Talking to HubSpot's APIs with a private app token, within its rate limits.

HubSpot throttles with HTTP 429 and a body whose ``policyName`` says which
limit was hit: ``DAILY`` stops the run cleanly (``SourceQuotaExhausted``), any
other (``SECONDLY``, ``TEN_SECONDLY_ROLLING``) is waited out, honouring
``Retry-After`` or ``X-HubSpot-RateLimit-Interval-Milliseconds``, and retried.
The ``X-HubSpot-RateLimit-*`` headers of ordinary responses are read too: a
spent interval is waited out before the next call, and a spent day stops the
run before a call that could only fail. Client-side, calls are spread to at
most 100 per 10 s, and CRM searches to 5 per second.
"""

from __future__ import annotations

from typing import Any

import httpx

from connector.config import HubSpotSettings
from connector.errors import (
    AuthError,
    ConfigError,
    ConnectionFailure,
    SourceError,
    SourceQuotaExhausted,
    SourceRateLimited,
)
from connector.errors import HubSpotTransientError as HubSpotTransientError  # re-exported
from connector.retry import parse_retry_after
from connector.sources.api_support import CallBudget, SlidingWindowLimiter, with_retries
from connector.sources.base import ReadSummary
from connector.sources.clock import Clock

GENERAL_CALLS, GENERAL_PERIOD = 100, 10.0
SEARCH_CALLS, SEARCH_PERIOD = 5, 1.0
MAX_ATTEMPTS = 6


def _header_number(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return float(value.split(";")[0])
    except ValueError:
        return None


class HubSpotClient:
    """One authenticated, rate-limited session with one HubSpot account."""

    def __init__(self, settings: HubSpotSettings, *, transport: httpx.BaseTransport | None,
                 clock: Clock, budget: CallBudget, summary: ReadSummary,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        if settings.token is None or not settings.token.get_secret_value():
            raise ConfigError("MAP_KIND=hubspot needs HUBSPOT_TOKEN",
                              hint="create a private app with the crm.objects.contacts.read, "
                                   "marketing-events, forms and content scopes")
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), transport=transport,
            timeout=settings.timeout_seconds,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"})
        self._clock = clock
        self._budget = budget
        self._summary = summary
        self._attempts = max_attempts
        self._general = SlidingWindowLimiter(GENERAL_CALLS, GENERAL_PERIOD, clock)
        self._search = SlidingWindowLimiter(SEARCH_CALLS, SEARCH_PERIOD, clock)
        self._wait_before_next = 0.0
        self._daily_spent = False

    @property
    def budget(self) -> CallBudget:
        return self._budget

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            stream: str) -> dict[str, Any]:
        return self.request("GET", path, params=params, stream=stream)

    def post(self, path: str, body: dict[str, Any], *, stream: str) -> dict[str, Any]:
        return self.request("POST", path, body=body, stream=stream)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None, stream: str) -> dict[str, Any]:
        """One call, retried on throttling and transient failures; the JSON body."""
        return with_retries(lambda: self._call(method, path, params, body, stream),
                            clock=self._clock, attempts=self._attempts,
                            what=f"HubSpot {method} {path}", spend=self._spend)

    def _spend(self) -> None:
        """Before each attempt: refuse once the account's daily limit is spent, then
        spend one call of the run's budget."""
        if self._daily_spent:
            raise SourceQuotaExhausted(
                "HubSpot: the account's daily API limit is spent",
                hint="the limit resets at midnight in the account's time zone; run again")
        self._budget.spend()

    def _call(self, method: str, path: str, params: dict[str, Any] | None,
              body: dict[str, Any] | None, stream: str) -> dict[str, Any]:
        if self._wait_before_next > 0:
            self._clock.sleep(self._wait_before_next)
            self._wait_before_next = 0.0
        self._general.acquire()
        if path.endswith("/search"):
            self._search.acquire()
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.TransportError as exc:
            self._summary.stream(stream).api_calls += 1
            raise ConnectionFailure(f"HubSpot unreachable on {path}: "
                                    f"{type(exc).__name__}") from None
        self._summary.stream(stream).api_calls += 1
        self._note_limits(response)
        status = response.status_code
        if status == 429:
            self._raise_throttled(response, path)
        if status >= 500:
            raise HubSpotTransientError(f"HubSpot {path}: HTTP {status}")
        if status in (401, 403):
            raise AuthError(f"HubSpot {path}: HTTP {status} {self._message(response)}",
                            hint="check HUBSPOT_TOKEN and the private app's scopes")
        if status >= 400:
            raise SourceError(f"HubSpot {path}: HTTP {status} {self._message(response)}")
        try:
            data = response.json()
        except ValueError:
            raise HubSpotTransientError(f"HubSpot {path}: the response is not JSON") from None
        if not isinstance(data, dict):
            raise SourceError(f"HubSpot {path}: expected a JSON object")
        return data

    def _note_limits(self, response: httpx.Response) -> None:
        daily_left = _header_number(response, "X-HubSpot-RateLimit-Daily-Remaining")
        if daily_left is not None and daily_left <= 0:
            self._daily_spent = True
        left = _header_number(response, "X-HubSpot-RateLimit-Remaining")
        interval = _header_number(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if left is not None and left <= 0:
            self._wait_before_next = (interval or GENERAL_PERIOD * 1000) / 1000

    def _raise_throttled(self, response: httpx.Response, path: str) -> None:
        try:
            data = response.json()
        except ValueError:
            data = {}
        policy = str(data.get("policyName", "")) if isinstance(data, dict) else ""
        message = f"HubSpot {path}: 429 {policy or 'rate limit'}"
        if policy.upper() == "DAILY":
            self._daily_spent = True
            raise SourceQuotaExhausted(
                message, hint="the daily limit resets at midnight in the account's time "
                              "zone; the checkpoint keeps the position, run again then")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            interval = _header_number(response, "X-HubSpot-RateLimit-Interval-Milliseconds")
            retry_after = interval / 1000 if interval else 1.0
        raise SourceRateLimited(message, retry_after=retry_after)

    @staticmethod
    def _message(response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return ""
        return str(data.get("message", "")) if isinstance(data, dict) else ""
