"""An in-memory HubSpot speaking the shapes of the APIs the connector reads.

Faithful where it matters: the CRM search caps every query at 10,000 results
(``after`` beyond it is a 400) while ``total`` reports the true count; searches
are limited to 5 per second and everything to 100 per 10 s (429 with
``policyName`` and ``Retry-After``); a daily allocation ends in a 429 ``DAILY``;
ordinary responses carry the ``X-HubSpot-RateLimit-*`` headers; list endpoints
page with ``paging.next.after``; form submissions come newest first.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qs

import httpx

from connector.sources.clock import FakeClock
from connector.sources.timestamps import parse_api_timestamp, to_epoch_ms

TOKEN = "pat-na1-test-token"
CAP = 10_000


def _ms(value: str) -> int:
    when = parse_api_timestamp(value)
    assert when is not None
    return to_epoch_ms(when)


class FakeHubSpot:
    def __init__(self, clock: FakeClock, *, daily_max: int | None = None,
                 cap: int = CAP) -> None:
        self.clock = clock
        self.daily_max = daily_max
        self.cap = cap
        self.contacts: dict[int, dict[str, Any]] = {}
        self.campaigns: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.participations: dict[str, list[dict[str, Any]]] = {}
        self.forms: list[dict[str, Any]] = []
        self.submissions: dict[str, list[dict[str, Any]]] = {}
        self.email_events: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.used = 0
        self.throttled = 0
        self.search_window: deque[float] = deque()
        self.general_window: deque[float] = deque()
        self.max_search_per_second = 0
        self.cap_refusals = 0
        self.on_search: Any = None  # hook: called before each search is answered
        self._modified_ms: dict[int, int] = {}

    def add_contact(self, contact_id: int, modified: str, **props: Any) -> None:
        self.contacts[contact_id] = {
            "id": str(contact_id), "createdAt": props.get("createdate", modified),
            "updatedAt": modified, "archived": False,
            "properties": {"hs_object_id": str(contact_id), "lastmodifieddate": modified,
                           **props}}
        self._modified_ms[contact_id] = _ms(modified)

    def modify(self, contact_id: int, modified: str) -> None:
        self.contacts[contact_id]["properties"]["lastmodifieddate"] = modified
        self.contacts[contact_id]["updatedAt"] = modified
        self._modified_ms[contact_id] = _ms(modified)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # ------------------------------------------------------------- serving

    def _limited(self, window: deque[float], limit: int, period: float) -> bool:
        now = self.clock.monotonic()
        while window and window[0] <= now - period:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"status": "error", "message": "Authentication "
                                             "credentials not found.", "category":
                                             "INVALID_AUTHENTICATION"})
        path = request.url.path
        self.calls[path] += 1
        if self.daily_max is not None and self.used >= self.daily_max:
            return self._throttle("DAILY", "You have reached your daily limit.")
        is_search = path.endswith("/search")
        if self._limited(self.general_window, 100, 10.0):
            return self._throttle("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly"
                                                          "_rolling limit.")
        if is_search:
            if self._limited(self.search_window, 5, 1.0):
                return self._throttle("SECONDLY", "You have reached your secondly limit.")
            self.max_search_per_second = max(self.max_search_per_second,
                                             len(self.search_window))
        self.used += 1
        params = {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}
        body = json.loads(request.content) if request.content else {}
        response = self._route(request.method, path, params, body)
        if not is_search:
            left = (self.daily_max - self.used) if self.daily_max is not None else 249_000
            response.headers.update({
                "X-HubSpot-RateLimit-Daily": str(self.daily_max or 250_000),
                "X-HubSpot-RateLimit-Daily-Remaining": str(left),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": str(100 - len(self.general_window))})
        return response

    def _throttle(self, policy: str, message: str) -> httpx.Response:
        self.throttled += 1
        headers = {} if policy == "DAILY" else {"Retry-After": "1"}
        return httpx.Response(429, headers=headers, json={
            "status": "error", "message": message, "errorType": "RATE_LIMIT",
            "correlationId": "c0ffee", "policyName": policy})

    def _route(self, method: str, path: str, params: dict[str, str],
               body: dict[str, Any]) -> httpx.Response:
        if path == "/crm/v3/objects/contacts" and method == "GET":
            return self._list_contacts(params)
        if path == "/crm/v3/objects/contacts/search":
            return self._search(body)
        if path == "/crm/v3/objects/contacts/batch/read":
            return self._batch_read(body)
        if path == "/marketing/v3/campaigns":
            return self._page(self.campaigns, params)
        if path == "/marketing/v3/marketing-events":
            return self._page(self.events, params)
        if path.startswith("/marketing/v3/marketing-events/participations/"):
            event_id = path.split("/")[5]
            return self._page(self.participations.get(event_id, []), params)
        if path == "/marketing/v3/forms":
            return self._page(self.forms, params)
        if path.startswith("/form-integrations/v1/submissions/forms/"):
            form_id = path.rsplit("/", 1)[1]
            newest_first = sorted(self.submissions.get(form_id, []),
                                  key=lambda s: -int(s["submittedAt"]))
            return self._page(newest_first, params, max_limit=50)
        if path == "/email/public/v1/events":
            return self._email_events(params)
        return httpx.Response(404, json={"status": "error", "message": "not found"})

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, str],
              max_limit: int = 100) -> httpx.Response:
        limit = min(int(params.get("limit", 10)), max_limit)
        start = int(params.get("after", 0))
        page = items[start:start + limit]
        body: dict[str, Any] = {"results": page}
        if start + limit < len(items):
            body["paging"] = {"next": {"after": str(start + limit), "link": "?after="}}
        return httpx.Response(200, json=body)

    def _shape(self, contact: dict[str, Any], properties: list[str]) -> dict[str, Any]:
        props = contact["properties"]
        return {**contact, "properties": {p: props.get(p) for p in
                                          [*properties, "hs_object_id", "lastmodifieddate"]}}

    def _list_contacts(self, params: dict[str, str]) -> httpx.Response:
        limit = min(int(params.get("limit", 10)), 100)
        after = int(params.get("after", 0))
        ids = sorted(i for i in self.contacts if i > after)
        properties = params.get("properties", "").split(",")
        page = [self._shape(self.contacts[i], properties) for i in ids[:limit]]
        body: dict[str, Any] = {"results": page}
        if len(ids) > limit:
            body["paging"] = {"next": {"after": str(ids[limit - 1])}}
        return httpx.Response(200, json=body)

    def _search(self, body: dict[str, Any]) -> httpx.Response:
        if self.on_search is not None:
            self.on_search(self)
        limit = int(body.get("limit", 10))
        after = int(body.get("after", 0))
        if limit > 200:
            return httpx.Response(400, json={"status": "error", "message": "limit > 200"})
        if after + limit > self.cap:
            self.cap_refusals += 1
            return httpx.Response(400, json={
                "status": "error", "category": "VALIDATION_ERROR",
                "message": f"Cannot page past {self.cap} results"})
        groups = body.get("filterGroups") or [{"filters": []}]
        matches = []
        for contact_id, modified in self._modified_ms.items():
            if any(all(self._test(f, contact_id, modified) for f in g["filters"])
                   for g in groups):
                matches.append(self.contacts[contact_id])
        sort = (body.get("sorts") or [{"propertyName": "hs_object_id"}])[0]["propertyName"]
        matches.sort(key=lambda c: (self._modified_ms[int(c["id"])]
                                    if sort == "lastmodifieddate" else 0, int(c["id"])))
        page = matches[after:after + limit]
        out: dict[str, Any] = {"total": len(matches),
                               "results": [self._shape(c, body.get("properties", []))
                                           for c in page]}
        if after + limit < len(matches):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return httpx.Response(200, json=out)

    @staticmethod
    def _test(flt: dict[str, str], contact_id: int, modified: int) -> bool:
        name, op, value = flt["propertyName"], flt["operator"], flt["value"]
        if name not in ("lastmodifieddate", "hs_object_id"):
            raise AssertionError(f"the fake searches by {name}? add it")
        actual = modified if name == "lastmodifieddate" else contact_id
        wanted = int(value)
        return {"GTE": actual >= wanted, "LT": actual < wanted, "GT": actual > wanted,
                "LTE": actual <= wanted, "EQ": actual == wanted}[op]

    def _batch_read(self, body: dict[str, Any]) -> httpx.Response:
        assert body.get("idProperty") == "email" and len(body["inputs"]) <= 100
        wanted = {i["id"].lower() for i in body["inputs"]}
        found = [self._shape(c, body.get("properties", [])) for c in self.contacts.values()
                 if str(c["properties"].get("email", "")).lower() in wanted]
        missing = wanted - {str(c["properties"].get("email")).lower() for c in found}
        out: dict[str, Any] = {"status": "COMPLETE", "results": found}
        if missing:
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                              "message": "Could not get some CONTACT objects",
                              "context": {"ids": sorted(missing)}}]
            return httpx.Response(207, json=out)
        return httpx.Response(200, json=out)

    def _email_events(self, params: dict[str, str]) -> httpx.Response:
        start, end = int(params["startTimestamp"]), int(params["endTimestamp"])
        kind = params.get("eventType")
        chosen = [e for e in self.email_events
                  if start <= int(e["created"]) <= end and (not kind or e["type"] == kind)]
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        page = chosen[offset:offset + limit]
        more = offset + limit < len(chosen)
        return httpx.Response(200, json={"events": page, "hasMore": more,
                                         "offset": str(offset + limit)})
