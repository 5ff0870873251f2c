"""Talking to Marketo's REST API: the access token, rate limits, and error codes.

Marketo reports most errors as HTTP 200 with ``{"success": false, "errors":
[{"code", "message"}]}``, so every body is checked. Codes map onto the error
tree: 601/602 refresh the token and retry once; 606/615 (rate, concurrency) and
604/608/611/713 and 502 (transient) retry with backoff; 607 (daily quota) stops
the run cleanly; anything else is a ``SourceError`` naming the code.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from connector.config import MarketoSettings
from connector.errors import (
    AuthError,
    ConfigError,
    ConnectionFailure,
    SourceError,
    SourceQuotaExhausted,
    SourceRateLimited,
    SourceTokenRejected,
)
from connector.errors import MarketoTransientError as MarketoTransientError  # re-exported
from connector.redact import register as register_secret
from connector.sources.api_support import CallBudget, SlidingWindowLimiter, with_retries
from connector.sources.base import ReadSummary
from connector.sources.clock import Clock

RATE_LIMIT_CALLS = 100
RATE_LIMIT_PERIOD = 20.0
MAX_CONCURRENT = 10
MAX_ATTEMPTS = 6
# Refresh the token this many seconds before Marketo says it expires.
TOKEN_MARGIN = 60.0

TOKEN_CODES = frozenset({"601", "602"})
THROTTLE_CODES = frozenset({"606", "615"})
TRANSIENT_CODES = frozenset({"502", "604", "608", "611", "713"})
QUOTA_CODE = "607"
NO_DATA_CODE = "702"


_TokenRejected = SourceTokenRejected  # 601/602: refresh the token, retry once


def _require(value: object, name: str) -> None:
    if not value:
        raise ConfigError(f"MAP_KIND=marketo needs {name}",
                          hint="see docs/sources.md, 'Marketo REST'")


class MarketoClient:
    """One authenticated, rate-limited session with one Marketo instance."""

    def __init__(self, settings: MarketoSettings, *, transport: httpx.BaseTransport | None,
                 clock: Clock, budget: CallBudget, summary: ReadSummary,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        _require(settings.base_url, "MARKETO_BASE_URL")
        _require(settings.identity_url, "MARKETO_IDENTITY_URL")
        _require(settings.client_id, "MARKETO_CLIENT_ID")
        _require(settings.client_secret, "MARKETO_CLIENT_SECRET")
        assert settings.base_url and settings.identity_url and settings.client_secret
        self._settings = settings
        self._identity = settings.identity_url.rstrip("/")
        self._http = httpx.Client(base_url=settings.base_url.rstrip("/"), transport=transport,
                                  timeout=settings.timeout_seconds)
        self._clock = clock
        self._budget = budget
        self._summary = summary
        self._attempts = max_attempts
        self._limiter = SlidingWindowLimiter(RATE_LIMIT_CALLS, RATE_LIMIT_PERIOD, clock)
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._token: str | None = None
        self._token_expires = 0.0

    def close(self) -> None:
        self._http.close()

    @property
    def budget(self) -> CallBudget:
        return self._budget

    # ------------------------------------------------------------------ auth

    def _access_token(self) -> str:
        if self._token is None or self._clock.monotonic() >= self._token_expires:
            self._token = with_retries(self._fetch_token, clock=self._clock,
                                       attempts=self._attempts, what="Marketo identity")
        return self._token

    def _fetch_token(self) -> str:
        """Client credentials grant. Sent as a POST form (which Marketo accepts as well as
        GET) so the secret never appears in a URL, and so in no request log."""
        secret = self._settings.client_secret
        assert secret is not None
        self._summary.auth_calls += 1
        try:
            response = self._http.post(
                f"{self._identity}/oauth/token",
                data={"grant_type": "client_credentials",
                      "client_id": self._settings.client_id or "",
                      "client_secret": secret.get_secret_value()})
        except httpx.TransportError as exc:
            raise ConnectionFailure(f"Marketo identity endpoint unreachable: "
                                    f"{type(exc).__name__}") from None
        if response.status_code >= 500:
            raise MarketoTransientError(f"Marketo identity endpoint: HTTP {response.status_code}")
        if response.status_code in (400, 401, 403):
            raise AuthError("Marketo rejected the client id or secret",
                            hint="check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET "
                                 "(Admin > LaunchPoint > View Details)")
        body = self._json(response, "identity")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("Marketo's identity endpoint returned no access_token")
        register_secret(token)  # masked in every message from now on
        expires_in = float(body.get("expires_in") or 0)
        self._token_expires = self._clock.monotonic() + max(0.0, expires_in - TOKEN_MARGIN)
        return token

    # ----------------------------------------------------------------- calls

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            stream: str) -> dict[str, Any]:
        """GET a REST path; the whole JSON body when ``success`` is true.

        A rejected token is refreshed and the call retried once; throttling and
        transient errors are retried with backoff inside the budget."""
        what = f"Marketo {path}"
        try:
            return with_retries(lambda: self._call(path, params, stream), clock=self._clock,
                                attempts=self._attempts, what=what, spend=self._budget.spend)
        except _TokenRejected:
            self._token = None
            try:
                return with_retries(lambda: self._call(path, params, stream),
                                    clock=self._clock, attempts=self._attempts, what=what,
                                    spend=self._budget.spend)
            except _TokenRejected as exc:
                raise AuthError(f"Marketo rejected a fresh access token: {exc}") from None

    def _call(self, path: str, params: dict[str, Any] | None, stream: str) -> dict[str, Any]:
        token = self._access_token()
        self._limiter.acquire()
        with self._slots:
            try:
                response = self._http.get(path, params=params,
                                          headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError as exc:
                self._summary.stream(stream).api_calls += 1
                raise ConnectionFailure(f"Marketo unreachable on {path}: "
                                        f"{type(exc).__name__}") from None
        self._summary.stream(stream).api_calls += 1
        if response.status_code >= 500:
            raise MarketoTransientError(f"Marketo {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise SourceError(f"Marketo {path}: HTTP {response.status_code}",
                              hint="413/414 mean the request was too large; report it")
        body = self._json(response, path)
        if body.get("success") is False:
            self._raise_for(body, path)
        return body

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise MarketoTransientError(f"Marketo {what}: the response is not JSON") from None
        if not isinstance(body, dict):
            raise SourceError(f"Marketo {what}: expected a JSON object")
        return body

    def _raise_for(self, body: dict[str, Any], path: str) -> None:
        errors = body.get("errors") or [{"code": "?", "message": "success=false"}]
        first = errors[0] if isinstance(errors[0], dict) else {"code": "?", "message": ""}
        code = str(first.get("code", "?"))
        message = f"Marketo {path}: error {code} {first.get('message', '')}".strip()
        if code in TOKEN_CODES:
            self._token = None
            raise _TokenRejected(message)
        if code in THROTTLE_CODES:
            # 606: the 20 s window is full, so wait it out; 615: a slot frees up soon.
            wait = RATE_LIMIT_PERIOD if code == "606" else 1.0
            raise SourceRateLimited(message, retry_after=wait)
        if code in TRANSIENT_CODES:
            raise MarketoTransientError(message)
        if code == QUOTA_CODE:
            raise SourceQuotaExhausted(
                message, hint="Marketo's daily quota resets at midnight US Central; "
                              "the checkpoint keeps the position, run again then")
        if code == "603":
            raise AuthError(message, hint="give the API user's role read access to the "
                                          "lead database and assets")
        if code == NO_DATA_CODE:
            body["result"] = []
            return
        raise SourceError(message)
