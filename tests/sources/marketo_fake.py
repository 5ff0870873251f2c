"""An in-memory Marketo that speaks the REST API's shapes, for ``httpx.MockTransport``.

It reproduces what the connector must cope with: errors as HTTP 200 bodies with
``success: false``, tokens that expire (602) or are unknown (601), the 100 calls
per 20 s window (606), injected faults (615, 604, ...), a daily quota (607),
date-based paging tokens with ``moreResult``, at most 10 activity type ids and
300 lead ids per call, and offset-browsed programs (200 per page).
"""

from __future__ import annotations

import base64
import json
from collections import Counter, deque
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from connector.sources.clock import FakeClock
from connector.sources.timestamps import parse_api_timestamp

BASE = "https://123-abc-456.mktorest.com"
IDENTITY = f"{BASE}/identity"
CLIENT_ID, CLIENT_SECRET = "client-id", "s3cret-value"


def _error(code: str, message: str) -> httpx.Response:
    return httpx.Response(200, json={"requestId": "fake#1", "success": False,
                                     "errors": [{"code": code, "message": message}]})


def _ok(**body: Any) -> httpx.Response:
    return httpx.Response(200, json={"requestId": "fake#1", "success": True, **body})


def _token_for(position: int) -> str:
    return base64.b32encode(f"pos:{position}".encode()).decode()


def _position(token: str) -> int:
    return int(base64.b32decode(token.encode()).decode().split(":")[1])


class FakeMarketo:
    def __init__(self, clock: FakeClock, *, token_ttl: int = 3600,
                 activity_page: int = 300, daily_quota: int | None = None) -> None:
        self.clock = clock
        self.token_ttl = token_ttl
        self.activity_page = activity_page
        self.daily_quota = daily_quota
        self.leads: dict[int, dict[str, Any]] = {}
        self.programs: list[dict[str, Any]] = []
        self.channels: list[dict[str, Any]] = []
        self.activities: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}
        self.faults: list[list[Any]] = []  # [path substring, code, remaining]
        self.calls: Counter[str] = Counter()
        self.rest_calls = 0
        self.auth_calls = 0
        self.window: deque[float] = deque()
        self.max_in_window = 0
        self.requests: list[httpx.Request] = []
        self._issued = 0

    # ----------------------------------------------------------- set-up API

    def add_activity(self, activity: dict[str, Any]) -> None:
        self.activities.append(activity)
        self.activities.sort(key=lambda a: (parse_api_timestamp(a["activityDate"]), a["id"]))

    def inject(self, path_part: str, code: str, times: int = 1) -> None:
        self.faults.append([path_part, code, times])

    def expire_tokens(self) -> None:
        """Every issued token expires now, as if an hour had passed mid-run."""
        for token in self.tokens:
            self.tokens[token] = self.clock.monotonic() - 1

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -------------------------------------------------------------- serving

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/identity/oauth/token":
            return self._token(request)
        self.calls[path] += 1
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        if token is None or token not in self.tokens:
            return _error("601", "Access token invalid")
        if self.clock.monotonic() >= self.tokens[token]:
            return _error("602", "Access token expired")
        now = self.clock.monotonic()
        while self.window and self.window[0] <= now - 20:
            self.window.popleft()
        if len(self.window) >= 100:
            return _error("606", "Max rate limit '100' exceeded with in '20' secs")
        self.window.append(now)
        self.max_in_window = max(self.max_in_window, len(self.window))
        for fault in self.faults:
            if fault[0] in path and fault[2] > 0:
                fault[2] -= 1
                return _error(fault[1], f"injected {fault[1]}")
        if self.daily_quota is not None and self.rest_calls >= self.daily_quota:
            return _error("607", "Daily quota reached")
        self.rest_calls += 1
        params = {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}
        return self._route(path, params)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.auth_calls += 1
        params = {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}
        if request.method == "POST":
            params.update({k: v[-1] for k, v in parse_qs(request.content.decode()).items()})
        if (params.get("grant_type") != "client_credentials"
                or params.get("client_id") != CLIENT_ID
                or params.get("client_secret") != CLIENT_SECRET):
            return httpx.Response(401, json={"error": "unauthorized",
                                             "error_description": "Bad client credentials"})
        self._issued += 1
        token = f"tok-{self._issued}:int"
        self.tokens[token] = self.clock.monotonic() + self.token_ttl
        return httpx.Response(200, json={"access_token": token, "token_type": "bearer",
                                         "expires_in": self.token_ttl,
                                         "scope": "api@example.com"})

    def _route(self, path: str, params: dict[str, str]) -> httpx.Response:
        if path == "/rest/asset/v1/channels.json":
            return self._browse(self.channels, params)
        if path == "/rest/asset/v1/programs.json":
            chosen = self.programs
            low, high = params.get("earliestUpdatedAt"), params.get("latestUpdatedAt")
            if low and high:
                lo, hi = parse_api_timestamp(low), parse_api_timestamp(high)
                assert lo is not None and hi is not None
                chosen = [p for p in self.programs
                          if lo <= _when(p["updatedAt"]) <= hi]
            return self._browse([{k: v for k, v in p.items() if k != "costs"}
                                 for p in chosen], params)
        if path.startswith("/rest/asset/v1/program/"):
            program_id = int(path.rsplit("/", 1)[1].removesuffix(".json"))
            found = [p for p in self.programs if p["id"] == program_id]
            if not found:
                return _ok(warnings=["No assets found for the given search criteria."])
            return _ok(result=found, warnings=[], errors=[])
        if path == "/rest/v1/activities/pagingtoken.json":
            since = parse_api_timestamp(params["sinceDatetime"])
            assert since is not None
            position = next((i for i, a in enumerate(self.activities)
                             if _when(a["activityDate"]) >= since), len(self.activities))
            return _ok(nextPageToken=_token_for(position))
        if path == "/rest/v1/activities.json":
            return self._activities(params)
        if path == "/rest/v1/leads.json":
            return self._leads(params)
        return _error("610", "Requested resource not found")

    @staticmethod
    def _browse(items: list[dict[str, Any]], params: dict[str, str]) -> httpx.Response:
        size = int(params.get("maxReturn", 20))
        if size > 200:
            return _error("1003", "maxReturn must be at most 200")
        offset = int(params.get("offset", 0))
        page = items[offset:offset + size]
        if not page:
            return _ok(warnings=["No assets found for the given search criteria."], errors=[])
        return _ok(result=page, warnings=[], errors=[])

    def _activities(self, params: dict[str, str]) -> httpx.Response:
        type_ids = {int(t) for t in params.get("activityTypeIds", "").split(",") if t}
        if not type_ids or len(type_ids) > 10:
            return _error("1003", "activityTypeIds: between 1 and 10 ids")
        position = _position(params["nextPageToken"])
        result: list[dict[str, Any]] = []
        while position < len(self.activities) and len(result) < self.activity_page:
            activity = self.activities[position]
            position += 1
            if activity["activityTypeId"] in type_ids:
                result.append(activity)
        body: dict[str, Any] = {"nextPageToken": _token_for(position),
                                "moreResult": position < len(self.activities)}
        if result:
            body["result"] = result
        return _ok(**body)

    def _leads(self, params: dict[str, str]) -> httpx.Response:
        if params.get("filterType") != "id":
            return _error("1003", "this fake filters by id only")
        values = [v for v in params.get("filterValues", "").split(",") if v]
        if len(values) > 300:
            return _error("1003", "filterValues: at most 300")
        fields = params.get("fields", "id").split(",")
        result = []
        for value in values:
            lead = self.leads.get(int(value))
            if lead is not None:
                result.append({f: lead.get(f) for f in fields if f in lead or f == "id"})
        return _ok(result=result)


def _when(text: str) -> datetime:
    value = parse_api_timestamp(text)
    assert value is not None
    return value


def decoded_bodies(fake: FakeMarketo) -> list[str]:
    """Every request's URL and body, to prove no secret or token leaks into URLs."""
    return [str(r.url) + json.dumps(r.headers.get("content-type")) for r in fake.requests]
