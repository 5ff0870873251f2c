"""Shared machinery of the API sources: client-side rate limiting, the per-run call
budget, and the MAP edge's use of the connector's one retry policy.

Marketo and HubSpot differ in how they signal throttling, but not in what the
connector does about it: wait (honouring the server's hint), retry with
exponential backoff and jitter a bounded number of times, and stop cleanly
before spending past the run's budget. That policy is ``connector.retry``'s,
the same the Salesforce edge uses.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from connector.retry import Backoff, retrying
from connector.sources.base import SourceBudgetExhausted
from connector.sources.clock import Clock

T = TypeVar("T")


class SlidingWindowLimiter:
    """At most ``max_calls`` calls in any ``period`` seconds; ``acquire`` waits for a slot."""

    def __init__(self, max_calls: int, period: float, clock: Clock) -> None:
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self._clock.monotonic()
                while self._calls and self._calls[0] <= now - self.period:
                    self._calls.popleft()
                if len(self._calls) < self.max_calls:
                    self._calls.append(now)
                    return
                self._clock.sleep(self._calls[0] + self.period - now)

    def pause_until_reset(self) -> None:
        """After the server says a window is spent: wait a whole window."""
        self._clock.sleep(self.period)


class CallBudget:
    """The calls one run may spend on a MAP; spending past it stops the run cleanly."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.used = 0
        self._what = what

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def spend(self) -> None:
        if self.used >= self.limit:
            raise SourceBudgetExhausted(
                f"{self._what}: the run's budget of {self.limit} API calls is spent",
                hint="the checkpoint keeps the position; run again (or raise the budget) "
                     "to continue")
        self.used += 1


def with_retries(call: Callable[[], T], *, clock: Clock, attempts: int,
                 base: float = 1.0, cap: float = 60.0, what: str = "MAP call",
                 spend: Callable[[], None] | None = None) -> T:
    """Run ``call``, retrying errors whose class is retriable (throttling, timeouts,
    5xx, network) with exponential backoff and jitter, honouring ``retry_after``;
    ``spend`` (the run's budget) runs before each attempt; the last error is
    re-raised once ``attempts`` are spent."""
    return retrying(call, attempts=attempts, backoff=Backoff(initial=base, maximum=cap),
                    sleep=clock.sleep, spend=spend, what=what)
