"""SOQL date literals (TODAY, LAST_N_DAYS:n, ...) as ranges in the org's time zone.

Range definitions from the SOQL and SOSL Reference, v65.0 (Winter '26), "Date
Formats and Date Literals in WHERE":

* YESTERDAY / TODAY / TOMORROW: "Starts at 12:00:00 AM on the day ... and
  continues for 24 hours" (here: to the next local midnight, so DST days work).
* LAST_WEEK / THIS_WEEK / NEXT_WEEK: from the first day of the week "and
  continues for seven days". The first day of the week follows the locale;
  the emulated org's locale is en_US, whose weeks start on Sunday.
* LAST_MONTH / THIS_MONTH / NEXT_MONTH: "all the days of that month".
* LAST_90_DAYS, LAST_N_DAYS:n: "Starts at 12:00:00 AM n days before the
  current day and continues up to the current second. (The range includes
  today ...)". So ``= LAST_N_DAYS:1`` is yesterday and today up to now, and
  ``> LAST_N_DAYS:n`` means after now.
* NEXT_90_DAYS, NEXT_N_DAYS:n: "Starts at 12:00:00 AM on the next day and
  continues for n days. The range doesn't include today."
* N_DAYS_AGO:n: the single day n days before today.
* LAST_N_WEEKS:n / LAST_N_MONTHS:n: from the first day of the week (month)
  that started n weeks (months) before the current one, up to the end of the
  previous week (month). NEXT_N_WEEKS:n / NEXT_N_MONTHS:n: from the first day
  of the next week (month) for n weeks (to the end of the nth month).
  N_WEEKS_AGO:n / N_MONTHS_AGO:n: that single week (month).
* THIS/LAST/NEXT_QUARTER, LAST/NEXT_N_QUARTERS:n, N_QUARTERS_AGO:n: calendar
  quarters, by the same pattern.
* THIS/LAST/NEXT_YEAR: January 1 through December 31 of that year.
  NEXT_N_YEARS:n: January 1 of next year through the end of the nth year.
  LAST_N_YEARS:n: "The range ends on December 31 of the year before the
  current year"; it covers n years (the reference's "n+1 years ago" start
  would make LAST_N_YEARS:1 two years long, unlike every other LAST_N form,
  so the n-year reading is used). N_YEARS_AGO:n: that single year.
* FISCAL forms: the emulated org keeps Salesforce's default fiscal year
  (standard, starting in January), so fiscal quarters and years are the
  calendar ones.

``=`` means within the range, ``<`` before its start, ``>`` after its end,
``<=`` before its end, ``>=`` from its start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

SUNDAY = 6  # date.weekday() of the en_US first day of the week


@dataclass(frozen=True)
class DateRange:
    """A half-open range, as dates (for date fields) and instants (datetime fields)."""

    first_day: date
    end_day: date  # exclusive
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware


@dataclass(frozen=True)
class _Clock:
    now: datetime
    tz: tzinfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def days(self, first: date, end: date) -> DateRange:
        return DateRange(first, end, self.midnight(first), self.midnight(end))

    def until_now(self, first: date) -> DateRange:
        """From midnight of ``first`` up to and including the current instant."""
        now_ms = self.now.replace(microsecond=self.now.microsecond // 1000 * 1000)
        return DateRange(first, self.today + timedelta(days=1), self.midnight(first),
                         now_ms + timedelta(milliseconds=1))

    @property
    def week_start(self) -> date:
        return self.today - timedelta(days=(self.today.weekday() - SUNDAY) % 7)

    def months(self, offset: int, count: int = 1, *, unit: int = 1) -> DateRange:
        """``count`` periods of ``unit`` months, starting ``offset`` periods from now."""
        today = self.today
        current = today.year * 12 + (today.month - 1) // unit * unit
        return self.days(_month(current + offset * unit), _month(current + (offset + count) * unit))

    def weeks(self, offset: int, count: int = 1) -> DateRange:
        first = self.week_start + timedelta(days=7 * offset)
        return self.days(first, first + timedelta(days=7 * count))


def _month(index: int) -> date:
    """The first day of the month numbered ``year * 12 + month - 1``."""
    return date(index // 12, index % 12 + 1, 1)


def _day(offset: int) -> Callable[[_Clock], DateRange]:
    return lambda c: c.days(c.today + timedelta(days=offset), c.today + timedelta(days=offset + 1))


def _years(offset: int) -> Callable[[_Clock], DateRange]:
    return lambda c: c.months(offset, unit=12)


def _quarters(offset: int) -> Callable[[_Clock], DateRange]:
    return lambda c: c.months(offset, unit=3)


_FIXED: dict[str, Callable[[_Clock], DateRange]] = {
    "YESTERDAY": _day(-1),
    "TODAY": _day(0),
    "TOMORROW": _day(1),
    "LAST_WEEK": lambda c: c.weeks(-1),
    "THIS_WEEK": lambda c: c.weeks(0),
    "NEXT_WEEK": lambda c: c.weeks(1),
    "LAST_MONTH": lambda c: c.months(-1),
    "THIS_MONTH": lambda c: c.months(0),
    "NEXT_MONTH": lambda c: c.months(1),
    "LAST_90_DAYS": lambda c: c.until_now(c.today - timedelta(days=90)),
    "NEXT_90_DAYS": lambda c: c.days(c.today + timedelta(days=1), c.today + timedelta(days=91)),
    "THIS_QUARTER": _quarters(0),
    "LAST_QUARTER": _quarters(-1),
    "NEXT_QUARTER": _quarters(1),
    "THIS_YEAR": _years(0),
    "LAST_YEAR": _years(-1),
    "NEXT_YEAR": _years(1),
    "THIS_FISCAL_QUARTER": _quarters(0),
    "LAST_FISCAL_QUARTER": _quarters(-1),
    "NEXT_FISCAL_QUARTER": _quarters(1),
    "THIS_FISCAL_YEAR": _years(0),
    "LAST_FISCAL_YEAR": _years(-1),
    "NEXT_FISCAL_YEAR": _years(1),
}

_WITH_N: dict[str, Callable[[_Clock, int], DateRange]] = {
    "LAST_N_DAYS": lambda c, n: c.until_now(c.today - timedelta(days=n)),
    "NEXT_N_DAYS": lambda c, n: c.days(c.today + timedelta(days=1),
                                       c.today + timedelta(days=n + 1)),
    "N_DAYS_AGO": lambda c, n: _day(-n)(c),
    "LAST_N_WEEKS": lambda c, n: c.weeks(-n, n),
    "NEXT_N_WEEKS": lambda c, n: c.weeks(1, n),
    "N_WEEKS_AGO": lambda c, n: c.weeks(-n),
    "LAST_N_MONTHS": lambda c, n: c.months(-n, n),
    "NEXT_N_MONTHS": lambda c, n: c.months(1, n),
    "N_MONTHS_AGO": lambda c, n: c.months(-n),
    "LAST_N_QUARTERS": lambda c, n: c.months(-n, n, unit=3),
    "NEXT_N_QUARTERS": lambda c, n: c.months(1, n, unit=3),
    "N_QUARTERS_AGO": lambda c, n: c.months(-n, unit=3),
    "LAST_N_YEARS": lambda c, n: c.months(-n, n, unit=12),
    "NEXT_N_YEARS": lambda c, n: c.months(1, n, unit=12),
    "N_YEARS_AGO": lambda c, n: c.months(-n, unit=12),
}
_WITH_N.update({
    "LAST_N_FISCAL_QUARTERS": _WITH_N["LAST_N_QUARTERS"],
    "NEXT_N_FISCAL_QUARTERS": _WITH_N["NEXT_N_QUARTERS"],
    "N_FISCAL_QUARTERS_AGO": _WITH_N["N_QUARTERS_AGO"],
    "LAST_N_FISCAL_YEARS": _WITH_N["LAST_N_YEARS"],
    "NEXT_N_FISCAL_YEARS": _WITH_N["NEXT_N_YEARS"],
    "N_FISCAL_YEARS_AGO": _WITH_N["N_YEARS_AGO"],
})

DATE_LITERALS = frozenset(_FIXED)
N_DATE_LITERALS = frozenset(_WITH_N)


def date_range(name: str, n: int | None, now: datetime, tz: tzinfo) -> DateRange:
    """The range of a date literal at ``now`` in ``tz``.

    Raises ``OverflowError`` or ``ValueError`` when the range leaves the
    calendar (years 1 to 9999), e.g. ``LAST_N_DAYS:99999999``.
    """
    clock = _Clock(now, tz)
    if n is None:
        return _FIXED[name](clock)
    return _WITH_N[name](clock, n)
