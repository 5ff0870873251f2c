"""Date literals are ranges in the org's time zone, applied to date and datetime fields.

The clock is fixed at 2024-03-15T06:30Z, which is Thursday 2024-03-14 23:30 in the
org's zone (America/Los_Angeles, PDT since 2024-03-10): the UTC date and the
org date differ, so a literal computed in UTC would pick the wrong day.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connector import sfid as ids
from connector.emulator.schema import Schema, to_db
from connector.emulator.soql import compile_soql
from connector.emulator.soql.dates import DATE_LITERALS, N_DATE_LITERALS, date_range
from connector.mappings import load_mappings

NOW = datetime(2024, 3, 15, 6, 30, tzinfo=UTC)
TZ = ZoneInfo("America/Los_Angeles")

RANGES = [
    pytest.param("YESTERDAY", None, date(2024, 3, 13), date(2024, 3, 14), id="yesterday"),
    pytest.param("TODAY", None, date(2024, 3, 14), date(2024, 3, 15), id="today-is-org-date"),
    pytest.param("TOMORROW", None, date(2024, 3, 15), date(2024, 3, 16), id="tomorrow"),
    pytest.param("LAST_WEEK", None, date(2024, 3, 3), date(2024, 3, 10), id="last-week"),
    pytest.param("THIS_WEEK", None, date(2024, 3, 10), date(2024, 3, 17), id="week-from-sunday"),
    pytest.param("NEXT_WEEK", None, date(2024, 3, 17), date(2024, 3, 24), id="next-week"),
    pytest.param("LAST_MONTH", None, date(2024, 2, 1), date(2024, 3, 1), id="last-month-leap"),
    pytest.param("THIS_MONTH", None, date(2024, 3, 1), date(2024, 4, 1), id="this-month"),
    pytest.param("NEXT_MONTH", None, date(2024, 4, 1), date(2024, 5, 1), id="next-month"),
    pytest.param("LAST_90_DAYS", None, date(2023, 12, 15), date(2024, 3, 15),
                 id="last-90-days-includes-today"),
    pytest.param("NEXT_90_DAYS", None, date(2024, 3, 15), date(2024, 6, 13),
                 id="next-90-days-excludes-today"),
    pytest.param("THIS_QUARTER", None, date(2024, 1, 1), date(2024, 4, 1), id="this-quarter"),
    pytest.param("LAST_QUARTER", None, date(2023, 10, 1), date(2024, 1, 1), id="last-quarter"),
    pytest.param("NEXT_QUARTER", None, date(2024, 4, 1), date(2024, 7, 1), id="next-quarter"),
    pytest.param("THIS_YEAR", None, date(2024, 1, 1), date(2025, 1, 1), id="this-year"),
    pytest.param("LAST_YEAR", None, date(2023, 1, 1), date(2024, 1, 1), id="last-year"),
    pytest.param("NEXT_YEAR", None, date(2025, 1, 1), date(2026, 1, 1), id="next-year"),
    pytest.param("THIS_FISCAL_YEAR", None, date(2024, 1, 1), date(2025, 1, 1),
                 id="fiscal-year-is-calendar-year"),
    pytest.param("LAST_N_DAYS", 1, date(2024, 3, 13), date(2024, 3, 15),
                 id="last-1-days-is-yesterday-and-today"),
    pytest.param("LAST_N_DAYS", 0, date(2024, 3, 14), date(2024, 3, 15), id="last-0-days"),
    pytest.param("NEXT_N_DAYS", 3, date(2024, 3, 15), date(2024, 3, 18), id="next-3-days"),
    pytest.param("N_DAYS_AGO", 3, date(2024, 3, 11), date(2024, 3, 12), id="3-days-ago"),
    pytest.param("LAST_N_WEEKS", 2, date(2024, 2, 25), date(2024, 3, 10), id="last-2-weeks"),
    pytest.param("NEXT_N_WEEKS", 2, date(2024, 3, 17), date(2024, 3, 31), id="next-2-weeks"),
    pytest.param("LAST_N_MONTHS", 3, date(2023, 12, 1), date(2024, 3, 1),
                 id="last-3-months-cross-year"),
    pytest.param("NEXT_N_MONTHS", 10, date(2024, 4, 1), date(2025, 2, 1),
                 id="next-10-months-cross-year"),
    pytest.param("LAST_N_YEARS", 2, date(2022, 1, 1), date(2024, 1, 1), id="last-2-years"),
    pytest.param("NEXT_N_YEARS", 2, date(2025, 1, 1), date(2027, 1, 1), id="next-2-years"),
    pytest.param("LAST_N_QUARTERS", 2, date(2023, 7, 1), date(2024, 1, 1), id="last-2-quarters"),
]


@pytest.mark.parametrize(("name", "n", "first", "end"), RANGES)
def test_date_literal_covers_documented_days_in_org_zone(
    name: str, n: int | None, first: date, end: date
) -> None:
    span = date_range(name, n, NOW, TZ)
    assert (span.first_day, span.end_day) == (first, end)


def test_day_ranges_convert_local_midnights_across_dst_to_utc() -> None:
    month = date_range("THIS_MONTH", None, NOW, TZ)
    assert month.start == datetime(2024, 3, 1, 8, tzinfo=UTC)  # PST, before the switch
    assert month.end == datetime(2024, 4, 1, 7, tzinfo=UTC)  # PDT, after it


@pytest.mark.parametrize("name", ["LAST_90_DAYS", "LAST_N_DAYS"])
def test_last_n_days_runs_up_to_the_current_instant(name: str) -> None:
    span = date_range(name, 5 if name == "LAST_N_DAYS" else None, NOW, TZ)
    assert span.end == NOW + timedelta(milliseconds=1)


def test_every_literal_yields_a_non_empty_forward_range() -> None:
    for name in DATE_LITERALS | N_DATE_LITERALS:
        span = date_range(name, 1 if name in N_DATE_LITERALS else None, NOW, TZ)
        assert span.first_day < span.end_day and span.start < span.end, name


def test_range_leaving_the_calendar_is_an_error() -> None:
    with pytest.raises((OverflowError, ValueError)):
        date_range("LAST_N_DAYS", 10**7, NOW, TZ)


# ---------------------------------------------------------------- against the store


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.build(load_mappings())


@pytest.fixture
def conn(schema: Schema) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    for statement in schema.ddl():
        db.execute(statement)
    lead = schema.objects["Lead"]
    rows: list[dict[str, Any]] = [
        # org-local times in the comments (PDT, UTC-7)
        {"LastName": "yesterday-late", "CreatedDate": "2024-03-14T06:59:59.999Z",  # 3/13 23:59
         "ConvertedDate": "2024-03-13"},
        {"LastName": "today-first", "CreatedDate": "2024-03-14T07:00:00Z",  # 3/14 00:00
         "ConvertedDate": "2024-03-14"},
        {"LastName": "today-now", "CreatedDate": "2024-03-15T06:30:00Z"},  # 3/14 23:30
        {"LastName": "today-later", "CreatedDate": "2024-03-15T06:59:59Z",  # 3/14 23:59
         "ConvertedDate": "2024-03-15"},
        {"LastName": "tomorrow-first", "CreatedDate": "2024-03-15T07:00:00Z"},  # 3/15 00:00
        {"LastName": "never", "CreatedDate": "2020-01-01T00:00:00Z"},
    ]
    for n, values in enumerate(rows, start=1):
        record = {"Id": ids.make_id(lead.key_prefix, n), "IsDeleted": False,
                  "Company": "Acme", **values}
        columns = list(record)
        db.execute(
            f'INSERT INTO "Lead" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
            f'VALUES ({", ".join("?" * len(columns))})',
            [to_db(lead.fields[c], record[c]) for c in columns],
        )
    return db


def names(schema: Schema, conn: sqlite3.Connection, where: str) -> list[str]:
    cq = compile_soql(schema, f"SELECT LastName FROM Lead WHERE {where}", now=NOW, tz=TZ)
    return [cq.shape(row)["LastName"] for row in conn.execute(cq.sql, cq.params)]


DATETIME_FILTERS = [
    pytest.param("CreatedDate = TODAY", ["today-first", "today-now", "today-later"],
                 id="equals-today-uses-org-day"),
    pytest.param("CreatedDate = YESTERDAY", ["yesterday-late"], id="equals-yesterday"),
    pytest.param("CreatedDate = TOMORROW", ["tomorrow-first"], id="equals-tomorrow"),
    pytest.param("CreatedDate < TODAY", ["yesterday-late", "never"], id="before-start"),
    pytest.param("CreatedDate <= TODAY",
                 ["yesterday-late", "today-first", "today-now", "today-later", "never"],
                 id="up-to-end"),
    pytest.param("CreatedDate > TODAY", ["tomorrow-first"], id="after-end"),
    pytest.param("CreatedDate >= TODAY",
                 ["today-first", "today-now", "today-later", "tomorrow-first"], id="from-start"),
    pytest.param("CreatedDate != TODAY", ["yesterday-late", "tomorrow-first", "never"],
                 id="outside"),
    pytest.param("CreatedDate = LAST_N_DAYS:0", ["today-first", "today-now"],
                 id="last-n-days-stops-at-now"),
    pytest.param("CreatedDate > LAST_N_DAYS:1", ["today-later", "tomorrow-first"],
                 id="after-last-n-days-is-after-now"),
    pytest.param("CreatedDate = LAST_N_DAYS:1",
                 ["yesterday-late", "today-first", "today-now"], id="last-1-days"),
    pytest.param("CreatedDate = NEXT_N_DAYS:1", ["tomorrow-first"], id="next-1-days"),
    pytest.param("CreatedDate = THIS_WEEK",
                 ["yesterday-late", "today-first", "today-now", "today-later", "tomorrow-first"],
                 id="this-week"),
    pytest.param("CreatedDate IN (YESTERDAY, TOMORROW)", ["yesterday-late", "tomorrow-first"],
                 id="in-list-of-ranges"),
    pytest.param("CreatedDate NOT IN (TODAY, LAST_YEAR)", ["yesterday-late", "tomorrow-first",
                                                          "never"], id="not-in-ranges"),
    pytest.param("CreatedDate = last_n_days:1 AND CreatedDate < 2024-03-14T00:00:00-07:00",
                 ["yesterday-late"], id="lowercase-literal-and-offset-datetime"),
    pytest.param("CreatedDate = 2024-03-13T23:00:00.000-0800", ["today-first"],
                 id="datetime-with-compact-offset-and-millis"),
    pytest.param("CreatedDate > 2024-03-15T06:29:59.5Z",
                 ["today-now", "today-later", "tomorrow-first"], id="datetime-fraction"),
    pytest.param("CreatedDate <= 2024-03-14t06:59:59.999z", ["yesterday-late", "never"],
                 id="lowercase-t-and-z"),
]


@pytest.mark.parametrize(("where", "expected"), DATETIME_FILTERS)
def test_datetime_field_against_date_literal(
    schema: Schema, conn: sqlite3.Connection, where: str, expected: list[str]
) -> None:
    assert names(schema, conn, where) == expected


DATE_FILTERS = [
    pytest.param("ConvertedDate = TODAY", ["today-first"], id="date-today-is-org-date"),
    pytest.param("ConvertedDate = YESTERDAY", ["yesterday-late"], id="date-yesterday"),
    pytest.param("ConvertedDate = TOMORROW", ["today-later"], id="date-tomorrow"),
    pytest.param("ConvertedDate > TODAY", ["today-later"], id="date-after"),
    pytest.param("ConvertedDate <= TODAY", ["yesterday-late", "today-first"], id="date-up-to"),
    pytest.param("ConvertedDate = LAST_N_DAYS:1", ["yesterday-late", "today-first"],
                 id="date-last-n-days-includes-today"),
    pytest.param("ConvertedDate != TODAY",
                 ["yesterday-late", "today-now", "today-later", "tomorrow-first", "never"],
                 id="date-outside-includes-null"),
    pytest.param("ConvertedDate = 2024-03-14", ["today-first"], id="date-literal-value"),
]


@pytest.mark.parametrize(("where", "expected"), DATE_FILTERS)
def test_date_field_against_date_literal(
    schema: Schema, conn: sqlite3.Connection, where: str, expected: list[str]
) -> None:
    assert names(schema, conn, where) == expected


def test_zone_ahead_of_utc_shifts_today_forward(schema: Schema,
                                                conn: sqlite3.Connection) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # NOW is 2024-03-15 15:30 there
    cq = compile_soql(schema, "SELECT LastName FROM Lead WHERE CreatedDate = TODAY", now=NOW,
                      tz=tokyo)
    rows = [cq.shape(r)["LastName"] for r in conn.execute(cq.sql, cq.params)]
    # Tokyo's 3/15 runs from 2024-03-14T15:00Z to 2024-03-15T15:00Z
    assert rows == ["today-now", "today-later", "tomorrow-first"]


def test_date_literal_far_outside_the_calendar_is_malformed(schema: Schema) -> None:
    from connector.emulator.soql import SoqlError

    with pytest.raises(SoqlError) as caught:
        compile_soql(schema, "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:99999999",
                     now=NOW, tz=TZ)
    assert caught.value.code == "MALFORMED_QUERY"
    assert caught.value.message.endswith("Invalid date literal: LAST_N_DAYS:99999999")
