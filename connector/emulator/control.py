"""The emulator's own control endpoints under ``/__emulator__/`` (docs/interfaces.md).

No authentication, loopback only, never counted as API calls: they are how a test
or a benchmark reads the call counters, sets the daily allocation, injects
faults, converts a lead as a user would, expires sessions or freezes the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from connector.emulator.convert import convert_lead
from connector.emulator.org import Org
from connector.emulator.records import CallError
from connector.emulator.wire import error_response, json_response

PREFIX = "/__emulator__/"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _problem(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


class Control:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "health"): lambda r: json_response({"ok": True}),
            ("GET", "stats"): lambda r: json_response(self.org.usage.stats()),
            ("POST", "stats/reset"): self._reset_stats,
            ("GET", "limits"): lambda r: json_response(
                {"daily_max": self.org.usage.daily_max, "daily_used": self.org.usage.daily_used()}),
            ("PUT", "limits"): self._set_limits,
            ("GET", "faults"): lambda r: json_response({"rules": self.org.faults.describe()}),
            ("PUT", "faults"): self._set_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "convert-lead"): self._convert_lead,
            ("POST", "sessions/expire"): self._expire_sessions,
            ("GET", "settings"): lambda r: json_response(self.org.settings()),
            ("PUT", "settings"): self._set_settings,
        }

    def handle(self, request: Request) -> Response:
        if request.remote_addr not in LOOPBACK and request.remote_addr is not None:
            return _problem("control endpoints answer on loopback only", 403)
        name = request.path[len(PREFIX):].strip("/")
        handler = self.routes.get((request.method, name))
        if handler is None:
            if any(n == name for _m, n in self.routes):
                return _problem(f"method {request.method} not allowed on {name}", 405)
            return _problem(f"no control endpoint {name!r}", 404)
        return handler(request)

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def _reset_stats(self, request: Request) -> Response:
        self.org.usage.reset_stats()
        return json_response(self.org.usage.stats())

    def _set_limits(self, request: Request) -> Response:
        try:
            body = self._json(request)
        except ValueError as exc:
            return _problem(str(exc))
        daily_max, daily_used = body.get("daily_max"), body.get("daily_used")
        for name, value in (("daily_max", daily_max), ("daily_used", daily_used)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 0):
                return _problem(f"{name} must be a non-negative integer")
        if daily_max is None and daily_used is None:
            return _problem("give daily_max (and optionally daily_used)")
        if daily_max is not None:
            self.org.update_settings({"daily_max": daily_max})
        if daily_used is not None:
            self.org.usage.set_daily_used(daily_used)
        return json_response({"daily_max": self.org.usage.daily_max,
                              "daily_used": self.org.usage.daily_used()})

    def _set_faults(self, request: Request) -> Response:
        try:
            body = self._json(request)
            rules = self.org.faults.set(body.get("rules"))
        except ValueError as exc:
            return _problem(str(exc))
        return json_response({"rules": rules})

    def _clear_faults(self, request: Request) -> Response:
        self.org.faults.clear()
        return json_response({"rules": []})

    def _convert_lead(self, request: Request) -> Response:
        try:
            body = self._json(request)
        except ValueError as exc:
            return _problem(str(exc))
        try:
            return json_response(convert_lead(self.org, body))
        except CallError as exc:
            return error_response(exc)

    def _expire_sessions(self, request: Request) -> Response:
        return json_response({"expired": self.org.auth.expire_all()})

    def _set_settings(self, request: Request) -> Response:
        try:
            return json_response(self.org.update_settings(self._json(request)))
        except ValueError as exc:
            return _problem(str(exc))
