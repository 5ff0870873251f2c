"""The one retry policy of both edges: Salesforce and the MAPs (Marketo, HubSpot).

The edges differ in what they call retriable (Salesforce's ``UNABLE_TO_LOCK_ROW``
or a 503, Marketo's 606, HubSpot's 429 ``SECONDLY``), and each translates its
failures into the connector's error tree (``connector.salesforce.retry``,
``connector.sources.*_client``), setting ``retriable`` and ``retry_after`` on
the error. What the connector does about a retriable failure is the same
everywhere and lives here once:

- wait with exponential back-off and jitter (``Backoff``), or exactly as long
  as the server asked (``Retry-After``, in seconds or as an HTTP date; capped so
  a wrong header cannot stall a run for hours);
- try at most ``attempts`` times, then raise the last error, which is already
  the connector's (so its exit code and hint reach the user);
- spend from the run's API budget before every attempt (``spend``), so a
  retry storm stops cleanly at the budget (``BudgetExhausted``, never retried);
- log each retry (what failed, why, which attempt, how long the pause);
- sleep through an injectable function, so tests run without waiting.

``poll`` is the same idea for a job that is still running (a Bulk 2.0 job):
back off between checks, and give up with the connector's error at a deadline.

Deciding what is retriable is a classifier passed in (by default the error
class's own ``retriable`` flag).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connector.errors import ConnectorError

T = TypeVar("T")
Classifier = Callable[[BaseException], bool]

log = logging.getLogger(__name__)


def is_retriable(exc: BaseException) -> bool:
    """The default classifier: the connector error class says whether it is retriable."""
    return isinstance(exc, ConnectorError) and exc.retriable


def parse_retry_after(value: object, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: a number of seconds, or an HTTP
    date (RFC 9110 section 10.2.3). A date in the past means "now" (0); anything
    unreadable is ``None`` (back off as usual)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return max(0.0, float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Backoff:
    """Exponential back-off with jitter, honouring a server's ``Retry-After``.

    Attempt ``n`` waits a random time in [c/2, c] where c = min(maximum,
    initial * 2^(n-1)): growing so a struggling server gets room, jittered so
    parallel clients do not retry in step. A server's own hint is followed as
    given, up to ``4 * maximum``."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0,
                 rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng or random.Random()

    @property
    def hint_cap(self) -> float:
        return self.maximum * 4

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.hint_cap)
        ceiling = min(self.maximum, self.initial * (2 ** (attempt - 1)))
        return self.rng.uniform(ceiling / 2, ceiling)


def retrying(
    fn: Callable[[], T],
    *,
    attempts: int,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    retriable: Classifier = is_retriable,
    spend: Callable[[], None] | None = None,
    what: str = "call",
    on_retry: Callable[[ConnectorError, int, float], None] | None = None,
) -> T:
    """Run ``fn`` until it succeeds, fails with an error ``retriable`` rejects, or
    ``attempts`` are spent (then the last error is raised as it is).

    ``spend`` runs before every attempt (the run's API budget: its error ends the
    loop unless the classifier calls it retriable). ``on_retry(error, attempt,
    delay)`` is told of each retry that will really happen, after it is logged."""

    def attempt() -> T:
        if spend is not None:
            spend()
        return fn()

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        return backoff.delay(state.attempt_number,
                             float(hint) if isinstance(hint, (int, float)) else None)

    def before_sleep(state: RetryCallState) -> None:
        # Called only when a retry will really happen (tenacity computes the wait
        # before it checks the stop condition, so reporting from ``wait`` would
        # announce a retry after the last attempt too).
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        reason = exc.message if isinstance(exc, ConnectorError) else repr(exc)
        log.warning("%s failed (%s); retry %d in %.1fs", what, reason, state.attempt_number,
                    delay)
        if on_retry and isinstance(exc, ConnectorError):
            on_retry(exc, state.attempt_number, delay)

    runner = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait,
        retry=retry_if_exception(retriable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return runner(attempt)


def poll(check: Callable[[], T], done: Callable[[T], bool], *,
         sleep: Callable[[float], None] = time.sleep, first: float = 0.25,
         maximum: float = 10.0, timeout: float = 3600.0,
         on_timeout: Callable[[T, float], ConnectorError]) -> T:
    """Call ``check`` until ``done`` says its result is final (a Bulk job that ended),
    pausing ``first`` seconds, doubling up to ``maximum``: a quick job is seen
    quickly, a slow one costs few calls. Once ``timeout`` seconds were spent
    waiting, ``on_timeout(last result, timeout)`` is raised."""
    delay = first
    waited = 0.0
    while True:
        result = check()
        if done(result):
            return result
        if waited >= timeout:
            raise on_timeout(result, timeout)
        sleep(delay)
        waited += delay
        delay = min(maximum, delay * 2)


__all__ = ["Backoff", "Classifier", "is_retriable", "parse_retry_after", "poll", "retrying"]
