"""The emulator's WSGI application: one implementation for HTTPS and in-process use.

Each API call goes through the same steps as on Salesforce: route, authenticate
(401 ``INVALID_SESSION_ID``), check the daily allocation (403
``REQUEST_LIMIT_EXCEEDED``), count the call, apply injected faults, run the
handler, and stamp ``Sforce-Limit-Info`` on the response.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connector.emulator.auth import TokenError, bearer_token, parse_basic
from connector.emulator.bulk import BulkApi
from connector.emulator.collections import CollectionsApi
from connector.emulator.control import PREFIX, Control
from connector.emulator.faults import STATUS, UNAVAILABLE_HTML, FaultRule
from connector.emulator.org import DEFAULT_API_VERSION, Org, supported_version
from connector.emulator.query import QueryApi
from connector.emulator.records import CallError
from connector.emulator.rest import RestApi
from connector.emulator.sfcli import CliApi, column_metadata, identity, userinfo
from connector.emulator.wire import Call, error_response, json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

Handler = Callable[..., Response]
# endpoint -> {method: (handler attribute "api.method", stats name, category)}
V = "/services/data/v<ver>"
ROUTES: tuple[tuple[str, dict[str, tuple[str, str, str]]], ...] = (
    ("/services/data", {"GET": ("rest.versions", "versions", "read")}),
    (V, {"GET": ("rest.resources", "resources", "read")}),
    (f"{V}/limits", {"GET": ("rest.limits", "limits", "read")}),
    (f"{V}/limits/recordCount", {"GET": ("cli.record_count", "limits.recordCount", "read")}),
    (f"{V}/composite", {"GET": ("cli.composite_resources", "composite", "read")}),
    (f"{V}/composite/tree/<obj>", {"POST": ("cli.composite_tree", "composite.tree", "write")}),
    (f"{V}/sobjects", {"GET": ("rest.describe_global", "describeGlobal", "read")}),
    (f"{V}/sobjects/<obj>", {"GET": ("rest.sobject_info", "sobject.info", "read"),
                             "POST": ("rest.create", "sobject.create", "write")}),
    (f"{V}/sobjects/<obj>/describe", {"GET": ("rest.describe", "sobject.describe", "read")}),
    (f"{V}/sobjects/<obj>/<rid>", {"GET": ("rest.get", "sobject.get", "read"),
                                   "PATCH": ("rest.update", "sobject.update", "write"),
                                   "DELETE": ("rest.delete", "sobject.delete", "write")}),
    (f"{V}/sobjects/<obj>/<field>/<path:value>", {
        "GET": ("rest.get_by_external", "sobject.get_by_external_id", "read"),
        "PATCH": ("rest.upsert", "sobject.upsert", "write"),
        "DELETE": ("rest.delete_by_external", "sobject.delete", "write")}),
    (f"{V}/composite/sobjects", {
        "POST": ("collections.create", "collections.create", "write"),
        "PATCH": ("collections.update", "collections.update", "write"),
        "DELETE": ("collections.delete", "collections.delete", "write")}),
    (f"{V}/composite/sobjects/<obj>", {
        "GET": ("collections.retrieve", "collections.retrieve", "read"),
        "POST": ("collections.retrieve", "collections.retrieve", "read")}),
    (f"{V}/composite/sobjects/<obj>/<field>", {
        "PATCH": ("collections.upsert", "collections.upsert", "write")}),
    (f"{V}/query", {"GET": ("query.query", "query", "read")}),
    (f"{V}/query/<locator>", {"GET": ("query.more", "query.more", "read")}),
    (f"{V}/queryAll", {"GET": ("query.query_all", "queryAll", "read")}),
    (f"{V}/queryAll/<locator>", {"GET": ("query.more", "queryAll.more", "read")}),
    (f"{V}/jobs/ingest", {"POST": ("bulk.ingest_create", "bulk2.ingest.create", "write"),
                          "GET": ("bulk.ingest_list", "bulk2.ingest.list", "write")}),
    (f"{V}/jobs/ingest/<job>", {"GET": ("bulk.ingest_get", "bulk2.ingest.status", "write"),
                                "PATCH": ("bulk.ingest_state", "bulk2.ingest.state", "write"),
                                "DELETE": ("bulk.ingest_delete", "bulk2.ingest.delete", "write")}),
    (f"{V}/jobs/ingest/<job>/batches", {
        "PUT": ("bulk.ingest_upload", "bulk2.ingest.upload", "write")}),
    (f"{V}/jobs/ingest/<job>/<results>", {
        "GET": ("bulk.ingest_results", "bulk2.ingest.results", "write")}),
    (f"{V}/jobs/query", {"POST": ("bulk.query_create", "bulk2.query.create", "read"),
                         "GET": ("bulk.query_list", "bulk2.query.list", "read")}),
    (f"{V}/jobs/query/<job>", {"GET": ("bulk.query_get", "bulk2.query.status", "read"),
                               "PATCH": ("bulk.query_abort", "bulk2.query.state", "read"),
                               "DELETE": ("bulk.query_delete", "bulk2.query.delete", "read")}),
    (f"{V}/jobs/query/<job>/results", {
        "GET": ("bulk.query_results", "bulk2.query.results", "read")}),
)
OAUTH_PATH = "/services/oauth2/token"
USERINFO_PATH = "/services/oauth2/userinfo"
VERSIONS_ENDPOINT = "r0"  # ROUTES[0]


def _fault_response(rule: FaultRule) -> Response:
    spec = rule.spec
    headers = {"Retry-After": str(spec.retry_after)} if spec.retry_after is not None else {}
    if spec.error == "SERVER_UNAVAILABLE":
        return Response(UNAVAILABLE_HTML, status=503, headers=headers,
                        content_type="text/html;charset=UTF-8")
    error = rule.record_error()
    return json_response([{"message": error.message, "errorCode": error.code}],
                         STATUS[spec.error], headers)


class EmulatorApp:
    """``app(environ, start_response)``; ``org`` is the state it serves."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.control = Control(org)
        self._apis: dict[str, Any] = {"rest": RestApi(org), "collections": CollectionsApi(org),
                                      "query": QueryApi(org), "bulk": BulkApi(org),
                                      "cli": CliApi(org)}
        self._table: dict[str, dict[str, tuple[str, str, str]]] = {}
        rules = []
        for index, (pattern, methods) in enumerate(ROUTES):
            endpoint = f"r{index}"
            self._table[endpoint] = methods
            rules.append(Rule(pattern, endpoint=endpoint))
        self.url_map = Map(rules, strict_slashes=False)

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("emulator: unexpected error %s on %s %s", error_id, request.method,
                          request.path)
            response = json_response([{
                "message": "An unexpected error occurred. Please include this ErrorId if you "
                           f"contact support: {error_id}", "errorCode": "UNKNOWN_EXCEPTION"}], 500)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith(PREFIX):
            return self.control.handle(request)
        if path.rstrip("/") == OAUTH_PATH:
            return self._token(request)
        if path.rstrip("/") == USERINFO_PATH:
            return self._userinfo(request)
        if path.startswith("/id/"):
            return self._userinfo(request, identity_path=path)
        if path.startswith("/services/data"):
            return self._api(request)
        return json_response([{"errorCode": "NOT_FOUND",
                               "message": "The requested resource does not exist"}], 404)

    # ------------------------------------------------------------------ OAuth

    def _token(self, request: Request) -> Response:
        self.org.usage.count("auth", "oauth2.token")
        delay, rule = self.org.faults.request_faults(request.path, request.method)
        if delay:
            time.sleep(delay)
        if rule is not None:
            return _fault_response(rule)
        if request.method != "POST":
            return json_response({"error": "invalid_request",
                                  "error_description": "must use HTTP POST"}, 400)
        try:
            body = self.org.auth.grant(
                request.form, parse_basic(request.headers.get("Authorization")),
                self.login_url(request), self.instance_url(request))
        except TokenError as exc:
            return json_response({"error": exc.error, "error_description": exc.description},
                                 exc.status)
        return json_response(body)

    def _userinfo(self, request: Request, identity_path: str | None = None) -> Response:
        """OpenID Connect userinfo for a session (what ``sf`` access-token login reads),
        or the identity URL a token response names; counted as auth calls, as token
        requests are, not against the allocation."""
        self.org.usage.count("auth", "identity" if identity_path else "oauth2.userinfo")
        token = bearer_token(request.headers.get("Authorization"))
        session = self.org.auth.authenticate(token) if token else None
        if session is None:
            return Response("Bad_OAuth_Token", status=403, content_type="text/plain")
        base = self.instance_url(request)
        if identity_path is not None:
            creds = self.org.credentials
            if identity_path.rstrip("/") != f"/id/{creds.org_id}/{session.user_id}":
                return json_response([{"errorCode": "NOT_FOUND",
                                       "message": "The requested resource does not exist"}], 404)
            return json_response(identity(self.org, session, base))
        return json_response(userinfo(self.org, session, base))

    def instance_url(self, request: Request) -> str:
        return self.org.base_url or request.host_url.rstrip("/")

    def login_url(self, request: Request) -> str:
        return self.instance_url(request)

    # -------------------------------------------------------------------- API

    def _api(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, matched = adapter.match(method=None)
            args = dict(matched)
        except HTTPException:
            endpoint, args = None, {}
        methods = self._table.get(str(endpoint), {}) if endpoint else {}
        route = methods.get(request.method)
        name, category = (route[1], route[2]) if route else ("unknown", "read")
        limit_headers = {}
        if endpoint != VERSIONS_ENDPOINT:  # listing versions needs no session
            token = bearer_token(request.headers.get("Authorization"))
            if token is None:
                return json_response([{"message": "INVALID_HEADER_TYPE",
                                       "errorCode": "INVALID_AUTH_HEADER"}], 401)
            if self.org.auth.authenticate(token) is None:
                return json_response([{"message": "Session expired or invalid",
                                       "errorCode": "INVALID_SESSION_ID"}], 401)
            if self.org.usage.exhausted():
                return json_response(
                    [{"message": "TotalRequests Limit exceeded.",
                      "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403,
                    {"Sforce-Limit-Info": self.org.usage.limit_header()})
        if route is not None and route[1] in ("query", "queryAll") \
                and request.args.get("columns", "").lower() == "true":
            # column metadata only: nothing runs, no cursor opens, no call is counted
            return self._guarded_call(request, args, lambda call: column_metadata(
                call, include_deleted=route[1] == "queryAll"))
        self.org.usage.count(category, name)
        limit_headers["Sforce-Limit-Info"] = self.org.usage.limit_header()
        response = self._run(request, endpoint, args, methods, route)
        response.headers.update(limit_headers)
        return response

    def _guarded_call(self, request: Request, args: dict[str, Any],
                      handler: Callable[[Call], Response]) -> Response:
        version = str(args.get("ver", DEFAULT_API_VERSION))
        if not supported_version(version):
            return error_response(CallError(404, "NOT_FOUND",
                                            "The requested resource does not exist"))
        try:
            return handler(Call(self.org, request, version))
        except CallError as exc:
            return error_response(exc)

    def _run(self, request: Request, endpoint: Any, args: dict[str, Any],
             methods: dict[str, tuple[str, str, str]],
             route: tuple[str, str, str] | None) -> Response:
        delay, rule = self.org.faults.request_faults(request.path, request.method)
        if delay:
            time.sleep(delay)
        if rule is not None:
            return _fault_response(rule)
        if endpoint is None:
            return error_response(CallError(404, "NOT_FOUND",
                                            "The requested resource does not exist"))
        if route is None:
            allowed = ",".join(sorted(methods))
            return error_response(CallError(
                405, "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"))
        version = str(args.pop("ver", DEFAULT_API_VERSION))
        if not supported_version(version):
            return error_response(CallError(404, "NOT_FOUND",
                                            "The requested resource does not exist"))
        api_name, method_name = route[0].split(".")
        handler: Handler = getattr(self._apis[api_name], method_name)
        call = Call(self.org, request, version,
                    self.org.faults.record_picker(request.path, request.method))
        try:
            return handler(call, **args)
        except CallError as exc:
            return error_response(exc)
