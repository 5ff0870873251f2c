"""The shared retry policy (connector.retry): Retry-After parsing, back-off
bounds and caps, attempt limits, the budget before each attempt, classifiers,
and giving up with the connector's own error."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import (
    BudgetExhausted,
    ConnectionFailure,
    ConnectorError,
    QueryError,
    RetriableApiError,
    SourceQuotaExhausted,
    SourceRateLimited,
)
from connector.retry import Backoff, is_retriable, parse_retry_after, poll, retrying

NOW = datetime(2026, 3, 5, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "seconds"), [
    pytest.param("7", 7.0, id="seconds-text"),
    pytest.param(" 2.5 ", 2.5, id="fractional-text"),
    pytest.param(3, 3.0, id="int"),
    pytest.param(0.25, 0.25, id="float"),
    pytest.param("-4", 0.0, id="negative-means-now"),
    pytest.param("Thu, 05 Mar 2026 12:00:30 GMT", 30.0, id="http-date"),
    pytest.param("Thursday, 05-Mar-26 12:01:00 GMT", 60.0, id="http-date-rfc850"),
    pytest.param("Thu, 05 Mar 2026 11:59:00 GMT", 0.0, id="http-date-past"),
    pytest.param("soon", None, id="garbage"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="absent"),
    pytest.param(True, None, id="bool-is-not-a-number"),
])
def test_retry_after_reads_seconds_and_http_dates(value: object, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(("initial", "maximum", "attempt", "low", "high"), [
    pytest.param(0.5, 30.0, 1, 0.25, 0.5, id="first"),
    pytest.param(0.5, 30.0, 3, 1.0, 2.0, id="third-doubles-twice"),
    pytest.param(0.5, 30.0, 12, 15.0, 30.0, id="capped-at-maximum"),
    pytest.param(1.0, 60.0, 7, 30.0, 60.0, id="map-defaults-capped"),
])
def test_backoff_grows_exponentially_up_to_its_cap(initial: float, maximum: float,
                                                   attempt: int, low: float,
                                                   high: float) -> None:
    backoff = Backoff(initial, maximum, rng=random.Random(3))
    delays = [backoff.delay(attempt) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1  # jittered, not in step


@pytest.mark.parametrize(("hint", "expected"), [
    pytest.param(7.0, 7.0, id="followed-as-given"),
    pytest.param(0.0, 0.0, id="now"),
    pytest.param(10_000.0, 120.0, id="capped-at-four-times-maximum"),
    pytest.param(-1.0, 0.0, id="negative-is-now"),
])
def test_backoff_follows_the_servers_hint_within_a_cap(hint: float, expected: float) -> None:
    assert Backoff(0.5, 30.0).delay(1, hint) == expected


@given(st.integers(1, 60), st.floats(0.01, 10), st.floats(0.01, 100))
def test_backoff_never_exceeds_its_maximum(attempt: int, initial: float,
                                           maximum: float) -> None:
    delay = Backoff(initial, maximum, rng=random.Random(attempt)).delay(attempt)
    assert 0 < delay <= maximum


class Calls:
    """A call failing with ``errors`` in turn, then returning "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def busy() -> RetriableApiError:
    return RetriableApiError("busy", status=503, error_code="SERVER_UNAVAILABLE")


@pytest.mark.parametrize(("errors", "attempts", "outcome", "calls", "sleeps"), [
    pytest.param([busy(), busy()], 3, "done", 3, 2, id="succeeds-on-last-attempt"),
    pytest.param([busy(), busy(), busy()], 3, RetriableApiError, 3, 2, id="gives-up"),
    pytest.param([QueryError("bad", status=400, error_code="MALFORMED_QUERY")], 5,
                 QueryError, 1, 0, id="not-retriable"),
    pytest.param([SourceRateLimited("slow", retry_after=4)], 2, "done", 2, 1,
                 id="map-throttle"),
    pytest.param([SourceQuotaExhausted("daily quota")], 5, SourceQuotaExhausted, 1, 0,
                 id="quota-stops"),
    pytest.param([ConnectionFailure("down")] * 1, 1, ConnectionFailure, 1, 0,
                 id="one-attempt-means-no-retry"),
])
def test_retrying_bounds_attempts_and_raises_the_connectors_error(
        errors: list[BaseException], attempts: int, outcome: object, calls: int,
        sleeps: int) -> None:
    call = Calls(*errors)
    slept: list[float] = []
    last = errors[-1]
    if outcome == "done":
        assert retrying(call, attempts=attempts, backoff=Backoff(), sleep=slept.append) == "done"
    else:
        assert isinstance(outcome, type)
        with pytest.raises(outcome) as raised:
            retrying(call, attempts=attempts, backoff=Backoff(), sleep=slept.append)
        assert raised.value is last  # the edge's own error, with its exit code and hint
        assert isinstance(raised.value, ConnectorError)
    assert call.n == calls
    assert len(slept) == sleeps


def test_retry_after_on_the_error_sets_the_pause() -> None:
    slept: list[float] = []
    retrying(Calls(SourceRateLimited("slow", retry_after=20)), attempts=2,
             backoff=Backoff(), sleep=slept.append)
    assert slept == [20]


def test_the_budget_is_spent_before_every_attempt_and_stops_the_loop() -> None:
    spent: list[int] = []

    def spend() -> None:
        if len(spent) == 2:
            raise BudgetExhausted("budget of 2 calls spent")
        spent.append(1)

    call = Calls(busy(), busy(), busy())
    with pytest.raises(BudgetExhausted):
        retrying(call, attempts=5, backoff=Backoff(), sleep=lambda s: None, spend=spend)
    assert call.n == 2  # the third attempt was refused before it was made


def test_a_classifier_decides_what_is_retriable() -> None:
    class Flaky(Exception):
        pass

    call = Calls(Flaky(), Flaky())
    assert retrying(call, attempts=3, backoff=Backoff(), sleep=lambda s: None,
                    retriable=lambda exc: isinstance(exc, Flaky)) == "done"
    assert not is_retriable(Flaky())
    with pytest.raises(Flaky):
        retrying(Calls(Flaky()), attempts=3, backoff=Backoff(), sleep=lambda s: None)


def test_each_retry_is_logged_and_reported_but_not_after_the_last(
        caplog: pytest.LogCaptureFixture) -> None:
    told: list[tuple[int, float]] = []
    with caplog.at_level(logging.WARNING, logger="connector.retry"), \
            pytest.raises(RetriableApiError):
        retrying(Calls(busy(), busy(), busy()), attempts=3,
                 backoff=Backoff(rng=random.Random(1)), sleep=lambda s: None,
                 what="query Lead", on_retry=lambda exc, n, d: told.append((n, d)))
    assert [n for n, _ in told] == [1, 2]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("query Lead failed (busy); retry 1 in ")


@pytest.mark.parametrize(("states", "timeout", "sleeps", "ends"), [
    pytest.param(["JobComplete"], 60.0, [], "JobComplete", id="already-done"),
    pytest.param(["InProgress"] * 6 + ["JobComplete"], 3600.0,
                 [0.25, 0.5, 1.0, 2.0, 4.0, 8.0], "JobComplete", id="doubles"),
    pytest.param(["InProgress"] * 9 + ["Failed"], 3600.0,
                 [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0], "Failed",
                 id="capped-at-maximum"),
    pytest.param(["InProgress"] * 20, 1.5, [0.25, 0.5, 1.0], None, id="deadline"),
])
def test_poll_backs_off_until_done_or_the_deadline(states: list[str], timeout: float,
                                                   sleeps: list[float],
                                                   ends: str | None) -> None:
    pending = iter(states)
    slept: list[float] = []

    def check() -> dict[str, str]:
        return {"state": next(pending)}

    def done(info: dict[str, str]) -> bool:
        return info["state"] in ("JobComplete", "Failed")

    def late(info: dict[str, str], limit: float) -> ConnectorError:
        return ConnectorError(f"still {info['state']} after {limit:.0f}s")

    if ends is None:
        with pytest.raises(ConnectorError, match="still InProgress after 2s"):
            poll(check, done, sleep=slept.append, timeout=timeout, on_timeout=late)
    else:
        assert poll(check, done, sleep=slept.append, timeout=timeout,
                    on_timeout=late)["state"] == ends
    assert slept == sleeps
