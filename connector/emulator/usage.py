"""API call accounting: the daily allocation behind ``Sforce-Limit-Info`` and the stats.

Salesforce's daily limit is a rolling 24 hours; calls are kept in hourly buckets
so the window rolls the same way (to the hour). Stats by category and endpoint
let benchmarks and tests assert how many calls the connector spent.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from connector.emulator.store import Store

DEFAULT_DAILY_MAX = 100_000
CATEGORIES = ("read", "write", "auth")


class Usage:
    def __init__(self, store: Store, daily_max: int) -> None:
        self.store = store
        self.daily_max = daily_max
        self._lock = threading.Lock()
        self._hours: dict[int, int] = dict(
            store.execute("SELECT hour, count FROM _api_usage").fetchall())
        self._calls: dict[tuple[str, str], int] = {
            (c, e): n for c, e, n in
            store.execute("SELECT category, endpoint, count FROM _api_calls").fetchall()}

    @staticmethod
    def _hour() -> int:
        return int(time.time() // 3600)

    def daily_used(self) -> int:
        oldest = self._hour() - 23
        with self._lock:
            return sum(n for h, n in self._hours.items() if h >= oldest)

    def exhausted(self) -> bool:
        return self.daily_used() >= self.daily_max

    def limit_header(self) -> str:
        return f"api-usage={self.daily_used()}/{self.daily_max}"

    def count(self, category: str, endpoint: str) -> None:
        """One call; API calls (not token requests) spend the daily allocation."""
        hour = self._hour()
        with self._lock:
            self._calls[(category, endpoint)] = self._calls.get((category, endpoint), 0) + 1
            if category != "auth":
                self._hours[hour] = self._hours.get(hour, 0) + 1
                for old in [h for h in self._hours if h < hour - 48]:
                    del self._hours[old]
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO _api_calls (category, endpoint, count) VALUES (?, ?, 1) "
                "ON CONFLICT(category, endpoint) DO UPDATE SET count = count + 1",
                (category, endpoint))
            if category != "auth":
                self.store.conn.execute(
                    "INSERT INTO _api_usage (hour, count) VALUES (?, 1) "
                    "ON CONFLICT(hour) DO UPDATE SET count = count + 1", (hour,))

    def set_daily_used(self, used: int) -> None:
        """Pretend the org already spent ``used`` calls today (tests of budgets)."""
        hour = self._hour()
        with self._lock:
            self._hours = {hour: used}
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM _api_usage")
            self.store.conn.execute("INSERT INTO _api_usage (hour, count) VALUES (?, ?)",
                                    (hour, used))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            calls = dict(self._calls)
        totals = {c: sum(n for (cat, _e), n in calls.items() if cat == c) for c in CATEGORIES}
        by_endpoint: dict[str, int] = {}
        for (_cat, endpoint), n in sorted(calls.items(), key=lambda kv: kv[0][1]):
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + n
        return {
            # total = API calls (what the daily allocation counts); token requests are `auth`
            "api_calls": {"total": totals["read"] + totals["write"], **totals,
                          "by_endpoint": by_endpoint},
            "daily_used": self.daily_used(),
            "daily_max": self.daily_max,
        }

    def reset_stats(self) -> None:
        """Zero the call counters; the daily allocation already spent stays spent."""
        with self._lock:
            self._calls.clear()
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM _api_calls")
