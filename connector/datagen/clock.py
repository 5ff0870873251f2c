"""Time arithmetic for generated activity, on integer epoch seconds.

Timestamps stay plain ints while a timeline is built (fast, exact, easy to
order) and are formatted once at write time. Business-hour and weekday bias is
applied in the person's local time, given as a fixed UTC offset: exports from a
MAP carry fixed offsets per row, so DST rules are not needed to produce them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

from connector.datagen.sampling import Weighted

DAY = 86_400
HOUR = 3_600
MINUTE = 60

# Relative likelihood of activity by local hour: office hours dominate, evenings trail.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 10, 22, 30, 32, 30, 24, 28, 30, 28, 24, 16, 10, 8, 7, 5,
                 3, 2)
_HOURS: Weighted[int] = Weighted(zip(range(24), _HOUR_WEIGHTS, strict=True))
WEEKEND_SHIFT = 0.8
"""Share of weekend activity moved to the next Monday (B2B buyers work weekdays)."""


def to_epoch(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


def epoch_day(ts: int) -> int:
    return ts // DAY


def weekday(day: int) -> int:
    """Monday is 0; epoch day 0 (1970-01-01) was a Thursday."""
    return (day + 3) % 7


def day_to_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day)


def date_to_day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


def business_time(rng: random.Random, ts: int, offset: int) -> int:
    """A moment on ``ts``'s local day (or the next Monday) at a typical working hour."""
    day = (ts + offset) // DAY
    wd = weekday(day)
    if wd >= 5 and rng.random() < WEEKEND_SHIFT:
        day += 7 - wd
    return day * DAY + _HOURS.pick(rng) * HOUR + int(rng.random() * HOUR) - offset


def weekday_at(day: int, forward: bool = True) -> int:
    """``day`` if it is Monday to Friday, else the nearest weekday in that direction."""
    wd = weekday(day)
    if wd < 5:
        return day
    return day + (7 - wd) if forward else day - (wd - 4)


@lru_cache(maxsize=64)
def zone(offset: int) -> timezone:
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


def iso_with_offset(ts: int, offset: int) -> str:
    """ISO 8601 in the given fixed offset, e.g. 2026-03-04T10:11:12-05:00."""
    return datetime.fromtimestamp(ts, zone(offset)).isoformat()


def iso_naive(ts: int) -> str:
    """The UTC wall time without an offset: what a careless export writes."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(sep=" ")


def sf_datetime(ts: int) -> str:
    """Salesforce REST form: 2026-03-04T15:11:12.000+0000."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def sf_date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
